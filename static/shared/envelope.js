// The one resolver envelope: `{ ok: true, data } | { ok: false, error: { code, message, fields?,
// retryable?, resetsAtMs? } }`.
// Everything a page receives from `invoke` goes through `normalizeEnvelope`, so the components
// only ever branch on a well-formed value, whatever the bridge or a resolver handed back.

/** Codes produced on this side of the bridge (never by a resolver). */
export const CLIENT_CODES = Object.freeze({
  unreachable: 'unreachable',
  badResponse: 'unexpected_answer',
  rateLimited: 'rate_limited',
});

const DEFAULT_MESSAGES = {
  [CLIENT_CODES.unreachable]: 'The app could not be reached. Check your connection and try again.',
  [CLIENT_CODES.badResponse]: 'The app sent an answer this page does not understand. Reload the page and try again.',
  [CLIENT_CODES.rateLimited]: 'Too many requests in a short time. Try again in a minute.',
};

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Keeps the well-formed entries of a `FieldError[]`; anything else is dropped. */
export function normalizeFieldErrors(fields) {
  if (!Array.isArray(fields)) return [];
  const out = [];
  for (const f of fields) {
    if (!isObject(f) || typeof f.field !== 'string' || typeof f.message !== 'string') continue;
    const entry = { field: f.field, code: typeof f.code === 'string' ? f.code : 'invalid', message: f.message };
    if (Number.isInteger(f.line) && f.line > 0) entry.line = f.line;
    if (Number.isInteger(f.column) && f.column > 0) entry.column = f.column;
    out.push(entry);
  }
  return out;
}

export function clientError(code, message) {
  return { ok: false, error: { code, message: message || DEFAULT_MESSAGES[code] || 'Something went wrong.' } };
}

/** Turns whatever a resolver call returned into a well-formed envelope. */
export function normalizeEnvelope(raw) {
  if (!isObject(raw) || typeof raw.ok !== 'boolean') return clientError(CLIENT_CODES.badResponse);
  if (raw.ok === true) {
    if (!('data' in raw)) return clientError(CLIENT_CODES.badResponse);
    return { ok: true, data: raw.data };
  }
  const e = raw.error;
  if (!isObject(e) || typeof e.code !== 'string' || e.code === '') return clientError(CLIENT_CODES.badResponse);
  const error = {
    code: e.code,
    message: typeof e.message === 'string' && e.message.trim() !== '' ? e.message : 'Something went wrong.',
  };
  const fields = normalizeFieldErrors(e.fields);
  if (fields.length > 0) error.fields = fields;
  if (typeof e.retryable === 'boolean') error.retryable = e.retryable;
  if (Number.isFinite(e.resetsAtMs)) error.resetsAtMs = e.resetsAtMs;
  return { ok: false, error };
}

/** Maps an exception thrown by `invoke` (the bridge, not the resolver) to an error envelope. */
export function envelopeFromThrown(thrown) {
  const message = thrown && typeof thrown.message === 'string' ? thrown.message : String(thrown);
  // @forge/bridge throws this when a page exceeds its own invoke budget (500 calls / 25 s).
  if (/rate limit/i.test(message)) return clientError(CLIENT_CODES.rateLimited);
  return clientError(CLIENT_CODES.unreachable);
}

/**
 * Calls one resolver through `invokeFn` (the bridge's `invoke`) and always resolves to an envelope.
 * A resolver that throws instead of answering surfaces as `unreachable`.
 */
export async function callResolver(invokeFn, name, payload = {}) {
  let raw;
  try {
    raw = await invokeFn(name, payload);
  } catch (thrown) {
    return envelopeFromThrown(thrown);
  }
  return normalizeEnvelope(raw);
}
