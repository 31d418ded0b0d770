// The webhook half of the baseline: authenticate the exact raw body (HMAC, shared secret or an
// issued bearer token), then parse it with JSON.parse and look the event up under every
// spelling the core accepts. Same rules, reasons and messages as rust/src/webhook.rs.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  equalsIgnoreAsciiCase,
  isAsciiNumber,
  isBidiControl,
  isControl,
  isPrintableAscii,
  isWhitespace,
  stripPrefixIgnoreCase,
  trim,
  trimEnd,
} from './text.mjs';

const MAX_BODY_BYTES = 256 * 1024;
const MAX_ID_CHARS = 200;
const MAX_HINT_CHARS = 320;
const MAX_RAW_TYPE_CHARS = 100;
const MAX_SIGNATURE_CANDIDATES = 16;
const MIN_TOLERANCE_SECONDS = 30;
const MAX_TOLERANCE_SECONDS = 3600;
const MAX_TOKEN_TTL_SECONDS = 86_400;
const TOKEN_FUTURE_SLACK_SECONDS = 300;
const MS_THRESHOLD = 1_000_000_000_000;
const MAX_EPOCH_MS = 253_402_300_799_999;

const rejected = (reason, message) => ({ kind: 'rejected', status: 401, reason, message });
const invalid = (reason, message) => ({ kind: 'invalid', status: 400, reason, message });
const ignored = (reason, message, rawType) => ({ kind: 'ignored', status: 202, reason, message, rawType });

/**
 * Authenticates one delivery over its exact raw body, then (only then) parses it.
 * @param {{ auth: object, secret: string, headers: Record<string, string | string[]>, body: string, nowMs: number }} input
 */
export function receiveWebhook(input) {
  const rejection = authenticate(input);
  return rejection ?? parseEvent(input.body);
}

/** At least 16 visible ASCII characters, 8 of them different. @param {string} secret */
export function isStrongSecret(secret) {
  return secret.length >= 16 && /^[\x21-\x7e]+$/.test(secret) && new Set(secret).size >= 8;
}

function authenticate(input) {
  if (input.secret === '') {
    return rejected(
      'not_configured',
      "No webhook secret is configured, so no delivery can be authenticated. Set the webhook secret on the app's settings page.",
    );
  }
  if (!isStrongSecret(input.secret)) {
    return rejected(
      'weak_secret',
      "The stored webhook secret is too weak to authenticate deliveries. Set a new one of at least 16 visible characters on the app's settings page, and the same in the Incode dashboard.",
    );
  }
  const auth = input.auth;
  switch (auth.mode) {
    case 'hmac':
      return checkHmac(input, auth);
    case 'sharedSecret':
      return checkSharedSecret(input, auth.header);
    case 'oauth':
      return checkBearerToken(input, auth.clientId);
    default:
      throw Object.assign(new Error(`webhook auth has the wrong shape: unknown mode ${auth.mode}`), { code: 'bad_input' });
  }
}

/**
 * Every non-empty, trimmed value of a header, whatever the case of its name; names in byte
 * order (as the core's sorted map holds them).
 * @param {Record<string, string | string[]>} headers @param {string} name
 */
function headerValues(headers, name) {
  const wanted = trim(name);
  const keys = [];
  for (const key in headers) {
    if (equalsIgnoreAsciiCase(trim(key), wanted)) keys.push(key);
  }
  if (keys.length > 1) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const values = [];
  for (const key of keys) {
    const value = headers[key];
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = trim(one);
      if (text !== '') values.push(text);
    }
  }
  return values;
}

