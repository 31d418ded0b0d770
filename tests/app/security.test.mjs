// Who may do what, and what an attacker cannot do: non-admins on the settings, customers and
// users outside the agent groups on the panel, forged, tampered and replayed webhooks, payloads
// naming another issue. Every refusal leaves the site as it was; no answer and no log line
// carries a secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import {
  ACCOUNTS,
  MODULES,
  SANDBOX_CREDENTIALS,
  WEBHOOK_SECRET,
  admin,
  appComments,
  captureConsole,
  configure,
  fails,
  invoke,
  ok,
  panel,
  sendLink,
  startApp,
} from './helpers.mjs';

let host;
let logs;
const answers = [];

before(async () => {
  logs = captureConsole();
  host = await startApp();
  // Every resolver answer of this file is kept, to prove none of them carries a secret.
  const invokeResolver = host.invokeResolver;
  host.invokeResolver = async (args) => {
    const answer = await invokeResolver(args);
    answers.push(JSON.stringify(answer));
    return answer;
  };
  await configure(host);
});

after(async () => {
  await host?.stop();
  logs?.restore();
});

const ADMIN_RESOLVERS = [
  ['admin.getSettings', {}],
  ['admin.saveSettings', { clientId: 'attacker-client', apiKey: 'attacker-key' }],
  ['admin.testCredentials', {}],
  ['admin.sendTest', { email: 'casey@example.test', delivery: 'EMAIL' }],
  ['admin.clearTokenCache', {}],
  ['admin.listTransitions', {}],
  ['admin.previewComment', { outcome: 'passed', template: '{{name}}' }],
  ['admin.getDeliveries', {}],
  ['admin.report', { filter: { fromMs: 0, toMs: Date.now() }, part: 'rows' }],
];

test('agents and customers are refused on every admin resolver, and nothing changes', async () => {
  const settingsBefore = host.kvs.get('settings');
  const secretsBefore = host.kvs.getSecret('secrets');
  const sessionsBefore = host.incode.sessions.size;
  for (const who of [ACCOUNTS.avery, ACCOUNTS.casey]) {
    for (const [fn, payload] of ADMIN_RESOLVERS) {
      fails(await admin(host, who, fn, payload), 'forbidden', `${fn} as a non-admin`);
    }
  }
  for (const [fn, payload] of ADMIN_RESOLVERS) {
    fails(await invoke(host, { as: undefined, module: MODULES.admin, fn, payload }), 'unauthenticated', `${fn} anonymously`);
  }
  assert.deepEqual(host.kvs.get('settings'), settingsBefore);
  assert.deepEqual(host.kvs.getSecret('secrets'), secretsBefore);
  assert.equal(host.incode.sessions.size, sessionsBefore, 'no test link was sent');
});

test('a customer cannot use the agent panel, not even on their own request', async () => {
  for (const fn of ['panel.getState', 'panel.send', 'panel.resend', 'panel.cancel']) {
    fails(
      await panel(host, ACCOUNTS.casey, 'HELP-1', fn, { email: 'casey@example.test', delivery: 'EMAIL', verificationId: 'x' }),
      'forbidden',
      `${fn} as the requester`,
    );
  }
  fails(await invoke(host, { as: undefined, module: MODULES.panel, issueKey: 'HELP-1', fn: 'panel.getState' }), 'unauthenticated');
  assert.equal(host.kvs.get(`issue:${host.jira.issues.get('HELP-1').id}`), undefined, 'nothing was recorded on the issue');
});

