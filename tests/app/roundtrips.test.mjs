// Sequential platform round trips ("waves", as the host counts them per invocation: calls that
// overlap count once) of a send and of each kind of webhook, and the paths that shorten them:
// the transition id and the publish-only realtime token prepared at send time, the lock taken
// with one swap, careful mode after a crash, failures on either side of the final transaction.
// Counts are structural (the host's per-invocation stats), never timings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, admin, appComments, configure, ok, panel, portal, publishedOn, sendLink, startApp } from './helpers.mjs';

const MAX_WAVES = 3;
/** A webhook on a warm instance that read the settings within the last seconds. */
const KEPT_WAVES = 2;
const WEBHOOK = 'incode-webhook';
let host;
const answers = [];

before(async () => {
  host = await startApp();
  // Every resolver answer of this file is kept, to prove none of them carries a publish token.
  const invokeResolver = host.invokeResolver;
  host.invokeResolver = async (args) => {
    const answer = await invokeResolver(args);
    answers.push(JSON.stringify(answer));
    return answer;
  };
  await configure(host, { portalEnabled: true });
});

after(async () => {
  host.faults.clear();
  await host?.stop();
});

const newRequest = (summary) => host.jira.issues.add({ project: 'HELP', summary, reporter: ACCOUNTS.casey });

/** POSTs a signed webhook to the app as Incode does; returns the answer and the invocation's stats. */
async function deliver(sessionId, eventType, extra = {}, secret = WEBHOOK_SECRET) {
  const body = JSON.stringify({ eventType, interviewId: sessionId, loginHint: 'casey@example.test', ...extra });
  const response = await fetch(host.webtriggerUrl(WEBHOOK), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-incode-signature': sign(secret, body, 'hex') },
    body,
  });
  const json = await response.json();
  const invocation = host.stats.find((i) => i.name === WEBHOOK).at(-1);
  return { status: response.status, json, invocation };
}

/** Jira requests made since `mark` (an index into the site's request log). */
// The locks are values of the custom entity `lock` (rust/src/lock.rs).
const lockOf = (h, id) => h.kvs.getEntity('lock', `lock:${id}`);
/** Stores a lock value as the app writes one (an entity attribute takes no null). */
const setLock = (h, id, value) => h.kvs.seedEntity('lock', [[`lock:${id}`, Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null))]]);
/** The failure path's signal: a one-set transaction on the lock, apart from the record's. */
const isSignal = (r, id) =>
  r.path === '/api/v1/transaction' && r.body.includes(`"lock:${id}"`) && r.body.includes('"owner":""') && !r.body.includes(`"v:${id}"`);
const jiraSince = (mark) => host.jira.requests.slice(mark).map((r) => `${r.method} ${r.path.replace(/\/issue\/[^/]+/, '/issue/…')} ${r.status}`);

function taken(key, name) {
  return host.jira.issues.get(key).history.filter((h) => h.transition === name).length;
}

/** A link sent on a fresh request, with SESSION_STARTED delivered. */
async function started(summary) {
  const key = newRequest(summary);
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const first = await deliver(session.id, 'SESSION_STARTED');
  assert.equal(first.status, 200);
  return { key, verification, session };
}