function checkHmac(input, { header: rawHeader, encoding, timestampHeader: rawTimestampHeader, toleranceSeconds }) {
  const header = trim(rawHeader);
  if (header === '') {
    return rejected('not_configured', "No signature header is configured. Set the signature header on the app's settings page.");
  }
  const signatures = headerValues(input.headers, header);
  if (signatures.length === 0) {
    return rejected('missing_signature', `The delivery carried no ${header} header, so it cannot be authenticated.`);
  }
  const timestampHeader = trim(rawTimestampHeader);
  let timestamp = null;
  if (timestampHeader !== '') {
    const raw = headerValues(input.headers, timestampHeader)[0];
    if (raw === undefined) {
      return rejected('missing_timestamp', `The delivery carried no ${timestampHeader} header, which the signature settings require.`);
    }
    if (!isAsciiNumber(raw)) {
      return rejected('missing_timestamp', `The ${timestampHeader} header does not hold a Unix time in seconds or milliseconds.`);
    }
    timestamp = raw;
  }
  const candidates = signatureCandidates(signatures, encoding);
  if (candidates.length === 0) {
    const form = encoding === 'hex' ? '64 hexadecimal digits' : 'base64 of 32 bytes';
    return rejected(
      'malformed_signature',
      `The ${header} header does not hold an HMAC-SHA256 signature written as ${form}. Check the signature encoding on the app's settings page.`,
    );
  }
  const mac = createHmac('sha256', input.secret);
  if (timestamp !== null) mac.update(`${timestamp}.`);
  mac.update(input.body);
  const expected = mac.digest();
  // Every candidate is compared, in constant time, whatever the earlier ones gave.
  let matched = false;
  for (const candidate of candidates) matched = timingSafeEqual(candidate, expected) || matched;
  if (!matched) {
    return rejected(
      'bad_signature',
      `The ${header} signature does not match the body. Check that the webhook secret is the signing secret of this webhook in the Incode dashboard.`,
    );
  }
  if (timestamp !== null) {
    const tolerance = Math.min(Math.max(toleranceSeconds, MIN_TOLERANCE_SECONDS), MAX_TOLERANCE_SECONDS);
    const atMs = timestampMs(timestamp);
    if (atMs === null || Math.abs(atMs - input.nowMs) > tolerance * 1000) {
      return rejected(
        'stale_timestamp',
        `The ${timestampHeader} time is more than ${tolerance} seconds away from now: an old delivery replayed, or a clock out of step.`,
      );
    }
  }
  return null;
}

const I64_MAX = 9_223_372_036_854_775_807n;

/** Seconds or milliseconds as milliseconds; null past the 64-bit range. @param {string} digits */
function timestampMs(digits) {
  if (digits.length > 18 && BigInt(digits) > I64_MAX) return null;
  const value = Number(digits);
  return value > MS_THRESHOLD ? value : value * 1000;
}

