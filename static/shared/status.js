// How each verification status is shown: lozenge, message tone, wording and what an agent may do.

/**
 * @typedef {{ status: string, label: string, lozenge: 'default'|'inprogress'|'moved'|'new'|'removed'|'success',
 *   tone: 'information'|'success'|'warning'|'error'|'discovery'|'neutral',
 *   icon: 'send'|'clock'|'success'|'error'|'warning'|'stopwatch'|'crossCircle'|'question',
 *   headline: string, guidance: string, active: boolean }} StatusDisplay
 */

const DISPLAY = {
  requested: {
    label: 'Link sent',
    lozenge: 'new',
    tone: 'information',
    icon: 'send',
    headline: 'Waiting for the employee',
    guidance: 'The employee has not opened the link yet. Do not proceed until the verification passes.',
    active: true,
  },
  inProgress: {
    label: 'In progress',
    lozenge: 'inprogress',
    tone: 'information',
    icon: 'clock',
    headline: 'Verification in progress',
    guidance: 'The employee is completing the check. Do not proceed until the verification passes.',
    active: true,
  },
  passed: {
    label: 'Passed',
    lozenge: 'success',
    tone: 'success',
    icon: 'success',
    headline: 'Verification passed — identity confirmed, you may proceed',
    guidance: 'Incode confirmed the identity of the employee.',
    active: false,
  },
  failed: {
    label: 'Failed',
    lozenge: 'removed',
    tone: 'error',
    icon: 'error',
    headline: 'Verification failed — do not proceed',
    guidance: 'Do not proceed — escalate for review.',
    active: false,
  },
  manualReview: {
    label: 'Manual review',
    lozenge: 'moved',
    tone: 'warning',
    icon: 'warning',
    headline: 'Manual review required',
    guidance: 'Do not proceed until review is complete.',
    active: false,
  },
  expired: {
    label: 'Expired',
    lozenge: 'default',
    tone: 'neutral',
    icon: 'stopwatch',
    headline: 'Link expired',
    guidance: 'The employee did not complete the check in time. Do not proceed; send a new link if needed.',
    active: false,
  },
  cancelled: {
    label: 'Cancelled',
    lozenge: 'default',
    tone: 'neutral',
    icon: 'crossCircle',
    headline: 'Verification cancelled',
    guidance: 'This link is no longer accepted. Do not proceed; send a new link if needed.',
    active: false,
  },
};

/** @returns {StatusDisplay} */
export function statusDisplay(status) {
  const known = DISPLAY[status];
  if (known) return { status, ...known };
  return {
    status: String(status),
    label: 'Unknown',
    lozenge: 'default',
    tone: 'neutral',
    icon: 'question',
    headline: 'Unknown verification status',
    guidance: 'Do not proceed. Reload the panel; if this persists, contact your Jira admin.',
    active: false,
  };
}

/** True while the employee may still complete the check (the link is live). */
export function isActive(status) {
  return statusDisplay(status).active;
}

/** The sentence announced to screen readers when the status changes. */
export function announcement(verification) {
  const d = statusDisplay(verification.status);
  return `Verification status: ${d.label}. ${d.headline}.`;
}

/** Which actions make sense for the current verification. */
export function availableActions(verification, { canSend }) {
  if (!verification) return { resend: false, cancel: false, newVerification: canSend };
  const status = verification.status;
  return {
    // A fresh link for the same person: the first was lost, expired or cancelled.
    resend: canSend && ['requested', 'inProgress', 'expired', 'cancelled'].includes(status),
    cancel: isActive(status),
    // A final result stays on the ticket; another check starts from the form.
    newVerification: canSend && !isActive(status),
  };
}

export const ALL_STATUSES = Object.freeze(Object.keys(DISPLAY));
