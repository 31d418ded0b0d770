// The issue panel's form rules and wording, kept apart from React so they can be tested alone.
import { FIELD_OF_CODE } from '../shared/errors.js';
import { deliveryWord, describeSent } from '../shared/format.js';
import { isValidEmail, normalizePhone, placeFieldErrors } from '../shared/fields.js';

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
 * The form to verify again after `verification` ended (cancelled, expired, replaced or a
 * result): its person and channel. A masked phone cannot be reused; the agent enters it again or
 * leaves it to the directory.
 */
export function newVerificationForm(panelState, verification) {
  const form = initialSendForm(panelState);
  if (!verification || typeof verification.email !== 'string' || verification.email === '') return form;
  const delivery = verification.delivery === 'EMAIL' ? 'EMAIL' : 'SMS';
  const alternate = delivery === 'EMAIL' && verification.destination && verification.destination !== verification.email ? verification.destination : '';
  return {
    ...form,
    email: verification.email,
    delivery,
    emailTarget: alternate ? 'alternate' : 'corporate',
    alternateEmail: alternate,
  };
}

/**
 * Where a refused send is said: an error about one field only under that field (in the
 * resolver's words, which say what to do), field errors of a validation under their fields with
 * the summary above the form, anything else above the form.
 * @returns {{ notice: any, fields: Record<string, any[]> }}
 */
export function sendErrorPlacement(error) {
  if (Array.isArray(error?.fields) && error.fields.length > 0) {
    return { notice: error, fields: placeFieldErrors(error.fields, SEND_FIELDS).byField };
  }
  const field = FIELD_OF_CODE[error?.code];
  if (field && typeof error.message === 'string' && error.message !== '') return { notice: null, fields: { [field]: [error.message] } };
  return { notice: error, fields: {} };
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
  const where = verification.destination && verification.destination !== verification.email ? ` to ${verification.destination}` : '';
  const expiry = Number.isFinite(linkExpiryMinutes) ? ` The link expires in ${minutes(linkExpiryMinutes)}.` : '';
  return `Send a new Incode verification link to ${verification.email} by ${via}${where}?${expiry}`;
}

/** The question before cancelling. */
export function cancelConfirmation(verification) {
  return `Cancel the verification of ${verification.email}? ` + 'A result that arrives for this link afterwards will not count.';
}

const LATE_OUTCOMES = { passed: 'passed', failed: 'failed', manualReview: 'needs a manual review' };

/**
 * The line under an open verification's headline once an opened link's time is over: Incode
 * decides when it ends, so there is no countdown left to show. Null while the countdown runs.
 * @param {{ status: string, expiresAtMs: number, delivery: string, destination?: string }} verification
 * @param {number} nowMs
 */
export function openedPastExpiry(verification, nowMs) {
  if (verification.status !== 'inProgress' || nowMs < verification.expiresAtMs) return null;
  return `The employee opened the link before it expired. ${describeSent(verification)}; waiting for Incode’s result.`;
}

/**
 * One line about results Incode reported after this verification was cancelled or its link
 * expired (kept on the record, never applied); null when there are none.
 */
export function lateResultNotice(verification) {
  const late = Array.isArray(verification?.lateResults) ? verification.lateResults.at(-1) : null;
  if (!late) return null;
  const outcome = LATE_OUTCOMES[late.outcome] ?? 'came back';
  const after = late.reason === 'afterCancel' ? 'was cancelled' : 'expired';
  return `Incode reported that this verification ${outcome} after the link ${after}. It was not applied: send a new link to verify the employee.`;
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
  const found =
    value && typeof value === 'object' && looksLikeVerification(value.verification) ? value.verification : looksLikeVerification(value) ? value : null;
  if (!found) return null;
  // The actions in a published view are the publisher's; the reload that follows brings the viewer's.
  const { actions: _theirs, ...verification } = found;
  return verification;
}

/**
 * The panel state with a newer copy of a verification it already shows (from a realtime
 * message). An older copy never replaces a newer one; an unknown verification changes nothing
 * (the reload that follows every message brings it).
 */
export function mergeVerification(state, verification) {
  if (!state || !verification) return state;
  const newer = (old) => !old || old.id !== verification.id || (verification.updatedAtMs ?? 0) >= (old.updatedAtMs ?? 0);
  const current = state.current && state.current.id === verification.id && newer(state.current) ? verification : state.current;
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

const FOCUSABLE = 'button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Keeps Tab inside `root` (a modal dialog): from the last focusable element to the first, and
 * Shift+Tab from the first to the last.
 */
export function trapTab(event, root) {
  const items = [...root.querySelectorAll(FOCUSABLE)];
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  const at = root.ownerDocument.activeElement;
  const outside = !root.contains(at);
  if (event.shiftKey && (at === first || outside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (at === last || outside)) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * The warning before a link goes to another address than the person on the ticket's email (a
 * caller may talk an agent into it): whoever completes it is verified, not the person, and the
 * gate "Identity verified" will not count it. Null when they match or the person's email is not
 * known. Emails compare ignoring case.
 */
export function otherPersonWarning(email, person) {
  const theirs = String(person?.email ?? '').trim();
  const given = String(email ?? '').trim();
  if (theirs === '' || given === '' || theirs.toLowerCase() === given.toLowerCase()) return null;
  const who = person?.name ? `${person.name}, the person on this ticket,` : 'The person on this ticket';
  return `${who} has the email ${theirs}. A pass of this link verifies whoever uses ${given}, not them, and a transition gated on the person’s verification will not count it.`;
}

/** What the confirmation modal asks before an action (`extension.modal` of the modal page). */
export function confirmationOf(dialog, linkExpiryMinutes, person = null) {
  if (dialog.kind === 'cancel') {
    return {
      kind: 'cancel',
      title: 'Cancel this verification?',
      text: cancelConfirmation(dialog.verification),
      confirmLabel: 'Cancel verification',
      cancelLabel: 'Keep it',
      appearance: 'danger',
      focus: 'cancel',
      testId: 'cancel-dialog',
    };
  }
  const resend = dialog.kind === 'resend';
  const warning = otherPersonWarning(resend ? dialog.verification?.email : dialog.payload?.email, person);
  return {
    kind: dialog.kind,
    title: resend ? 'Send a new verification link?' : 'Send verification link?',
    text: resend ? resendConfirmation(dialog.verification, linkExpiryMinutes) : sendConfirmation(dialog.payload, linkExpiryMinutes),
    ...(warning ? { warning } : {}),
    confirmLabel: 'Send',
    cancelLabel: 'Cancel',
    appearance: 'primary',
    // Sending to someone else is a choice to make twice: Enter alone does not send it.
    focus: warning ? 'cancel' : 'confirm',
    testId: 'send-dialog',
  };
}