test('a Jira user who cannot work the project is refused', async () => {
  const finance = host.jira.users.add({ displayName: 'Finley Finance', emailAddress: 'finley@example.test', groups: ['finance-team'] });
  fails(await panel(host, finance, 'HELP-1', 'panel.getState'), 'forbidden');
  fails(await panel(host, finance, 'HELP-1', 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'forbidden');
});

test('with agent groups set, only their members may send; others see, read-only', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: ['helpdesk-agents'] }));
  const outsider = host.jira.users.add({ displayName: 'Sam Service', emailAddress: 'sam@example.test', groups: ['jira-servicemanagement-users-local'] });
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Group check', reporter: ACCOUNTS.casey });
  fails(await panel(host, outsider, key, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'forbidden');
  assert.equal(host.kvs.keys('issue:').includes(`issue:${host.jira.issues.get(key).id}`), false);
  const { verification } = ok(
    await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }),
    'a member of helpdesk-agents',
  );

  // Whether the caller was verified is what the ticket is about: an outsider sees it, and why they cannot act.
  const seen = ok(await panel(host, outsider, key, 'panel.getState'), 'an agent outside the groups');
  assert.equal(seen.canSend, false);
  assert.equal(seen.cannotSendReason, 'Only members of helpdesk-agents can send verification links. Ask your Jira admin if you need to.');
  assert.equal(seen.current.id, verification.id);
  assert.deepEqual(seen.current.actions, { resend: false, cancel: false, newVerification: false });
  for (const fn of ['panel.resend', 'panel.cancel']) {
    fails(await panel(host, outsider, key, fn, { verificationId: verification.id }), 'forbidden', fn);
  }
  assert.equal(host.kvs.get(`v:${verification.sessionId}`).status, 'requested', 'nothing changed');
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { agentGroups: [] }));
});

test('the issue always comes from the context, never from the payload', async () => {
  const mine = host.jira.issues.add({ project: 'HELP', summary: 'Context issue', reporter: ACCOUNTS.casey });
  const other = host.jira.issues.add({ project: 'HELP', summary: 'Someone else', reporter: ACCOUNTS.drew });
  const otherIssue = host.jira.issues.get(other);
  const { verification: onOther } = await sendLink(host, ACCOUNTS.avery, other, { email: 'drew@example.test', delivery: 'EMAIL' });

  const sent = ok(
    await panel(host, ACCOUNTS.avery, mine, 'panel.send', {
      email: 'casey@example.test',
      delivery: 'EMAIL',
      issueKey: other,
      issueId: otherIssue.id,
      issue: { key: other, id: otherIssue.id },
    }),
  ).verification;
  assert.equal(sent.issueKey, mine, 'the link belongs to the issue the panel is open on');
  fails(
    await panel(host, ACCOUNTS.avery, mine, 'panel.cancel', { verificationId: onOther.id, issueKey: other }),
    'not_found',
    "cancelling another issue's verification",
  );
  fails(
    await panel(host, ACCOUNTS.avery, mine, 'panel.resend', { verificationId: onOther.id, issueKey: other }),
    'not_found',
    "resending another issue's verification",
  );
  const state = ok(await panel(host, ACCOUNTS.avery, other, 'panel.getState'));
  assert.equal(state.current.id, onOther.id);
  assert.equal(state.current.status, 'requested', 'the other issue is untouched');
  assert.equal(state.history.length, 0);
});

/** POSTs a webhook to the app the way Incode does (over HTTP, to the webtrigger URL). */
async function deliver(body, headers) {
  const response = await fetch(host.webtriggerUrl('incode-webhook'), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, json: await response.json() };
}
const signed = (body, secret = WEBHOOK_SECRET) => ({ 'x-incode-signature': sign(secret, body, 'hex') });

test('forged and tampered webhooks are refused before anything is read or changed', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Forgery target', reporter: ACCOUNTS.casey });
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const event = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: 'casey@example.test', identityId: 'forged-identity' });
  const recordBefore = host.kvs.get(`v:${session.id}`);

  for (const [what, headers, body] of [
    ['no signature', {}, event],
    ['the wrong secret', signed(event, 'not-the-secret'), event],
    ['a signature of another body', signed(event), event.replace('forged-identity', 'other-identity')],
    ['a malformed signature', { 'x-incode-signature': 'sha256=zz' }, event],
  ]) {
    const answer = await deliver(body, headers);
    assert.equal(answer.status, 401, `${what} → 401`);
    assert.equal(answer.json.result, 'rejected');
    assert.ok(!JSON.stringify(answer.json).includes('forged-identity'), 'the answer never echoes the payload');
  }
  assert.deepEqual(host.kvs.get(`v:${session.id}`), recordBefore, 'the record did not change');
  assert.equal(appComments(host, key).length, 0);
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const log = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries;
  assert.deepEqual(
    log.slice(0, 4).map((d) => [d.verdict, d.httpStatus, d.status]),
    Array(4).fill(['rejected', 401, '']),
  );
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current.id, verification.id);
});

