// The verification status as a control: the app's read-only field "Identity verification" (written
// on send, outcomes and cancel, searchable in JQL) and the workflow gate "Identity verified", which
// lets a gated transition through only with a recent passed verification of the ticket's person in
// the app's own records, writes every decision to the audit trail, and cannot be opened by anyone
// editing the issue (the property, the field) or by two transitions sharing one verification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../dev/host/clock.mjs';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, captureConsole, configure, panel, ok, sendLink, startApp } from './helpers.mjs';

const WORKFLOW = 'IT Help Desk workflow';
const STATUS = /^(Requested|In Progress|Success|Failed|Pending Review|Cancelled) - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/;
const clock = createManualClock(Date.UTC(2026, 11, 6, 10, 0, 0));
let host;
let logs;

before(async () => {
  logs = captureConsole();
  host = await startApp({ now: clock });
  // No automatic transitions: the agent resolves by hand, through the gate.
  await configure(host, { transitions: { passed: '', failed: '', manualReview: '' } });
});

after(async () => {
  await host?.stop();
  logs?.restore();
});

const newRequest = (summary, reporter = ACCOUNTS.casey) => host.jira.issues.add({ project: 'HELP', summary, reporter });
const field = (key) => host.jira.issues.get(key).appFields.find((f) => f.name === 'Identity verification');
const gate = (configuration = {}, transition = 'Resolve') =>
  host.jira.workflows.addRule({ workflow: WORKFLOW, transition, type: 'validator', moduleKey: 'identity-verified', configuration, by: ACCOUNTS.alex });
const resolve = (key, by = ACCOUNTS.avery) => host.jira.issues.transitionAsUser(key, 'Resolve', { by });
const removeRules = () => {
  for (const transition of ['Resolve', 'Escalate']) {
    for (const rule of host.jira.workflows.rules(WORKFLOW, transition).validators)
      host.jira.workflows.removeRule({ workflow: WORKFLOW, transition, id: rule.id, by: ACCOUNTS.alex });
  }
};
const audit = (key) => host.kvs.getEntity('audit', key);
/** The entries whose key begins with `prefix` (a decision's key ends with its invocation's id). */
const audited = (prefix) =>
  host.kvs
    .entityKeys('audit')
    .filter((k) => k.startsWith(prefix))
    .map((k) => host.kvs.getEntity('audit', k));
const issueId = (key) => host.jira.issues.get(key).id;

async function jql(query, as = ACCOUNTS.avery) {
  const answer = await host.jira.handle({
    method: 'GET',
    path: '/rest/api/3/search/jql',
    query: `jql=${encodeURIComponent(query)}&fields=summary`,
    headers: {},
    as: { kind: 'user', accountId: as },
  });
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body).issues.map((i) => i.key);
}

