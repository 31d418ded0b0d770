// What the customer portal panel shows: a pending verification, or nothing at all.
import { deliveryWord, formatClockTime } from '../shared/format.js';

/** The pending verification worth showing, or null (disabled, none, malformed or expired). */
export function visiblePending(state, nowMs) {
  if (!state || state.enabled !== true || !state.pending) return null;
  const { expiresAtMs, delivery } = state.pending;
  if (!Number.isFinite(expiresAtMs) || expiresAtMs <= nowMs) return null;
  if (delivery !== 'SMS' && delivery !== 'EMAIL') return null;
  return { expiresAtMs, delivery };
}

/** @param {{ expiresAtMs: number, delivery: string }} pending @param {{ locale?: string, timeZone?: string, nowMs?: number }} [viewer] */
export function portalMessage(pending, { locale, timeZone, nowMs } = {}) {
  const at = formatClockTime(pending.expiresAtMs, { locale, timeZone, nowMs });
  return (
    `A help-desk agent sent you an identity verification link by ${deliveryWord(pending.delivery)}. ` +
    `Open it on your phone to complete the check; it expires at ${at}.`
  );
}