test('a send with the Incode token cached, and every kind of webhook, wait on at most 3 round trips', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.testCredentials'), 'a token is cached');
  const key = newRequest('Round trips');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  const send = host.stats.find((i) => i.name === 'panel-resolver:panel.send').at(-1);
  assert.equal(send.calls.incode, 1, 'the cached token was used: only the start went to Incode');
  assert.ok(send.waves <= MAX_WAVES, `send: ${send.waves} waves`);

  const status = await deliver(session.id, 'SESSION_STARTED');
  assert.equal(status.json.result, 'accepted');
  assert.ok(status.invocation.waves <= MAX_WAVES, `status-only webhook: ${status.invocation.waves} waves`);

  const mark = host.jira.requests.length;
  const outcome = await deliver(session.id, 'SESSION_SUCCEEDED', { identityId: 'id-waves' });
  assert.equal(outcome.json.result, 'accepted');
  assert.ok(outcome.invocation.waves <= MAX_WAVES, `outcome webhook: ${outcome.invocation.waves} waves`);
  assert.equal(outcome.invocation.calls.realtime, 1, 'published with the token signed at send time');
  assert.deepEqual(
    jiraSince(mark).sort(),
    [
      'POST /rest/api/3/issue/…/comment 201',
      'POST /rest/api/3/issue/…/transitions 204',
      `PUT /rest/api/3/app/field/${host.manifest.appId}__DEVELOPMENT__incode-verification-status/value 204`,
      'PUT /rest/api/3/issue/…/properties/incode-verification 200',
    ],
    'the transition id chosen at send time is posted without a look-up',
  );
  assert.equal(host.jira.issues.get(key).status, 'In Progress');

  const duplicate = await deliver(session.id, 'SESSION_SUCCEEDED', { identityId: 'id-waves' });
  assert.equal(duplicate.json.result, 'duplicate');
  assert.ok(duplicate.invocation.waves <= MAX_WAVES, `duplicate: ${duplicate.invocation.waves} waves`);

  const ignored = await deliver(session.id, 'SESSION_FAILED');
  assert.equal(ignored.json.reason, 'afterFinal');
  assert.ok(ignored.invocation.waves <= MAX_WAVES, `ignored event: ${ignored.invocation.waves} waves`);

  assert.equal(appComments(host, key).length, 1);
  assert.equal(taken(key, 'Start progress'), 1);
});

test('a warm instance keeps the settings: 2 round trips; a rotated secret applies at once', async () => {
  host.recycleInstances();
  const { key, session } = await started('Kept settings');
  const cold = host.stats.find((i) => i.name === WEBHOOK).at(-1);
  assert.equal(cold.waves, MAX_WAVES, 'a new instance reads the settings first');
  const warm = await deliver(session.id, 'SESSION_SUCCEEDED', { identityId: 'id-kept' });
  assert.equal(warm.status, 200);
  assert.equal(warm.invocation.waves, KEPT_WAVES, 'the lock with the record, then the transaction with the effects');
  // The lock, the record, the lock as the previous release kept it (its plain key) and the
  // settings' revision (in the same round trip), the transaction.
  assert.equal(warm.invocation.calls.kvs, 5, 'no secrets or checklist read');
  assert.equal(appComments(host, key).length, 1);
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');

  // The admin rotates the webhook secret (Incode signs with the new one from then on).
  const next = await started('Rotated secret');
  const rotated = 'whsec-rotated-7b2e91c4d0a35f86';
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: rotated }));
  // The save wrote the revision beside the record: a warm instance confirms its settings by it.
  assert.equal(host.kvs.get('settings:revision').revision, host.kvs.get('settings').revision);
  // Refused by the kept settings, read again at once, accepted: one round trip more, this once.
  const first = await deliver(next.session.id, 'SESSION_FAILED', {}, rotated);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(first.invocation.waves, KEPT_WAVES + 1);
  assert.equal(host.kvs.get(`v:${next.session.id}`).status, 'failed');
  const forged = await deliver(next.session.id, 'SESSION_SUCCEEDED', {}, WEBHOOK_SECRET);
  assert.deepEqual([forged.status, forged.json.result], [401, 'rejected'], 'the old secret is refused once the new one was read');
  assert.equal(host.kvs.get(`v:${next.session.id}`).status, 'failed');

  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: WEBHOOK_SECRET }));
  const back = await started('Secret restored');
  assert.equal(host.kvs.get(`v:${back.session.id}`).status, 'inProgress');
});

