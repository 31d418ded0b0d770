// Field errors (`FieldError[]` from a resolver, or found on this side) mapped onto form fields,
// and the small input checks the forms run before anything is sent.

/** @typedef {import('./types.js').FieldError} FieldError */

/** The DOM id of the input for a dotted field path: "templates.passed" → "field-templates-passed". */
export function fieldDomId(path) {
  return `field-${String(path).replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

/** "Line 2, column 5: Unclosed tag" when the error has a position, else the message. */
export function fieldErrorText(error) {
  if (error.line && error.column) return `Line ${error.line}, column ${error.column}: ${error.message}`;
  if (error.line) return `Line ${error.line}: ${error.message}`;
  return error.message;
}

/**
 * Places each error next to a field of the form. `knownFields` lists the form's field paths in
 * display order. An error goes to the field with the same path, else to the closest enclosing
 * field ("agentGroups.2" → "agentGroups"), else to the first field inside the path it names
 * ("limits" → "limits.perTicketPerHour"); what fits nowhere is `unplaced` (summary only).
 * @param {any} errors @param {string[]} knownFields
 * @returns {{ byField: Record<string, FieldError[]>, unplaced: FieldError[], count: number }}
 */
export function placeFieldErrors(errors, knownFields) {
  const byField = /** @type {Record<string, FieldError[]>} */ ({});
  const unplaced = [];
  const list = Array.isArray(errors) ? errors : [];
  for (const error of list) {
    const target = placeOne(error.field, knownFields);
    if (target === null) unplaced.push(error);
    else (byField[target] ||= []).push(error);
  }
  return { byField, unplaced, count: list.length };
}

function placeOne(path, knownFields) {
  if (typeof path !== 'string' || path === '') return null;
  if (knownFields.includes(path)) return path;
  let best = null;
  for (const known of knownFields) {
    if (path.startsWith(`${known}.`) && (best === null || known.length > best.length)) best = known;
  }
  if (best !== null) return best;
  const inside = knownFields.find((known) => known.startsWith(`${path}.`));
  return inside ?? null;
}

// Deliberately simple: one "@", no spaces, a dot in the domain. The directory lookup at Incode
// is the real check; this one catches typing slips before a link is sent.
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export function isValidEmail(value) {
  const v = String(value ?? '').trim();
  return v.length > 0 && v.length <= 254 && EMAIL_RE.test(v);
}

/**
 * A phone number as E.164 ("+15550101234"), from what an agent types ("+1 (555) 010-1234").
 * Returns "" for empty input and null for something that is not an international number.
 */
export function normalizePhone(value) {
  const raw = String(value ?? '').trim();
  if (raw === '') return '';
  if (!/^\+?[\d\s().-]+$/.test(raw)) return null;
  const digits = raw.replace(/[\s().-]/g, '');
  if (!/^\+[1-9]\d{6,14}$/.test(digits)) return null;
  return digits;
}

/** A whole number within [min, max], or null. Accepts numbers and digit strings. */
export function parseWholeNumber(value, min, max) {
  const text = typeof value === 'number' ? String(value) : String(value ?? '').trim();
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) return null;
  return n;
}
