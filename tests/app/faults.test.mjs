// Failures of the platform and of Incode, injected through the host's fault rules: Jira
// 429/5xx/timeouts while a webhook updates the ticket, Incode 401/5xx/network errors while a
// link is sent, the KVS failing in the middle of a webhook. The outcome is never lost: the
// webhook answers 5xx, the sandbox retries, and the retry completes the ticket update exactly
// once (one comment, one transition).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNTS, admin, appComments, configure, fails, ok, panel, sendLink, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
  await configure(host);
});

after(async () => {
  host.faults.clear();
  await host?.stop();
});

function newRequest(summary) {
  return host.jira.issues.add({ project: 'HELP', summary, reporter: ACCOUNTS.casey });
}

/** The sandbox's delivery attempts of one event type for a session, as [status, ok]. */
function attempts(sessionId, eventType) {
  return host.incode.deliveries.filter((d) => d.sessionId === sessionId && d.eventType === eventType).map((d) => [d.status, d.ok]);
}

/** How many times the issue took the transition named `name`. */
function taken(key, name) {
  return host.jira.issues.get(key).history.filter((h) => h.transition === name).length;
}

/** A fresh request with a link sent and opened by the employee (SESSION_STARTED delivered). */
async function openedLink(summary) {
  const key = newRequest(summary);
  const { session, verification } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  await host.incode.complete(session.id, 'open');
  assert.deepEqual(attempts(session.id, 'SESSION_STARTED'), [[200, true]]);
  return { key, session, verification };
}

/** Opens a link on a fresh request, arms `fault`, then lets the employee pass. */
async function passWithFault(summary, fault) {
  const { key, session, verification } = await openedLink(summary);
  const rule = host.faults.add(fault({ key, session }));
  await host.incode.complete(session.id, 'pass');
  return { key, session, verification, rule };
}

function assertCompletedOnce({ key, session, rule }) {
  assert.ok(rule.hits >= 1, 'the fault fired');
  const tries = attempts(session.id, 'SESSION_SUCCEEDED');
  assert.ok(tries.length >= 2, `the sandbox retried: ${JSON.stringify(tries)}`);
  assert.ok(
    tries.slice(0, -1).every(([status]) => status === 503),
    `earlier attempts were answered 503: ${JSON.stringify(tries)}`,
  );
  assert.deepEqual(tries.at(-1), [200, true], 'the last attempt was accepted');
  const comments = appComments(host, key);
  assert.equal(comments.length, 1, 'exactly one comment');
  assert.match(comments[0].text, /^Identity verified for Casey Customer/);
  const issue = host.jira.issues.get(key);
  assert.equal(issue.status, 'In Progress');
  assert.equal(taken(key, 'Start progress'), 1, 'transitioned exactly once');
  assert.equal(issue.properties['incode-verification'].status, 'passed');
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'passed');
  assert.equal(record.pending, null, 'nothing left pending');
}

test('Jira answers 429 to the comment: 503, retry, one comment', async () => {
  const run = await passWithFault('Comment rate limited', ({ key }) => ({
    target: 'jira',
    match: (r) => r.method === 'POST' && r.path === `/rest/api/3/issue/${key}/comment`,
    status: 429,
    headers: { 'retry-after': '1' },
  }));
  assertCompletedOnce(run);
});

test('Jira fails the transition twice with 5xx: retried until it moves, once', async () => {
  const run = await passWithFault('Transition outage', ({ key }) => ({
    target: 'jira',
    match: (r) => r.method === 'POST' && r.path === `/rest/api/3/issue/${key}/transitions`,
    status: 502,
    times: 2,
  }));
  assertCompletedOnce(run);
  assert.equal(attempts(run.session.id, 'SESSION_SUCCEEDED').length, 3);
});

test('Jira times out on the issue property: retried, the property lands', async () => {
  const run = await passWithFault('Property timeout', ({ key }) => ({
    target: 'jira',
    match: (r) => r.method === 'PUT' && r.path.startsWith(`/rest/api/3/issue/${key}/properties/`),
    error: 'timeout',
  }));
  assertCompletedOnce(run);
});

test('the KVS fails after the comment was posted: the retry finds it and does not post again', async () => {
  // The webhook's transaction (record, lock release, log) fails while the comment and the
  // transition land in the same round trip: the retry applies the event again, carefully.
  const run = await passWithFault('Lost confirmation', ({ session }) => ({
    target: 'kvs',
    match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`"v:${session.id}"`) && r.body.includes('"status":"passed"'),
    status: 500,
  }));
  assertCompletedOnce(run);
});