test('careful mode after a crash between taking the lock and the last round trip', async () => {
  const { key, session } = await started('Crash after the lock');
  // What a holder that died right after taking the lock leaves: a lease that has run out, here
  // under the plain key of the previous release (read while the entity holds nothing).
  host.kvs.handle('/api/v1/entity/delete', JSON.stringify({ entityName: 'lock', key: `lock:${session.id}` }));
  host.kvs.set(`lock:${session.id}`, { owner: 'dead-holder', untilMs: Date.now() - 1, eventKey: 'succeeded', rev: null, careful: false, inflight: [] });
  const mark = host.jira.requests.length;
  const answer = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(answer.status, 200);
  assert.equal(answer.json.result, 'accepted');
  const calls = jiraSince(mark);
  assert.ok(calls.includes('GET /rest/api/3/issue/…/comment 200'), `looked for the comment first: ${calls}`);
  assert.ok(calls.includes('GET /rest/api/3/issue/…/transitions 200'), `looked the transition up: ${calls}`);
  assert.equal(appComments(host, key).length, 1);
  assert.equal(taken(key, 'Start progress'), 1);
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
  assert.equal(lockOf(host, session.id).careful, true, 'the verification stays careful');
});

test('a real crash between taking the lock and the last round trip (the invocation times out): careful mode completes it', async () => {
  // A host whose webtriggers die after 400 ms; the record read of W2 is held back past that, so
  // the invocation ends holding the lock, and nothing it tries afterwards reaches the platform.
  const crashing = await startApp({ timeouts: { webtrigger: 400 } });
  try {
    await configure(crashing);
    const key = crashing.jira.issues.add({ project: 'HELP', summary: 'Real crash', reporter: ACCOUNTS.casey });
    const { session } = await sendLink(crashing, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'EMAIL' });
    const post = async (eventType) => {
      const body = JSON.stringify({ eventType, interviewId: session.id, loginHint: 'casey@example.test' });
      const response = await fetch(crashing.webtriggerUrl(WEBHOOK), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-incode-signature': sign(WEBHOOK_SECRET, body, 'hex') },
        body,
      });
      return { status: response.status, json: await response.json().catch(() => ({})) };
    };
    assert.equal((await post('SESSION_STARTED')).status, 200);
    const slow = crashing.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/get' && r.body.includes(`"v:${session.id}"`), delayMs: 800 });
    const crashed = await post('SESSION_SUCCEEDED');
    assert.ok(crashed.status >= 500, `the invocation died: ${crashed.status}`);
    assert.equal(slow.hits, 1);
    await new Promise((r) => setTimeout(r, 900));
    assert.ok(crashing.stats.lateCalls.length > 0, 'what it tried after dying never reached the platform');
    assert.equal(appComments(crashing, key).length, 0);
    const lock = lockOf(crashing, session.id);
    assert.ok(lock.owner !== '' && lock.untilMs > Date.now(), "the dead holder's lease is live");
    assert.deepEqual((await post('SESSION_SUCCEEDED')).json.reason, 'busy', 'busy while the lease runs');
    // The lease runs out.
    setLock(crashing, session.id, { ...lockOf(crashing, session.id), untilMs: Date.now() - 1 });
    const mark = crashing.jira.requests.length;
    const retry = await post('SESSION_SUCCEEDED');
    assert.deepEqual([retry.status, retry.json.result], [200, 'accepted']);
    const calls = crashing.jira.requests.slice(mark).map((r) => `${r.method} ${r.path.split('/').pop()}`);
    assert.ok(calls.includes('GET comment') && calls.includes('GET transitions'), `careful: ${calls}`);
    assert.equal(appComments(crashing, key).length, 1);
    assert.equal(crashing.jira.issues.get(key).history.filter((h) => h.transition === 'Start progress').length, 1);
    assert.equal(crashing.kvs.get(`v:${session.id}`).status, 'passed');
  } finally {
    crashing.faults.clear();
    await crashing.stop();
  }
});

