// Performing the requests the core describes, with a deadline. Jira requests go through
// `requestJira` (as the app or as the calling user); Incode requests through Forge's egress
// `fetch`. A thrown network error or a missed deadline becomes an `HttpFailure`, which callers
// treat like a 5xx: retryable.
import api, { assumeTrustedRoute, fetch } from '@forge/api';
import { errorCode } from './envelope.js';
import { logEvent } from './log.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export class HttpFailure extends Error {
  /** @param {'timeout' | 'network'} kind */
  constructor(kind) {
    super(kind === 'timeout' ? 'The request timed out' : 'The request could not be sent');
    this.name = 'HttpFailure';
    this.code = kind;
  }
}

/** @typedef {{ status: number, body: string }} HttpAnswer */

/**
 * Runs `send(signal)` and reads the body, within `timeoutMs` overall.
 * @param {(signal: AbortSignal) => Promise<import('@forge/api').APIResponse>} send
 * @param {number} timeoutMs
 * @returns {Promise<HttpAnswer>}
 */
async function withDeadline(send, timeoutMs) {
  const controller = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new HttpFailure('timeout'));
    }, timeoutMs);
  });
  try {
    const work = (async () => {
      const response = await send(controller.signal);
      return { status: response.status, body: await response.text() };
    })();
    // The losing promise must not surface as an unhandled rejection.
    work.catch(() => {});
    return /** @type {HttpAnswer} */ (await Promise.race([work, deadline]));
  } catch (error) {
    if (error instanceof HttpFailure) throw error;
    // The cause (a proxy or network error of the platform) is logged by its class name only.
    logEvent('http.failed', { code: errorCode(error) });
    throw new HttpFailure(controller.signal.aborted ? 'timeout' : 'network');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Jira request described by the core (`path` set), made as the app.
 * @param {import('./generated/core.js').HttpRequest} request
 * @param {number} [timeoutMs]
 */
export function jiraAsApp(request, timeoutMs = DEFAULT_TIMEOUT_MS) {
  if (!request.path) throw new Error('a Jira request needs a path');
  const path = request.path;
  return withDeadline(
    (signal) =>
      api.asApp().requestJira(assumeTrustedRoute(path), {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
      }),
    timeoutMs,
  );
}

/**
 * A Jira call written out at its call site as `api.asUser()/asApp().requestJira(route\`...\`, {...})`
 * (so that `forge lint` sees every fixed route and checks its scope), run within the deadline.
 * @param {(signal: AbortSignal) => Promise<import('@forge/api').APIResponse>} send
 * @param {number} [timeoutMs]
 */
export function jiraSend(send, timeoutMs = DEFAULT_TIMEOUT_MS) {
  return withDeadline(send, timeoutMs);
}

/**
 * An Incode request described by the core (`url` set).
 * @param {import('./generated/core.js').HttpRequest} request
 * @param {number} [timeoutMs]
 */
export function incodeFetch(request, timeoutMs = DEFAULT_TIMEOUT_MS) {
  if (!request.url) throw new Error('an Incode request needs a url');
  const url = request.url;
  return withDeadline((signal) => fetch(url, { method: request.method, headers: request.headers, body: request.body, signal }), timeoutMs);
}

/** A Jira or Incode status worth trying again later. @param {number} status */
export const isRetryableStatus = (status) => status === 429 || status >= 500;

/** Parses a JSON body, or null. @param {string} body */
export function parseJson(body) {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}