/** @param {string[]} values @param {'hex' | 'base64'} encoding @returns {Buffer[]} */
function signatureCandidates(values, encoding) {
  const out = [];
  let taken = 0;
  for (const value of values) {
    for (const rawPart of value.split(',')) {
      const part = trim(rawPart);
      if (part === '') continue;
      if (taken === MAX_SIGNATURE_CANDIDATES) return out;
      taken += 1;
      const digest = trim(stripPrefixIgnoreCase(part, 'sha256=') ?? part);
      const bytes = encoding === 'hex' ? decodeHex(digest) : decodeBase64Any(digest);
      if (bytes !== null && bytes.length === 32) out.push(bytes);
    }
  }
  return out;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** @param {string} text */
function decodeHex(text) {
  return HEX.test(text) ? Buffer.from(text, 'hex') : null;
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Strict unpadded base64 (the alphabet's characters only, no impossible length, no stray bits
 * in the last character), as the Rust `base64` engines decode it.
 * @param {string} text @param {boolean} urlSafe
 */
function decodeBase64Strict(text, urlSafe) {
  if (!(urlSafe ? URL_SAFE : STANDARD).test(text) || text.length % 4 === 1) return null;
  const rest = text.length % 4;
  if (rest !== 0) {
    const last = text.charCodeAt(text.length - 1);
    const ch = String.fromCharCode(last);
    const index = ch === '-' || ch === '+' ? 62 : ch === '_' || ch === '/' ? 63 : B64.indexOf(ch);
    const unused = rest === 2 ? 0x0f : 0x03;
    if ((index & unused) !== 0) return null;
  }
  return Buffer.from(text, urlSafe ? 'base64url' : 'base64');
}

/** Standard or URL-safe alphabet, padded or not. @param {string} text */
function decodeBase64Any(text) {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end -= 1;
  if (text.length - end > 2) return null;
  const unpadded = text.slice(0, end);
  const urlSafe = /[-_]/.test(unpadded);
  if (urlSafe && /[+/]/.test(unpadded)) return null;
  return decodeBase64Strict(unpadded, urlSafe);
}

const sha256 = (text) => createHash('sha256').update(text).digest();

function checkSharedSecret(input, rawHeader) {
  const header = trim(rawHeader);
  if (header === '') {
    return rejected('not_configured', "No secret header is configured. Set the secret header on the app's settings page.");
  }
  const values = headerValues(input.headers, header);
  if (values.length === 0) {
    return rejected('missing_secret_header', `The delivery carried no ${header} header, so it cannot be authenticated.`);
  }
  // Digests of equal length are compared, so neither the secret's length nor its content shows.
  const expected = sha256(input.secret);
  let matched = false;
  for (const value of values.slice(0, MAX_SIGNATURE_CANDIDATES)) {
    matched = timingSafeEqual(sha256(value), expected) || matched;
  }
  if (matched) return null;
  return rejected('bad_secret', `The ${header} header does not hold the webhook secret. Check that the same secret is set here and in the Incode dashboard.`);
}

function checkBearerToken(input, clientId) {
  if (trim(clientId) === '') {
    return rejected('not_configured', "No OAuth client id is configured. Set it on the app's settings page.");
  }
  let token = null;
  for (const value of headerValues(input.headers, 'authorization')) {
    const rest = stripPrefixIgnoreCase(value, 'bearer ');
    if (rest !== null) {
      token = trim(rest);
      break;
    }
  }
  if (!token) {
    return rejected('missing_token', "The delivery carried no Authorization: Bearer token. Incode must first obtain a token from the app's token URL.");
  }
  const check = verifyToken(input.secret, trim(clientId), token, input.nowMs);
  if (check === 'valid') return null;
  if (check === 'expired') {
    return rejected('token_expired', "The bearer token has expired. Incode should request a new one from the app's token URL.");
  }
  return rejected('bad_token', 'The bearer token was not issued by this app for the configured client id.');
}

/** `v1.<exp>.<base64url(HMAC-SHA256(secret, "incode-webhook-token|v1|<clientId>|<exp>"))>` */
function verifyToken(secret, clientId, token, nowMs) {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0) return 'bad';
  const version = token.slice(0, first);
  const expText = token.slice(first + 1, second);
  const tagText = token.slice(second + 1);
  if (version !== 'v1' || !isAsciiNumber(expText) || expText.length > 12) return 'bad';
  const exp = Number(expText);
  if (String(exp) !== expText) return 'bad';
  const tag = decodeBase64Strict(tagText, true);
  if (tag === null || tag.length !== 32) return 'bad';
  const expected = createHmac('sha256', secret).update(`incode-webhook-token|v1|${clientId}|${exp}`).digest();
  if (!timingSafeEqual(tag, expected)) return 'bad';
  const nowS = Math.floor(nowMs / 1000);
  if (exp > nowS + MAX_TOKEN_TTL_SECONDS + TOKEN_FUTURE_SLACK_SECONDS) return 'bad';
  if (nowS >= exp) return 'expired';
  return 'valid';
}

// ---------------------------------------------------------------------------------------------
// Parsing an authenticated body.

// Dedicated keys first, generic ones only without them (the rule on the core's `parse_event`).
const EVENT_KEYS = ['eventType', 'event_type', 'event', 'eventName'];
const TYPE_KEYS = ['type'];
const NAME_KEYS = ['name'];
const SESSION_KEYS = ['interviewId', 'interview_id', 'sessionId', 'session_id', 'onboardingId'];
const GENERIC_ID_KEYS = ['id'];
const IDENTITY_KEYS = ['identityId', 'identity_id', 'customerId'];
const HINT_KEYS = ['loginHint', 'login_hint', 'email'];
const TIME_KEYS = ['timestamp', 'createdAt', 'eventTime', 'occurredAt'];
const RESULT_KEYS = ['onboardingResult', 'result', 'status', 'success', 'onboardingStatus', 'overallStatus'];
const LEGACY_STATUS_KEYS = ['onboardingStatus'];

const EVENT_NAMES = new Map([
  ['SESSION_STARTED', 'started'],
  ['SESSION_PROGRESS', 'progress'],
  ['SESSION_SUCCEEDED', 'succeeded'],
  ['SESSION_FAILED', 'failed'],
  ['SESSION_PENDING_REVIEW', 'pendingReview'],
  ['MANUAL_REVIEW', 'pendingReview'],
  ['MANUAL_REVIEW_REQUIRED', 'pendingReview'],
  ['IDENTITY_ENROLLED', 'identityEnrolled'],
  ['MANUAL_REVIEW_APPROVED', 'reviewApproved'],
  ['MANUAL_REVIEW_REJECTED', 'reviewRejected'],
  ['SESSION_COMPLETED', 'completed'],
  ['ONBOARDING_FINISHED', 'completed'],
]);

const RESULT_WORDS = new Map([
  ...['OK', 'PASS', 'PASSED', 'SUCCEEDED', 'SUCCESS', 'APPROVED', 'TRUE'].map((w) => [w, 'succeeded']),
  ...['FAIL', 'FAILED', 'FAILURE', 'REJECTED', 'FALSE'].map((w) => [w, 'failed']),
  ...['MANUAL_REVIEW', 'PENDING', 'REVIEW', 'PENDING_REVIEW', 'MANUAL_REVIEW_REQUIRED'].map((w) => [w, 'pendingReview']),
]);

const SEPARATORS = /[ \-._]+/g;
const ASCII_NAME = /^[A-Za-z0-9 \-._]*$/;

/**
 * Upper case, with spaces, hyphens, dots and camelCase boundaries as single underscores:
 * "Session Succeeded", "session-succeeded", "sessionSucceeded" all give SESSION_SUCCEEDED.
 * Only ASCII letters change case.
 * @param {string} raw
 */
export function normalizeName(raw) {
  const text = trim(raw);
  if (ASCII_NAME.test(text)) {
    const spaced = text
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(SEPARATORS, '_')
      .toUpperCase();
    let start = 0;
    let end = spaced.length;
    while (start < end && spaced.charCodeAt(start) === 95) start += 1;
    while (end > start && spaced.charCodeAt(end - 1) === 95) end -= 1;
    return spaced.slice(start, end);
  }
  let out = '';
  let previousLower = false;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c === 32 || c === 45 || c === 46 || c === 95 || isWhitespace(c)) {
      if (out !== '' && !out.endsWith('_')) out += '_';
      previousLower = false;
      continue;
    }
    // Only ASCII letters change case (as in the core).
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (upper && previousLower && !out.endsWith('_')) out += '_';
    previousLower = lower || (c >= 48 && c <= 57);
    out += lower ? ch.toUpperCase() : ch;
  }
  let end = out.length;
  while (end > 0 && out.charCodeAt(end - 1) === 95) end -= 1;
  return out.slice(0, end);
}

