// How each verification state is shown: lozenge, message tone, icon and what it means for the
// agent. The state, its one name and the caller's actions come from the core with each view
// (`state`, `stateName`, `actions`) and each delivery (`status`, `stateName`); this module only
// draws them.

/**
 * @typedef {{ state: string, label: string, lozenge: 'default'|'inprogress'|'moved'|'new'|'removed'|'success',
 *   tone: 'information'|'success'|'warning'|'error'|'discovery'|'neutral',
 *   icon: 'send'|'clock'|'success'|'error'|'warning'|'stopwatch'|'crossCircle'|'question',
 *   headline: string, guidance: string, active: boolean }} StateDisplay
 */

/** @typedef {Omit<StateDisplay, 'state' | 'label'>} Look */

/** @type {Record<string, Look>} */
const DISPLAY = {
  requested: {
    lozenge: 'new',
    tone: 'information',
    icon: 'send',
    headline: 'Waiting for the employee',
    guidance: 'The employee has not opened the link yet. Do not proceed until the verification passes.',
    active: true,
  },
  inProgress: {
    lozenge: 'inprogress',
    tone: 'information',
    icon: 'clock',
    headline: 'The employee is completing the check',
    guidance: 'Do not proceed until the verification passes.',
    active: true,
  },
  passed: {
    lozenge: 'success',
    tone: 'success',
    icon: 'success',
    headline: 'Identity confirmed — you may proceed',
    guidance: 'Incode confirmed the identity of the employee.',
    active: false,
  },
  failed: {
    lozenge: 'removed',
    tone: 'error',
    icon: 'error',
    headline: 'Do not proceed — escalate for review',
    guidance: 'The identity of the employee could not be confirmed.',
    active: false,
  },
  manualReview: {
    lozenge: 'moved',
    tone: 'warning',
    icon: 'warning',
    headline: 'Do not proceed until a reviewer decides',
    guidance: 'Incode sent the verification to a reviewer. The result appears here when they decide.',
    active: false,
  },
  expired: {
    lozenge: 'default',
    tone: 'neutral',
    icon: 'stopwatch',
    headline: 'The link expired',
    guidance: 'The employee did not complete the check in time. Do not proceed; start a new verification if needed.',
    active: false,
  },
  cancelled: {
    lozenge: 'default',
    tone: 'neutral',
    icon: 'crossCircle',
    headline: 'Verification cancelled',
    guidance: 'This link is no longer accepted. Do not proceed; start a new verification if needed.',
    active: false,
  },
  replaced: {
    lozenge: 'default',
    tone: 'neutral',
    icon: 'crossCircle',
    headline: 'A new link replaced this one',
    guidance: 'This link is no longer accepted. Do not proceed on it; the newer verification decides.',
    active: false,
  },
};

/** @type {Look & { label: string }} */
const UNKNOWN = {
  label: 'Unknown',
  lozenge: 'default',
  tone: 'neutral',
  icon: 'question',
  headline: 'Unknown verification status',
  guidance: 'Do not proceed. Reload the panel; if this persists, contact your Jira admin.',
  active: false,
};

/** How a verification view (or a bare `{ status }`) is shown. @returns {StateDisplay} */
export function stateDisplay(verification) {
  const state = verification?.state ?? verification?.status;
  const known = DISPLAY[state];
  if (!known) return { state: String(state), ...UNKNOWN };
  // The one name is the core's (`rust/src/panel.rs`), with every view and delivery: never copied here.
  const label = typeof verification.stateName === 'string' && verification.stateName !== '' ? verification.stateName : String(state);
  return { state, label, ...known };
}

/** True while the employee may still complete the check (the link is live). */
export function isActive(state) {
  return DISPLAY[state]?.active === true;
}

/** The sentence announced to screen readers when the state changes. */
export function announcement(verification) {
  const d = stateDisplay(verification);
  return `Verification status: ${d.label}. ${d.headline}.`;
}

const NO_ACTIONS = Object.freeze({ resend: false, cancel: false, newVerification: false });

/** What the agent may do with this verification, as the core decided for them. */
export function actionsOf(verification) {
  const a = verification?.actions;
  if (!a || typeof a !== 'object') return { ...NO_ACTIONS };
  return { resend: a.resend === true, cancel: a.cancel === true, newVerification: a.newVerification === true };
}

export const ALL_STATES = Object.freeze(Object.keys(DISPLAY));
