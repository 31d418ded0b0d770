// The webtriggers Incode calls. `webhook`: authenticate the exact raw body (the core), then, under
// the session's lock, apply the event to its verification and carry out what the core decided:
// comment, transition, issue property, live update. `webhookToken`: the OAuth client-credentials
// endpoint for Incode.
//
// Three sequential platform round trips on every normal path, two on a warm instance that read
// the settings within the last CONFIG_TTL_MS:
//   W1  settings + secrets + checklist;                  authenticate (core)
//       (skipped while the instance keeps the installation's settings, see "Kept settings")
//   W2  take the session lock (one atomic swap) + read the record
//   W3  one KVS transaction (the new record, the lock's release marker, the delivery log entry,
//       the checklist) together with the effects (comment, transition by the id chosen at send
//       time, issue property, live update with the publish token signed at send time)
// Duplicates and ignored events: W1, W2, then the transaction releasing the lock and logging (a
// duplicate of an event whose effects may be incomplete checks them in that same round trip).
//
// Why every outcome still gets exactly one comment (store.js "Locks" describes the lock values):
// - The record changes only under the lock, and every change carries `rev`, repeated in the
//   release marker: a record read together with the swap is used only when the swap's previous
//   value proves no one committed in between (else it is read again).
// - Crash after W2 (nothing done): the lease (70 s, longer than any invocation) runs out; the
//   retry is busy (503) until then, then takes over in careful mode: it reads the record again,
//   looks for the comment by its event property before posting, and looks the transition up.
// - Crash or failure during W3 with the transaction not landed (effects may have landed): same,
//   the failure path marking the lock careful at once (a best-effort swap; if it fails, the lease
//   runs out). The retry applies the event again, carefully. `careful` then stays on the
//   verification's lock (a chain of failures can never make a later delivery careless).
// - The transaction landed but an effect failed (or the invocation died before its effects
//   landed): the record says the event is applied, so Incode's retry is a duplicate, and a
//   duplicate of an applied event always checks that event's effects: the comment by its
//   property (kept with the record in `outcomes`), the transition when it is the latest outcome
//   (looked up again and posted only if still offered; within a day of the event), the property
//   when it is the latest event. Nothing is written after the lock was released (no `pending`
//   record on the failure path), so nothing can overwrite a newer holder's record.
// - Two deliveries of the same event at once: the lock admits one. Because the lock is released
//   in the same round trip as the effects, the marker lists the event as `inflight` until its
//   holder's deadline (or until the holder, failing, says so): a duplicate arriving meanwhile
//   only looks (comment found, transition no longer offered: 200) and answers 503 when anything
//   is missing, rather than redoing effects that may still be landing.
// - Two different events of one session at once: the lock admits one; the other is busy (503)
//   or comes after the transaction. Each event has its own comment key, so comments stay one per
//   outcome and the record (serialised by the lock) ends with the last status. Jira-side order
//   (property, transition) is guaranteed for a later event that arrives after the earlier one's
//   effects landed; one that slips into the same round trip's window could see its property
//   overtaken by the earlier one's (the record and the panel stay right; the next event, a
//   duplicate or an agent's action rewrites the property).
// A failure anywhere answers 503 (Retry-After), and the retry finishes exactly what is missing.
import { applyEvent, checkRequest, issueWebhookToken, propertyRequest, receiveDelivery } from './core.js';
import { errorCode, isTransient } from './envelope.js';
import { applyPlannedTransition, applyTransition, findEventComment, perform, postEventComment, transitionOffered } from './jira.js';
import { logEvent } from './log.js';
import { publishToIssue } from './realtime.js';
import { authFailure, authLocked, readAuthLock } from './throttle.js';
import {
  asVerification,
  coreFor,
  deliveryWrite,
  EFFECTS_WINDOW_MS,
  getChecklist,
  getRecord,
  installationId,
  isKeyPart,
  isTestSession,
  keys,
  loadConfig,
  loadSettings,
  lockRelease,
  releaseLock,
  restoreLock,
  revOf,
  settleLock,
  signalLock,
  takeLock,
  TTL,
  writeTogether,
} from './store.js';

