// The sandbox's webhook sender: authentication in each dashboard mode (checked here with
// node:crypto, independently of the sender), retries with backoff, and per-session ordering.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, createIncodeSandbox } from '../../dev/host/incode/index.mjs';

const WEBHOOK = 'https://app.example.test/x1/webhook';
const TOKEN_URL = 'https://app.example.test/x1/token';
const FAST = { attempts: 5, baseDelayMs: 5, factor: 2, maxDelayMs: 40, timeoutMs: 500 };

/** A stand-in for the app: records what arrives and answers from a script (or 200). */
function fakeApp(script = () => ({ status: 200, body: '{}' })) {
  const received = [];
  const deliver = async (request) => {
    received.push({ ...request, json: request.body && request.headers['content-type'] === 'application/json' ? JSON.parse(request.body) : null });
    const answer = await script(request, received.length);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { received, deliver };
}

function startSession(sandbox, loginHint = 'casey@example.test') {
  const auth = sandbox.handleApi({
    url: 'https://auth.demo.incode.com/oauth2/token',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SANDBOX_CREDENTIALS.clientId,
      client_secret: SANDBOX_CREDENTIALS.clientSecret,
      scope: 'openid',
    }).toString(),
  });
  const response = sandbox.handleApi({
    url: 'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new',
    method: 'POST',
    headers: {
      authorization: `Bearer ${JSON.parse(auth.body).access_token}`,
      'x-api-key': SANDBOX_CREDENTIALS.apiKey,
      'api-version': '1.0',
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      integrationReference: SANDBOX_CREDENTIALS.integrationReference,
      loginHint,
      linkValidityInMinutes: 10,
      notification: { type: 'EMAIL' },
    }),
  });
  assert.equal(response.status, 200, response.body);
  return JSON.parse(response.body).interviewId;
}

const hmacHex = (secret, text) => createHmac('sha256', secret).update(text).digest('hex');
const sameBytes = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

