// The Incode sandbox API: OAuth2 client-credentials tokens and the B2B start call, with the
// legacy error bodies (4301 for an unknown employee, 401 for bad credentials).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, createIncodeSandbox, isIncodeUrl } from '../../dev/host/incode/index.mjs';

const AUTH = 'https://auth.demo.incode.com/oauth2/token';
const START = 'https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new';

function tokenRequest(
  sandbox,
  { url = AUTH, clientId = SANDBOX_CREDENTIALS.clientId, clientSecret = SANDBOX_CREDENTIALS.clientSecret, scope = 'openid', grant = 'client_credentials' } = {},
) {
  const form = new URLSearchParams({ grant_type: grant, client_id: clientId, client_secret: clientSecret });
  if (scope !== null) form.set('scope', scope);
  const response = sandbox.handleApi({ url, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  return { ...response, json: JSON.parse(response.body) };
}

function token(sandbox, url = AUTH) {
  const response = tokenRequest(sandbox, { url });
  assert.equal(response.status, 200);
  return response.json.access_token;
}

function start(sandbox, body, { accessToken = token(sandbox), apiKey = SANDBOX_CREDENTIALS.apiKey, url = START, version = '1.0' } = {}) {
  const headers = { Authorization: `Bearer ${accessToken}`, 'x-api-key': apiKey, 'Content-Type': 'application/json' };
  if (version !== null) headers['api-version'] = version;
  const response = sandbox.handleApi({ url, method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { ...response, json: JSON.parse(response.body) };
}

const request = (overrides = {}) => ({
  integrationReference: SANDBOX_CREDENTIALS.integrationReference,
  loginHint: 'casey@example.test',
  linkValidityInMinutes: 10,
  notification: { type: 'SMS', phone: '+12025550199' },
  ...overrides,
});

describe('OAuth2 token', () => {
  it('issues a bearer token for the sandbox client credentials', () => {
    const sandbox = createIncodeSandbox();
    const { status, json, headers } = tokenRequest(sandbox);
    assert.equal(status, 200);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(typeof json.access_token, 'string');
    assert.ok(json.access_token.length >= 20);
    assert.equal(json.token_type, 'Bearer');
    assert.equal(json.expires_in, 3600);
    assert.notEqual(token(sandbox), json.access_token, 'each token is new');
  });

  it('accepts the credentials as HTTP Basic too', () => {
    const sandbox = createIncodeSandbox();
    const basic = Buffer.from(`${SANDBOX_CREDENTIALS.clientId}:${SANDBOX_CREDENTIALS.clientSecret}`).toString('base64');
    const response = sandbox.handleApi({
      url: 'https://auth.incode.com/oauth2/token',
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=openid',
    });
    assert.equal(response.status, 200);
  });

  it('refuses wrong credentials with 401 invalid_client', () => {
    const sandbox = createIncodeSandbox();
    for (const wrong of [{ clientSecret: 'nope' }, { clientId: 'someone-else' }, { clientSecret: '' }]) {
      const { status, json } = tokenRequest(sandbox, wrong);
      assert.equal(status, 401);
      assert.equal(json.error, 'invalid_client');
    }
  });

  it('refuses another grant, a missing openid scope and a JSON body', () => {
    const sandbox = createIncodeSandbox();
    assert.equal(tokenRequest(sandbox, { grant: 'password' }).json.error, 'unsupported_grant_type');
    assert.equal(tokenRequest(sandbox, { scope: null }).json.error, 'invalid_scope');
    const asJson = sandbox.handleApi({
      url: AUTH,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    assert.equal(asJson.status, 400);
  });

  it('uses configured credentials instead of the defaults', () => {
    const sandbox = createIncodeSandbox({ credentials: { clientSecret: 'rotated' } });
    assert.equal(tokenRequest(sandbox).status, 401);
    assert.equal(tokenRequest(sandbox, { clientSecret: 'rotated' }).status, 200);
  });
});

describe('request new onboarding', () => {
  it('starts a session for a directory employee and returns the link', () => {
    const sandbox = createIncodeSandbox({ baseUrl: 'http://localhost:5173/' });
    const { status, json } = start(sandbox, request());
    assert.equal(status, 200);
    assert.match(json.interviewId, /^[0-9a-f]{24}$/);
    assert.equal(json.url, `http://localhost:5173/incode/session/${json.interviewId}`);
    const session = sandbox.sessions.get(json.interviewId);
    assert.equal(session.loginHint, 'casey@example.test');
    assert.equal(session.employee.name, 'Casey Customer');
    assert.equal(session.state, 'created');
    assert.deepEqual(
      sandbox.outbox.map((m) => [m.channel, m.to, m.sessionId]),
      [['SMS', '+12025550199', json.interviewId]],
    );
    assert.match(sandbox.outbox[0].text, new RegExp(json.url));
  });

  it('defaults the destination to the directory and honours the alternate spelling of the expiry', () => {
    const clock = {
      t: Date.UTC(2026, 10, 22, 10),
      now() {
        return this.t;
      },
    };
    const sandbox = createIncodeSandbox({ clock });
    const sms = start(sandbox, request({ loginHint: 'Drew@Example.test', notification: { type: 'SMS' } }));
    assert.equal(sms.status, 200);
    assert.equal(sandbox.outbox.at(-1).to, '+12025550142');
    const email = start(sandbox, request({ linkValidityInMinutes: undefined, linkExpiryMinutes: 30, notification: { type: 'EMAIL' } }));
    assert.equal(sandbox.outbox.at(-1).to, 'casey@example.test');
    assert.equal(sandbox.outbox.at(-1).channel, 'EMAIL');
    assert.equal(sandbox.sessions.get(email.json.interviewId).expiresAtMs, clock.t + 30 * 60_000);
    start(sandbox, request({ notification: { type: 'EMAIL_AND_SMS', email: 'casey.home@example.test' } }));
    assert.deepEqual(
      sandbox.outbox.slice(-2).map((m) => [m.channel, m.to]),
      [
        ['SMS', '+12025550141'],
        ['EMAIL', 'casey.home@example.test'],
      ],
    );
  });

  it('answers an employee missing from the directory with the legacy 4301 body', () => {
    const clock = () => 1_790_000_000_000;
    const sandbox = createIncodeSandbox({ clock });
    const { status, json } = start(sandbox, request({ loginHint: 'alex@example.test' }));
    assert.equal(status, 400);
    assert.deepEqual(Object.keys(json).sort(), ['error', 'message', 'path', 'status', 'timestamp']);
    assert.equal(json.status, 4301);
    assert.equal(json.error, 'Bad Request');
    assert.match(json.message, /not found/);
    assert.equal(json.path, '/omni/b2b/onboarding/request-new');
    assert.equal(json.timestamp, 1_790_000_000_000);
    assert.equal(sandbox.sessions.size, 0);
    assert.equal(sandbox.outbox.length, 0);
  });

  it('refuses bad credentials with 401 and the legacy body', () => {
    const sandbox = createIncodeSandbox();
    const cases = [
      { accessToken: 'made-up' },
      { apiKey: 'wrong-key' },
      { accessToken: token(sandbox, 'https://auth.incode.com/oauth2/token') }, // production token on the demo API
    ];
    for (const options of cases) {
      const { status, json } = start(sandbox, request(), options);
      assert.equal(status, 401, JSON.stringify(options));
      assert.equal(json.status, 401);
      assert.equal(json.error, 'Unauthorized');
    }
    const prod = start(sandbox, request(), {
      accessToken: token(sandbox, 'https://auth.incode.com/oauth2/token'),
      url: 'https://saas-api.incodesmile.com/omni/b2b/onboarding/request-new',
    });
    assert.equal(prod.status, 200);
  });

  it('expires tokens after their lifetime', () => {
    const clock = {
      t: 1_800_000_000_000,
      now() {
        return this.t;
      },
    };
    const sandbox = createIncodeSandbox({ clock });
    const accessToken = token(sandbox);
    clock.t += 3599_000;
    assert.equal(start(sandbox, request(), { accessToken }).status, 200);
    clock.t += 2_000;
    assert.equal(start(sandbox, request(), { accessToken }).status, 401);
  });

  it('refuses bad input with 400', () => {
    const sandbox = createIncodeSandbox();
    const cases = [
      [request({ notification: undefined }), /notification is required/],
      [request({ notification: { type: 'PIGEON' } }), /notification.type/],
      [request({ notification: { type: 'SMS', phone: '555-0100' } }), /E\.164/],
      [request({ notification: { type: 'EMAIL', email: 'not-an-email' } }), /email/],
      [request({ linkValidityInMinutes: 0 }), /linkValidityInMinutes/],
      [request({ linkValidityInMinutes: '10' }), /linkValidityInMinutes/],
      [request({ loginHint: '' }), /loginHint/],
      [request({ integrationReference: 'other' }), /Integration other not found/],
      [request({ integrationReference: undefined }), /integrationReference is required/],
      ['{broken', /Malformed JSON/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = start(sandbox, body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(json.status, 400);
      assert.match(json.message, message);
    }
    assert.match(start(sandbox, request(), { version: null }).json.message, /api-version/);
    assert.equal(start(sandbox, request(), { version: '2.0' }).status, 400);
    assert.equal(sandbox.sessions.size, 0);
  });

  it('knows its hosts and answers unknown paths with 404', () => {
    const sandbox = createIncodeSandbox();
    assert.ok(isIncodeUrl(START));
    assert.ok(isIncodeUrl('https://auth.incode.com/oauth2/token'));
    assert.ok(!isIncodeUrl('https://example.test/'));
    const response = sandbox.handleApi({ url: 'https://demo-api.incodesmile.com/omni/nothing', method: 'GET' });
    assert.equal(response.status, 404);
    assert.equal(JSON.parse(response.body).path, '/omni/nothing');
  });
});