function classifyResult(value) {
  if (value === true) return 'succeeded';
  if (value === false) return 'failed';
  if (typeof value === 'string') return RESULT_WORDS.get(normalizeName(value)) ?? null;
  if (isObject(value) && typeof value.status === 'string') return classifyResult(value.status);
  return null;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Drops control and bidi characters, trims, cuts to `max` code points.
 * @param {string} text @param {number} max
 */
function clean(text, max) {
  if (isPrintableAscii(text)) {
    const trimmed = trim(text);
    return trimmed.length > max ? trimEnd(trimmed.slice(0, max)) : trimmed;
  }
  let kept = '';
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (!isControl(c) && !isBidiControl(c)) kept += ch;
  }
  kept = trim(kept);
  let out = '';
  let n = 0;
  for (const ch of kept) {
    if (n === max) break;
    out += ch;
    n += 1;
  }
  return trimEnd(out);
}

/** A string, or an integer written as a number, as text. */
function scalarText(value) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return null;
}

function firstText(scopes, keys, max) {
  for (const scope of scopes) {
    for (const key of keys) {
      const text = scalarText(scope[key]);
      if (text === null) continue;
      const cleaned = clean(text, max);
      if (cleaned !== '') return cleaned;
    }
  }
  return null;
}

/** @param {string} body */
export function parseEvent(body) {
  if (body.length > MAX_BODY_BYTES / 3 && Buffer.byteLength(body) > MAX_BODY_BYTES) {
    return invalid('too_large', `The body is ${Buffer.byteLength(body)} bytes; at most ${MAX_BODY_BYTES} are accepted.`);
  }
  let root;
  try {
    root = JSON.parse(body);
  } catch {
    root = null;
  }
  if (!isObject(root)) return invalid('malformed_json', 'The body is not a JSON object.');
  const scopes = [root];
  if (isObject(root.data)) scopes.push(root.data);
  if (isObject(root.payload)) scopes.push(root.payload);

  /** The event a name means, or a receipt. */
  const named = (name) => {
    const meaning = EVENT_NAMES.get(normalizeName(name));
    if (meaning === undefined) return { receipt: ignored('unknown_event', `${name} is not an event this app acts on.`, name) };
    if (meaning === 'completed') return completion(scopes, name);
    return { rawType: name, kind: meaning };
  };
  const eventName = firstText(scopes, EVENT_KEYS, MAX_RAW_TYPE_CHARS) ?? firstText(scopes, TYPE_KEYS, MAX_RAW_TYPE_CHARS);
  let found = eventName !== null ? named(eventName) : legacyEvent(scopes);
  if (found === null) {
    const name = firstText(scopes, NAME_KEYS, MAX_RAW_TYPE_CHARS);
    if (name === null) return ignored('missing_event', 'The body names no event type.', '');
    found = named(name);
  }
  if (found.receipt) return found.receipt;
  const { rawType, kind } = found;

  const sessions = [];
  for (const scope of scopes) {
    for (const key of SESSION_KEYS) {
      const text = scalarText(scope[key]);
      if (text === null) continue;
      const cleaned = clean(text, MAX_ID_CHARS);
      if (cleaned !== '') sessions.push(cleaned);
    }
  }
  if (sessions.some((s) => s !== sessions[0])) return invalid('conflicting_session', `The ${rawType} event names more than one session.`);
  const sessionId = sessions[0] ?? firstText(scopes, GENERIC_ID_KEYS, MAX_ID_CHARS);
  if (sessionId === null || sessionId === undefined) return invalid('missing_session', `The ${rawType} event carries no interview or session id.`);
  return {
    kind: 'event',
    event: {
      type: kind,
      sessionId,
      identityId: firstText(scopes, IDENTITY_KEYS, MAX_ID_CHARS) ?? '',
      loginHint: firstText(scopes, HINT_KEYS, MAX_HINT_CHARS) ?? '',
      rawType,
      occurredAtMs: occurredAtMs(scopes),
    },
  };
}