test('the field follows the status: sent, passed, cancelled; only the app can write it; JQL finds it', async () => {
  const passed = newRequest('Password reset: passed');
  assert.equal(field(passed).value ?? null, null, 'empty before any verification');
  const { session } = await sendLink(host, ACCOUNTS.avery, passed, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.equal(field(passed).value, 'Requested - 2026-12-06 10:00:00 UTC');
  clock.advance(64_000);
  await host.incode.complete(session.id, 'pass');
  assert.equal(field(passed).value, 'Success - 2026-12-06 10:01:04 UTC');

  const cancelled = newRequest('Password reset: cancelled');
  const sent = await sendLink(host, ACCOUNTS.avery, cancelled, { email: 'casey@example.test', delivery: 'EMAIL' });
  ok(await panel(host, ACCOUNTS.avery, cancelled, 'panel.cancel', { verificationId: sent.verification.id }));
  assert.match(field(cancelled).value, STATUS);
  assert.match(field(cancelled).value, /^Cancelled - /);

  assert.deepEqual(await jql('"Identity verification" = "Success - 2026-12-06 10:01:04 UTC"'), [passed]);
  const withStatus = await jql('project = HELP AND "Identity verification" IS NOT EMPTY ORDER BY key ASC');
  assert.deepEqual(withStatus.sort(), [passed, cancelled].sort());
  assert.ok((await jql('project = HELP AND "Identity verification" IS EMPTY')).includes('HELP-1'));

  // An agent with Edit Issues cannot write the field: it is on no screen.
  const id = field(passed).id;
  const edit = await host.jira.handle({
    method: 'PUT',
    path: `/rest/api/3/issue/${passed}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fields: { [id]: 'Success - 2099-01-01 00:00:00 UTC' } }),
    as: { kind: 'user', accountId: ACCOUNTS.avery },
  });
  assert.equal(edit.status, 400);
  assert.equal(field(passed).value, 'Success - 2026-12-06 10:01:04 UTC');
});

test('the gate refuses without a passed verification, passes after one, and refuses again 31 minutes later', async () => {
  removeRules();
  gate();
  const key = newRequest('Password reset: the gate');
  await assert.rejects(resolve(key), {
    message: 'No passed identity verification of Casey Customer in the last 30 minutes: send one from the Identity verification panel.',
  });
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const [refusal, ...more] = audited(`gate:refused:${issueId(key)}:5:${clock()}:`);
  assert.equal(refusal?.action, 'gateRefused');
  assert.equal(more.length, 0, 'one entry per decision');
  assert.equal(refusal.actorAccountId, ACCOUNTS.avery);
  assert.equal(refusal.personAccountId, ACCOUNTS.casey);
  assert.match(refusal.detail, /^No passed identity verification of Casey Customer/);

  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await assert.rejects(
    resolve(key),
    /^Error: The newest identity verification of Casey Customer on this request is still open, and only the newest one can count: wait for its result/,
    'a link sent is not a pass',
  );
  await host.incode.complete(session.id, 'pass');
  clock.advance(29 * 60_000);
  await resolve(key);
  assert.equal(host.jira.issues.get(key).status, 'Resolved');
  const [passEntry] = audited(`gate:passed:${issueId(key)}:5:${session.id}:${clock()}:`);
  assert.equal(passEntry?.action, 'gatePassed');
  assert.equal(passEntry.identityId, session.identityId);

  host.jira.issues.transition(key, 'Reopen', { by: ACCOUNTS.alex });
  clock.advance(2 * 60_000);
  await assert.rejects(resolve(key), {
    message:
      /^No passed identity verification of Casey Customer in the last 30 minutes \(the last check was completed at 2026-12-06 \d\d:\d\d:\d\d UTC\): send one/,
  });
  assert.equal(audited(`gate:refused:${issueId(key)}:5:${clock()}:`)[0]?.action, 'gateRefused');
});

test('a verification of another person, a written property or field, and a storage outage never open the gate', async () => {
  removeRules();
  gate();
  const key = newRequest('Password reset: someone else');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'drew@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'pass');
  await assert.rejects(resolve(key), /verification that passed on this request was of someone else/);

  // Edit Issues lets an agent write the issue property: the gate never reads it.
  const put = await host.jira.handle({
    method: 'PUT',
    path: `/rest/api/3/issue/${key}/properties/incode-verification`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'passed', statusText: 'Success - 2026-12-06 10:00:00 UTC', updatedAt: '2026-12-06T10:00:00Z' }),
    as: { kind: 'user', accountId: ACCOUNTS.avery },
  });
  assert.ok([200, 201].includes(put.status), put.body);
  await assert.rejects(resolve(key), /No passed identity verification of Casey Customer/);

  // The KVS failing: refused, never passed.
  const fresh = newRequest('Password reset: outage');
  const sent = await sendLink(host, ACCOUNTS.avery, fresh, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(sent.session.id, 'pass');
  const outage = host.faults.add({ target: 'kvs', times: Infinity, status: 503 });
  try {
    await assert.rejects(resolve(fresh), /the app's storage did not answer/);
  } finally {
    outage.remove();
  }
  await resolve(fresh);
});

/** Posts one signed Incode event for `sessionId`, as Incode does. */
async function deliver(sessionId, eventType, extra = {}) {
  const body = JSON.stringify({ eventType, interviewId: sessionId, loginHint: 'casey@example.test', ...extra });
  const answer = await fetch(host.webtriggerUrl('incode-webhook'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, body, 'hex') },
    body,
  });
  return answer.status;
}

test('freshness counts from the completed check: an identity enrolled or a review approved hours later opens nothing', async () => {
  removeRules();
  gate();
  // Incode's success came without an identity; the enrolment arrives five hours later.
  const key = newRequest('Password reset: late enrolment');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.equal(await deliver(session.id, 'SESSION_SUCCEEDED'), 200);
  const passedAt = clock();
  clock.advance(5 * 60 * 60_000);
  assert.equal(await deliver(session.id, 'IDENTITY_ENROLLED', { identityId: 'id-late' }), 200);
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'passed');
  assert.equal(record.updatedAtMs, clock(), 'the enrolment updated the record');
  const at = new Date(passedAt).toISOString().slice(0, 19).replace('T', ' ');
  await assert.rejects(resolve(key), { message: new RegExp(`\\(the last check was completed at ${at} UTC\\)`) });
  assert.equal(host.jira.issues.get(key).status, 'Open');

  // Captured, sent to manual review, approved 20 hours later.
  const reviewed = newRequest('Password reset: late approval');
  const sent = await sendLink(host, ACCOUNTS.avery, reviewed, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(sent.session.id, 'review');
  clock.advance(20 * 60 * 60_000);
  await host.incode.complete(sent.session.id, 'approve');
  assert.equal(host.kvs.get(`v:${sent.session.id}`).status, 'passed');
  await assert.rejects(resolve(reviewed), /in the last 30 minutes \(the last check was completed at/);
  assert.equal(host.jira.issues.get(reviewed).status, 'Open');
  removeRules();
});

test('a newer check of the person that failed withdraws an earlier pass', async () => {
  removeRules();
  gate();
  const key = newRequest('Password reset: a second caller');
  const first = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(first.session.id, 'pass');
  clock.advance(5 * 60_000);
  const second = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(second.session.id, 'fail');
  clock.advance(60_000);
  await assert.rejects(resolve(key), {
    message:
      'The newest identity verification of Casey Customer on this request failed, and only the newest one can count: send one from the Identity verification panel.',
  });
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const [refusal] = audited(`gate:refused:${issueId(key)}:5:${clock()}:`);
  assert.equal(refusal?.action, 'gateRefused');
  // A new pass of the person opens it again.
  const third = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(third.session.id, 'pass');
  await resolve(key);
  assert.equal(host.jira.issues.get(key).status, 'Resolved');
  removeRules();
});

test('a transition whose screen changes the person is refused, whoever passed before', async () => {
  removeRules();
  gate();
  host.jira.workflows.setScreen({ workflow: WORKFLOW, transition: 'Resolve', fields: ['reporter', 'resolution'], by: ACCOUNTS.alex });
  try {
    const key = newRequest('Password reset: the person swapped on the way');
    const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
    await host.incode.complete(session.id, 'pass');
    // Casey passed; the screen names Drew as the person while resolving.
    await assert.rejects(host.jira.issues.transitionAsUser(key, 'Resolve', { by: ACCOUNTS.avery, fields: { reporter: { accountId: ACCOUNTS.drew } } }), {
      message: /^This transition changes the person on the request \(or its project\), so no identity verification can count for it/,
    });
    assert.equal(host.jira.issues.get(key).status, 'Open');
    // Refused before the issue is read: the entry is named by the issue's key.
    assert.equal(audited(`gate:refused:${key}:5:${clock()}:`)[0]?.detail.startsWith('This transition changes the person'), true);
    // The screen's other fields change nothing: Casey's pass opens it.
    await host.jira.issues.transitionAsUser(key, 'Resolve', { by: ACCOUNTS.avery, fields: { resolution: { name: 'Done' } } });
    assert.equal(host.jira.issues.get(key).status, 'Resolved');
  } finally {
    host.jira.workflows.setScreen({ workflow: WORKFLOW, transition: 'Resolve', fields: [], by: ACCOUNTS.alex });
    removeRules();
  }
});

test('two refusals of the same transition in the same millisecond keep an audit entry each', async () => {
  removeRules();
  gate();
  const key = newRequest('Password reset: two at once');
  // Two agents take the transition at the same moment (the manual clock does not move).
  const both = await Promise.allSettled([resolve(key, ACCOUNTS.avery), resolve(key, ACCOUNTS.blake)]);
  assert.deepEqual(
    both.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  const refusals = audited(`gate:refused:${issueId(key)}:5:${clock()}:`);
  assert.equal(refusals.length, 2, 'one entry per decision');
  assert.deepEqual(refusals.map((e) => e.actorAccountId).sort(), [ACCOUNTS.avery, ACCOUNTS.blake].sort());
  removeRules();
});

test('"once": one verification opens one gated transition, even two at the same moment', async () => {
  removeRules();
  gate({ once: true });
  const a = newRequest('Password reset: once');
  const { session } = await sendLink(host, ACCOUNTS.avery, a, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'pass');
  // Two transitions of the same ticket at once (two agents): the claim admits one.
  const both = await Promise.allSettled([resolve(a, ACCOUNTS.avery), host.jira.issues.transitionAsUser(a, 'Resolve', { by: ACCOUNTS.blake })]);
  const passed = both.filter((r) => r.status === 'fulfilled');
  assert.equal(passed.length, 1, JSON.stringify(both.map((r) => r.reason?.message ?? 'passed')));
  const refused = both.find((r) => r.status === 'rejected');
  // Both read the verification unused; the KVS's conditional write lets one claim land.
  assert.match(refused.reason.message, /was used for another transition at the same moment: send one/);
  host.jira.issues.transition(a, 'Reopen', { by: ACCOUNTS.alex });
  await assert.rejects(resolve(a), /already used for another transition: send one from the Identity verification panel/);
  assert.equal(audit(`gate:used:${session.id}`)?.action, 'gatePassed');
  assert.equal(host.kvs.get(`gate:used:${session.id}`)?.issueId, issueId(a));
  removeRules();
});

test('a misconfigured rule refuses with what to do', async () => {
  removeRules();
  gate({ withinMinutes: 0 });
  const key = newRequest('Password reset: misconfigured');
  await assert.rejects(resolve(key), /"Identity verified" rule of this transition is misconfigured \(withinMinutes\): ask your Jira admin/);
  removeRules();
});
