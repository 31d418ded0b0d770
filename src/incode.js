// Incode calls: the OAuth2 client-credentials token (cached in a secret until the core's
// `refreshAtMs`) and the start of a verification. The core builds every request and reads every
// answer; this module only moves bytes, keeps the cache and retries once on a stale token.
import { parseStart, parseToken, startRequest, tokenRequest } from './console.js';
import { AppError, fromCoreError } from './envelope.js';
import { HttpFailure, incodeFetch } from './http.js';
import { cacheToken, cachedToken, dropToken } from './store.js';

/** @typedef {import('./generated/core.js').Settings} Settings */
/** @typedef {import('./generated/core.js').Secrets} Secrets */
/** @typedef {import('./generated/core.js').StartVerificationInput} StartVerificationInput */

const unavailable = () => new AppError('incode_unavailable', 'Incode could not be reached. Try again in a minute.', { retryable: true });

/** @param {import('./generated/core.js').HttpRequest} request */
async function send(request) {
  try {
    return await incodeFetch(request);
  } catch (error) {
    if (error instanceof HttpFailure) throw unavailable();
    throw error;
  }
}

/**
 * A fresh token from Incode (never the cache), stored in the cache on success.
 * @param {Settings} settings @param {Secrets} secrets
 * @returns {Promise<import('./generated/core.js').IncodeToken>}
 */
export async function fetchToken(settings, secrets) {
  const answer = await send(tokenRequest(settings, secrets));
  const nowMs = Date.now();
  const parsed = parseToken(answer, nowMs);
  if (!parsed.ok) throw fromCoreError(parsed.error);
  await cacheToken(parsed.value, nowMs);
  return parsed.value;
}

/**
 * The cached token while it is fresh, else a new one.
 * @param {Settings} settings @param {Secrets} secrets
 * @param {import('./generated/core.js').IncodeToken | null} [known] the cache, when already read
 */
async function currentToken(settings, secrets, known) {
  const cached = known === undefined ? await cachedToken(Date.now()) : known;
  return cached ?? fetchToken(settings, secrets);
}

/**
 * Starts a verification session; on a 401 (a revoked or expired token) drops the cache, gets one
 * fresh token and tries once more.
 * @param {Settings} settings @param {Secrets} secrets @param {StartVerificationInput} input
 * @param {import('./generated/core.js').IncodeToken | null} [known] the cached token, when the caller
 *   already read the cache (together with its other reads); null = none cached
 * @returns {Promise<import('./generated/core.js').StartedSession>}
 */
export async function startSession(settings, secrets, input, known) {
  let token = await currentToken(settings, secrets, known);
  for (let attempt = 1; ; attempt += 1) {
    const request = startRequest(settings, secrets, token.accessToken, input);
    if (!request.ok) throw fromCoreError(request.error);
    const answer = await send(request.value);
    if (answer.status === 401 && attempt === 1) {
      await dropToken();
      token = await fetchToken(settings, secrets);
      continue;
    }
    const started = parseStart(answer);
    if (!started.ok) throw fromCoreError(started.error);
    return started.value;
  }
}
