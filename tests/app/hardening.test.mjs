// What an attacker or an unlucky outage could do to the webtriggers and what the app does about
// it: weak and rotated webhook secrets, events naming another person, completions without a
// result, results after a cancel or an expiry, storage timeouts, other methods and huge bodies,
// and a flood of wrong secrets (last: it locks authentication for this host's installation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '../../dev/host/incode/webhooks.mjs';
import { ACCOUNTS, WEBHOOK_SECRET, admin, appComments, captureConsole, configure, fails, ok, panel, sendLink, startApp } from './helpers.mjs';

let host;

before(async () => {
  host = await startApp();
  await configure(host);
});

after(async () => {
  host?.faults.clear();
  await host?.stop();
});

const WEBHOOK = 'incode-webhook';
const TOKEN = 'incode-webhook-token';
const EMAIL = 'casey@example.test';

/** POSTs a webhook body (an object or text) with `headers`; answers status, headers and JSON. */
async function post(body, headers = {}, { method = 'POST', trigger = WEBHOOK } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(host.webtriggerUrl(trigger), {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' || method === 'HEAD' ? undefined : text,
  });
  const raw = await response.text();
  let json;
  try {
    json = JSON.parse(raw);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json };
}

/** A webhook signed as Incode signs it (HMAC, hex), with `secret`. */
const signed = (event, secret = WEBHOOK_SECRET) => {
  const text = JSON.stringify(event);
  return post(text, { 'x-incode-signature': sign(secret, text, 'hex') });
};

const newRequest = (summary) => host.jira.issues.add({ project: 'HELP', summary, reporter: ACCOUNTS.casey });
const deliveries = async () => ok(await admin(host, ACCOUNTS.alex, 'admin.getDeliveries')).deliveries;

test('a weak webhook secret kept across a change of mode is refused on save, and authenticates nothing', async () => {
  // A secret an earlier version let through (HMAC mode took any length).
  const strong = host.kvs.getSecret('secrets');
  host.kvs.set('secrets', { ...strong, webhookSecret: 'k3y' }, { secret: true });
  try {
    const refused = fails(
      await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookAuth: { mode: 'sharedSecret', header: 'x-incode-secret' } }),
      'validation',
    );
    assert.deepEqual(
      refused.fields.map((f) => [f.field, f.code]),
      [['webhookSecret', 'weak_secret']],
    );
    fails(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { linkExpiryMinutes: 15 }), 'validation', 'any save while it is kept');

    // Guessing it over the URL gets nowhere: every delivery is refused, with the reason logged.
    const { session } = await sendLink(host, ACCOUNTS.avery, newRequest('Weak secret'), { email: EMAIL, delivery: 'EMAIL' });
    const answer = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: EMAIL }, 'k3y');
    assert.equal(answer.status, 401);
    assert.equal(answer.json.reason, 'weak_secret');
    assert.equal(host.kvs.get(`v:${session.id}`).status, 'requested');
    assert.deepEqual([(await deliveries())[0].verdict, (await deliveries())[0].reason], ['rejected', 'weak_secret']);

    // The admin page says why.
    const settings = ok(await admin(host, ACCOUNTS.alex, 'admin.getSettings'));
    const item = settings.checklist.find((i) => i.id === 'webhook');
    assert.equal(item.done, false);
    assert.match(item.detail, /too weak/);
    // A strong secret replaces it, in the new mode.
    ok(
      await admin(host, ACCOUNTS.alex, 'admin.saveSettings', {
        webhookAuth: { mode: 'sharedSecret', header: 'x-incode-secret' },
        webhookSecret: WEBHOOK_SECRET,
      }),
    );
  } finally {
    host.kvs.set('secrets', strong, { secret: true });
    ok(
      await admin(host, ACCOUNTS.alex, 'admin.saveSettings', {
        webhookAuth: { mode: 'hmac', header: 'x-incode-signature', encoding: 'hex', timestampHeader: '', toleranceSeconds: 300 },
      }),
    );
  }
});

