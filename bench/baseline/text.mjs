// Text helpers of the plain-JavaScript baseline. The core is Rust, so "whitespace", "control
// character" and "character" mean what they mean in Rust: Unicode White_Space (which, unlike
// String.prototype.trim, excludes U+FEFF and includes U+0085), the Cc category, and code points
// (not UTF-16 units). Printable ASCII, which is nearly every real value, takes a fast path.

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const EDGE_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
const END_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** Rust's `char::is_whitespace`. @param {number} c code point */
export function isWhitespace(c) {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Rust's `char::is_control` (category Cc). @param {number} c */
export function isControl(c) {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

/** Bidirectional formatting characters (which can visually reorder text). @param {number} c */
export function isBidiControl(c) {
  return c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/** Rust's `str::trim`. @param {string} text */
export function trim(text) {
  const n = text.length;
  if (n === 0) return text;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(n - 1);
  if (first > 32 && first < 127 && last > 32 && last < 127) return text;
  return text.replace(EDGE_SPACE, '');
}

/** Rust's `str::trim_end`. @param {string} text */
export function trimEnd(text) {
  const n = text.length;
  if (n === 0) return text;
  const last = text.charCodeAt(n - 1);
  if (last > 32 && last < 127) return text;
  return text.replace(END_SPACE, '');
}

/** @param {string} text */
export function isPrintableAscii(text) {
  return PRINTABLE_ASCII.test(text);
}

/** The first `max` code points of `text`. @param {string} text @param {number} max */
export function takeChars(text, max) {
  if (text.length <= max) return text;
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n === max) break;
    out += ch;
    n += 1;
  }
  return out;
}

/** Number of code points. @param {string} text */
export function charCount(text) {
  if (isPrintableAscii(text)) return text.length;
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** ASCII-only case-insensitive "starts with"; the rest of the text, or null. @param {string} text @param {string} prefix lower case */
export function stripPrefixIgnoreCase(text, prefix) {
  if (text.length < prefix.length) return null;
  for (let i = 0; i < prefix.length; i += 1) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== prefix.charCodeAt(i)) return null;
  }
  return text.slice(prefix.length);
}

/** ASCII-only case-insensitive equality. @param {string} a @param {string} b */
export function equalsIgnoreAsciiCase(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

/** Whether `text` is one or more ASCII digits. @param {string} text */
export function isAsciiNumber(text) {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Epoch ms as `YYYY-MM-DD HH:MM:SS` (UTC), clamped to 1970..9999. @param {number} ms */
export function formatUtc(ms) {
  const iso = new Date(clampMs(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Epoch ms as `YYYY-MM-DDTHH:MM:SSZ`, clamped to 1970..9999. @param {number} ms */
export function isoUtc(ms) {
  return `${new Date(clampMs(ms)).toISOString().slice(0, 19)}Z`;
}

const MAX_MS = 253_402_300_799_999;

/** @param {number} ms */
function clampMs(ms) {
  return ms < 0 ? 0 : ms > MAX_MS ? MAX_MS : ms;
}

/** A JS number as Rust's `as i64` reads it (NaN is 0). @param {number} value */
export function toInteger(value) {
  return Number.isNaN(value) ? 0 : Math.trunc(value);
}
