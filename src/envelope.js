// The one answer shape of every resolver: `{ ok: true, data }` or `{ ok: false, error: { code,
// message, fields? } }`. Expected failures are `AppError`s with a stable code the UI branches on;
// anything else is a bug or an outage, answered as `internal` with a generic message (the cause is
// logged by code only, never with payloads, headers or secrets).
import { ForgeKvsError } from '@forge/kvs';
import { logEvent } from './log.js';

export class AppError extends Error {
  /**
   * @param {string} code stable, machine-readable (`forbidden`, `validation`, `limit_reached`, ...)
   * @param {string} message for people; never carries a secret
   * @param {{ fields?: import('./generated/core.js').FieldError[], retryable?: boolean,
   *           resetsAtMs?: number, status?: number }} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.fields = extra.fields;
    this.retryable = extra.retryable ?? false;
    this.resetsAtMs = extra.resetsAtMs;
    this.status = extra.status;
  }
}

/**
 * A planner's answer (`Answer<T>`): its data, or its refusal thrown for the envelope.
 * @template T
 * @param {import('./generated/core.js').Answer<T>} answer
 * @returns {T}
 */
export function answered(answer) {
  if (answer.ok) return answer.data;
  const { code, message, ...extra } = answer.error;
  throw new AppError(code, message, extra);
}

/** An expected core failure (`CoreError`) as an AppError. */
export function fromCoreError(/** @type {{ code: string, message: string, retryable: boolean }} */ error) {
  return new AppError(error.code, error.message, { retryable: error.retryable });
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side. Try again; if it keeps failing, ask your Jira admin to check the app logs.';

/**
 * @template T
 * @typedef {{ ok: true, data: T } | { ok: false, error: { code: string, message: string,
 *   fields?: import('./generated/core.js').FieldError[], retryable?: boolean, resetsAtMs?: number } }} Envelope
 */

/**
 * Wraps a resolver so that it always answers with the envelope.
 * @template T
 * @param {string} name resolver name, for the log line
 * @param {(request: { payload: any, context: any }) => Promise<T>} fn
 * @returns {(request: { payload: any, context: any }) => Promise<Envelope<T>>}
 */
export function guarded(name, fn) {
  return async (request) => {
    try {
      const data = await fn({ payload: request?.payload ?? {}, context: request?.context ?? {} });
      return { ok: true, data };
    } catch (error) {
      return { ok: false, error: toEnvelopeError(name, error) };
    }
  };
}

/** @param {string} name @param {unknown} error */
export function toEnvelopeError(name, error) {
  if (error instanceof AppError) {
    logEvent('resolver.refused', { resolver: name, code: error.code });
    /** @type {{ code: string, message: string, fields?: any[], retryable?: boolean, resetsAtMs?: number }} */
    const out = { code: error.code, message: error.message };
    if (error.fields) out.fields = error.fields;
    if (error.retryable) out.retryable = true;
    if (error.resetsAtMs !== undefined) out.resetsAtMs = error.resetsAtMs;
    return out;
  }
  logEvent('resolver.failed', { resolver: name, code: errorCode(error) });
  if (isTransient(error)) return { code: 'storage_unavailable', message: STORAGE_MESSAGE, retryable: true };
  return { code: 'internal', message: INTERNAL_MESSAGE };
}

const STORAGE_MESSAGE = 'The app could not reach its storage. Nothing was lost; try again in a moment.';

/**
 * An outage rather than a defect: the storage answered with an error, or a platform call timed
 * out, was aborted or never reached its server. Webtriggers answer it 503 with Retry-After,
 * resolvers `retryable`.
 * @param {unknown} error
 */
export function isTransient(error) {
  if (error instanceof ForgeKvsError) return true;
  if (!error || typeof error !== 'object') return false;
  const { name, message } = /** @type {{ name?: unknown, message?: unknown }} */ (error);
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'FetchError') return true;
  return error instanceof TypeError && message === 'fetch failed';
}

/** A short, secret-free label for an unexpected error: its code or class name, never its message. */
export function errorCode(/** @type {any} */ error) {
  if (error && typeof error === 'object') {
    if (typeof error.code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(error.code)) return error.code;
    if (typeof error.name === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(error.name)) return error.name;
  }
  return 'unknown';
}