test('once a save has returned, the old secret fails on a warm instance that kept the settings', async () => {
  const key = newRequest('Rotation');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  // Two deliveries: the instance now keeps the settings (the checklist records a webhook).
  assert.equal((await signed({ eventType: 'SESSION_STARTED', interviewId: session.id, loginHint: EMAIL })).status, 200);
  assert.equal((await signed({ eventType: 'SESSION_PROGRESS', interviewId: session.id, loginHint: EMAIL })).status, 200);

  const rotated = 'whsec-rotated-9c8b7a6f5e4d3c2b1a';
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: rotated }));
  try {
    const event = { eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: EMAIL, identityId: 'id-rotation' };
    const old = await signed(event, WEBHOOK_SECRET);
    assert.equal(old.status, 401, `the old secret is refused at once: ${JSON.stringify(old.json)}`);
    assert.equal(host.kvs.get(`v:${session.id}`).status, 'inProgress');
    assert.equal(appComments(host, key).length, 0);
    assert.equal((await signed(event, rotated)).status, 200);
    assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
  } finally {
    ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookSecret: WEBHOOK_SECRET }));
  }
});

test('a signed event whose loginHint names someone else is refused and logged, and Incode stops', async () => {
  const key = newRequest('Someone else');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  const before = host.kvs.get(`v:${session.id}`);
  const answer = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: 'drew@example.test', identityId: 'id-other' });
  assert.equal(answer.status, 200, 'answered so that Incode does not retry forever');
  assert.deepEqual([answer.json.result, answer.json.reason], ['rejected', 'loginHintMismatch']);
  assert.equal(host.kvs.get(`v:${session.id}`).status, before.status);
  assert.equal(appComments(host, key).length, 0);
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const [logged] = await deliveries();
  assert.deepEqual([logged.verdict, logged.reason, logged.sessionId], ['rejected', 'loginHintMismatch', session.id]);
  // The same person in another case and with spaces is applied.
  const same = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: ` ${EMAIL.toUpperCase()} `, identityId: 'id-same' });
  assert.equal(same.status, 200);
  assert.equal(host.kvs.get(`v:${session.id}`).status, 'passed');
});

test('a completion without a result is never lost: it needs a review, and the agent is told', async () => {
  const key = newRequest('Completion without a result');
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  const answer = await signed({ eventType: 'ONBOARDING_FINISHED', interviewId: session.id, loginHint: EMAIL });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'manualReview');
  assert.equal(record.history.at(-1).cause, 'ONBOARDING_FINISHED (no result)');
  assert.equal(appComments(host, key).length, 1, 'the agent is told on the ticket');
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.current.status, 'manualReview');
});

test('a pass after the agent cancelled is kept and shown, never applied', async () => {
  const key = newRequest('Cancelled, then passed');
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  ok(await panel(host, ACCOUNTS.avery, key, 'panel.cancel', { verificationId: verification.id }));
  const event = { eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: EMAIL, identityId: 'id-late' };
  const answer = await signed(event);
  assert.equal(answer.status, 200);
  assert.deepEqual([answer.json.result, answer.json.reason], ['ignored', 'afterCancel']);
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'cancelled');
  assert.deepEqual(
    record.lateResults.map((l) => [l.outcome, l.reason, l.event]),
    [['passed', 'afterCancel', 'SESSION_SUCCEEDED']],
  );
  assert.equal(appComments(host, key).length, 0);
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  const shown = state.current ?? state.history.find((v) => v.id === verification.id);
  assert.deepEqual(
    shown.lateResults.map((l) => l.outcome),
    ['passed'],
  );
  const [logged] = await deliveries();
  assert.deepEqual([logged.verdict, logged.reason, logged.status], ['ignored', 'afterCancel', 'cancelled']);
  // Incode's retry is a duplicate: still one late result.
  assert.equal((await signed(event)).json.result, 'duplicate');
  assert.equal(host.kvs.get(`v:${session.id}`).lateResults.length, 1);
});

