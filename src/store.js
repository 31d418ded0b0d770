// Everything the app keeps in Forge KVS, under the keys ARCHITECTURE.md "Storage" lists. Reads
// that one request needs are issued together; writes that must land together go in one
// transaction, so a KVS failure leaves either the old state or the new one, never half of each.
import { createHash } from 'node:crypto';
import { __getRuntime } from '@forge/api';
import kvs, { WhereConditions } from '@forge/kvs';
import { Core, defaultSettings } from './core.js';

/** @typedef {import('./generated/core.js').Settings} Settings */
/** @typedef {import('./generated/core.js').Secrets} Secrets */
/** @typedef {import('./generated/core.js').SecretFlags} SecretFlags */
/** @typedef {import('./generated/core.js').Verification} Verification */
/** @typedef {import('./generated/core.js').IncodeToken} IncodeToken */
/** @typedef {import('./generated/core.js').Delivery} Delivery */
/** @typedef {import('./generated/core.js').HttpRequest} HttpRequest */
/** @typedef {import('./generated/core.js').RealtimeMessage} RealtimeMessage */
/** @typedef {import('./generated/core.js').Outcome} Outcome */

/**
 * Effects of an applied webhook event that have not been confirmed yet. Written together with the
 * record that applied the event (write-ahead), cleared one by one as each effect is confirmed.
 * @typedef {{ key: string, outcome: Outcome | null, issueKey: string,
 *   comment: HttpRequest | null, transition: string | null, property: HttpRequest | null,
 *   realtime: RealtimeMessage | null }} PendingEffects
 */
/** @typedef {Verification & { pending?: PendingEffects | null }} StoredVerification */
/** @typedef {{ revision: number, settings: Settings, secretsSet: SecretFlags }} SettingsRecord */
/** @typedef {{ current: string | null, sessions: string[] }} IssueIndex */
/** @typedef {{ credentialsTestedAtMs: number | null, webhookReceivedAtMs: number | null,
 *   firstVerificationAtMs: number | null }} Checklist */
/**
 * One webhook delivery as the admin page lists it. `status`: the verification's status after the
 * delivery ("" when no verification was involved); `httpStatus`: what the app answered Incode.
 * @typedef {{ atMs: number, verdict: string, reason: string, eventType: string, sessionId: string,
 *   issueKey: string, status: string, httpStatus: number }} DeliveryEntry
 */
/** @typedef {{ issueId: string, accountId: string, phone: string, alternateEmail: string }} PersonEntry */
/** @typedef {{ role: 'person' | 'agent', sessionId: string, issueId: string, emailHash: string,
 *   atMs: number }} AccountEntry */

const DAY_S = 86_400;
export const TTL = {
  record: { value: 400, unit: /** @type {const} */ ('DAYS') },
  rate: { value: 2, unit: /** @type {const} */ ('HOURS') },
  delivery: { value: 30, unit: /** @type {const} */ ('DAYS') },
  testSession: { value: 7, unit: /** @type {const} */ ('DAYS') },
  lock: { value: 30, unit: /** @type {const} */ ('SECONDS') },
};
/** How many past verifications an issue index keeps (the panel shows them as history). */
export const ISSUE_HISTORY_MAX = 25;

export const keys = {
  settings: 'settings',
  secrets: 'secrets',
  token: 'token:incode',
  checklist: 'checklist',
  record: (/** @type {string} */ sessionId) => `v:${sessionId}`,
  issue: (/** @type {string} */ issueId) => `issue:${issueId}`,
  person: (/** @type {string} */ emailHash, /** @type {string} */ sessionId) => `person:${emailHash}:${sessionId}`,
  account: (/** @type {string} */ accountId, /** @type {string} */ sessionId) => `account:${accountId}:${sessionId}`,
  rateAgent: (/** @type {string} */ accountId, /** @type {number} */ hour) => `rate:agent:${accountId}:${hour}`,
  rateTicket: (/** @type {string} */ issueId, /** @type {number} */ hour) => `rate:ticket:${issueId}:${hour}`,
  testSession: (/** @type {string} */ sessionId) => `test:${sessionId}`,
  lock: (/** @type {string} */ sessionId) => `lock:${sessionId}`,
};

// KVS keys allow only [a-zA-Z0-9:._\s-#]; identifiers from outside (session ids, account ids) are
// checked before they become part of a key, so a crafted id can neither fail a write nor reach
// another key's prefix.
const KEY_PART = /^[A-Za-z0-9._-][A-Za-z0-9._:-]{0,199}$/;
export function isKeyPart(/** @type {unknown} */ value) {
  return typeof value === 'string' && KEY_PART.test(value);
}

export const emailHash = (/** @type {string} */ email) =>
  createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');

export const hourOf = (/** @type {number} */ ms) => Math.floor(ms / 3_600_000);

// ---------------------------------------------------------------------------------------------
// Settings, secrets and the compiled core

const NO_SECRETS = Object.freeze({ apiKey: '', clientSecret: '', webhookSecret: '' });