// The log budget of src/webhook.js (UNTRUSTED_LOG_BURST): forged deliveries logged in a row.
const UNTRUSTED_LOG_BURST = 10;
// Fewer than the throttle's limit (rust/src/throttle.rs, 30 a minute), counting this file's other
// forged deliveries: the throttle has its own test (hardening.test.mjs).
const FLOOD = 15;

test("a flood of forged webhooks is refused without spending the installation's storage writes", async () => {
  const deliveriesLogged = () => host.kvs.keys('delivery:').length;
  const before = deliveriesLogged();
  const body = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: 'flood-session' });
  for (let i = 0; i < FLOOD; i += 1) {
    const answer = await deliver(body, signed(body, `guess-${i}`));
    assert.equal(answer.status, 401);
    assert.equal(answer.json.reason, 'bad_signature');
  }
  const logged = deliveriesLogged() - before;
  assert.ok(logged >= 1, 'the admin page still sees that forged deliveries arrive');
  assert.ok(logged <= UNTRUSTED_LOG_BURST, `${logged} log entries for ${FLOOD} forged deliveries`);
  // An authenticated delivery is always logged, whatever the budget.
  const { session } = await sendLink(host, ACCOUNTS.avery, host.jira.issues.add({ project: 'HELP', summary: 'After the flood', reporter: ACCOUNTS.casey }), {
    email: 'casey@example.test',
    delivery: 'EMAIL',
  });
  const started = JSON.stringify({ eventType: 'SESSION_STARTED', interviewId: session.id });
  assert.equal((await deliver(started, signed(started))).status, 200);
  const log = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries;
  assert.deepEqual([log[0].verdict, log[0].sessionId], ['accepted', session.id]);
});

test('while an instance keeps the settings, a forged delivery only reads the settings (with their revision key), secrets and throttle marker again', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Kept settings', reporter: ACCOUNTS.casey });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  // The checklist records a received webhook: from this delivery on, the instance keeps the settings.
  const started = JSON.stringify({ eventType: 'SESSION_STARTED', interviewId: session.id });
  assert.equal((await deliver(started, signed(started))).status, 200);
  const body = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, identityId: 'forged-identity' });
  for (let i = 0; i < 5; i += 1) {
    const logged = host.kvs.keys('delivery:').length;
    const answer = await deliver(body, signed(body, `kept-guess-${i}`));
    assert.equal(answer.status, 401);
    const { calls } = host.stats.find((s) => s.name === 'incode-webhook').at(-1);
    // Four reads (the settings, their revision key and the secrets again, so that a rotated secret
    // applies at once, and the throttle's marker; not the checklist), and one write when the log
    // budget allows an entry.
    const wrote = host.kvs.keys('delivery:').length - logged;
    assert.equal(calls.kvs, 4 + wrote, `${calls.kvs} KVS calls for a forged delivery`);
  }
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'inProgress', 'the record did not change');
  assert.equal(appComments(host, key).length, 0);
});

test('a replayed webhook changes nothing; a payload naming another issue only touches its own', async () => {
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Replay target', reporter: ACCOUNTS.casey });
  const bystander = host.jira.issues.add({ project: 'HELP', summary: 'Bystander', reporter: ACCOUNTS.drew });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const event = JSON.stringify({
    eventType: 'SESSION_SUCCEEDED',
    interviewId: session.id,
    loginHint: 'casey@example.test',
    identityId: 'id-replay-1',
    issueKey: bystander,
    issueId: host.jira.issues.get(bystander).id,
  });
  const first = await deliver(event, signed(event));
  assert.equal(first.status, 200);
  assert.equal(first.json.result, 'accepted');
  assert.equal(appComments(host, key).length, 1);
  assert.equal(appComments(host, bystander).length, 0, 'the issue named in the payload is untouched');
  assert.deepEqual(host.jira.issues.get(bystander).properties, {});

  const recordAfterFirst = host.kvs.get(`v:${session.id}`);
  for (let i = 0; i < 3; i += 1) {
    const replay = await deliver(event, signed(event));
    assert.equal(replay.status, 200, 'a replay is answered 200 so Incode stops');
    assert.equal(replay.json.result, 'duplicate');
  }
  assert.equal(appComments(host, key).length, 1, 'still exactly one comment');
  assert.deepEqual(host.kvs.get(`v:${session.id}`), recordAfterFirst);
  const log = ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries;
  assert.deepEqual(
    log.slice(0, 3).map((d) => d.verdict),
    ['duplicate', 'duplicate', 'duplicate'],
  );
});