test('a pass after the link expired is kept and shown, never applied', async () => {
  const key = newRequest('Expired, then passed');
  const { verification, session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  // The link's time ran out (as if the employee had waited past it).
  const stored = host.kvs.get(`v:${session.id}`);
  host.kvs.set(`v:${session.id}`, { ...stored, expiresAtMs: Date.now() - 1000 });
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current.status, 'expired');
  const answer = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: EMAIL, identityId: 'id-late' });
  assert.equal(answer.status, 200);
  assert.deepEqual([answer.json.result, answer.json.reason], ['ignored', 'afterExpiry']);
  const record = host.kvs.get(`v:${session.id}`);
  assert.equal(record.status, 'expired');
  assert.deepEqual(
    record.lateResults.map((l) => [l.outcome, l.reason]),
    [['passed', 'afterExpiry']],
  );
  assert.equal(appComments(host, key).length, 0);
  assert.equal(host.jira.issues.get(key).status, 'Open');
  const state = ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState'));
  assert.equal(state.current.id, verification.id);
  assert.deepEqual(
    state.current.lateResults.map((l) => l.outcome),
    ['passed'],
  );
});

test('a storage timeout answers 503 with Retry-After, in the webhook and in a send', async () => {
  const unknown = 'bbbbbbbbbbbbbbbbbbbbbbbb';
  const rule = host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/get' && String(r.body).includes(`"test:${unknown}"`), error: 'timeout' });
  const answer = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: unknown, loginHint: EMAIL });
  assert.equal(rule.hits, 1);
  assert.equal(answer.status, 503, JSON.stringify(answer.json));
  assert.equal(answer.headers.get('retry-after') !== null, true);

  const key = newRequest('Send during a storage timeout');
  const sendRule = host.faults.add({ target: 'kvs', match: (r) => String(r.body).includes('rate:agent:'), error: 'timeout' });
  const error = fails(await panel(host, ACCOUNTS.avery, key, 'panel.send', { email: EMAIL, delivery: 'EMAIL' }), 'storage_unavailable');
  assert.equal(sendRule.hits, 1);
  assert.equal(error.retryable, true);
  host.faults.clear();
});

test("when the send's last write fails once, the link is still recorded, so its webhooks match", async () => {
  const key = newRequest('Record write fails once');
  const issueId = host.jira.issues.get(key).id;
  const rule = host.faults.add({ target: 'kvs', match: (r) => r.path === '/api/v1/transaction' && String(r.body).includes(`"issue:${issueId}"`), status: 500 });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  assert.equal(rule.hits, 1);
  assert.equal(host.kvs.get(`v:${session.id}`)?.status, 'requested', 'the record exists');
  const answer = await signed({ eventType: 'SESSION_SUCCEEDED', interviewId: session.id, loginHint: EMAIL, identityId: 'id-retry' });
  assert.deepEqual([answer.status, answer.json.result], [200, 'accepted']);
  assert.equal(ok(await panel(host, ACCOUNTS.avery, key, 'panel.getState')).current.status, 'passed');
});

test("when the send's last write lands but its answer is lost, it is read back, not written again", async () => {
  const key = newRequest('Record write answer lost');
  const issueId = host.jira.issues.get(key).id;
  const mine = (r) => r.path === '/api/v1/transaction' && String(r.body).includes(`"issue:${issueId}"`);
  const lost = host.faults.add({ target: 'kvs', match: mine, status: 500, landed: true });
  // A second transaction would have released locks already released (another holder's by now).
  const again = host.faults.add({ target: 'kvs', match: mine, status: 500 });
  const { session } = await sendLink(host, ACCOUNTS.avery, key, { email: EMAIL, delivery: 'EMAIL' });
  assert.equal(lost.hits, 1);
  assert.equal(again.hits, 0, 'no second transaction');
  assert.equal(host.kvs.get(`v:${session.id}`)?.status, 'requested', 'the record is there');
  host.faults.clear();
});

