// The Incode sandbox of the development host. It plays Incode for the app: the OAuth2 token
// server, the B2B "request new onboarding" API with its legacy error bodies, the links it
// "sends" (recorded in `outbox`), the employee's verification page, the dashboard's manual
// review, and the webhook sender that reports each step to the app.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { inboxPage, messagePage, sessionPage, webhookPage } from './pages.mjs';
import { INCODE_HOSTS, SANDBOX_CREDENTIALS, seedDirectory } from './seed.mjs';
import { WebhookSender } from './webhooks.mjs';

export { INCODE_HOSTS, SANDBOX_CREDENTIALS, seedDirectory } from './seed.mjs';
export { DEFAULT_RETRY, normaliseWebhookConfig, sign } from './webhooks.mjs';

const TOKEN_LIFETIME_S = 3600;
const START_PATH = '/omni/b2b/onboarding/request-new';
const SUPPORTED_API_VERSIONS = ['1.0'];
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FINAL = new Set(['succeeded', 'failed', 'approved', 'rejected']);

/** Whether a URL is served by the sandbox (the host routes these fetches to `handleApi`). */
export function isIncodeUrl(url) {
  try {
    return Object.hasOwn(INCODE_HOSTS, new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Creates a sandbox.
 * - `baseUrl`: where the host serves `/incode/...` pages; session links point there.
 * - `deliverWebhook({ url, method, headers, body })`: performs an HTTP request to the app
 *   (webhook and token webtriggers) and resolves `{ status, headers, body }`; throwing counts as
 *   a network error.
 * - `directory`: employees `{ name, email, phone }`; `credentials`: overrides of
 *   SANDBOX_CREDENTIALS; `clock`: `() => ms` or `{ now() }`; `retry`: overrides of DEFAULT_RETRY
 *   plus an optional `sleep(ms)`; `state`: a `snapshot()` to restore.
 */
export function createIncodeSandbox({
  baseUrl = 'http://localhost',
  deliverWebhook = async () => {
    throw new Error('the sandbox has no route to the app');
  },
  directory = seedDirectory(),
  credentials = {},
  clock,
  retry = {},
  state,
} = {}) {
  const now = typeof clock === 'function' ? clock : clock?.now ? () => clock.now() : () => Date.now();
  const creds = { ...SANDBOX_CREDENTIALS, ...credentials };
  const root = String(baseUrl).replace(/\/+$/, '');
  const sessions = new Map();
  const outbox = [];
  const deliveries = [];
  const tokens = new Map();
  const people = [...directory];
  const sender = new WebhookSender({ deliver: deliverWebhook, now, retry, deliveries });

  if (state) {
    for (const session of state.sessions ?? []) sessions.set(session.id, structuredClone(session));
    outbox.push(...structuredClone(state.outbox ?? []));
    deliveries.push(...structuredClone(state.deliveries ?? []));
    if (state.directory) people.splice(0, people.length, ...structuredClone(state.directory));
    if (state.webhook) sender.configure(state.webhook);
  }

  // ---- API -----------------------------------------------------------------------------------

  function json(status, value, extra = {}) {
    return { status, headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(value) };
  }

  /** Incode's legacy error body: `status` may be an Incode code rather than the HTTP status. */
  function legacy(httpStatus, path, message, code = httpStatus) {
    const error =
      { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 405: 'Method Not Allowed', 415: 'Unsupported Media Type' }[httpStatus] ?? 'Error';
    return json(httpStatus, { timestamp: now(), status: code, error, message, path });
  }

  function oauthError(status, error, description) {
    return json(status, { error, error_description: description }, status === 401 ? { 'www-authenticate': 'Basic realm="incode"' } : {});
  }

  function issueToken(req, environment) {
    if (req.method !== 'POST') return oauthError(405, 'invalid_request', 'Use POST');
    if (!contentType(req.headers).startsWith('application/x-www-form-urlencoded')) {
      return oauthError(400, 'invalid_request', 'The token request must be form encoded');
    }
    const form = new URLSearchParams(req.body ?? '');
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(header(req.headers, 'authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const cut = decoded.indexOf(':');
      clientId = decoded.slice(0, cut);
      clientSecret = decoded.slice(cut + 1);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported');
    }
    if (!clientId || !clientSecret || !safeEqual(clientId, creds.clientId) || !safeEqual(clientSecret, creds.clientSecret)) {
      return oauthError(401, 'invalid_client', 'Invalid client credentials');
    }
    const scopes = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    if (!scopes.includes('openid')) return oauthError(400, 'invalid_scope', 'The scope must include openid');
    const accessToken = randomBytes(24).toString('base64url');
    tokens.set(accessToken, { environment, expiresAtMs: now() + TOKEN_LIFETIME_S * 1000 });
    return json(200, { access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_S, scope: 'openid' }, { 'cache-control': 'no-store' });
  }

  function startSession(req, environment, path) {
    if (req.method !== 'POST') return legacy(405, path, 'Request method not supported');
    const bearer = /^Bearer\s+(\S+)$/i.exec(header(req.headers, 'authorization') ?? '');
    const token = bearer && tokens.get(bearer[1]);
    if (!token || token.expiresAtMs <= now() || token.environment !== environment) {
      return legacy(401, path, 'Invalid or expired access token');
    }
    const apiKey = header(req.headers, 'x-api-key');
    if (!apiKey || !safeEqual(apiKey, creds.apiKey)) return legacy(401, path, 'Invalid API key');
    const version = header(req.headers, 'api-version');
    if (!version) return legacy(400, path, 'Missing api-version header');
    if (!SUPPORTED_API_VERSIONS.includes(version)) return legacy(400, path, `Unsupported api-version ${version}`);
    if (!contentType(req.headers).startsWith('application/json')) return legacy(415, path, 'Content type must be application/json');
    let input;
    try {
      input = JSON.parse(req.body ?? '');
    } catch {
      return legacy(400, path, 'Malformed JSON request');
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) return legacy(400, path, 'The request body must be an object');
    if (typeof input.integrationReference !== 'string' || input.integrationReference === '') {
      return legacy(400, path, 'integrationReference is required');
    }
    if (input.integrationReference !== creds.integrationReference) {
      return legacy(400, path, `Integration ${input.integrationReference} not found`);
    }
    if (typeof input.loginHint !== 'string' || !EMAIL.test(input.loginHint)) {
      return legacy(400, path, "loginHint must be the employee's email address");
    }
    const validity = input.linkValidityInMinutes ?? input.linkExpiryMinutes ?? 60;
    if (!Number.isInteger(validity) || validity < 1 || validity > 10_080) {
      return legacy(400, path, 'linkValidityInMinutes must be a whole number of minutes between 1 and 10080');
    }
    if (input.configurationId !== undefined && typeof input.configurationId !== 'string') {
      return legacy(400, path, 'configurationId must be a string');
    }
    const notification = input.notification;
    if (!notification || typeof notification !== 'object') return legacy(400, path, 'notification is required');
    if (!['SMS', 'EMAIL', 'EMAIL_AND_SMS'].includes(notification.type)) {
      return legacy(400, path, 'notification.type must be SMS, EMAIL or EMAIL_AND_SMS');
    }
    if (notification.phone !== undefined && notification.phone !== '' && !E164.test(String(notification.phone))) {
      return legacy(400, path, 'notification.phone must be an E.164 phone number');
    }
    if (notification.email !== undefined && notification.email !== '' && !EMAIL.test(String(notification.email))) {
      return legacy(400, path, 'notification.email must be an email address');
    }
    const employee = people.find((p) => p.email.toLowerCase() === input.loginHint.toLowerCase());
    if (!employee) return legacy(400, path, `Employee with loginHint ${input.loginHint} not found in the directory`, 4301);

    const wantsSms = notification.type !== 'EMAIL';
    const wantsEmail = notification.type !== 'SMS';
    const phone = notification.phone || employee.phone;
    const email = notification.email || employee.email;
    if (wantsSms && !phone) return legacy(400, path, 'No phone number for this employee; give notification.phone');

    const id = randomBytes(12).toString('hex');
    const sessionPath = `/incode/session/${id}`;
    const session = {
      id,
      environment,
      integrationReference: input.integrationReference,
      configurationId: input.configurationId ?? '',
      loginHint: input.loginHint,
      employee: { ...employee },
      notification: { type: notification.type, ...(wantsSms ? { phone } : {}), ...(wantsEmail ? { email } : {}) },
      url: `${root}${sessionPath}`,
      createdAtMs: now(),
      expiresAtMs: now() + validity * 60_000,
      state: 'created',
      identityId: null,
      events: [],
    };
    sessions.set(id, session);
    const minutes = `${validity} minute${validity === 1 ? '' : 's'}`;
    if (wantsSms) {
      outbox.push({
        atMs: now(),
        sessionId: id,
        channel: 'SMS',
        to: phone,
        name: employee.name,
        path: sessionPath,
        url: session.url,
        text: `Your IT help desk asked you to verify your identity: ${session.url} (valid for ${minutes})`,
      });
    }
    if (wantsEmail) {
      outbox.push({
        atMs: now(),
        sessionId: id,
        channel: 'EMAIL',
        to: email,
        name: employee.name,
        path: sessionPath,
        url: session.url,
        subject: 'Verify your identity',
        text: `Hi ${employee.name},\n\nYour IT help desk asked you to verify your identity. Open ${session.url} on your phone; the link is valid for ${minutes}.`,
      });
    }
    return json(200, { interviewId: id, url: session.url });
  }

  /** Answers a request to an Incode host: `{ url, method, headers, body }` → `{ status, headers, body }`. */
  function handleApi({ url, method = 'GET', headers, body } = {}) {
    const parsed = new URL(url);
    const host = INCODE_HOSTS[parsed.hostname];
    const path = parsed.pathname.replace(/\/+$/, '') || '/';
    const req = { method: String(method).toUpperCase(), headers: headers ?? {}, body: bodyText(body) };
    if (!host) return legacy(404, path, `Unknown Incode host ${parsed.hostname}`);
    if (host.kind === 'auth' && path === '/oauth2/token') return issueToken(req, host.environment);
    if (host.kind === 'api' && path === START_PATH) return startSession(req, host.environment, path);
    return legacy(404, path, 'No handler found for ' + req.method + ' ' + path);
  }

  // ---- sessions and events -------------------------------------------------------------------

  function stateOf(session) {
    if (!FINAL.has(session.state) && session.state !== 'pendingReview' && now() > session.expiresAtMs) return 'expired';
    return session.state;
  }

  function emit(session, eventType, extra = {}) {
    const event = {
      eventType,
      interviewId: session.id,
      loginHint: session.loginHint,
      ...extra,
      timestamp: new Date(now()).toISOString(),
    };
    session.events.push(event);
    return sender.enqueue(session.id, event);
  }

  /**
   * Applies an employee or reviewer action. `open` is the page being opened; `pass`, `fail`,
   * `review` are the employee's outcomes; `approve`, `reject` the reviewer's. Returns the
   * delivery promises of the events it emitted; throws (with `code`) on an action the
   * session's state does not allow.
   */
  function act(sessionId, action) {
    const session = sessions.get(sessionId);
    if (!session) throw Object.assign(new Error(`No Incode session ${sessionId}`), { code: 'not_found' });
    const state = stateOf(session);
    const refuse = (why) => {
      throw Object.assign(new Error(why), { code: state === 'expired' ? 'expired' : 'conflict' });
    };
    if (state === 'expired') refuse('This verification link has expired');
    const sent = [];
    const begin = () => {
      if (session.state === 'created') {
        session.state = 'started';
        sent.push(emit(session, 'SESSION_STARTED'));
      }
    };
    switch (action) {
      case 'open':
        if (session.state === 'created') begin();
        else if (session.state === 'started') sent.push(emit(session, 'SESSION_PROGRESS'));
        break;
      case 'pass':
        if (session.state !== 'created' && session.state !== 'started') refuse(`The session is already ${session.state}`);
        begin();
        session.state = 'succeeded';
        session.identityId = randomBytes(12).toString('hex');
        sent.push(emit(session, 'SESSION_SUCCEEDED', { identityId: session.identityId }));
        sent.push(emit(session, 'IDENTITY_ENROLLED', { identityId: session.identityId }));
        break;
      case 'fail':
        if (session.state !== 'created' && session.state !== 'started') refuse(`The session is already ${session.state}`);
        begin();
        session.state = 'failed';
        sent.push(emit(session, 'SESSION_FAILED'));
        break;
      case 'review':
        if (session.state !== 'created' && session.state !== 'started') refuse(`The session is already ${session.state}`);
        begin();
        session.state = 'pendingReview';
        sent.push(emit(session, 'SESSION_PENDING_REVIEW'));
        break;
      case 'approve':
        if (session.state !== 'pendingReview') refuse('Only a session under manual review can be approved');
        session.state = 'approved';
        session.identityId = randomBytes(12).toString('hex');
        sent.push(emit(session, 'MANUAL_REVIEW_APPROVED', { identityId: session.identityId }));
        sent.push(emit(session, 'IDENTITY_ENROLLED', { identityId: session.identityId }));
        break;
      case 'reject':
        if (session.state !== 'pendingReview') refuse('Only a session under manual review can be rejected');
        session.state = 'rejected';
        sent.push(emit(session, 'MANUAL_REVIEW_REJECTED'));
        break;
      default:
        throw Object.assign(new Error(`Unknown action ${action}`), { code: 'bad_action' });
    }
    return sent;
  }

  const ACTION_ALIASES = {
    start: 'open',
    passed: 'pass',
    succeeded: 'pass',
    failed: 'fail',
    manualReview: 'review',
    pendingReview: 'review',
    approved: 'approve',
    rejected: 'reject',
  };

  /** Drives a session as the employee or reviewer would; resolves once its webhooks are delivered or given up. */
  async function complete(sessionId, result) {
    const sent = act(sessionId, ACTION_ALIASES[result] ?? result);
    return Promise.all(sent);
  }

  // ---- pages ---------------------------------------------------------------------------------

  function html(res, status, page, extra = {}) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extra });
    res.end(page);
  }

  async function webhookSettings(req, res) {
    if (req.method === 'GET') return html(res, 200, webhookPage({ config: sender.config, deliveries }));
    if (req.method !== 'POST') return html(res, 405, messagePage('Not allowed', 'Use GET or POST.'), { allow: 'GET, POST' });
    let form;
    try {
      form = new URLSearchParams(await readBody(req));
    } catch (error) {
      return html(res, 400, messagePage('Bad request', error.message));
    }
    const input = Object.fromEntries([...form.entries()].filter(([, v]) => v !== ''));
    if (!input.secret && sender.config) input.secret = sender.config.secret;
    if (input.mode === 'hmac' && input.header === 'x-incode-secret') delete input.header;
    if (input.mode === 'sharedSecret' && input.header === 'x-incode-signature') delete input.header;
    try {
      sender.configure(input);
    } catch (error) {
      return html(res, 400, webhookPage({ config: { ...sender.config, ...input }, deliveries, error: error.message }));
    }
    return html(res, 200, webhookPage({ config: sender.config, deliveries, saved: true }));
  }

  /** Serves `/incode/...` on the host's HTTP server (node `IncomingMessage`, `ServerResponse`). */
  async function handlePage(req, res) {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const path = url.pathname;
    if (path === '/incode') {
      res.writeHead(308, { location: '/incode/' });
      res.end();
      return;
    }
    if (path === '/incode/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return html(res, 405, messagePage('Not allowed', 'Use GET.'), { allow: 'GET' });
      return html(res, 200, inboxPage({ outbox, stateOf: (id) => (sessions.has(id) ? stateOf(sessions.get(id)) : 'unknown') }));
    }
    if (path === '/incode/webhook') return webhookSettings(req, res);
    const match = /^\/incode\/session\/([0-9a-f]{24})$/.exec(path);
    const session = match && sessions.get(match[1]);
    if (!session) return html(res, 404, messagePage('Link not found', 'This verification link does not exist.'));
    if (req.method === 'GET') {
      const state = stateOf(session);
      if (state === 'expired') return html(res, 410, sessionPage({ session, state }));
      act(session.id, 'open');
      return html(res, 200, sessionPage({ session, state: stateOf(session) }));
    }
    if (req.method !== 'POST') return html(res, 405, messagePage('Not allowed', 'Use GET or POST.'), { allow: 'GET, POST' });
    let form;
    try {
      form = new URLSearchParams(await readBody(req));
    } catch (error) {
      return html(res, 400, messagePage('Bad request', error.message));
    }
    const action = form.get('action') ?? '';
    if (!['pass', 'fail', 'review', 'approve', 'reject'].includes(action)) {
      return html(res, 400, messagePage('Unknown action', 'Choose one of the buttons on the verification page.'));
    }
    try {
      act(session.id, action);
    } catch (error) {
      const state = stateOf(session);
      const status = error.code === 'expired' ? 410 : 409;
      return html(res, status, sessionPage({ session, state, notice: error.message }));
    }
    // Post/redirect/get: the page it lands on shows the result and sends no further events.
    res.writeHead(303, { location: `/incode/session/${session.id}` });
    res.end();
  }

  // ---- sandbox object ------------------------------------------------------------------------

  return {
    handleApi,
    handlePage,
    configureWebhook: (cfg) => structuredClone(sender.configure(cfg)),
    get webhook() {
      return sender.config ? structuredClone(sender.config) : null;
    },
    credentials: Object.freeze({ ...creds }),
    directory: people,
    outbox,
    sessions,
    deliveries,
    complete,
    /** The session's state as the employee would see it ("expired" once the link lapsed). */
    stateOf: (sessionId) => (sessions.has(sessionId) ? stateOf(sessions.get(sessionId)) : null),
    /** Resolves once every queued webhook has been delivered or given up. */
    idle: () => sender.idle(),
    /** Ends waiting retries and stops sending; later events are recorded as not sent. */
    close: () => sender.close(),
    reset() {
      sessions.clear();
      outbox.length = 0;
      deliveries.length = 0;
      tokens.clear();
      people.splice(0, people.length, ...structuredClone(directory));
    },
    snapshot: () =>
      structuredClone({
        sessions: [...sessions.values()],
        outbox,
        deliveries,
        directory: people,
        webhook: sender.config,
      }),
  };
}

function header(headers, name) {
  if (!headers) return null;
  const wanted = name.toLowerCase();
  const entries =
    typeof headers.entries === 'function' && !(headers instanceof Map) && typeof headers.get === 'function'
      ? headers.entries()
      : headers instanceof Map
        ? headers.entries()
        : Object.entries(headers);
  for (const [k, v] of entries) if (k.toLowerCase() === wanted) return Array.isArray(v) ? v[0] : String(v);
  return null;
}

function contentType(headers) {
  return (header(headers, 'content-type') ?? '').toLowerCase();
}

function bodyText(body) {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  if (body instanceof URLSearchParams) return body.toString();
  throw new TypeError('The request body must be a string');
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 64 * 1024) {
        reject(new Error('form too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