describe('webhook authentication', () => {
  it('signs the exact raw body with HMAC-SHA256 in hex', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'hmac', secret: 'whsec-1' });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'pass');
    assert.deepEqual(
      app.received.map((r) => r.json.eventType),
      ['SESSION_STARTED', 'SESSION_SUCCEEDED', 'IDENTITY_ENROLLED'],
    );
    for (const request of app.received) {
      assert.equal(request.url, WEBHOOK);
      assert.equal(request.method, 'POST');
      assert.ok(sameBytes(request.headers['x-incode-signature'], hmacHex('whsec-1', request.body)));
      assert.ok(!sameBytes(request.headers['x-incode-signature'], hmacHex('other', request.body)));
    }
    const succeeded = app.received[1].json;
    assert.equal(succeeded.interviewId, id);
    assert.equal(succeeded.loginHint, 'casey@example.test');
    assert.match(succeeded.identityId, /^[0-9a-f]{24}$/);
    assert.equal(app.received[2].json.identityId, succeeded.identityId);
    assert.ok(!('identityId' in app.received[0].json), 'no identity before success');
    assert.ok(!Number.isNaN(Date.parse(succeeded.timestamp)));
  });

  it('signs `${timestamp}.${body}` in base64 with a prefix when a timestamp header is set', async () => {
    const clock = {
      t: Date.UTC(2026, 10, 22, 10, 0, 0),
      now() {
        return this.t;
      },
    };
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST, clock });
    sandbox.configureWebhook({
      url: WEBHOOK,
      mode: 'hmac',
      secret: 'whsec-2',
      header: 'X-Signature',
      encoding: 'base64',
      prefix: 'sha256=',
      timestampHeader: 'X-Incode-Timestamp',
    });
    await sandbox.complete(startSession(sandbox), 'fail');
    const [, failed] = app.received;
    assert.equal(failed.json.eventType, 'SESSION_FAILED');
    const ts = failed.headers['x-incode-timestamp'];
    assert.equal(ts, String(clock.t / 1000));
    const expected = 'sha256=' + createHmac('sha256', 'whsec-2').update(`${ts}.${failed.body}`).digest('base64');
    assert.equal(failed.headers['x-signature'], expected);
    const bodyOnly = 'sha256=' + createHmac('sha256', 'whsec-2').update(failed.body).digest('base64');
    assert.notEqual(failed.headers['x-signature'], bodyOnly);
  });

  it('sends a shared secret in the configured header', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's3cret', header: 'X-Incode-Secret' });
    await sandbox.complete(startSession(sandbox), 'review');
    assert.deepEqual(
      app.received.map((r) => r.json.eventType),
      ['SESSION_STARTED', 'SESSION_PENDING_REVIEW'],
    );
    assert.ok(app.received.every((r) => r.headers['x-incode-secret'] === 's3cret'));
    assert.ok(app.received.every((r) => !('x-incode-signature' in r.headers)));
  });

  it('fetches a bearer token with client credentials, caches it, and renews it when refused', async () => {
    let accepted = 'tok-1';
    let issued = 0;
    const app = fakeApp((request) => {
      if (request.url === TOKEN_URL) {
        const expected = 'Basic ' + Buffer.from('incode-webhooks:hook-secret').toString('base64');
        if (request.headers.authorization !== expected) return { status: 401, body: '{"error":"invalid_client"}' };
        assert.equal(request.body, 'grant_type=client_credentials');
        assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
        issued++;
        return { status: 200, body: JSON.stringify({ access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: 600 }) };
      }
      return request.headers.authorization === `Bearer ${accepted}` ? { status: 200, body: '' } : { status: 401, body: '' };
    });
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'oauth', secret: 'hook-secret', clientId: 'incode-webhooks', tokenUrl: TOKEN_URL });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'open');
    await sandbox.complete(id, 'open');
    assert.equal(issued, 1, 'one token serves both events');
    accepted = 'tok-2'; // the app forgot tok-1
    await sandbox.complete(id, 'pass');
    assert.equal(issued, 2);
    const events = app.received.filter((r) => r.url === WEBHOOK && r.headers.authorization === 'Bearer tok-2').map((r) => r.json.eventType);
    assert.deepEqual(events, ['SESSION_SUCCEEDED', 'IDENTITY_ENROLLED']);
    const refused = sandbox.deliveries.find((d) => d.status === 401);
    assert.equal(refused.eventType, 'SESSION_SUCCEEDED');
    assert.equal(refused.final, false);
  });

  it('gives up at once when the token endpoint refuses the client', async () => {
    const app = fakeApp((request) => (request.url === TOKEN_URL ? { status: 401, body: '{"error":"invalid_client"}' } : { status: 200, body: '' }));
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'oauth', secret: 'wrong', clientId: 'incode-webhooks', tokenUrl: TOKEN_URL });
    const [result] = await sandbox.complete(startSession(sandbox), 'open');
    assert.equal(result.delivered, false);
    assert.equal(sandbox.deliveries.length, 1);
    assert.match(sandbox.deliveries[0].error, /token request refused: HTTP 401/);
    assert.equal(app.received.filter((r) => r.url === WEBHOOK).length, 0);
  });

  it('refuses an incomplete dashboard configuration', () => {
    const sandbox = createIncodeSandbox();
    assert.throws(() => sandbox.configureWebhook({ url: 'not a url', mode: 'hmac', secret: 'x' }), /not a URL/);
    assert.throws(() => sandbox.configureWebhook({ url: WEBHOOK, mode: 'carrier-pigeon', secret: 'x' }), /mode/);
    assert.throws(() => sandbox.configureWebhook({ url: WEBHOOK, mode: 'hmac', secret: '' }), /secret/);
    assert.throws(() => sandbox.configureWebhook({ url: WEBHOOK, mode: 'oauth', secret: 'x', clientId: 'c' }), /token URL/);
    assert.throws(() => sandbox.configureWebhook({ url: WEBHOOK, mode: 'hmac', secret: 'x', encoding: 'hex32' }), /encoding/);
  });
});