test('the webtriggers take POST only and cap the body', async () => {
  for (const method of ['GET', 'PUT', 'DELETE']) {
    for (const trigger of [WEBHOOK, TOKEN]) {
      const answer = await post('{}', {}, { method, trigger });
      assert.equal(answer.status, 405, `${method} ${trigger}`);
      assert.equal(answer.headers.get('allow'), 'POST');
    }
  }
  const huge = JSON.stringify({ eventType: 'SESSION_STARTED', interviewId: 'x', padding: 'x'.repeat(300 * 1024) });
  assert.equal((await post(huge, { 'x-incode-signature': sign(WEBHOOK_SECRET, huge, 'hex') })).status, 413);
  assert.equal(
    (await post(`grant_type=client_credentials&x=${'y'.repeat(20 * 1024)}`, { 'content-type': 'application/x-www-form-urlencoded' }, { trigger: TOKEN }))
      .status,
    413,
  );
});

// Last: it locks authentication for this host's installation.
test('the token endpoint tells no one unauthenticated how it is configured, and counts no guess while it is off', async () => {
  // This host's settings authenticate webhooks by HMAC: token issuance is off.
  const logs = captureConsole();
  const writesBefore = host.kvs.writes;
  const answers = [];
  try {
    for (let i = 0; i < 40; i += 1) {
      const basic = `Basic ${Buffer.from(`incode-webhooks:${WEBHOOK_SECRET}`).toString('base64')}`;
      answers.push(
        await post('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, { trigger: TOKEN }),
      );
    }
  } finally {
    logs.restore();
  }
  for (const answer of answers) {
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.json, { error: 'invalid_client', error_description: 'Client authentication failed.' });
  }
  assert.equal(host.kvs.writes, writesBefore, 'no throttle marker: nothing was guessed');
  // The reason is in the function's log, for the admin.
  assert.ok(
    logs.lines.some((line) => /token\.answered/.test(line) && /not_oauth/.test(line)),
    logs.lines.filter((line) => /token/.test(line)).join('\n'),
  );
  // The webhook is not locked out by them.
  const text = JSON.stringify({ eventType: 'SESSION_STARTED', interviewId: 'no-such-session' });
  assert.notEqual((await post(text, { 'x-incode-signature': sign(WEBHOOK_SECRET, text, 'hex') })).status, 429);
});

test('wrong secrets are throttled per installation, on the webhook and the token endpoint, without a write per guess', async () => {
  ok(await admin(host, ACCOUNTS.alex, 'admin.saveSettings', { webhookAuth: { mode: 'oauth', clientId: 'incode-webhooks', tokenTtlSeconds: 3600 } }));
  const writesBefore = host.kvs.writes;
  const answers = [];
  for (let i = 0; i < 60; i += 1) {
    const basic = `Basic ${Buffer.from(`incode-webhooks:guess-${i}-0123456789abcdef`).toString('base64')}`;
    const answer = await post(
      'grant_type=client_credentials',
      { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      { trigger: TOKEN },
    );
    answers.push(answer.status);
    if (answer.status === 429) assert.ok(Number(answer.headers.get('retry-after')) > 0);
  }
  const refusedAt = answers.indexOf(429);
  assert.ok(refusedAt > 0 && refusedAt <= 40, `throttled after ${refusedAt} wrong secrets: ${answers.join(',')}`);
  assert.ok(
    answers.slice(refusedAt).every((s) => s === 429),
    'and from then on, every attempt',
  );
  assert.ok(host.kvs.writes - writesBefore <= 2, `${host.kvs.writes - writesBefore} writes for 60 guesses`);
  // The right secret is not even evaluated meanwhile: a guess cannot be told from a miss.
  const right = `Basic ${Buffer.from(`incode-webhooks:${WEBHOOK_SECRET}`).toString('base64')}`;
  assert.equal(
    (await post('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded', authorization: right }, { trigger: TOKEN })).status,
    429,
  );
  // The webhook too, on a new instance (it reads the stored marker).
  host.recycleInstances();
  const webhookAnswer = await post('{}', { authorization: 'Bearer v1.1.x' });
  assert.equal(webhookAnswer.status, 429);
  assert.ok(Number(webhookAnswer.headers.get('retry-after')) > 0);
});