/** @typedef {import('./store.js').StoredVerification} StoredVerification */
/** @typedef {import('./store.js').PendingEffects} PendingEffects */
/** @typedef {import('./store.js').OutcomeEffects} OutcomeEffects */
/** @typedef {import('./store.js').DeliveryEntry} DeliveryEntry */
/** @typedef {import('./store.js').LockTaken} LockTaken */
/** @typedef {import('./store.js').Inflight} Inflight */
/** @typedef {{ key: string, value: unknown, ttl?: { value: number, unit: 'SECONDS' | 'MINUTES' | 'HOURS' | 'DAYS' } }} Write */
/** @typedef {{ statusCode: number, headers: Record<string, string[]>, body: string }} WebtriggerResponse */
/** @typedef {'done' | 'retry' | 'dropped'} EffectResult */

const RETRY_AFTER_SECONDS = '10';
/** Outcome events whose effects a record keeps for checking (a session has at most three). */
const OUTCOMES_KEPT = 5;
/** A duplicate re-checks its outcome's transition only this soon after the event was applied. */
const RECHECK_TRANSITION_MS = 86_400_000;

// Deliveries that fail authentication go to the admin page's delivery log from a budget: anyone can post to the public webtrigger URL, and a flood of forged requests must not
// spend the installation's KVS writes (4,000 a minute) that verifications need. A function
// instance logs at most UNTRUSTED_LOG_BURST of them in a row, refilled at UNTRUSTED_LOG_PER_MINUTE;
// the others reach the function log only.
const UNTRUSTED_LOG_BURST = 10;
const UNTRUSTED_LOG_PER_MINUTE = 10;
/** Per installation (a warm instance may serve several). @type {Map<string, { tokens: number, atMs: number }>} */
const untrustedLogBudget = new Map();

/** Takes one entry of the budget; false when it is spent. @param {number} atMs */
function mayLogUntrusted(atMs) {
  const key = installationId();
  const budget = untrustedLogBudget.get(key) ?? { tokens: UNTRUSTED_LOG_BURST, atMs };
  const refill = ((atMs - budget.atMs) / 60_000) * UNTRUSTED_LOG_PER_MINUTE;
  const tokens = Math.min(UNTRUSTED_LOG_BURST, budget.tokens + Math.max(0, refill));
  const allowed = tokens >= 1;
  untrustedLogBudget.set(key, { tokens: allowed ? tokens - 1 : tokens, atMs });
  return allowed;
}

// Kept settings. A warm instance keeps each installation's settings and secrets for
// CONFIG_TTL_MS after reading them, so a delivery skips W1. Once an admin's save has returned,
// the old secret and mode no longer authenticate anything: a delivery refused (or not an event)
// with kept settings reads them again and is authenticated again; an event authenticated with
// kept settings reads the settings' revision in W2, beside the lock and the record, and when it
// changed reads the secrets and authenticates again before anything is applied (one more round
// trip, only after a save). Settings are kept only once the setup checklist records a received
// webhook: until then each delivery reads the checklist, to tick it; after that it is not read
// again. The throttle's marker (src/throttle.js) is read with the settings.
const CONFIG_TTL_MS = 10_000;
/** An instance serving many installations keeps the most recent ones only. */
const CONFIGS_KEPT = 32;
/** @typedef {Awaited<ReturnType<typeof loadConfig>>} Config */
/** @type {Map<string, { config: Config, readAtMs: number }>} */
const keptConfigs = new Map();

/**
 * W1: the settings and secrets, kept or read (with the checklist, until it records a webhook).
 * `fresh` reads them even when kept.
 * @param {number} atMs @param {{ fresh?: boolean }} [options]
 * @returns {Promise<{ config: Config, checklist: import('./store.js').Checklist | null, kept: boolean, lockUntilMs: number | null }>}
 */