test('the KVS fails before anything happened (taking the lock): nothing half-done, the retry applies it', async () => {
  const run = await passWithFault('Lock failure', ({ session }) => ({
    target: 'kvs',
    match: (r) => r.path === '/api/v1/entity/set' && r.body.includes(`"lock:${session.id}"`) && r.body.includes('"returnValue":"PREVIOUS"'),
    status: 503,
  }));
  assertCompletedOnce(run);
});

test('the KVS is down when a new instance takes the webhook: 503, then the retry completes', async () => {
  const run = await passWithFault('Storage down', () => {
    // A new instance keeps no settings: its first delivery reads them.
    host.recycleInstances();
    return { target: 'kvs', match: (r) => r.path === '/api/v1/secret/get', status: 500 };
  });
  assertCompletedOnce(run);
});

test('every effect fails at once: each is retried, none is done twice', async () => {
  const { key, session } = await openedLink('Everything fails');
  const rule = host.faults.add({ target: 'jira', match: (r) => r.path.startsWith(`/rest/api/3/issue/${key}`) && r.method !== 'GET', status: 503, times: 4 });
  await host.incode.complete(session.id, 'fail');
  assert.equal(rule.hits, 4);
  assert.equal(appComments(host, key).length, 1);
  assert.equal(host.jira.issues.get(key).status, 'Escalated');
  assert.equal(taken(key, 'Escalate'), 1);
  const tries = attempts(session.id, 'SESSION_FAILED');
  assert.deepEqual(tries.at(-1), [200, true]);
  assert.ok(tries.length >= 3, JSON.stringify(tries));
  assert.equal(host.jira.issues.get(key).properties['incode-verification'].status, 'failed');
});

test('Incode refuses a stale token once: the app fetches a fresh one and the link goes out', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'), 'a token is cached');
  const key = newRequest('Stale token');
  const rule = host.faults.add({ target: 'incode', match: (r) => r.path === '/omni/b2b/onboarding/request-new', status: 401 });
  const { verification } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.equal(rule.hits, 1);
  assert.equal(verification.status, 'requested');
  const send = host.stats.find((i) => i.name === 'panel-resolver:panel.send').at(-1);
  assert.equal(send.calls.incode, 3, 'start (401), token, start again');
});

test('Incode keeps refusing the credentials: bad_credentials, nothing recorded', async () => {
  const key = newRequest('Revoked key');
  const rule = host.faults.add({ target: 'incode', match: (r) => r.path === '/omni/b2b/onboarding/request-new', status: 401, times: 2 });
  fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'bad_credentials');
  assert.equal(rule.hits, 2, 'one retry with a fresh token, no more');
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current, null);
});

test('Incode is down or unreachable: incode_unavailable (retryable), nothing recorded or counted', async () => {
  const key = newRequest('Incode outage');
  const issueId = host.jira.issues.get(key).id;
  for (const fault of [{ status: 503 }, { error: 'network' }, { error: 'timeout' }]) {
    host.faults.add({ target: 'incode', match: (r) => r.path === '/omni/b2b/onboarding/request-new', ...fault });
    const error = fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: 'casey@example.test', delivery: 'EMAIL' }), 'incode_unavailable');
    assert.equal(error.retryable, true);
  }
  assert.equal(host.kvs.get(`issue:${issueId}`), undefined);
  assert.deepEqual(host.kvs.keys(`rate:ticket:${issueId}:`), []);
  // And the token endpoint: testing the credentials reports the outage, not bad credentials.
  host.faults.add({ target: 'incode', match: (r) => r.path === '/oauth2/token', status: 500 });
  fails(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'), 'incode_unavailable');
});

test('Jira cannot check permissions: jira_unavailable, retryable', async () => {
  host.faults.add({ target: 'jira', match: (r) => r.path === '/rest/api/3/mypermissions', status: 500 });
  const error = fails(await panel(host, ACCOUNTS.avery, 'HELP-1', 'panel.getState'), 'jira_unavailable');
  assert.equal(error.retryable, true);
  host.faults.add({ target: 'jira', match: (r) => r.path === '/rest/api/3/mypermissions', error: 'network' });
  fails(await admin(host, ACCOUNTS.alex, 'admin.getSettings'), 'jira_unavailable');
});

test('no fault was left unused, and Jira saw only valid requests', () => {
  assert.deepEqual(host.faults.pending(), []);
  assert.deepEqual(host.jira.violations, []);
  assert.deepEqual(host.stats.lateCalls, []);
});