describe('retries', () => {
  it('retries 5xx and network errors with growing delays, recording every attempt', async () => {
    const answers = [{ status: 503, body: 'down' }, new Error('ECONNRESET'), { status: 500, body: '' }, { status: 202, body: '' }];
    const app = fakeApp((request, n) => answers[n - 1]);
    const slept = [];
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, sleep: async (ms) => slept.push(ms) } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const [result] = await sandbox.complete(startSession(sandbox), 'open');
    assert.deepEqual(result, { delivered: true, attempts: 4, status: 202 });
    assert.deepEqual(
      sandbox.deliveries.map((d) => [d.attempt, d.status, d.ok]),
      [
        [1, 503, false],
        [2, null, false],
        [3, 500, false],
        [4, 202, true],
      ],
    );
    assert.match(sandbox.deliveries[1].error, /network error: ECONNRESET/);
    assert.deepEqual(slept, [5, 10, 20]);
    assert.ok(sandbox.deliveries.every((d) => d.eventType === 'SESSION_STARTED' && d.event.eventType === 'SESSION_STARTED'));
    assert.equal(new Set(app.received.map((r) => r.body)).size, 1, 'every attempt carries the same bytes');
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    const app = fakeApp(() => ({ status: 401, body: 'bad signature' }));
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'hmac', secret: 's' });
    const [result] = await sandbox.complete(startSession(sandbox), 'open');
    assert.equal(result.delivered, false);
    assert.equal(app.received.length, 1);
    assert.deepEqual(
      sandbox.deliveries.map((d) => [d.attempt, d.status, d.final]),
      [[1, 401, true]],
    );
    assert.equal(sandbox.deliveries[0].responseBody, 'bad signature');
  });

  it('retries 408 and 429, honouring Retry-After up to the maximum delay', async () => {
    const answers = [
      { status: 429, headers: { 'Retry-After': '0.03' }, body: '' },
      { status: 408, body: '' },
      { status: 200, body: '' },
    ];
    const app = fakeApp((request, n) => answers[n - 1]);
    const slept = [];
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, sleep: async (ms) => slept.push(ms) } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    await sandbox.complete(startSession(sandbox), 'open');
    assert.equal(app.received.length, 3);
    assert.deepEqual(slept, [30, 10]);
  });

  it('gives up after the configured number of attempts', async () => {
    const app = fakeApp(() => ({ status: 500, body: '' }));
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, attempts: 3 } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const [result] = await sandbox.complete(startSession(sandbox), 'open');
    assert.deepEqual(result, { delivered: false, attempts: 3, status: 500, reason: 'HTTP 500' });
    assert.deepEqual(
      sandbox.deliveries.map((d) => [d.attempt, d.final, d.nextDelayMs]),
      [
        [1, false, 5],
        [2, false, 10],
        [3, true, null],
      ],
    );
  });

  it('treats a sender that never answers as a network error', async () => {
    const app = fakeApp((request, n) => (n === 1 ? new Promise(() => {}) : { status: 200, body: '' }));
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, timeoutMs: 20 } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const [result] = await sandbox.complete(startSession(sandbox), 'open');
    assert.equal(result.attempts, 2);
    assert.match(sandbox.deliveries[0].error, /no answer within 20 ms/);
  });

  it('records events when no webhook is configured or the event is not subscribed', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'open');
    assert.equal(sandbox.deliveries[0].error, 'no webhook configured');
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's', events: ['SESSION_SUCCEEDED', 'SESSION_FAILED'] });
    await sandbox.complete(id, 'pass');
    assert.deepEqual(
      app.received.map((r) => r.json.eventType),
      ['SESSION_SUCCEEDED'],
    );
    assert.equal(sandbox.deliveries.at(-1).error, 'event not subscribed');
  });
});

describe('ordering', () => {
  it("delivers a session's events in order even when an earlier one needs retries", async () => {
    let failuresLeft = 2;
    const app = fakeApp((request) => {
      const { eventType } = JSON.parse(request.body);
      if (eventType === 'SESSION_STARTED' && failuresLeft > 0) {
        failuresLeft--;
        return { status: 503, body: '' };
      }
      return { status: 200, body: '' };
    });
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const id = startSession(sandbox);
    const pending = sandbox.complete(id, 'pass'); // STARTED, SUCCEEDED, ENROLLED queued at once
    await pending;
    assert.deepEqual(
      app.received.map((r) => r.json.eventType),
      ['SESSION_STARTED', 'SESSION_STARTED', 'SESSION_STARTED', 'SESSION_SUCCEEDED', 'IDENTITY_ENROLLED'],
    );
  });

  it("does not hold one session's events behind another's", async () => {
    const gates = new Map();
    const app = fakeApp((request) => {
      const { loginHint } = JSON.parse(request.body);
      if (loginHint === 'casey@example.test' && !gates.has('casey')) {
        return new Promise((resolve) => gates.set('casey', () => resolve({ status: 200, body: '' })));
      }
      return { status: 200, body: '' };
    });
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, timeoutMs: 2000 } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const slow = sandbox.complete(startSession(sandbox, 'casey@example.test'), 'pass');
    await sandbox.complete(startSession(sandbox, 'drew@example.test'), 'fail');
    assert.deepEqual(
      app.received.map((r) => `${r.json.loginHint.split('@')[0]}:${r.json.eventType}`),
      ['casey:SESSION_STARTED', 'drew:SESSION_STARTED', 'drew:SESSION_FAILED'],
    );
    gates.get('casey')();
    await slow;
    await sandbox.idle();
    assert.deepEqual(
      app.received.slice(3).map((r) => r.json.eventType),
      ['SESSION_SUCCEEDED', 'IDENTITY_ENROLLED'],
    );
  });
});

