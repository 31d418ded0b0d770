// The issue panel's form rules and wording, kept apart from React so they can be tested alone.
import { deliveryWord } from '../shared/format.js';
import { isValidEmail, normalizePhone } from '../shared/fields.js';

/** The form's fields, in display order (also the paths server field errors are placed on). */
export const SEND_FIELDS = ['email', 'delivery', 'phone', 'alternateEmail'];

/** The form as first shown: email of the person on the ticket, the admin's default delivery. */
export function initialSendForm(panelState) {
  return {
    email: panelState?.person?.email ?? '',
    delivery: panelState?.defaults?.delivery === 'EMAIL' ? 'EMAIL' : 'SMS',
    phone: '',
    emailTarget: 'corporate',
    alternateEmail: '',
  };
}

/**
 * Checks the form. Returns the field messages, and the `panel.send` payload when there are none.
 * @returns {{ errors: Record<string, string>, payload: null | { email: string, delivery: 'SMS'|'EMAIL', phone: string, alternateEmail: string } }}
 */
export function validateSendForm(form) {
  const errors = /** @type {Record<string, string>} */ ({});
  const email = String(form.email ?? '').trim();
  if (email === '') errors.email = 'Enter the employee’s corporate email address.';
  else if (!isValidEmail(email)) errors.email = 'Enter a valid email address, such as name@example.com.';

  const delivery = form.delivery === 'EMAIL' ? 'EMAIL' : 'SMS';
  let phone = '';
  let alternateEmail = '';
  if (delivery === 'SMS') {
    const normalized = normalizePhone(form.phone);
    if (normalized === null) {
      errors.phone = 'Enter the phone in international format, such as +1 555 010 1234, or leave it empty.';
    } else phone = normalized;
  } else if (form.emailTarget === 'alternate') {
    alternateEmail = String(form.alternateEmail ?? '').trim();
    if (alternateEmail === '') errors.alternateEmail = 'Enter the alternate email address, or choose the corporate email.';
    else if (!isValidEmail(alternateEmail)) errors.alternateEmail = 'Enter a valid email address, such as name@example.com.';
  }
  if (Object.keys(errors).length > 0) return { errors, payload: null };
  return { errors, payload: { email, delivery, phone, alternateEmail } };
}

function minutes(n) {
  return `${n} ${n === 1 ? 'minute' : 'minutes'}`;
}

/** The confirmation question for a new link. */
export function sendConfirmation(payload, linkExpiryMinutes) {
  const via = deliveryWord(payload.delivery);
  let where = '';
  if (payload.delivery === 'SMS') {
    where = payload.phone ? ` to ${payload.phone}` : ' (to the phone in the Incode directory)';
  } else if (payload.alternateEmail) {
    where = ` to ${payload.alternateEmail}`;
  }
  const expiry = Number.isFinite(linkExpiryMinutes) ? ` The link expires in ${minutes(linkExpiryMinutes)}.` : '';
  return `Send an Incode verification link to ${payload.email} by ${via}${where}?${expiry}`;
}

/** The confirmation question for a fresh link to the person of an earlier verification. */
export function resendConfirmation(verification, linkExpiryMinutes) {
  const via = deliveryWord(verification.delivery);
  const where = verification.destination && verification.destination !== verification.email
    ? ` to ${verification.destination}` : '';
  const expiry = Number.isFinite(linkExpiryMinutes) ? ` The link expires in ${minutes(linkExpiryMinutes)}.` : '';
  return `Send a new Incode verification link to ${verification.email} by ${via}${where}?${expiry}`;
}

/** The question before cancelling. */
export function cancelConfirmation(verification) {
  return (
    `Cancel the verification of ${verification.email}? ` +
    'A result that arrives for this link afterwards will not count.'
  );
}

const STATUS_NAMES = ['requested', 'inProgress', 'passed', 'failed', 'manualReview', 'expired', 'cancelled'];

function looksLikeVerification(v) {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.id === 'string' &&
    typeof v.sessionId === 'string' &&
    STATUS_NAMES.includes(v.status) &&
    typeof v.statusText === 'string' &&
    Number.isFinite(v.updatedAtMs)
  );
}

/**
 * The verification a realtime message carries, if any. Messages may be a JSON string or an
 * object, holding the verification itself or `{ verification }`; anything else is only a hint
 * to reload the panel state.
 */
export function verificationFromMessage(payload) {
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (value && typeof value === 'object' && looksLikeVerification(value.verification)) return value.verification;
  return looksLikeVerification(value) ? value : null;
}

/**
 * The panel state with a newer copy of a verification it already shows (from a realtime
 * message). An older copy never replaces a newer one; an unknown verification changes nothing
 * (the reload that follows every message brings it).
 */
export function mergeVerification(state, verification) {
  if (!state || !verification) return state;
  const newer = (old) => !old || old.id !== verification.id || (verification.updatedAtMs ?? 0) >= (old.updatedAtMs ?? 0);
  const current = state.current && state.current.id === verification.id && newer(state.current)
    ? verification
    : state.current;
  const history = Array.isArray(state.history) ? state.history : [];
  const at = history.findIndex((h) => h.id === verification.id);
  let nextHistory = history;
  if (at >= 0) {
    if (newer(history[at])) nextHistory = history.map((h, i) => (i === at ? verification : h));
  }
  return { ...state, current, history: nextHistory };
}

/** The panel state after an action answered with `verification` (sent, resent or cancelled). */
export function adoptVerification(state, verification) {
  if (!state || !verification) return state;
  const merged = mergeVerification(state, verification);
  if (merged.current && merged.current.id === verification.id) return merged;
  return { ...merged, current: verification };
}