test('a signed webhook for a session this site never sent is acknowledged and ignored', async () => {
  const before = host.kvs.keys('v:').length;
  const event = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: 'aaaaaaaaaaaaaaaaaaaaaaaa', loginHint: 'casey@example.test' });
  const answer = await deliver(event, signed(event));
  assert.equal(answer.status, 202);
  assert.equal(answer.json.reason, 'unknown_session');
  assert.equal(host.kvs.keys('v:').length, before);
  const bad = JSON.stringify({ eventType: 'SESSION_SUCCEEDED', interviewId: 'v:../../settings', loginHint: 'x@example.test' });
  const refused = await deliver(bad, signed(bad));
  assert.equal(refused.status, 400, 'a session id that could reach another key is refused');
  assert.deepEqual(host.kvs.keys('v:').length, before);
});

test('with a timestamp header, an old signed delivery is refused as a replay', async () => {
  ok(
    await admin(host, ACCOUNTS.alex, 'admin.saveSettings', {
      webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: 'x-incode-timestamp', toleranceSeconds: 300 },
    }),
  );
  const key = host.jira.issues.add({ project: 'HELP', summary: 'Timestamped', reporter: ACCOUNTS.casey });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const body = JSON.stringify({ eventType: 'SESSION_FAILED', interviewId: session.id, loginHint: 'casey@example.test' });
  const old = String(Math.floor(Date.now() / 1000) - 3600);
  const stale = await deliver(body, { 'x-incode-timestamp': old, 'x-incode-signature': sign(WEBHOOK_SECRET, `${old}.${body}`, 'hex') });
  assert.equal(stale.status, 401);
  assert.equal(appComments(host, key).length, 0);
  const now = String(Math.floor(Date.now() / 1000));
  const fresh = await deliver(body, { 'x-incode-timestamp': now, 'x-incode-signature': sign(WEBHOOK_SECRET, `${now}.${body}`, 'hex') });
  assert.equal(fresh.status, 200);
  assert.equal(appComments(host, key).length, 1);
  ok(
    await admin(host, ACCOUNTS.alex, 'admin.saveSettings', {
      webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
    }),
  );
});

test('no resolver answer, stored value or log line carries a secret or a token', () => {
  const token = host.kvs.getSecret('token:incode')?.accessToken;
  assert.equal(typeof token, 'string', 'an Incode token is cached (as a secret)');
  const secrets = [SANDBOX_CREDENTIALS.apiKey, SANDBOX_CREDENTIALS.clientSecret, WEBHOOK_SECRET, token];
  const stored = host.kvs
    .keys('')
    .map((k) => JSON.stringify(host.kvs.get(k)))
    .join('\n');
  const logged = [...logs.lines, ...host.logs.map((entry) => entry.message), ...host.hostLog].join('\n');
  assert.ok(answers.length > 40, 'many answers were checked');
  for (const secret of secrets) {
    assert.ok(!answers.some((a) => a.includes(secret)), 'no resolver answer carries a secret');
    assert.ok(!stored.includes(secret), 'no plain KVS value carries a secret');
    assert.ok(!logged.includes(secret), 'no log line carries a secret');
  }
  assert.deepEqual(host.kvs.secretKeys(), ['secrets', 'token:incode']);
  assert.deepEqual(host.jira.violations, []);
});