async function webhookConfig(atMs, { fresh = false } = {}) {
  const installation = installationId();
  const entry = keptConfigs.get(installation);
  const age = entry ? atMs - entry.readAtMs : Infinity;
  if (entry && !fresh && age >= 0 && age < CONFIG_TTL_MS) return { config: entry.config, checklist: null, kept: true, lockUntilMs: null };
  const [config, checklist, lockUntilMs] = await Promise.all([loadConfig(), entry ? null : getChecklist(), readAuthLock()]);
  keptConfigs.delete(installation);
  if (!checklist || checklist.webhookReceivedAtMs !== null) {
    keptConfigs.set(installation, { config, readAtMs: atMs });
    if (keptConfigs.size > CONFIGS_KEPT) keptConfigs.delete(/** @type {string} */ (keptConfigs.keys().next().value));
  }
  return { config, checklist, kept: false, lockUntilMs };
}

/** Forgets the kept settings (they changed). */
const forgetConfig = () => keptConfigs.delete(installationId());

/**
 * @param {number} statusCode @param {Record<string, string>} body
 * @param {Record<string, string[]>} [extra] more headers (`Retry-After` of a 429, `Allow` of a 405)
 * @returns {WebtriggerResponse}
 */
function respond(statusCode, body, extra = {}) {
  /** @type {Record<string, string[]>} */
  const headers = { 'Content-Type': ['application/json'], 'Cache-Control': ['no-store'] };
  if (statusCode === 503) headers['Retry-After'] = [RETRY_AFTER_SECONDS];
  return { statusCode, headers: { ...headers, ...extra }, body: JSON.stringify(body) };
}

/**
 * What a webtrigger refuses before any work (the core's `checkRequest`), as an answer; null
 * when the request may go on.
 * @param {import('./generated/core.js').Webtrigger} endpoint
 * @param {{ method?: string, body?: string }} request
 * @param {(refusal: import('./generated/core.js').RequestRefusal) => Record<string, string>} body
 */
function refuseEarly(endpoint, request, body) {
  const text = typeof request?.body === 'string' ? request.body : '';
  const refusal = checkRequest(endpoint, typeof request?.method === 'string' ? request.method : '', Buffer.byteLength(text, 'utf8'));
  if (!refusal) return null;
  logEvent('webtrigger.refused', { endpoint, status: refusal.status, reason: refusal.reason });
  return respond(refusal.status, body(refusal), refusal.allow ? { Allow: [refusal.allow] } : {});
}

/** The answer while failed authentications lock the webtriggers. @param {number} seconds @param {Record<string, string>} body */
const locked = (seconds, body) => respond(429, body, { 'Retry-After': [String(seconds)] });

/** @param {StoredVerification} record @returns {Write} */
const recordWrite = (record) => ({ key: keys.record(record.sessionId), value: record, ttl: TTL.record });

/** Writes together; false when the transaction failed. @param {Write[]} writes */
async function commit(writes) {
  try {
    await writeTogether(writes);
    return true;
  } catch (error) {
    logEvent('webhook.commit_failed', { code: errorCode(error) });
    return false;
  }
}

/**
 * Awaits one effect: a throw counts as `retry` (try again on Incode's retry).
 * @template {string} R @param {Promise<R> | null} task @param {string} sessionId @returns {Promise<R | 'done' | 'retry'>}
 */
async function settle(task, sessionId) {
  if (task === null) return 'done';
  try {
    return await task;
  } catch (error) {
    logEvent('webhook.effect_error', { code: errorCode(error), sessionId });
    return 'retry';
  }
}

/** @param {Record<string, string>} results @param {string} sessionId @param {string} issueKey */
function unfinished(results, sessionId, issueKey) {
  const left = Object.entries(results)
    .filter(([, result]) => result === 'retry')
    .map(([effect]) => effect);
  for (const effect of left) logEvent('webhook.effect_pending', { effect, sessionId, issueKey });
  return left.length > 0;
}

/**
 * Effects an earlier version of the app left `pending` on a record: carried out carefully (the
 * comment looked for first). Returns what is still pending, or null.
 * @param {StoredVerification} stored @param {import('./generated/core.js').Settings} settings
 * @returns {Promise<PendingEffects | null>}
 */