/** @returns {Promise<SettingsRecord>} */
export async function loadSettings() {
  /** @type {SettingsRecord | undefined} */
  const stored = await kvs.get(keys.settings);
  if (stored && stored.settings) return stored;
  return { revision: 0, settings: defaultSettings(), secretsSet: { apiKey: false, clientSecret: false, webhookSecret: false } };
}

/** @returns {Promise<Secrets>} */
export async function loadSecrets() {
  /** @type {Partial<Secrets> | undefined} */
  const stored = await kvs.getSecret(keys.secrets);
  return { ...NO_SECRETS, ...(stored ?? {}) };
}

/** Settings and secrets together (the webhook and every Incode call need both). */
export async function loadConfig() {
  const [record, secrets] = await Promise.all([loadSettings(), loadSecrets()]);
  return { ...record, secrets };
}

/** @param {Secrets} secrets @returns {SecretFlags} */
export function flagsOf(secrets) {
  return { apiKey: secrets.apiKey !== '', clientSecret: secrets.clientSecret !== '', webhookSecret: secrets.webhookSecret !== '' };
}

/** @param {Secrets} secrets */
export async function saveSecrets(secrets) {
  await kvs.setSecret(keys.secrets, secrets);
}

/** @param {SettingsRecord} record */
export async function saveSettingsRecord(record) {
  await kvs.set(keys.settings, record);
}

/**
 * One compiled `Core` per settings revision, kept for the life of the function instance.
 * NOTE: a warm instance may serve several installations of the app, so the cache is keyed by
 * the installation as well as the revision.
 * @type {{ key: string, core: Core } | null}
 */
let cachedCore = null;
/** @param {SettingsRecord} record */
export function coreFor(record) {
  const key = `${installationId()}#${record.revision}`;
  if (cachedCore && cachedCore.key === key) return cachedCore.core;
  const core = new Core(record.settings);
  if (cachedCore) cachedCore.core.free();
  cachedCore = { key, core };
  return core;
}

function installationId() {
  const id = __getRuntime()?.appContext?.installationId;
  if (typeof id !== 'string' || id === '') throw new Error('the invocation names no installation');
  return id;
}

// ---------------------------------------------------------------------------------------------
// Incode token cache

/** @param {number} nowMs @returns {Promise<IncodeToken | null>} */
export async function cachedToken(nowMs) {
  /** @type {IncodeToken | undefined} */
  const token = await kvs.getSecret(keys.token);
  return token && token.refreshAtMs > nowMs ? token : null;
}

/** @param {IncodeToken} token @param {number} nowMs */
export async function cacheToken(token, nowMs) {
  const seconds = Math.floor((token.refreshAtMs - nowMs) / 1000);
  if (seconds < 1) return;
  await kvs.setSecret(keys.token, token, { ttl: { value: Math.min(seconds, DAY_S), unit: 'SECONDS' } });
}

export async function dropToken() {
  await kvs.deleteSecret(keys.token);
}

// ---------------------------------------------------------------------------------------------
// Verification records and their indexes

/** @param {string} sessionId @returns {Promise<StoredVerification | undefined>} */
export async function getRecord(sessionId) {
  return kvs.get(keys.record(sessionId));
}

/** Records by session id, in the order asked, missing ones left out. @param {string[]} sessionIds */
export async function getRecords(sessionIds) {
  /** @type {Map<string, StoredVerification>} */
  const found = new Map();
  const chunks = [];
  for (let i = 0; i < sessionIds.length; i += 25) chunks.push(sessionIds.slice(i, i + 25));
  const answers = await Promise.all(
    chunks.map((chunk) => kvs.batchGet(chunk.map((id) => ({ key: keys.record(id) })))),
  );
  for (const answer of answers) {
    if (answer.failedKeys.length > 0) {
      const error = new Error('KVS batch read failed');
      /** @type {any} */ (error).code = 'KVS_BATCH_FAILED';
      throw error;
    }
    for (const item of answer.successfulKeys) found.set(item.key, /** @type {StoredVerification} */ (item.value));
  }
  return sessionIds.map((id) => found.get(keys.record(id))).filter((v) => v !== undefined);
}

/** @param {string} issueId @returns {Promise<IssueIndex>} */
export async function getIssueIndex(issueId) {
  /** @type {IssueIndex | undefined} */
  const index = await kvs.get(keys.issue(issueId));
  return index ?? { current: null, sessions: [] };
}

/** The record as the core knows it: without the shim's bookkeeping. @param {StoredVerification} stored @returns {Verification} */
export function asVerification(stored) {
  const { pending: _pending, ...verification } = stored;
  return verification;
}

/** What the browser may see: no applied-event keys, no bookkeeping. @param {StoredVerification} stored */
export function viewOf(stored) {
  const { pending: _pending, appliedEvents: _applied, ...view } = stored;
  return view;
}

/**
 * One transaction: several keys that must change together.
 * @param {{ key: string, value: unknown, ttl?: { value: number, unit: 'SECONDS' | 'MINUTES' | 'HOURS' | 'DAYS' } }[]} sets
 * @param {string[]} [deletes]
 */