test('a crash after the effects landed but before the transaction: the retry finds the comment', async () => {
  const { key, session } = await started('Crash mid-way');
  // The transaction and the failure path's own write both fail: to the next delivery this looks
  // like a holder that died with its effects done and nothing recorded.
  const tx = host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`"v:${session.id}"`), status: 500 });
  const signal = host.faults.add({
    target: 'kvs',
    match: (r) => isSignal(r, session.id),
    status: 500,
  });
  const first = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(first.status, 503);
  assert.equal(tx.hits, 1);
  assert.equal(signal.hits, 1);
  assert.equal(appComments(host, key).length, 1, 'the comment landed');
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'inProgress', 'the record did not');
  // While the dead holder's lease runs, deliveries are busy.
  const busy = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([busy.status, busy.json.reason], [503, 'busy']);
  // The lease runs out.
  const lock = lockOf(host, session.id);
  setLock(host, session.id, { ...lock, untilMs: Date.now() - 1 });
  const retry = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(retry.status, 200);
  assert.equal(retry.json.result, 'accepted');
  assert.equal(appComments(host, key).length, 1, 'still exactly one comment');
  assert.equal(taken(key, 'Start progress'), 1, 'transitioned once');
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
});

test('the transaction fails while the effects land: the lock is marked careful at once, the retry completes', async () => {
  const { key, session } = await started('Transaction failure');
  host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/transaction' && r.body.includes(`"v:${session.id}"`), status: 503 });
  const first = await deliver(session.id, 'SESSION_FAILED');
  assert.equal(first.status, 503);
  const lock = lockOf(host, session.id);
  assert.equal(lock.owner, '', 'released by the failure path');
  assert.equal(lock.careful, true, 'marked careful');
  assert.equal(appComments(host, key).length, 1);
  const retry = await deliver(session.id, 'SESSION_FAILED');
  assert.equal(retry.json.result, 'accepted');
  assert.equal(appComments(host, key).length, 1, 'the retry found the comment');
  assert.equal(taken(key, 'Escalate'), 1);
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'failed');
});

test('an effect fails after the transaction landed: the retry (a duplicate) finishes it', async () => {
  const { key, session } = await started('Effect failure');
  host.faults.add({ target: 'jira', match: (r) => r.method === 'POST' && r.path === `/rest/api/3/issue/${key}/comment`, status: 500 });
  const first = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([first.status, first.json.reason], [503, 'effects_pending']);
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed', 'the event is recorded');
  assert.equal(appComments(host, key).length, 0);
  assert.deepEqual(
    lockOf(host, session.id).inflight.filter((i) => i.key.endsWith(':succeeded')),
    [],
    'the failure path ended its effects window',
  );
  const retry = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([retry.status, retry.json.result], [200, 'duplicate']);
  assert.equal(appComments(host, key).length, 1);
  const again = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(again.status, 200);
  assert.equal(appComments(host, key).length, 1, 'a later duplicate finds it');
  assert.equal(taken(key, 'Start progress'), 1);
});