describe('session lifecycle events', () => {
  it('sends STARTED on the first open, PROGRESS when resumed, and the review decision', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'open');
    await sandbox.complete(id, 'open');
    await sandbox.complete(id, 'review');
    await assert.rejects(sandbox.complete(id, 'pass'), /already pendingReview/);
    await sandbox.complete(id, 'approve');
    await assert.rejects(sandbox.complete(id, 'reject'), /under manual review/);
    const types = app.received.map((r) => r.json.eventType);
    assert.deepEqual(types, ['SESSION_STARTED', 'SESSION_PROGRESS', 'SESSION_PENDING_REVIEW', 'MANUAL_REVIEW_APPROVED', 'IDENTITY_ENROLLED']);
    assert.match(app.received[3].json.identityId, /^[0-9a-f]{24}$/);
    assert.equal(sandbox.sessions.get(id).state, 'approved');
  });

  it('sends MANUAL_REVIEW_REJECTED without an identity', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'review');
    await sandbox.complete(id, 'reject');
    const last = app.received.at(-1).json;
    assert.equal(last.eventType, 'MANUAL_REVIEW_REJECTED');
    assert.ok(!('identityId' in last));
  });

  it('refuses actions on an expired link', async () => {
    const clock = {
      t: Date.UTC(2026, 10, 22, 10),
      now() {
        return this.t;
      },
    };
    const sandbox = createIncodeSandbox({ clock, retry: FAST });
    const id = startSession(sandbox);
    clock.t += 10 * 60_000 + 1;
    assert.equal(sandbox.stateOf(id), 'expired');
    await assert.rejects(sandbox.complete(id, 'pass'), /expired/);
    assert.equal(sandbox.sessions.get(id).events.length, 0);
  });

  it('survives a snapshot and restore', async () => {
    const app = fakeApp();
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'hmac', secret: 'k' });
    const id = startSession(sandbox);
    await sandbox.complete(id, 'review');
    const restored = createIncodeSandbox({ deliverWebhook: app.deliver, retry: FAST, state: sandbox.snapshot() });
    assert.equal(restored.stateOf(id), 'pendingReview');
    assert.equal(restored.webhook.secret, 'k');
    await restored.complete(id, 'approve');
    const last = app.received.at(-1);
    assert.equal(last.headers['x-incode-signature'], hmacHex('k', last.body));
    assert.equal(restored.outbox.length, 1);
  });
});

describe('closing', () => {
  it('ends a waiting retry at once and records later events as not sent', async () => {
    const app = fakeApp(() => ({ status: 503, body: '' }));
    const sandbox = createIncodeSandbox({ deliverWebhook: app.deliver, retry: { ...FAST, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    sandbox.configureWebhook({ url: WEBHOOK, mode: 'sharedSecret', secret: 's' });
    const id = startSession(sandbox);
    const pending = sandbox.complete(id, 'open');
    while (sandbox.deliveries.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await sandbox.close();
    const [result] = await pending;
    assert.ok(Date.now() - started < 1000, 'did not wait for the 60 s backoff');
    assert.deepEqual(result, { delivered: false, attempts: 1, status: 503, reason: 'the sandbox is closed' });
    await sandbox.complete(id, 'fail');
    assert.equal(app.received.length, 1);
    assert.deepEqual(
      sandbox.deliveries.slice(-1).map((d) => [d.eventType, d.error]),
      [['SESSION_FAILED', 'the sandbox is closed']],
    );
  });
});