export async function writeTogether(sets, deletes = []) {
  const tx = kvs.transact();
  for (const s of sets) tx.set(s.key, s.value, undefined, s.ttl ? { ttl: s.ttl } : undefined);
  for (const key of deletes) tx.delete(key);
  await tx.execute();
}

/** @param {StoredVerification} record */
export async function putRecord(record) {
  await kvs.set(keys.record(record.sessionId), record, { ttl: TTL.record });
}

// ---------------------------------------------------------------------------------------------
// Rate counters (fixed one-hour windows)

/** @param {string} accountId @param {string} issueId @param {number} nowMs */
export async function getRateCounts(accountId, issueId, nowMs) {
  const hour = hourOf(nowMs);
  const [agent, ticket] = await Promise.all([
    kvs.get(keys.rateAgent(accountId, hour)),
    kvs.get(keys.rateTicket(issueId, hour)),
  ]);
  return { agent: Number(agent ?? 0), ticket: Number(ticket ?? 0), hour, resetsAtMs: (hour + 1) * 3_600_000 };
}

// ---------------------------------------------------------------------------------------------
// Checklist

/** @returns {Promise<Checklist>} */
export async function getChecklist() {
  /** @type {Partial<Checklist> | undefined} */
  const stored = await kvs.get(keys.checklist);
  return { credentialsTestedAtMs: null, webhookReceivedAtMs: null, firstVerificationAtMs: null, ...(stored ?? {}) };
}

/** @param {Partial<Checklist>} changes */
export async function updateChecklist(changes) {
  const current = await getChecklist();
  await kvs.set(keys.checklist, { ...current, ...changes });
}

// ---------------------------------------------------------------------------------------------
// Delivery log: keys sort newest first (inverted time), entries expire after 30 days.

const TIME_SPAN = 10_000_000_000_000;
/** @param {DeliveryEntry} entry */
export async function logDelivery(entry) {
  const inverted = String(TIME_SPAN - entry.atMs).padStart(14, '0');
  const rand = Math.random().toString(36).slice(2, 10);
  await kvs.set(`delivery:${inverted}:${rand}`, entry, { ttl: TTL.delivery });
}

/** The newest deliveries, at most `max`. @param {number} max @returns {Promise<DeliveryEntry[]>} */
export async function listDeliveries(max) {
  /** @type {DeliveryEntry[]} */
  const out = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    let query = kvs.query().where('key', WhereConditions.beginsWith('delivery:')).limit(Math.min(20, max - out.length));
    if (cursor) query = query.cursor(cursor);
    /** @type {import('@forge/kvs').ListResult<DeliveryEntry>} */
    const page = await query.getMany();
    for (const r of page.results) out.push(r.value);
    cursor = page.nextCursor;
  } while (cursor && out.length < max);
  return out.slice(0, max);
}

/** Every entry under a prefix (for the privacy report and erasure). @param {string} prefix */
export async function listByPrefix(prefix) {
  /** @type {{ key: string, value: any }[]} */
  const out = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    let query = kvs.query().where('key', WhereConditions.beginsWith(prefix)).limit(20);
    if (cursor) query = query.cursor(cursor);
    const page = await query.getMany();
    for (const r of page.results) out.push({ key: r.key, value: r.value });
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Test sessions started from the admin page

/** @param {string} sessionId @param {number} nowMs */
export async function markTestSession(sessionId, nowMs) {
  await kvs.set(keys.testSession(sessionId), { atMs: nowMs }, { ttl: TTL.testSession });
}
/** @param {string} sessionId */
export async function isTestSession(sessionId) {
  return (await kvs.get(keys.testSession(sessionId))) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Per-session lock: one webhook at a time changes a verification.

const LOCK_SPIN_MS = 150;
const LOCK_WAIT_MS = 4_000;
const LOCK_LEASE_MS = 30_000;
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock of one session, waiting briefly when another delivery holds it.
 * @param {string} sessionId
 * @param {number} [waitMs] how long to wait for another holder
 * @returns {Promise<(() => Promise<void>) | null>} the release function, or null when still busy
 */
export async function acquireLock(sessionId, waitMs = LOCK_WAIT_MS) {
  const key = keys.lock(sessionId);
  const owner = Math.random().toString(36).slice(2);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await kvs.set(key, { owner, expiresAtMs: Date.now() + LOCK_LEASE_MS }, { keyPolicy: 'FAIL_IF_EXISTS', ttl: TTL.lock });
      return async () => {
        const held = await kvs.get(key);
        if (held && /** @type {any} */ (held).owner === owner) await kvs.delete(key);
      };
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
    }
    // NOTE: expiry of a TTL is not guaranteed to be immediate; a lease whose time has passed
    // (its holder crashed) is taken over explicitly.
    /** @type {any} */
    const held = await kvs.get(key);
    if (held && typeof held.expiresAtMs === 'number' && held.expiresAtMs < Date.now()) {
      await kvs.delete(key);
      continue;
    }
    if (Date.now() + LOCK_SPIN_MS > deadline) return null;
    await sleep(LOCK_SPIN_MS);
  }
}

function isKeyConflict(/** @type {any} */ error) {
  return error && (error.code === 'KEY_CONFLICT' || error.responseDetails?.status === 409);
}
