// Reading and changing the verifications of one issue outside webhooks: the panel's state with
// lazy expiry, and changes made under the session lock so that an agent's action and a webhook
// never overwrite each other.
import { expireIfDue } from './core.js';
import { logEvent } from './log.js';
import { acquireLock, asVerification, getIssueIndex, getRecord, getRecords, putRecord } from './store.js';

/** @typedef {import('./store.js').StoredVerification} StoredVerification */
/** @typedef {import('./generated/core.js').Verification} Verification */

/**
 * Changes one record under its session lock: re-reads it, lets `change` decide, writes the result.
 * @param {string} sessionId
 * @param {(record: StoredVerification) => StoredVerification | null} change null = leave as is
 * @param {number} [waitMs] how long to wait for a webhook holding the lock
 * @returns {Promise<{ locked: boolean, record: StoredVerification | null }>}
 */
export async function changeRecord(sessionId, change, waitMs) {
  const release = await acquireLock(sessionId, waitMs);
  if (!release) return { locked: false, record: null };
  try {
    const record = await getRecord(sessionId);
    if (!record) return { locked: true, record: null };
    const next = change(record);
    if (next) await putRecord(next);
    return { locked: true, record: next ?? record };
  } finally {
    await release().catch(() => logEvent('lock.release_failed', { sessionId }));
  }
}

/** The record with its expiry applied (the core decides), keeping the shim's bookkeeping. @param {StoredVerification} record @param {number} nowMs */
function expired(record, nowMs) {
  const next = expireIfDue(asVerification(record), nowMs);
  return next ? { ...record, ...next } : null;
}

/**
 * The issue's verifications, newest first, with expired links marked (and saved) as such.
 * @param {string} issueId @param {number} nowMs
 * @returns {Promise<{ current: StoredVerification | null, history: StoredVerification[],
 *   index: import('./store.js').IssueIndex }>}
 */
export async function loadIssueVerifications(issueId, nowMs) {
  const index = await getIssueIndex(issueId);
  const records = await getRecords(index.sessions);
  const updated = await Promise.all(
    records.map(async (record) => {
      if (record.issueId !== issueId) return null;
      if (!expired(record, nowMs)) return record;
      // Saved under the lock, re-checked on the fresh copy: a webhook may have just finished it.
      const { record: saved } = await changeRecord(record.sessionId, (fresh) => expired(fresh, nowMs), 0);
      return saved ?? expired(record, nowMs);
    }),
  );
  const mine = /** @type {StoredVerification[]} */ (updated.filter((r) => r !== null));
  const current = mine.find((r) => r.sessionId === index.current) ?? null;
  const history = mine.filter((r) => r !== current).sort((a, b) => b.requestedAtMs - a.requestedAtMs);
  return { current, history, index };
}

/** Finds a verification of this issue by its id. @param {string} issueId @param {unknown} verificationId */
export async function findOnIssue(issueId, verificationId) {
  if (typeof verificationId !== 'string' || verificationId === '') return null;
  const index = await getIssueIndex(issueId);
  const records = await getRecords(index.sessions);
  return records.find((r) => r.id === verificationId && r.issueId === issueId) ?? null;
}
