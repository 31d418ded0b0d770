// Incode's webhook sender, as configured in the Incode dashboard: one endpoint, authenticated
// by an HMAC signature, a shared secret header or an OAuth2 bearer token fetched from the app,
// with retries and backoff. Events of one session are delivered strictly in order: the next one
// waits until the previous one succeeded or was given up.

import { createHmac } from 'node:crypto';

export const DEFAULT_RETRY = Object.freeze({
  attempts: 5,
  baseDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60_000,
  timeoutMs: 10_000,
});

const MODES = ['hmac', 'sharedSecret', 'oauth'];
const TOKEN_MARGIN_MS = 30_000;

/** Validates a dashboard webhook configuration the way the dashboard form would. */
export function normaliseWebhookConfig(cfg) {
  if (!cfg || typeof cfg !== 'object') throw new TypeError('A webhook configuration is an object');
  const { url, mode, secret } = cfg;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Webhook URL ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError('Webhook URL must be http(s)');
  if (!MODES.includes(mode)) throw new TypeError(`Webhook mode must be one of ${MODES.join(', ')}`);
  if (typeof secret !== 'string' || secret === '') throw new TypeError('A webhook secret is required');
  const events = cfg.events === undefined || cfg.events === null ? null : [...cfg.events];
  const base = { url: parsed.toString(), mode, secret, events };
  if (mode === 'hmac') {
    const encoding = cfg.encoding ?? 'hex';
    if (encoding !== 'hex' && encoding !== 'base64') throw new TypeError('HMAC encoding must be hex or base64');
    return {
      ...base,
      header: (cfg.header ?? 'x-incode-signature').toLowerCase(),
      encoding,
      prefix: cfg.prefix ?? '',
      timestampHeader: (cfg.timestampHeader ?? '').toLowerCase(),
    };
  }
  if (mode === 'sharedSecret') return { ...base, header: (cfg.header ?? 'x-incode-secret').toLowerCase() };
  if (!cfg.tokenUrl) throw new TypeError("OAuth webhooks need the app's token URL");
  if (!cfg.clientId) throw new TypeError('OAuth webhooks need a client id');
  new URL(cfg.tokenUrl);
  return { ...base, tokenUrl: cfg.tokenUrl, clientId: cfg.clientId };
}

/** HMAC-SHA256 of `payload` with `secret`, written as `encoding`. */
export function sign(secret, payload, encoding) {
  return createHmac('sha256', secret).update(payload, 'utf8').digest(encoding);
}

export class WebhookSender {
  /**
   * @param {object} options
   * @param {(req: {url, method, headers, body}) => Promise<{status, headers?, body?}>} options.deliver
   * @param {() => number} options.now
   * @param {object} options.retry  overrides of DEFAULT_RETRY, plus an optional `sleep(ms)`
   * @param {object[]} options.deliveries  where every attempt is recorded
   */
  constructor({ deliver, now, retry = {}, deliveries }) {
    this.deliver = deliver;
    this.now = now;
    this.retry = { ...DEFAULT_RETRY, ...retry };
    this.sleep = retry.sleep ?? ((ms) => this.cancellableSleep(ms));
    this.sleeping = new Set();
    this.closed = false;
    this.deliveries = deliveries;
    this.config = null;
    this.token = null;
    this.chains = new Map();
    this.pending = new Set();
    this.sequence = 0;
  }

  configure(cfg) {
    this.config = cfg === null ? null : normaliseWebhookConfig(cfg);
    this.token = null;
    return this.config;
  }

  /** Queues `event` behind the session's earlier events; resolves with the delivery outcome. */
  enqueue(sessionId, event) {
    const previous = this.chains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(() => this.send(sessionId, event));
    this.chains.set(sessionId, next);
    this.pending.add(next);
    next.finally(() => {
      this.pending.delete(next);
      if (this.chains.get(sessionId) === next) this.chains.delete(sessionId);
    });
    return next;
  }

