// Everything the app keeps in Forge KVS, under the keys ARCHITECTURE.md "Storage" lists. Reads
// that one request needs are issued together; writes that must land together go in one
// transaction, so a KVS failure leaves either the old state or the new one, never half of each.
import { createHash } from 'node:crypto';
import { __getRuntime } from '@forge/api';
import kvs, { WhereConditions } from '@forge/kvs';
import { Core, defaultSettings, secretFlags } from './core.js';
import { AppError, errorCode } from './envelope.js';
import { logEvent } from './log.js';

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
 * Effects of an applied webhook event that have not been confirmed yet. Records written by
 * earlier versions of the app may still carry them; a webhook carries them out (carefully) first.
 * @typedef {{ key: string, outcome: Outcome | null, issueKey: string,
 *   comment: HttpRequest | null, transition: string | null, property: HttpRequest | null,
 *   realtime: RealtimeMessage | null }} PendingEffects
 */
/**
 * The effects of an applied outcome event, kept so that a later delivery of the same event can
 * check them (the comment by its event property, the transition by the issue's transitions).
 * @typedef {{ key: string, type: string, outcome: Outcome, comment: HttpRequest | null,
 *   transition: string | null, atMs: number }} OutcomeEffects
 */
/** The transition id chosen at send time for an outcome, and the configured name it was chosen for. @typedef {{ name: string, id: string }} KnownTransition */
/** A publish-only realtime token for the issue's channel (never sent to the browser). @typedef {{ token: string, expiresAtMs: number }} PublishToken */
/**
 * The record with the shim's bookkeeping (stripped by `asVerification` and `viewOf`):
 * `rev` counts the writes made under the session lock (the lock's release marker repeats it, so a
 * read made together with taking the lock can be checked); `last` is the most recently applied
 * event; `outcomes` the effects of the applied outcome events; `transitions` and `publish` are
 * prepared at send time so that a webhook's effects need no look-up first.
 * `by` is the lock owner whose transaction wrote it and `careful` the careful flag in force then
 * (both let a reader recognise a release that a busy taker's put-back hid: see "Locks").
 * @typedef {Verification & { pending?: PendingEffects | null, rev?: number, by?: string, careful?: boolean,
 *   last?: { key: string, type: string } | null, outcomes?: OutcomeEffects[],
 *   transitions?: Partial<Record<Outcome, KnownTransition>>, publish?: PublishToken | null }} StoredVerification
 */
/** `unreadable`: settings no release wrote, read as the defaults for the admin to save over. @typedef {{ revision: number, settings: Settings, secretsSet: SecretFlags, unreadable?: boolean }} SettingsRecord */
/** `rev` counts the sends that wrote the index (the issue lock's release marker repeats it); `by`: the lock owner that wrote it. @typedef {{ current: string | null, sessions: string[], rev?: number, by?: string }} IssueIndex */
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
  // A lock value outlives its lease: an expired lease is how the next taker learns that its holder
  // died (and that it must be careful); a clean release marker only has to outlive a concurrent read.
  lock: { value: 7, unit: /** @type {const} */ ('DAYS') },
  lockReleased: { value: 1, unit: /** @type {const} */ ('HOURS') },
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

export const emailHash = (/** @type {string} */ email) => createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');

export const hourOf = (/** @type {number} */ ms) => Math.floor(ms / 3_600_000);

// ---------------------------------------------------------------------------------------------
// Settings, secrets and the compiled core

const NO_SECRETS = Object.freeze({ apiKey: '', clientSecret: '', webhookSecret: '' });