/**
 * A legacy callback naming no event but carrying `onboardingStatus`: `{ rawType, kind }`,
 * `{ receipt }` when it decides the answer, or null when there is no such status.
 */
function legacyEvent(scopes) {
  const raw = firstText(scopes, LEGACY_STATUS_KEYS, MAX_RAW_TYPE_CHARS);
  if (raw === null) return null;
  const meaning = EVENT_NAMES.get(normalizeName(raw));
  if (meaning === 'completed') return completion(scopes, raw);
  if (meaning !== undefined) return { rawType: raw, kind: meaning };
  const result = classifyResult(raw);
  if (result !== null) return { rawType: raw, kind: result };
  return { receipt: ignored('unknown_event', `Onboarding status ${raw} is not one this app acts on.`, raw) };
}

/** A completion's outcome; without one its result fields agree on, a pending review that says why. */
function completion(scopes, raw) {
  let found = null;
  let conflict = false;
  for (const scope of scopes) {
    for (const key of RESULT_KEYS) {
      const value = scope[key];
      if (value === undefined) continue;
      const result = classifyResult(value);
      if (result === null) continue;
      if (found === null) found = result;
      else if (found !== result) conflict = true;
    }
  }
  if (found !== null && !conflict) return { rawType: raw, kind: found };
  return { rawType: `${raw} (${conflict ? 'conflicting results' : 'no result'})`, kind: 'pendingReview' };
}