  /** Resolves when every queued event has been delivered or given up. */
  async idle() {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Stops sending: waiting retries end at once and later events are only recorded. */
  async close() {
    this.closed = true;
    for (const wake of this.sleeping) wake();
    await this.idle();
  }

  cancellableSleep(ms) {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }

  recordAttempt(entry) {
    const full = { id: ++this.sequence, atMs: this.now(), ...entry };
    this.deliveries.push(full);
    return full;
  }

  async send(sessionId, event) {
    const config = this.config;
    const body = JSON.stringify(event);
    if (this.closed || !config) {
      const reason = this.closed ? 'the sandbox is closed' : 'no webhook configured';
      this.recordAttempt({ sessionId, eventType: event.eventType, event, attempt: 0, status: null, ok: false, error: reason, final: true });
      return { delivered: false, attempts: 0, reason };
    }
    if (config.events && !config.events.includes(event.eventType)) {
      this.recordAttempt({ sessionId, eventType: event.eventType, event, attempt: 0, status: null, ok: false, error: 'event not subscribed', final: true });
      return { delivered: false, attempts: 0, reason: 'event not subscribed' };
    }
    const { attempts, baseDelayMs, factor, maxDelayMs } = this.retry;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const started = this.now();
      const outcome = await this.attempt(config, body);
      const last = attempt === attempts || !outcome.retryable;
      let delayMs = Math.min(baseDelayMs * factor ** (attempt - 1), maxDelayMs);
      if (outcome.retryAfterMs !== undefined) delayMs = Math.min(Math.max(delayMs, outcome.retryAfterMs), maxDelayMs);
      this.recordAttempt({
        sessionId,
        eventType: event.eventType,
        event,
        url: config.url,
        mode: config.mode,
        attempt,
        status: outcome.status,
        ok: outcome.ok,
        error: outcome.error ?? null,
        responseBody: outcome.responseBody ?? null,
        durationMs: this.now() - started,
        final: outcome.ok || last,
        nextDelayMs: outcome.ok || last ? null : delayMs,
      });
      if (outcome.ok) return { delivered: true, attempts: attempt, status: outcome.status };
      if (last) return { delivered: false, attempts: attempt, status: outcome.status, reason: outcome.error ?? `HTTP ${outcome.status}` };
      await this.sleep(delayMs);
      if (this.closed) return { delivered: false, attempts: attempt, status: outcome.status, reason: 'the sandbox is closed' };
    }
    return { delivered: false, attempts, reason: 'unreachable' };
  }

  /** One delivery attempt; never throws. */
  async attempt(config, body) {
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Incode-Webhooks/1.0 (local sandbox)',
    };
    let usedCachedToken = false;
    if (config.mode === 'hmac') {
      if (config.timestampHeader) {
        const ts = String(Math.floor(this.now() / 1000));
        headers[config.timestampHeader] = ts;
        headers[config.header] = config.prefix + sign(config.secret, `${ts}.${body}`, config.encoding);
      } else {
        headers[config.header] = config.prefix + sign(config.secret, body, config.encoding);
      }
    } else if (config.mode === 'sharedSecret') {
      headers[config.header] = config.secret;
    } else {
      usedCachedToken = this.token !== null && this.token.expiresAtMs > this.now();
      const token = await this.bearer(config);
      if (!token.ok) return token;
      headers.authorization = `Bearer ${token.accessToken}`;
    }
    let response;
    try {
      response = await this.withTimeout(this.deliver({ url: config.url, method: 'POST', headers, body }));
    } catch (error) {
      return { ok: false, status: null, retryable: true, error: `network error: ${error.message}` };
    }
    const status = Number(response?.status);
    const responseBody = typeof response?.body === 'string' ? response.body.slice(0, 500) : null;
    if (status >= 200 && status < 300) return { ok: true, status, responseBody };
    if (status === 401 && config.mode === 'oauth' && usedCachedToken) {
      // The app no longer accepts the cached token (rotated secret, restarted store): fetch a
      // new one on the next attempt.
      this.token = null;
      return { ok: false, status, retryable: true, responseBody, error: 'bearer token refused; fetching a new one' };
    }
    const retryable = status >= 500 || status === 408 || status === 429 || !Number.isFinite(status);
    const retryAfterMs = retryAfter(response?.headers);
    return { ok: false, status, retryable, responseBody, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }

  /** The cached bearer token, or a new one from the app's token endpoint (client credentials). */
  async bearer(config) {
    if (this.token && this.token.expiresAtMs > this.now()) return { ok: true, accessToken: this.token.accessToken };
    // Sent as most client-credentials callers do: `id:secret` verbatim, not form-encoded first.
    const basic = Buffer.from(`${config.clientId}:${config.secret}`).toString('base64');
    let response;
    try {
      response = await this.withTimeout(
        this.deliver({
          url: config.tokenUrl,
          method: 'POST',
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            'user-agent': 'Incode-Webhooks/1.0 (local sandbox)',
          },
          body: 'grant_type=client_credentials',
        }),
      );
    } catch (error) {
      return { ok: false, status: null, retryable: true, error: `token request failed: ${error.message}` };
    }
    const status = Number(response?.status);
    if (status < 200 || status >= 300) {
      return {
        ok: false,
        status: null,
        retryable: status >= 500 || status === 408 || status === 429,
        error: `token request refused: HTTP ${status}`,
        responseBody: String(response?.body ?? '').slice(0, 500),
      };
    }
    let parsed;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      return { ok: false, status: null, retryable: false, error: 'token response is not JSON' };
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      return { ok: false, status: null, retryable: false, error: 'token response has no access_token' };
    }
    const lifetimeMs = (Number(parsed.expires_in) > 0 ? Number(parsed.expires_in) : 300) * 1000;
    this.token = { accessToken: parsed.access_token, expiresAtMs: this.now() + Math.max(lifetimeMs - TOKEN_MARGIN_MS, 1000) };
    return { ok: true, accessToken: parsed.access_token };
  }

  withTimeout(promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.retry.timeoutMs} ms`)), this.retry.timeoutMs);
    });
    return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
  }
}

function retryAfter(headers) {
  if (!headers) return undefined;
  const raw = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