/** @returns {Promise<SettingsRecord>} */
export async function loadSettings({ orDefaults = false } = {}) {
  const fresh = () => ({
    revision: 0,
    settings: defaultSettings(),
    secretsSet: { apiKey: false, clientSecret: false, webhookSecret: false, weakWebhookSecret: false },
  });
  /** @type {SettingsRecord | undefined} */
  const stored = await kvs.get(keys.settings);
  if (stored === undefined) return fresh();
  // The core reads what every release stored (missing settings take their defaults); a value it
  // cannot read at all was written by no release: say so, and let the admin save over it.
  try {
    if (!stored || typeof stored !== 'object' || !stored.settings) throw new Error('no settings in the stored value');
    coreFor(stored);
    return stored;
  } catch (error) {
    logEvent('settings.unreadable', { code: errorCode(error) });
    if (!orDefaults) {
      throw new AppError('settings_unreadable', 'The app settings cannot be read. Ask your Jira admin to open the app settings and save them again.');
    }
    const revision = /** @type {any} */ (stored)?.revision;
    return { ...fresh(), revision: Number.isSafeInteger(revision) && revision > 0 ? revision : 0, unreadable: true };
  }
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

/** Which secrets are stored, and whether the webhook secret is too weak (the core's rule). @param {Secrets} secrets @returns {SecretFlags} */
export function flagsOf(secrets) {
  return secretFlags(secrets);
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

export function installationId() {
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
  const answers = await Promise.all(chunks.map((chunk) => kvs.batchGet(chunk.map((id) => ({ key: keys.record(id) })))));
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

/**
 * The record as the core knows it: without the shim's bookkeeping.
 * @param {StoredVerification} stored @returns {Verification}
 */
export function asVerification(stored) {
  const { pending: _p, rev: _r, by: _b, careful: _c, last: _l, outcomes: _o, transitions: _t, publish: _k, ...verification } = stored;
  return verification;
}

/** What the browser may see: no applied-event keys, no bookkeeping (no publish token). @param {StoredVerification} stored */
export function viewOf(stored) {
  const { appliedEvents: _applied, ...view } = asVerification(stored);
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
  const [agent, ticket] = await Promise.all([kvs.get(keys.rateAgent(accountId, hour)), kvs.get(keys.rateTicket(issueId, hour))]);
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

/** The newest deliveries, at most `max`. @param {number} max @returns {Promise<DeliveryEntry[]>} */
export async function listDeliveries(max) {
  /** @type {DeliveryEntry[]} */
  const out = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    let query = kvs
      .query()
      .where('key', WhereConditions.beginsWith('delivery:'))
      .limit(Math.min(20, max - out.length));
    if (cursor) query = query.cursor(cursor);
    /** @type {import('@forge/kvs').ListResult<DeliveryEntry>} */
    const page = await query.getMany();
    // The admin page sees the entry, not how it is stored (its `schemaVersion`).
    for (const r of page.results) {
      const { schemaVersion: _version, ...entry } = /** @type {DeliveryEntry & { schemaVersion?: number }} */ (r.value);
      out.push(entry);
    }
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
// ---------------------------------------------------------------------------------------------
// Locks: `lock:{sessionId}` (one writer per verification: webhook, cancel, expiry, erasure) and
// `lock:issue.{issueId}` (one send per issue at a time).
//
// A lock is taken with ONE atomic swap (`set`, keyPolicy OVERRIDE, returnValue PREVIOUS), so it
// costs one round trip and is issued together with the reads it protects. The previous value says:
//   absent, or a release marker -> ours. A marker repeats the `rev` of the record (or issue index)
//        its holder wrote, so the read made together with the swap is checked against it: a holder
//        may have committed between our read and our swap (then we read again).
//   a live lease of another owner -> busy. Our swap replaced it: the previous value is put back.
//        That put-back may land just after the holder released, hiding its marker; so a record
//        (or index) read beside the swap that names the lease's owner as its writer (`by`) shows
//        that the owner committed and released: the lock is ours after all.
//   an expired lease, or a marker with `careful` -> ours, but an earlier holder may have carried out
//        part of its effects without recording them: be careful (look before posting a comment,
//        look the transition up) from now on for this verification. An expired lease (or a marker
//        written on a failure path) carries no `rev`: the record is read again.
// The lease (70 s) outlives every invocation (webtrigger 55 s, resolver 25 s): a live lease is
// never taken over from a running holder, so a holder releases (writes its marker, usually in
// its final transaction) without checking that it still owns the lock.
// `inflight`: events whose effects their holder may still be landing (a holder releases the lock
// in the same round trip as its effects); a later delivery of the same event must not check or
// redo them meanwhile. An entry ends at its holder's start + the webtrigger limit, or earlier when
// its holder, having failed, says so.

export const LOCK_LEASE_MS = 70_000;
/** How long after its holder's start an event's effects may still land (55 s limit + margin). */
export const EFFECTS_WINDOW_MS = 60_000;
const LOCK_SPIN_MS = 150;
const LOCK_WAIT_MS = 4_000;
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @typedef {{ key: string, untilMs: number }} Inflight */
/**
 * A lock value. Live: `owner` set and `untilMs` ahead. Released (a marker): `owner` empty;
 * `by` the owner that released it; `rev` what it committed (null: unknown, read again).
 * @typedef {{ owner: string, untilMs: number, eventKey: string, rev: number | null, careful: boolean,
 *   inflight: Inflight[], by?: string }} LockValue
 */
/**
 * What taking a lock found. `state`: free (no value), released (a marker), expired (a dead
 * holder's lease) or busy (a live lease of another owner: not ours).
 * @typedef {{ key: string, owner: string, state: 'free' | 'released' | 'expired' | 'busy', careful: boolean,
 *   rev: number | null, inflight: Inflight[], previous: unknown }} LockTaken
 */

/** @param {unknown} value @param {number} nowMs */
function readLock(value, nowMs) {
  if (!value || typeof value !== 'object') return { state: /** @type {const} */ ('free'), careful: false, rev: null, inflight: [] };
  const v = /** @type {any} */ (value);
  const owner = typeof v.owner === 'string' ? v.owner : '';
  // `expiresAtMs`: the lease of earlier versions of the app.
  const untilMs = typeof v.untilMs === 'number' ? v.untilMs : typeof v.expiresAtMs === 'number' ? v.expiresAtMs : 0;
  /** @type {Inflight[]} */
  const inflight = Array.isArray(v.inflight)
    ? v.inflight.filter((/** @type {any} */ i) => i && typeof i.key === 'string' && typeof i.untilMs === 'number' && i.untilMs > nowMs)
    : [];
  if (owner !== '' && untilMs > nowMs) return { state: /** @type {const} */ ('busy'), careful: v.careful === true, rev: null, inflight };
  // A dead holder's own effects may have landed in part; those it inherited ended with its lease.
  if (owner !== '') return { state: /** @type {const} */ ('expired'), careful: true, rev: null, inflight: [] };
  return { state: /** @type {const} */ ('released'), careful: v.careful === true, rev: typeof v.rev === 'number' ? v.rev : null, inflight };
}

/**
 * Takes a lock with one swap. A busy answer has replaced the holder's value: call `restoreLock`.
 * @param {string} name the key after `lock:` @param {string} [eventKey] what the holder works on
 * @returns {Promise<LockTaken>}
 */
export async function takeLock(name, eventKey = '') {
  const key = `lock:${name}`;
  const owner = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2, 6);
  const nowMs = Date.now();
  /** @type {LockValue} */
  const value = { owner, untilMs: nowMs + LOCK_LEASE_MS, eventKey, rev: null, careful: false, inflight: [] };
  /** @type {import('@forge/kvs').SetResult<unknown> | undefined} */
  const result = await kvs.set(key, value, { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS', ttl: TTL.lock });
  const previous = result?.value;
  return { key, owner, ...readLock(previous, nowMs), previous };
}

/** Puts back the live lease a busy swap replaced (best effort: its holder's release overwrites it anyway). @param {LockTaken} taken */
export async function restoreLock(taken) {
  if (taken.state !== 'busy') return;
  await kvs.set(taken.key, taken.previous, { ttl: TTL.lock }).catch(() => {});
}

/**
 * The write that releases a lock (for a transaction, or alone).
 * @param {LockTaken} taken
 * @param {{ rev: number | null, careful?: boolean, inflight?: Inflight[], eventKey?: string }} leave
 */
export function lockRelease(taken, leave) {
  /** @type {LockValue} */
  const value = {
    owner: '',
    untilMs: 0,
    eventKey: leave.eventKey ?? '',
    rev: leave.rev,
    careful: leave.careful ?? taken.careful,
    inflight: leave.inflight ?? taken.inflight,
    by: taken.owner,
  };
  const lasting = value.careful || value.rev === null;
  return { key: taken.key, value, ttl: lasting ? TTL.lock : TTL.lockReleased };
}

/** Releases a lock alone. @param {LockTaken} taken @param {{ rev: number | null, careful?: boolean, inflight?: Inflight[] }} leave */
export async function releaseLock(taken, leave) {
  const write = lockRelease(taken, leave);
  await kvs.set(write.key, write.value, { ttl: write.ttl });
}

/**
 * What was read beside a swap: the `by`, `rev` and `careful` of the record (or issue index), and
 * the key of the record's latest event.
 * @typedef {{ by?: string, rev: number, careful?: boolean, lastKey?: string | null }} LockSide
 */

/**
 * A busy answer whose live owner already committed what was read beside the swap (a busy taker
 * put its lease back over its release marker): released after all, its event's effects window
 * still open. Our swap holds the lock now. Any other answer is returned as it is.
 * @param {LockTaken} taken @param {LockSide} side @returns {LockTaken}
 */
export function settleLock(taken, side) {
  if (taken.state !== 'busy') return taken;
  const previous = /** @type {any} */ (taken.previous);
  if (!side.by || previous?.owner !== side.by) return taken;
  const startMs = (typeof previous.untilMs === 'number' ? previous.untilMs : 0) - LOCK_LEASE_MS;
  const inflight = side.lastKey ? [{ key: side.lastKey, untilMs: startMs + EFFECTS_WINDOW_MS }].filter((i) => i.untilMs > Date.now()) : [];
  return { ...taken, state: 'released', rev: side.rev, careful: side.careful === true, inflight };
}

/** What a lock protects, read for `settleLock`. @param {string} name @returns {Promise<LockSide>} */
async function sideOf(name) {
  if (name.startsWith('issue.')) {
    const index = await getIssueIndex(name.slice('issue.'.length));
    return { by: index.by, rev: indexRevOf(index) };
  }
  const record = await getRecord(name);
  return { by: record?.by, rev: revOf(record), careful: record?.careful, lastKey: record?.last?.key ?? null };
}

/**
 * Takes a lock, waiting briefly while another invocation holds it.
 * @param {string} name the key after `lock:` @param {number} [waitMs]
 * @returns {Promise<LockTaken | null>} null when still busy
 */
export async function acquireLockHandle(name, waitMs = LOCK_WAIT_MS) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const taken = await takeLock(name);
    if (taken.state !== 'busy') return taken;
    const settled = settleLock(taken, await sideOf(name).catch(() => ({ rev: -1 })));
    if (settled.state !== 'busy') return settled;
    await restoreLock(taken);
    if (Date.now() + LOCK_SPIN_MS > deadline) return null;
    await sleep(LOCK_SPIN_MS);
  }
}

/**
 * Takes the lock of one session (or `issue.{issueId}`), waiting briefly when another holds it.
 * The release leaves a marker without a `rev` (the next holder reads again) and keeps `careful`.
 * @param {string} name
 * @param {number} [waitMs] how long to wait for another holder
 * @returns {Promise<(() => Promise<void>) | null>} the release function, or null when still busy
 */
export async function acquireLock(name, waitMs = LOCK_WAIT_MS) {
  const taken = await acquireLockHandle(name, waitMs);
  if (!taken) return null;
  return () => releaseLock(taken, { rev: null });
}

/** The `rev` a record carries (-1: no record). @param {StoredVerification | undefined | null} record */
export const revOf = (record) => (record ? (record.rev ?? 0) : -1);
/** The `rev` an issue index carries (-1: written without one). @param {IssueIndex} index */
export const indexRevOf = (index) => (typeof index.rev === 'number' ? index.rev : index.current === null && index.sessions.length === 0 ? 0 : -1);