async function runPending(stored, settings) {
  const pending = /** @type {PendingEffects} */ (stored.pending);
  const issueKey = pending.issueKey;
  const [comment, transition, property] = await Promise.all([
    settle(pending.comment ? postEventComment(pending.comment, issueKey, pending.key, true) : null, stored.sessionId),
    settle(pending.transition !== null && pending.outcome !== null ? applyTransition(pending.outcome, settings, issueKey) : null, stored.sessionId),
    settle(pending.property ? perform(pending.property).then((r) => r.result) : null, stored.sessionId),
  ]);
  if (!unfinished({ comment, transition, property }, stored.sessionId, issueKey)) return null;
  return {
    ...pending,
    comment: comment === 'retry' ? pending.comment : null,
    transition: transition === 'retry' ? pending.transition : null,
    property: property === 'retry' ? pending.property : null,
    realtime: null,
  };
}

/**
 * @param {{ method?: string, body?: string, headers?: Record<string, string[] | string> }} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhook(request) {
  const atMs = Date.now();
  const early = refuseEarly('webhook', request, (r) => ({ result: 'invalid', reason: r.reason }));
  if (early) return early;
  const lockedNow = authLocked(atMs);
  if (lockedNow !== null) return locked(lockedNow, { result: 'error', reason: 'too_many_failures' });
  /** @type {DeliveryEntry} */
  const entry = { atMs, verdict: 'error', reason: '', eventType: '', sessionId: '', issueKey: '', status: '', httpStatus: 0 };
  /** Writes the last transaction of the delivery carries besides its own (the checklist). @type {Write[]} */
  const extra = [];
  /** @param {number} statusCode @param {string} verdict @param {string} reason */
  const final = (statusCode, verdict, reason) => {
    const done = { ...entry, verdict, reason, httpStatus: statusCode };
    logEvent('webhook.delivery', {
      verdict,
      reason,
      eventType: done.eventType,
      sessionId: done.sessionId,
      issueKey: done.issueKey,
      status: statusCode,
    });
    return done;
  };
  /** @param {number} statusCode @param {string} verdict @param {string} reason */
  const reply = (statusCode, verdict, reason) => {
    /** @type {Record<string, string>} */
    const body = { result: verdict, reason };
    if (entry.status !== '') body.status = entry.status;
    return respond(statusCode, body);
  };
  /**
   * Answers and logs the delivery in one transaction with `writes`. The log is best effort: when
   * the transaction fails, a lock release in it is retried alone.
   * @param {number} statusCode @param {string} verdict @param {string} reason
   * @param {Write[]} [writes] @param {{ taken: LockTaken, rev: number | null } | null} [lock]
   */
  const answer = async (statusCode, verdict, reason, writes = [], lock = null) => {
    const done = final(statusCode, verdict, reason);
    if (!(await commit([...writes, ...extra, deliveryWrite(done)])) && lock) {
      await releaseLock(lock.taken, { rev: null }).catch(() => logEvent('lock.release_failed', { sessionId: entry.sessionId }));
    }
    return reply(statusCode, verdict, reason);
  };

  // W1 (or the settings this instance keeps)
  /** @param {{ fresh?: boolean }} [options] */
  const readConfig = async (options) => {
    try {
      return await webhookConfig(atMs, options);
    } catch (error) {
      const code = errorCode(error);
      logEvent('webhook.config_unavailable', { code });
      // Settings no release wrote: Incode retries while an admin saves them again.
      return code === 'settings_unreadable' ? 'settings_unreadable' : null;
    }
  };
  /** @param {Config} config */
  const authenticate = (config) =>
    receiveDelivery(coreFor(config), {
      secret: config.secrets.webhookSecret,
      headers: request?.headers ?? {},
      body: typeof request?.body === 'string' ? request.body : '',
      nowMs: atMs,
    });
  let loaded = await readConfig();
  if (typeof loaded !== 'object' || loaded === null) return respond(503, { result: 'error', reason: loaded ?? 'storage_unavailable' });
  /** While locked, nothing is authenticated: a guess can neither succeed nor be told from a miss. */
  const lockedBy = (/** @type {{ lockUntilMs: number | null }} */ read) => authLocked(atMs, read.lockUntilMs);
  let lockWait = lockedBy(loaded);
  if (lockWait !== null) return locked(lockWait, { result: 'error', reason: 'too_many_failures' });
  let receipt = authenticate(loaded.config);
  if (receipt.kind !== 'event' && loaded.kept) {
    // The settings may have changed since they were kept (a rotated secret, another mode).
    loaded = await readConfig({ fresh: true });
    if (typeof loaded !== 'object' || loaded === null) return respond(503, { result: 'error', reason: loaded ?? 'storage_unavailable' });
    lockWait = lockedBy(loaded);
    if (lockWait !== null) return locked(lockWait, { result: 'error', reason: 'too_many_failures' });
    receipt = authenticate(loaded.config);
  }
  let { config } = loaded;
  const { checklist } = loaded;
  let settings = config.settings;
  if (receipt.kind === 'rejected') return refused(receipt.reason);
  if (receipt.kind === 'invalid') return answer(400, 'invalid', receipt.reason);

  // The first authenticated delivery ticks the checklist, in the delivery's last transaction.
  if (checklist && checklist.webhookReceivedAtMs === null) extra.push({ key: keys.checklist, value: { ...checklist, webhookReceivedAtMs: atMs } });
  if (receipt.kind === 'ignored') {
    entry.eventType = receipt.rawType;
    return answer(202, 'ignored', receipt.reason);
  }

  const event = receipt.event;
  entry.eventType = event.rawType;
  if (!isKeyPart(event.sessionId)) return answer(400, 'invalid', 'bad_session_id');
  const sessionId = event.sessionId;
  entry.sessionId = sessionId;

  // W2: the lock and the record together (and, with kept settings, their revision).
  const [locking, reading, revising] = await Promise.allSettled([takeLock(sessionId, event.type), getRecord(sessionId), loaded.kept ? loadSettings() : null]);
  if (locking.status === 'rejected') {
    // The swap may or may not have landed: if it did, its lease runs out and the next is careful.
    logEvent('webhook.lock_failed', { code: errorCode(locking.reason), sessionId });
    return answer(503, 'error', 'storage_unavailable');
  }
  const found = reading.status === 'fulfilled' ? reading.value : undefined;
  const taken = settleLock(locking.value, { by: found?.by, rev: revOf(found), careful: found?.careful, lastKey: found?.last?.key ?? null });
  if (taken.state === 'busy') {
    const [, response] = await Promise.all([restoreLock(taken), answer(503, 'error', 'busy')]);
    return response;
  }
  /** Leaves the lock as it was found. */
  const asFound = { taken, rev: taken.rev };
  const revision = revising.status === 'fulfilled' ? (revising.value?.revision ?? config.revision) : null;
  if (revision !== config.revision) {
    // Saved since this instance kept the settings: authenticate again with what is stored now.
    forgetConfig();
    const unreadable = revising.status === 'rejected' && errorCode(revising.reason) === 'settings_unreadable';
    const fresh = revising.status === 'fulfilled' ? await readConfig({ fresh: true }) : unreadable ? 'settings_unreadable' : null;
    if (typeof fresh !== 'object' || fresh === null) {
      return answer(503, 'error', fresh ?? 'storage_unavailable', [lockRelease(taken, { rev: taken.rev })], asFound);
    }
    const again = authenticate(fresh.config);
    if (again.kind !== 'event' || again.event.sessionId !== sessionId || again.event.type !== event.type) {
      const reason = again.kind === 'rejected' ? again.reason : 'settings_changed';
      const [, response] = await Promise.all([
        releaseLock(taken, { rev: taken.rev }).catch(() => logEvent('lock.release_failed', { sessionId })),
        again.kind === 'rejected' ? refused(reason) : answer(503, 'error', reason),
      ]);
      return response;
    }
    ({ config } = fresh);
    settings = config.settings;
  }
  if (reading.status === 'rejected') {
    logEvent('webhook.record_unavailable', { code: errorCode(reading.reason), sessionId });
    return answer(503, 'error', 'storage_unavailable', [lockRelease(taken, { rev: taken.rev })], asFound);
  }

  try {
    let stored = reading.value;
    const consistent = taken.state === 'free' || (taken.state === 'released' && taken.rev !== null && taken.rev === revOf(stored));
    if (!consistent) stored = await getRecord(sessionId);
    // `careful` is sticky: on the lock and, from the first commit after it, on the record.
    const careful = taken.careful || stored?.careful === true;
    const inflight = taken.inflight;

    if (!stored) {
      const test = await isTestSession(sessionId);
      // 202 either way: Incode must not keep retrying a session this site never sent.
      return answer(202, 'ignored', test ? 'test_session' : 'unknown_session', [lockRelease(taken, { rev: -1, careful })], asFound);
    }
    entry.issueKey = stored.issueKey;
    entry.status = stored.status;

    // Effects an earlier version of the app left pending come first.
    let current = stored;
    /** @type {Write[]} */
    const changed = [];
    if (current.pending) {
      const left = await runPending(current, settings);
      current = { ...current, pending: left, rev: revOf(current) + 1, by: taken.owner, careful };
      changed.push(recordWrite(current));
      if (left) return answer(503, 'error', 'effects_pending', [...changed, lockRelease(taken, { rev: revOf(current), careful })], asFound);
    }
    const unchanged = revOf(current);

    const decision = applyEvent(coreFor(config), asVerification(current), event, atMs);
    if (decision.kind === 'refused') {
      // Answered 200 so that Incode does not retry an event that will never be applied.
      return answer(200, 'rejected', decision.reason, [...changed, lockRelease(taken, { rev: unchanged, careful })], asFound);
    }
    if (decision.kind === 'late') {
      // Kept on the record (the panel shows it), nothing else: no comment, transition or status.
      const rev = unchanged + 1;
      const kept = {
        ...current,
        lateResults: decision.verification.lateResults,
        appliedEvents: decision.verification.appliedEvents,
        rev,
        by: taken.owner,
        careful,
      };
      const done = final(200, 'ignored', decision.reason);
      if (await commit([recordWrite(kept), lockRelease(taken, { rev, careful }), ...extra, deliveryWrite(done)])) return reply(200, 'ignored', decision.reason);
      await releaseLock(taken, { rev: null }).catch(() => logEvent('lock.release_failed', { sessionId }));
      logEvent('webhook.delivery', {
        verdict: 'error',
        reason: 'storage_unavailable',
        eventType: entry.eventType,
        sessionId,
        issueKey: entry.issueKey,
        status: 503,
      });
      return reply(503, 'error', 'storage_unavailable');
    }
    if (decision.kind === 'ignored' && decision.reason !== 'duplicate') {
      return answer(200, 'ignored', decision.reason, [...changed, lockRelease(taken, { rev: unchanged, careful })], asFound);
    }

    if (decision.kind === 'ignored') {
      // A delivery of an applied event: its effects may not all have landed (the first delivery
      // failed, or died after its transaction), so check them.
      const outcomes = current.outcomes ?? [];
      const applied = outcomes.find((o) => o.type === event.type) ?? null;
      const lastKey = current.last && current.last.type === event.type ? current.last.key : null;
      const key = applied ? applied.key : lastKey;
      const issueKey = current.issueKey;
      // While the first delivery may still be landing the effects (its holder released the lock
      // in the same round trip), only look: a missing comment or a transition still offered is
      // answered 503 (retry later), never redone meanwhile.
      const probing = key !== null && inflight.some((i) => i.key === key);
      const latestOutcome = applied !== null && applied === outcomes[outcomes.length - 1];
      /** @type {{ comment: Promise<EffectResult | 'busy'> | null, transition: Promise<EffectResult | 'busy'> | null, property: Promise<EffectResult> | null }} */
      const checks = {
        comment:
          applied && applied.comment
            ? probing
              ? findEventComment(issueKey, applied.key).then((found) => (found === 'found' ? 'done' : found === 'absent' ? 'busy' : 'retry'))
              : postEventComment(applied.comment, issueKey, applied.key, true)
            : null,
        transition:
          applied && applied.transition !== null && latestOutcome && atMs - applied.atMs < RECHECK_TRANSITION_MS
            ? probing
              ? transitionOffered(applied.outcome, settings, issueKey).then((seen) => (seen === 'none' ? 'done' : seen === 'offered' ? 'busy' : 'retry'))
              : applyTransition(applied.outcome, settings, issueKey)
            : null,
        // The property is written whole from the record, so it is simply written again.
        property: lastKey !== null ? perform(propertyRequest(issueKey, asVerification(current))).then((r) => r.result) : null,
      };
      if (key === null || (checks.comment === null && checks.transition === null && checks.property === null)) {
        return answer(200, 'duplicate', 'duplicate', [...changed, lockRelease(taken, { rev: unchanged, careful })], asFound);
      }
      const log = deliveryWrite(final(200, 'duplicate', 'duplicate'));
      const window = probing ? [] : [{ key, untilMs: atMs + EFFECTS_WINDOW_MS }];
      const [committed, comment, transition, property] = await Promise.all([
        commit([...changed, lockRelease(taken, { rev: unchanged, careful, inflight: [...inflight, ...window] }), log, ...extra]),
        settle(checks.comment, sessionId),
        settle(checks.transition, sessionId),
        settle(checks.property, sessionId),
      ]);
      const busy = [comment, transition].includes('busy');
      const incomplete = unfinished({ comment, transition, property }, sessionId, issueKey);
      if (committed && !incomplete && !busy) return reply(200, 'duplicate', 'duplicate');
      const reason = !committed ? 'storage_unavailable' : incomplete ? 'effects_pending' : 'busy';
      await failed(taken, { rev: committed ? unchanged : null, careful, inflight, eventKey: key }, probing ? '' : key, log, reason);
      return reply(503, 'error', reason);
    }

    // W3: the new record and the effects together.
    const key = decision.idempotencyKey;
    const actions = decision.actions;
    const issueKey = decision.verification.issueKey;
    const rev = unchanged + 1;
    const outcome = actions.outcome;
    const outcomes = current.outcomes ?? [];
    /** @type {StoredVerification} */
    const next = {
      ...decision.verification,
      pending: null,
      rev,
      by: taken.owner,
      careful,
      last: { key, type: event.type },
      outcomes:
        outcome === null
          ? outcomes
          : [
              ...outcomes.filter((o) => o.key !== key),
              { key, type: event.type, outcome, comment: actions.comment, transition: actions.transitionName, atMs },
            ].slice(-OUTCOMES_KEPT),
      transitions: current.transitions ?? {},
      publish: current.publish ?? null,
    };
    entry.status = next.status;
    const log = deliveryWrite(final(200, 'accepted', event.type));
    const window = { key, untilMs: atMs + EFFECTS_WINDOW_MS };
    const [committed, comment, transition, property] = await Promise.all([
      commit([recordWrite(next), lockRelease(taken, { rev, careful, inflight: [...inflight, window], eventKey: key }), log, ...extra]),
      settle(actions.comment ? postEventComment(actions.comment, issueKey, key, careful) : null, sessionId),
      settle(
        outcome !== null && actions.transitionName !== null
          ? careful
            ? applyTransition(outcome, settings, issueKey)
            : applyPlannedTransition(outcome, settings, issueKey, current.transitions?.[outcome])
          : null,
        sessionId,
      ),
      settle(
        perform(actions.property).then((r) => r.result),
        sessionId,
      ),
      // Live updates are best effort: the panel also polls, so a failed publish is not retried.
      publishToIssue(next.issueId, actions.realtime.channel, actions.realtime.payload, current.publish ?? null),
    ]);
    const incomplete = unfinished({ comment, transition, property }, sessionId, issueKey);
    if (committed && !incomplete) return reply(200, 'accepted', event.type);
    if (!committed) {
      // The record may not have landed while effects did: the retry applies the event carefully.
      const risky = actions.comment !== null || actions.transitionName !== null;
      await failed(taken, { rev: null, careful: careful || risky, inflight, eventKey: key }, key, log, 'storage_unavailable');
      return reply(503, 'error', 'storage_unavailable');
    }
    // Applied and recorded: the retry is a duplicate, which checks and finishes the effects.
    await failed(taken, { rev, careful, inflight, eventKey: key }, key, log, 'effects_pending');
    return reply(503, 'error', 'effects_pending');
  } catch (error) {
    logEvent('webhook.failed', { code: errorCode(error), sessionId });
    // Either way Incode retries; the log tells an outage (a storage or network failure or
    // timeout: 503 with Retry-After) from a defect. What ran before the failure is unknown, so
    // the next delivery is careful.
    const transient = isTransient(error);
    await signalLock(taken, { rev: null, careful: true, inflight: taken.inflight });
    return answer(transient ? 503 : 500, 'error', transient ? 'storage_unavailable' : 'internal_error');
  }

  /**
   * A delivery that failed authentication: counted for the throttle, logged from the budget.
   * @param {string} reason
   */
  async function refused(reason) {
    await authFailure(atMs);
    if (mayLogUntrusted(atMs)) return answer(401, 'rejected', reason);
    final(401, 'rejected', reason);
    return reply(401, 'rejected', reason);
  }

  /**
   * The failure path after W3: says so on the lock (ending this event's effects window) and
   * rewrites the delivery's log entry with the answer actually given.
   * @param {LockTaken} held @param {{ rev: number | null, careful: boolean, inflight: Inflight[], eventKey: string }} leave
   * @param {string} key @param {Write} log @param {string} reason
   */
  async function failed(held, leave, key, log, reason) {
    const entryNow = { .../** @type {DeliveryEntry} */ (log.value), verdict: 'error', reason, httpStatus: 503 };
    logEvent('webhook.delivery', {
      verdict: 'error',
      reason,
      eventType: entryNow.eventType,
      sessionId: entryNow.sessionId,
      issueKey: entryNow.issueKey,
      status: 503,
    });
    await Promise.all([signalLock(held, leave, key), writeTogether([{ ...log, value: entryNow }]).catch(() => logEvent('webhook.delivery_log_failed', {}))]);
  }
}