function occurredAtMs(scopes) {
  for (const scope of scopes) {
    for (const key of TIME_KEYS) {
      const value = scope[key];
      if (value === undefined) continue;
      const ms = timeValueMs(value);
      if (ms !== null) return ms;
    }
  }
  return 0;
}

function timeValueMs(value) {
  if (typeof value === 'number') return epochNumberMs(Math.trunc(value));
  if (typeof value !== 'string') return null;
  const text = trim(value);
  if (isAsciiNumber(text) && text.length <= 15) return epochNumberMs(Number(text));
  return parseIso8601Ms(text);
}

function epochNumberMs(value) {
  if (!(value > 0)) return null;
  const ms = value > MS_THRESHOLD ? value : value * 1000;
  return ms <= MAX_EPOCH_MS ? ms : null;
}

function digitsAt(text, at, width) {
  if (at + width > text.length) return null;
  let value = 0;
  for (let i = at; i < at + width; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    value = value * 10 + (c - 48);
  }
  return value;
}

function daysInMonth(year, month) {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** ISO-8601 / RFC 3339; no zone means UTC. @param {string} text */
function parseIso8601Ms(text) {
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year === null || month === null || day === null || text[4] !== '-' || text[7] !== '-') return null;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  let ms = Date.UTC(year, month - 1, day);
  let at = 10;
  const sep = text[at];
  if (sep === 'T' || sep === 't' || sep === ' ') {
    const hour = digitsAt(text, at + 1, 2);
    const minute = digitsAt(text, at + 4, 2);
    if (hour === null || minute === null || text[at + 3] !== ':' || hour > 23 || minute > 59) return null;
    ms += (hour * 3600 + minute * 60) * 1000;
    at += 6;
    if (text[at] === ':') {
      const second = digitsAt(text, at + 1, 2);
      if (second === null || second > 60) return null;
      ms += Math.min(second, 59) * 1000;
      at += 3;
      if (text[at] === '.' || text[at] === ',') {
        at += 1;
        const start = at;
        let fraction = 0;
        let scale = 100;
        while (at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) {
          fraction += (text.charCodeAt(at) - 48) * scale;
          scale = Math.trunc(scale / 10);
          at += 1;
        }
        if (at === start) return null;
        ms += fraction;
      }
    }
  }
  if (at < text.length) {
    const zone = text[at];
    if ((zone === 'Z' || zone === 'z') && at + 1 === text.length) {
      // UTC
    } else if (zone === '+' || zone === '-') {
      const hours = digitsAt(text, at + 1, 2);
      if (hours === null) return null;
      const rest = text.slice(at + 3);
      let minutes;
      if (rest.length === 0) minutes = 0;
      else if (rest.length === 3 && rest[0] === ':') minutes = digitsAt(text, at + 4, 2);
      else if (rest.length === 2) minutes = digitsAt(text, at + 3, 2);
      else return null;
      if (minutes === null || hours > 23 || minutes > 59) return null;
      const offset = (hours * 60 + minutes) * 60_000;
      ms -= zone === '+' ? offset : -offset;
    } else {
      return null;
    }
  }
  return ms > 0 ? ms : null;
}