test('a duplicate arriving while the first delivery may still be landing its effects only looks', async () => {
  const { key, session } = await started('Effects in flight');
  // A clean first delivery: a duplicate right after it finds the comment and the transition
  // taken, and is answered 200 without redoing anything.
  const first = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(first.status, 200);
  assert.ok(
    lockOf(host, session.id).inflight.some((i) => i.key.endsWith(':succeeded')),
    'the marker lists the event',
  );
  const mark = host.jira.requests.length;
  const replay = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([replay.status, replay.json.result], [200, 'duplicate']);
  assert.ok(!jiraSince(mark).some((c) => c.startsWith('POST')), 'nothing posted');

  // A first delivery whose comment has not landed and whose holder has not said it is done
  // (its failure-path write is lost too): a duplicate within the window only looks, and is told
  // to retry; after the window, the duplicate posts the comment.
  const other = await started('Comment not landed');
  host.faults.add({ target: 'jira', match: (r) => r.method === 'POST' && r.path === `/rest/api/3/issue/${other.key}/comment`, status: 500 });
  host.faults.add({
    target: 'kvs',
    match: (r) => isSignal(r, other.session.id),
    status: 500,
  });
  assert.equal((await deliver(other.session.id, 'SESSION_SUCCEEDED')).status, 503);
  const early = await deliver(other.session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([early.status, early.json.reason], [503, 'busy']);
  assert.equal(appComments(host, other.key).length, 0, 'not posted while the first may still be posting');
  const lock = lockOf(host, other.session.id);
  setLock(host, other.session.id, { ...lock, inflight: [] });
  const later = await deliver(other.session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([later.status, later.json.result], [200, 'duplicate']);
  assert.equal(appComments(host, other.key).length, 1);
  assert.equal(appComments(host, key).length, 1);
});

test('a stored transition id Jira refuses falls back to looking the transition up', async () => {
  const { key, session } = await started('Workflow changed');
  const record = host.kvs.get(`v:${session.id}`);
  assert.deepEqual(Object.keys(record.transitions).sort(), ['failed', 'manualReview', 'passed'], 'ids chosen at send time');
  // As if the workflow had changed since: the stored id is no longer valid.
  host.kvs.set(`v:${session.id}`, { ...record, transitions: { ...record.transitions, passed: { ...record.transitions.passed, id: '999' } } });
  const mark = host.jira.requests.length;
  const answer = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(answer.status, 200);
  const calls = jiraSince(mark).filter((c) => c.includes('transitions'));
  assert.deepEqual(calls, ['POST /rest/api/3/issue/…/transitions 400', 'GET /rest/api/3/issue/…/transitions 200', 'POST /rest/api/3/issue/…/transitions 204']);
  assert.equal(host.jira.issues.get(key).status, 'In Progress');
  assert.equal(taken(key, 'Start progress'), 1);

  // The issue moved on by hand: the stored id is refused, the look-up finds no such transition.
  const moved = await started('Moved by hand');
  host.jira.issues.transition(moved.key, 'Start progress');
  const before = host.jira.requests.length;
  const outcome = await deliver(moved.session.id, 'SESSION_SUCCEEDED');
  assert.equal(outcome.status, 200, 'a transition that is not available is skipped, as before');
  assert.deepEqual(
    jiraSince(before)
      .filter((c) => c.includes('transitions'))
      .map((c) => c.split(' ')[0]),
    ['POST', 'GET'],
  );
  assert.equal(taken(moved.key, 'Start progress'), 1, 'only the hand-made one');
  assert.equal(appComments(host, moved.key).length, 1);
});

test('an expired publish token is signed again before publishing (a valid one is used as it is: see the first test)', async () => {
  const { key, session } = await started('Publish token');
  const issueId = host.jira.issues.get(key).id;
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(typeof record.publish.token, 'string');
  assert.ok(record.publish.expiresAtMs > Date.now());
  host.kvs.set(`v:${session.id}`, { ...record, publish: { ...record.publish, expiresAtMs: Date.now() - 1000 } });
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  const received = [];
  const subscription = host.realtime.subscribe({ channel: state.realtime.channel, isGlobal: true, token: state.realtime.token, send: (m) => received.push(m) });
  const answer = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(answer.status, 200);
  assert.equal(answer.invocation.calls.realtime, 2, 'signed, then published');
  assert.ok(answer.invocation.waves <= MAX_WAVES + 1, 'one round trip more, on this path only');
  assert.equal(received.length, 1, 'the open panel got the live update');
  assert.equal(publishedOn(host, `incode-verification:${issueId}`).length >= 2, true);
  subscription.close();
});

test('the publish token never reaches the browser', async () => {
  const key = newRequest('Token privacy');
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: 'casey@example.test', delivery: 'SMS', phone: '+44 7700 900123' });
  const token = host.kvs.get(`v:${session.id}`).publish.token;
  assert.equal(typeof token, 'string');
  assert.ok(token.length > 20);
  ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  ok(await panel(host, ACCOUNTS.avery, key, 'panel.resend', { verificationId: verification.id }));
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  ok(await panel(host, ACCOUNTS.avery, key, 'panel.cancel', { verificationId: state.current.id }));
  ok(await portal(host, ACCOUNTS.casey, key, 'portal.getState'));
  ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries'));
  ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
  const tokens = host.kvs
    .keys('v:')
    .map((k) => host.kvs.get(k).publish?.token)
    .filter((t) => typeof t === 'string');
  assert.ok(tokens.length >= 3);
  for (const answer of answers) {
    for (const t of tokens) assert.ok(!answer.includes(t), 'no resolver answer carries a publish token');
    assert.ok(!answer.includes('"publish"'), 'nor the bookkeeping field');
    assert.ok(!answer.includes('"name":"Start progress","id"'), 'nor the stored transition ids');
  }
  // Nor the live messages the panel receives.
  for (const event of host.realtime.published) assert.ok(!tokens.some((t) => String(event.payload).includes(t)));
});

