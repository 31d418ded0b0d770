// Live updates of the issue panel from the webhook. Each issue has its own global channel,
// narrowed by a signed token whose claims name the issue: the browser gets a subscribe-only token
// when it opens the panel, and the backend publishes with a publish-only token for the same
// claims, so an event reaches only panels allowed to open that issue (rust/src/effects.rs
// signs and publishes for the planned actions). Realtime is best effort: the panel also polls.
import { publishGlobal, signRealtimeToken } from '@forge/realtime';
import { logEvent } from './log.js';

export const channelOf = (/** @type {string} */ issueId) => `incode-verification:${issueId}`;
const claimsOf = (/** @type {string} */ issueId) => ({ issueId });

/**
 * An expiry as epoch milliseconds: an ISO date, or epoch seconds or milliseconds. NaN otherwise.
 * @param {unknown} value
 */
function epochMs(value) {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isFinite(number)) return number < 1e12 ? number * 1000 : number;
  return typeof value === 'string' ? Date.parse(value) : NaN;
}

/** A publish-only token is used only while it has at least this long left. */
const TOKEN_MARGIN_MS = 60_000;

/**
 * A publish-only token for the issue's channel, signed ahead of time (at send time) so that a
 * webhook can publish without signing first. It stays in the backend: the record keeps it in its
 * bookkeeping, which no resolver answer carries. Null when realtime is unavailable.
 * @param {string} issueId @returns {Promise<import('./store.js').PublishToken | null>}
 */
async function publishToken(issueId) {
  try {
    const signed = await signRealtimeToken(channelOf(issueId), claimsOf(issueId), ['publish']);
    const expiresAtMs = epochMs(signed.expiresAt);
    if (!signed.token || !Number.isFinite(expiresAtMs)) {
      logEvent('realtime.sign_failed', { issueId });
      return null;
    }
    return { token: String(signed.token), expiresAtMs };
  } catch {
    logEvent('realtime.sign_failed', { issueId });
    return null;
  }
}

/**
 * Publishes on an issue's channel. The channel must be the issue's own (a message the core built
 * for another channel is refused). Uses `known` (a token signed earlier) while it is valid, else
 * signs one first. Returns whether it was delivered to the service.
 * @param {string} issueId @param {string} channel @param {string} payload
 * @param {import('./store.js').PublishToken | null} [known]
 */
export async function publishToIssue(issueId, channel, payload, known = null) {
  if (channel !== channelOf(issueId)) {
    logEvent('realtime.channel_mismatch', { issueId });
    return false;
  }
  try {
    const usable = known && typeof known.token === 'string' && known.expiresAtMs > Date.now() + TOKEN_MARGIN_MS ? known : await publishToken(issueId);
    if (!usable) return false;
    const result = await publishGlobal(channel, payload, { token: usable.token });
    if (result.errors) {
      logEvent('realtime.publish_failed', { issueId });
      return false;
    }
    return true;
  } catch {
    logEvent('realtime.publish_failed', { issueId });
    return false;
  }
}
