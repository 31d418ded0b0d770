// Failed authentications on the public webtriggers, per installation: counted in this instance's
// memory, with one stored marker written only when the count crosses the limit, so a flood of
// forged requests cannot spend the installation's KVS writes. The core decides (`authFailed`,
// `authLockedFor`, rust/src/throttle.rs); this file keeps the count and reads and writes the marker.
import kvs from '@forge/kvs';
import { authFailed, authLockedFor as lockedFor } from './core.js';
import { installationId } from './store.js';

/** Shared by the webhook and the token endpoint: both compare against the webhook secret. */
const MARKER_KEY = 'throttle:auth';
/** An instance serving many installations keeps the most recent ones only. */
const KEPT = 32;
/** @type {Map<string, import('./generated/core.js').AuthFailures>} */
const counts = new Map();

const countOf = () => counts.get(installationId()) ?? { windowStartMs: 0, failures: 0, lockedUntilMs: 0 };

/** The stored marker's end, read beside the settings (null when none). @returns {Promise<number | null>} */
export async function readAuthLock() {
  /** @type {{ untilMs?: unknown } | undefined} */
  const stored = await kvs.get(MARKER_KEY);
  return typeof stored?.untilMs === 'number' ? stored.untilMs : null;
}

/**
 * Seconds to wait while authentication is locked (this instance's count, or the marker when it
 * was read), else null. A marker read is remembered, so later requests need not read it.
 * @param {number} nowMs @param {number | null} [markerUntilMs]
 */
export function authLocked(nowMs, markerUntilMs = null) {
  const count = countOf();
  if (markerUntilMs !== null && markerUntilMs > count.lockedUntilMs) remember({ ...count, lockedUntilMs: markerUntilMs });
  return lockedFor(count, markerUntilMs, nowMs) ?? null;
}

/**
 * Counts one failed authentication; when it locks, writes the marker (once per lockout; a
 * failed write leaves this instance locked all the same).
 * @param {number} nowMs
 */
export async function authFailure(nowMs) {
  const noted = authFailed(countOf(), nowMs);
  remember(noted.failures);
  if (noted.markUntilMs === null) return;
  const seconds = Math.ceil((noted.markUntilMs - nowMs) / 1000);
  await kvs.set(MARKER_KEY, { untilMs: noted.markUntilMs }, { ttl: { value: seconds, unit: 'SECONDS' } }).catch(() => {});
}

/** @param {import('./generated/core.js').AuthFailures} count */
function remember(count) {
  const key = installationId();
  counts.delete(key);
  counts.set(key, count);
  if (counts.size > KEPT) counts.delete(/** @type {string} */ (counts.keys().next().value));
}