test('deliveries of one event and of another event of the session, all at once: one comment, the last status', async () => {
  const { key, session } = await started('All at once');
  // The first holder's comment lands slowly, so duplicates arrive while it may still be posting.
  const slow = host.faults.add({ target: 'jira', match: (r) => r.method === 'POST' && r.path === `/rest/api/3/issue/${key}/comment`, delayMs: 150 });
  const burst = await Promise.all([
    ...Array.from({ length: 4 }, () => deliver(session.id, 'SESSION_SUCCEEDED', { identityId: 'id-burst' })),
    ...Array.from({ length: 2 }, () => deliver(session.id, 'IDENTITY_ENROLLED', { identityId: 'id-burst' })),
  ]);
  assert.equal(slow.hits, 1, 'one comment was posted during the burst');
  assert.ok(
    burst.every((a) => a.status === 200 || a.status === 503),
    JSON.stringify(burst.map((a) => a.status)),
  );
  // Incode retries what was answered 503 until it is answered 200.
  for (const type of ['SESSION_SUCCEEDED', 'IDENTITY_ENROLLED']) {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await deliver(session.id, type, { identityId: 'id-burst' });
      if (answer.status === 200) break;
      assert.ok(attempt < 20, `${type} is eventually answered 200: ${JSON.stringify(answer.json)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  assert.equal(appComments(host, key).length, 1, 'exactly one comment');
  assert.equal(taken(key, 'Start progress'), 1, 'transitioned once');
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'passed');
  assert.equal(record.identityId, 'id-burst');
  assert.equal(host.jira.issues.get(key).properties['incode-verification'].status, 'passed');
  assert.equal(lockOf(host, session.id).owner, '', 'the lock is released');
});

test('a read made beside the swap is checked against the release marker, and read again when stale', async () => {
  const { key, session } = await started('Stale read');
  const lock = lockOf(host, session.id);
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(lock.rev, record.rev, 'the marker repeats the rev of the record its holder wrote');
  // As if a holder had committed between this delivery's read and its swap.
  setLock(host, session.id, { ...lock, rev: record.rev + 1 });
  const answer = await deliver(session.id, 'SESSION_SUCCEEDED');
  assert.equal(answer.status, 200);
  assert.equal(answer.invocation.waves, KEPT_WAVES + 1, 'one more round trip than a warm delivery: the record read again');
  assert.equal(appComments(host, key).length, 1);

  // A live lease the previous release left under the plain key, the entity holding nothing: busy.
  const other = await started('Lease of the previous release');
  host.kvs.handle('/api/v1/entity/delete', JSON.stringify({ entityName: 'lock', key: `lock:${other.session.id}` }));
  host.kvs.set(`lock:${other.session.id}`, {
    owner: 'old-release',
    untilMs: Date.now() + 60_000,
    eventKey: 'started',
    rev: null,
    careful: false,
    inflight: [],
  });
  const held = await deliver(other.session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([held.status, held.json.reason], [503, 'busy'], 'the old holder is respected');
  assert.equal(lockOf(host, other.session.id).owner, 'old-release', 'its lease given back into the entity');
  assert.equal(appComments(host, other.key).length, 0);
  // A live lease of anyone else is busy, and is put back.
  const third = await started('Really busy');
  const live = { owner: 'someone-else', untilMs: Date.now() + 60_000, eventKey: 'started', rev: null, careful: false, inflight: [] };
  setLock(host, third.session.id, live);
  const busy = await deliver(third.session.id, 'SESSION_SUCCEEDED');
  assert.deepEqual([busy.status, busy.json.reason], [503, 'busy']);
  assert.deepEqual(
    [lockOf(host, third.session.id).owner, lockOf(host, third.session.id).untilMs],
    [live.owner, live.untilMs],
    "the holder's lease was put back",
  );
  assert.equal(appComments(host, third.key).length, 0);
});

test('a resend while a webhook holds the open link past the wait leaves that link open, and tells the agent', async () => {
  // Blake sends: this file's other sends use up Avery's hourly limit.
  const key = newRequest('Held past the wait');
  const { verification, session } = await sendLink(host, ACCOUNTS.blake, key, { email: 'casey@example.test', delivery: 'EMAIL' });
  assert.equal(lockOf(host, session.id), undefined, "no event has taken the new link's lock yet");
  // A webhook of the open link holds its lock for longer than a send waits (4 s).
  const live = { owner: 'a-webhook', untilMs: Date.now() + 60_000, eventKey: 'started', rev: null, careful: false, inflight: [] };
  setLock(host, session.id, live);
  const asked = Date.now();
  const resent = ok(await panel(host, ACCOUNTS.blake, key, 'panel.resend', { verificationId: verification.id }));
  assert.ok(Date.now() - asked >= 3_500, `the send waited about 4 s for the lock (${Date.now() - asked} ms)`);
  assert.notEqual(resent.verification.sessionId, session.id, 'the new link was sent');
  assert.match(
    resent.notice,
    /^The link sent before this one could not be cancelled: Incode was reporting on it at that moment\. It stays open until \d{1,2}:\d{2} UTC, and a result from it is still recorded on this ticket\.$/,
  );
  assert.deepEqual([lockOf(host, session.id).owner, lockOf(host, session.id).untilMs], [live.owner, live.untilMs], "the webhook's lease was put back");
  const state = ok(await panel(host, ACCOUNTS.blake, key, 'panel.getState'));
  assert.equal(state.current.sessionId, resent.verification.sessionId);
  assert.deepEqual(
    state.history.map((v) => [v.id, v.status]),
    [[verification.id, 'requested']],
    'the earlier link is still open, as the notice says',
  );

  // Once the webhook is done, a result of the earlier link is recorded on the ticket, as the notice says.
  host.kvs.handle('/api/v1/entity/delete', JSON.stringify({ entityName: 'lock', key: `lock:${session.id}` }));
  await host.incode.complete(session.id, 'pass');
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
  assert.equal(appComments(host, key).length, 1);

  // A resend that cancels the link it replaces says nothing more.
  const again = ok(await panel(host, ACCOUNTS.blake, key, 'panel.resend', { verificationId: resent.verification.id }));
  assert.equal(again.notice, undefined);
  assert.equal(host.kvs.get(`v:${resent.verification.sessionId}`).status, 'cancelled');
});

test('no fault was left unused, and Jira saw only valid requests', () => {
  assert.deepEqual(host.faults.pending(), []);
  assert.deepEqual(host.jira.violations, []);
  assert.deepEqual(host.stats.lateCalls, []);
});