/** Case-insensitive header lookup. @param {Record<string, string[] | string> | undefined} headers @param {string} name */
function header(headers, name) {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0] ?? '') : String(value);
  }
  return '';
}

/**
 * The OAuth 2.0 token endpoint Incode calls before delivering webhooks (client credentials).
 * @param {{ body?: string, headers?: Record<string, string[] | string> }} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhookToken(request) {
  const atMs = Date.now();
  const early = refuseEarly('token', request, (r) => ({ error: 'invalid_request', error_description: r.reason }));
  if (early) return early;
  const lockedNow = authLocked(atMs);
  if (lockedNow !== null) return locked(lockedNow, { error: 'temporarily_unavailable' });
  let config;
  let lockUntilMs;
  try {
    [config, lockUntilMs] = await Promise.all([loadConfig(), readAuthLock()]);
  } catch (error) {
    logEvent('token.config_unavailable', { code: errorCode(error) });
    return respond(503, { error: 'temporarily_unavailable' });
  }
  const lockWait = authLocked(atMs, lockUntilMs);
  if (lockWait !== null) return locked(lockWait, { error: 'temporarily_unavailable' });
  const result = issueWebhookToken(
    config.settings.webhookAuth,
    config.secrets.webhookSecret,
    header(request?.headers, 'authorization'),
    typeof request?.body === 'string' ? request.body : '',
    atMs,
  );
  logEvent('token.answered', { status: result.status });
  // A wrong client id or secret (invalid_client) counts toward the throttle.
  if (result.status === 401) await authFailure(atMs);
  return {
    statusCode: result.status,
    headers: { 'Content-Type': ['application/json'], 'Cache-Control': ['no-store'], Pragma: ['no-cache'] },
    body: result.body,
  };
}
