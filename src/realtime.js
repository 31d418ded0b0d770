// Live updates of the issue panel. Each issue has its own global channel, narrowed by a signed
// token whose claims name the issue: the browser gets a subscribe-only token from `getState`, and
// the backend publishes with a publish-only token for the same claims, so an event reaches only
// panels that were allowed to open that issue. Realtime is best effort: the panel also polls.
import { publishGlobal, signRealtimeToken } from '@forge/realtime';
import { logEvent } from './log.js';

export const channelOf = (/** @type {string} */ issueId) => `incode-verification:${issueId}`;
const claimsOf = (/** @type {string} */ issueId) => ({ issueId });

/** The browser's subscribe token, or null when realtime is unavailable. @param {string} issueId */
export async function subscribeToken(issueId) {
  const channel = channelOf(issueId);
  try {
    const signed = await signRealtimeToken(channel, claimsOf(issueId), ['subscribe']);
    if (!signed.token) {
      logEvent('realtime.sign_failed', { issueId });
      return null;
    }
    return { channel, token: /** @type {string} */ (signed.token) };
  } catch {
    logEvent('realtime.sign_failed', { issueId });
    return null;
  }
}

/**
 * Publishes on an issue's channel. The channel must be the issue's own (a message the core built
 * for another channel is refused). Returns whether it was delivered to the service.
 * @param {string} issueId @param {string} channel @param {string} payload
 */
export async function publishToIssue(issueId, channel, payload) {
  if (channel !== channelOf(issueId)) {
    logEvent('realtime.channel_mismatch', { issueId });
    return false;
  }
  try {
    const signed = await signRealtimeToken(channel, claimsOf(issueId), ['publish']);
    if (!signed.token) {
      logEvent('realtime.sign_failed', { issueId });
      return false;
    }
    const result = await publishGlobal(channel, payload, { token: signed.token });
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
