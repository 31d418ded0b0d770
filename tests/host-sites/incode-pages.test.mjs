// The sandbox's pages served over real HTTP: the inbox, the employee's verification page with
// its buttons, the manual review actions, expiry, and the webhooks each step sends.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, createIncodeSandbox } from '../../dev/host/incode/index.mjs';

const clock = {
  t: Date.UTC(2026, 10, 22, 10),
  now() {
    return this.t;
  },
};
const received = [];
let sandbox;
let server;
let base;

before(async () => {
  sandbox = createIncodeSandbox({
    baseUrl: 'http://placeholder',
    clock,
    retry: { attempts: 2, baseDelayMs: 5, timeoutMs: 500 },
    deliverWebhook: async (request) => {
      received.push(JSON.parse(request.body));
      return { status: 200, body: '' };
    },
  });
  sandbox.configureWebhook({ url: 'https://app.example.test/webhook', mode: 'hmac', secret: 'k' });
  server = createServer((req, res) => {
    if (req.url.startsWith('/incode')) sandbox.handlePage(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

function send(loginHint, minutes = 10) {
  const auth = sandbox.handleApi({
    url: 'https://auth.demo.incode.com/oauth2/token',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${SANDBOX_CREDENTIALS.clientId}&client_secret=${SANDBOX_CREDENTIALS.clientSecret}&scope=openid`,
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
      linkValidityInMinutes: minutes,
      notification: { type: 'SMS' },
    }),
  });
  return JSON.parse(response.body);
}

const page = async (path) => {
  const response = await fetch(base + path, { redirect: 'manual' });
  return { status: response.status, html: await response.text(), headers: response.headers };
};

const press = (path, action) =>
  fetch(base + path, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `action=${action}` });

async function eventsFor(id) {
  await sandbox.idle();
  return received.filter((e) => e.interviewId === id).map((e) => e.eventType);
}

describe('verification page', () => {
  it('links from the session URL to the page and sends STARTED, then PROGRESS when reopened', async () => {
    const { interviewId, url } = send('casey@example.test');
    assert.equal(url, `http://placeholder/incode/session/${interviewId}`);
    const path = new URL(url).pathname;
    const first = await page(path);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type'), /text\/html/);
    assert.match(first.html, /<h1[^>]*>Verify your identity<\/h1>/);
    assert.match(first.html, /Hi Casey Customer/);
    assert.match(first.html, /<meta name="viewport"/);
    assert.match(first.html, /<form method="post" action="\/incode\/session\/[0-9a-f]{24}"/);
    for (const [value, label] of [
      ['pass', 'Complete verification (pass)'],
      ['fail', 'Fail the face match'],
      ['review', 'Send to manual review'],
    ]) {
      assert.match(first.html, new RegExp(`<button type="submit" name="action" value="${value}"[^>]*>${label.replace(/[()]/g, '\\$&')}</button>`));
    }
    assert.deepEqual(await eventsFor(interviewId), ['SESSION_STARTED']);
    await page(path);
    assert.deepEqual(await eventsFor(interviewId), ['SESSION_STARTED', 'SESSION_PROGRESS']);
  });

  it('passes with a button: redirect, success events, and a result page that sends nothing more', async () => {
    const { interviewId, url } = send('drew@example.test');
    const path = new URL(url).pathname;
    await page(path);
    const posted = await press(path, 'pass');
    assert.equal(posted.status, 303);
    assert.equal(posted.headers.get('location'), path);
    const result = await page(path);
    assert.equal(result.status, 200);
    assert.match(result.html, /Identity verified/);
    assert.doesNotMatch(result.html, /<button/);
    const events = await eventsFor(interviewId);
    assert.deepEqual(events, ['SESSION_STARTED', 'SESSION_SUCCEEDED', 'IDENTITY_ENROLLED']);
    const again = await press(path, 'fail');
    assert.equal(again.status, 409);
    assert.equal((await eventsFor(interviewId)).length, 3);
  });

  it('fails with a button', async () => {
    const { interviewId, url } = send('avery@example.test');
    const path = new URL(url).pathname;
    await page(path);
    assert.equal((await press(path, 'fail')).status, 303);
    assert.match((await page(path)).html, /Verification not successful/);
    assert.deepEqual(await eventsFor(interviewId), ['SESSION_STARTED', 'SESSION_FAILED']);
  });

  it('sends to manual review, then the dashboard approves or rejects', async () => {
    const approved = send('blake@example.test');
    const path = new URL(approved.url).pathname;
    await page(path);
    await press(path, 'review');
    const review = await page(path);
    assert.match(review.html, /Verification under review/);
    assert.match(review.html, /value="approve"[^>]*>Approve review<\/button>/);
    assert.match(review.html, /value="reject"[^>]*>Reject review<\/button>/);
    assert.doesNotMatch(review.html, /value="pass"/);
    assert.equal((await press(path, 'approve')).status, 303);
    assert.match((await page(path)).html, /Identity verified/);
    assert.deepEqual(await eventsFor(approved.interviewId), ['SESSION_STARTED', 'SESSION_PENDING_REVIEW', 'MANUAL_REVIEW_APPROVED', 'IDENTITY_ENROLLED']);

    const rejected = send('morgan.field@example.test');
    const other = new URL(rejected.url).pathname;
    await press(other, 'review'); // straight from the link: the session starts on the way
    await press(other, 'reject');
    assert.match((await page(other)).html, /Verification not successful/);
    assert.deepEqual(await eventsFor(rejected.interviewId), ['SESSION_STARTED', 'SESSION_PENDING_REVIEW', 'MANUAL_REVIEW_REJECTED']);
  });

  it('says an expired link has expired and sends nothing', async () => {
    const { interviewId, url } = send('casey@example.test', 5);
    clock.t += 5 * 60_000 + 1;
    try {
      const path = new URL(url).pathname;
      const expired = await page(path);
      assert.equal(expired.status, 410);
      assert.match(expired.html, /This verification link has expired/);
      assert.doesNotMatch(expired.html, /<button/);
      assert.equal((await press(path, 'pass')).status, 410);
      assert.deepEqual(await eventsFor(interviewId), []);
    } finally {
      clock.t -= 5 * 60_000 + 1;
    }
  });

  it('answers unknown links and actions', async () => {
    assert.equal((await page('/incode/session/000000000000000000000000')).status, 404);
    assert.equal((await page('/incode/session/not-a-session')).status, 404);
    const { url } = send('casey@example.test');
    assert.equal((await press(new URL(url).pathname, 'teleport')).status, 400);
    assert.equal((await fetch(base + new URL(url).pathname, { method: 'DELETE' })).status, 405);
  });
});

describe('inbox', () => {
  it('lists every sent link, newest first, with its state', async () => {
    const { interviewId } = send('drew@example.test');
    const inbox = await page('/incode/');
    assert.equal(inbox.status, 200);
    assert.match(inbox.html, /Sent verification links/);
    const listed = [...inbox.html.matchAll(/href="\/incode\/session\/([0-9a-f]{24})"/g)].map((m) => m[1]);
    assert.equal(listed[0], interviewId);
    assert.deepEqual(
      listed,
      [...sandbox.outbox].reverse().map((m) => m.sessionId),
    );
    assert.match(inbox.html, /Review approved/);
    assert.match(inbox.html, /Link sent/);
    const redirect = await page('/incode');
    assert.equal(redirect.status, 308);
  });

  it('escapes what it shows', async () => {
    sandbox.directory.push({ name: '<script>alert("x")</script>', email: 'mallory@example.test', phone: '+12025550150' });
    const { url } = send('mallory@example.test');
    const html = (await page(new URL(url).pathname)).html + (await page('/incode/')).html;
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)/);
  });
});

describe('webhook settings page', () => {
  const post = (fields) =>
    fetch(base + '/incode/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  it('registers a webhook like the dashboard, keeping the secret when left empty', async () => {
    const saved = await post({ url: 'https://app.example.test/hook2', mode: 'sharedSecret', secret: 'Zq9-secret-value', header: 'x-incode-signature' });
    assert.equal(saved.status, 200);
    assert.match(await saved.text(), /Saved/);
    assert.deepEqual(
      { ...sandbox.webhook, events: undefined },
      { url: 'https://app.example.test/hook2', mode: 'sharedSecret', secret: 'Zq9-secret-value', header: 'x-incode-secret', events: undefined },
    );
    await post({ url: 'https://app.example.test/hook3', mode: 'hmac', secret: '', encoding: 'base64', timestampHeader: 'X-Ts' });
    assert.equal(sandbox.webhook.secret, 'Zq9-secret-value');
    assert.equal(sandbox.webhook.encoding, 'base64');
    assert.equal(sandbox.webhook.timestampHeader, 'x-ts');
    const shown = await page('/incode/webhook');
    assert.match(shown.html, /value="https:\/\/app\.example\.test\/hook3"/);
    assert.doesNotMatch(shown.html, /Zq9-secret-value/, 'the secret is never shown');
    assert.match(shown.html, /Recent deliveries/);
  });

  it('refuses an incomplete registration and keeps the previous one', async () => {
    const before = sandbox.webhook;
    const refused = await post({ url: 'https://app.example.test/hook4', mode: 'oauth', secret: 'x' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /token URL/);
    assert.deepEqual(sandbox.webhook, before);
    sandbox.configureWebhook({ url: 'https://app.example.test/webhook', mode: 'hmac', secret: 'k' });
  });
});
