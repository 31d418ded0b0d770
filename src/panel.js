// The agent's issue panel: state, send, resend, cancel. Every call first checks that the caller
// is an agent of the issue in the context; the core decides, this module loads and stores.
import { randomUUID } from 'node:crypto';
import Resolver from '@forge/resolver';
import { cancelVerification, newVerification, panelShown, publicSettings, replaceVerification } from './console.js';
import { callerOf, issueOf } from './access.js';
import { requireAgent } from './agent.js';
import { AppError, errorCode, fromCoreError, guarded } from './envelope.js';
import { startSession } from './incode.js';
import { myName, personField, personFrom, personOf, plannedTransitions, transitionsNow, writeProperty } from './jira.js';
import { logEvent } from './log.js';
import { publishToIssue, publishToken, channelOf, subscribeToken } from './realtime.js';
import {
  acquireLockHandle,
  asVerification,
  cachedToken,
  emailHash,
  getChecklist,
  getIssueIndex,
  getRateCounts,
  getRecord,
  indexRevOf,
  keys,
  loadConfig,
  loadSettings,
  lockRelease,
  releaseLock,
  restoreLock,
  revOf,
  settleLock,
  takeLock,
  TTL,
  viewOf,
  writeTogether,
  ISSUE_HISTORY_MAX,
} from './store.js';
import { changeRecord, findOnIssue, loadIssueVerifications } from './verifications.js';
import kvs from '@forge/kvs';

/** @typedef {import('./generated/core.js').Settings} Settings */
/** @typedef {import('./generated/core.js').PublicSettings} PublicSettings */
/** @typedef {import('./generated/core.js').StartVerificationInput} StartVerificationInput */
/** @typedef {import('./store.js').StoredVerification} StoredVerification */

const utcClock = (/** @type {number} */ ms) => new Date(ms).toISOString().slice(11, 16);

/**
 * Why a link cannot be sent now, or null.
 * @param {PublicSettings} pub @param {Settings} settings
 * @param {{ agent: number, ticket: number, resetsAtMs: number }} counts
 */
function sendBlock(pub, settings, counts) {
  if (!pub.ready) {
    return new AppError('setup_required', 'Setup required: a Jira admin needs to finish the Incode Verification settings.');
  }
  if (counts.ticket >= settings.limits.perTicketPerHour) {
    return new AppError(
      'limit_reached',
      `This ticket has reached its limit of ${settings.limits.perTicketPerHour} verification links per hour. You can send another after ${utcClock(counts.resetsAtMs)} UTC.`,
      { resetsAtMs: counts.resetsAtMs },
    );
  }
  if (counts.agent >= settings.limits.perAgentPerHour) {
    return new AppError(
      'limit_reached',
      `You have reached your limit of ${settings.limits.perAgentPerHour} verification links per hour. You can send another after ${utcClock(counts.resetsAtMs)} UTC.`,
      { resetsAtMs: counts.resetsAtMs },
    );
  }
  return null;
}

/**
 * The person lookup is a convenience: when Jira cannot answer it, the panel still works.
 * @param {() => Promise<{ accountId: string, email: string, name: string } | null>} lookUp @param {string} issueKey
 */
async function personOrNull(lookUp, issueKey) {
  try {
    return await lookUp();
  } catch (error) {
    if (error instanceof AppError) {
      logEvent('panel.person_unavailable', { code: error.code, issueKey });
      return null;
    }
    throw error;
  }
}

/**
 * The views of these records as the caller sees them: each with its state, the state's name and
 * the caller's actions, as the core decides them.
 * @param {StoredVerification[]} records @param {import('./generated/core.js').AgentAccess} access
 */
function shownViews(records, access) {
  const views = records.map(viewOf);
  const shown = panelShown(views, access);
  return views.map((view, i) => ({ ...view, ...shown[i] }));
}

/** @param {{ context: any }} request */
async function getState({ context }) {
  const nowMs = Date.now();
  const agent = await requireAgent(context, loadSettings(), { seeOnly: true });
  const record = agent.record;
  const pub = publicSettings(record.settings, record.secretsSet);
  const [verifications, person, counts, realtime] = await Promise.all([
    loadIssueVerifications(agent.issue.id, nowMs),
    personOrNull(() => personOf(record.settings, agent.issue.key), agent.issue.key),
    getRateCounts(agent.accountId, agent.issue.id, nowMs),
    subscribeToken(agent.issue.id),
  ]);
  const block = sendBlock(pub, record.settings, counts);
  const canSend = agent.access.maySend && block === null;
  const access = { ...agent.access, maySend: canSend };
  const current = verifications.current ? shownViews([verifications.current], access)[0] : null;
  const history = shownViews(verifications.history, access);
  return {
    setupRequired: !pub.ready,
    isAdmin: agent.isAdmin,
    canSend,
    cannotSendReason: agent.access.reason ?? (block ? block.message : null),
    defaults: { delivery: record.settings.defaultDelivery, linkExpiryMinutes: record.settings.linkExpiryMinutes },
    person: person ? { email: person.email, name: person.name } : null,
    current,
    history,
    realtime,
  };
}

const text = (/** @type {unknown} */ v) => (typeof v === 'string' ? v.trim() : '');

/** @param {any} payload @param {Settings} settings @returns {StartVerificationInput} */
function startInputOf(payload, settings) {
  const delivery = payload?.delivery === undefined || payload?.delivery === '' ? settings.defaultDelivery : payload.delivery;
  if (delivery !== 'SMS' && delivery !== 'EMAIL') {
    throw new AppError('validation', 'Choose SMS or email delivery.', {
      fields: [{ field: 'delivery', code: 'invalid_delivery', message: 'Choose SMS or email delivery.' }],
    });
  }
  const input = { email: text(payload?.email), delivery, phone: text(payload?.phone), alternateEmail: text(payload?.alternateEmail) };
  if (input.email === '') {
    throw new AppError('validation', "Enter the employee's corporate email.", {
      fields: [{ field: 'email', code: 'required', message: "Enter the employee's corporate email." }],
    });
  }
  return input;
}

/**
 * The value of a settled promise, or its failure thrown.
 * @template T @param {PromiseSettledResult<T>} result @returns {T}
 */
function valueOf(result) {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * Sends a link and records it. Three round trips when the Incode token is cached:
 *   1. everything the send reads, all known from the invocation context: the caller's permissions,
 *      settings and secrets, the issue lock (one swap), the rate counters, the issue index, the
 *      agent's name, the person on the issue, the checklist, the cached Incode token, the issue's
 *      transitions (the id for each outcome is kept with the record, so the outcome's webhook
 *      posts it directly) and a publish-only realtime token for the issue (kept likewise)
 *   2. the Incode start (with the token fetch when none is cached)
 *   3. one transaction (record, indexes, counters, checklist, the issue lock's release) together
 *      with the issue property and the live update.
 * A refused send releases the issue lock on its failure path. Superseding the issue's open
 * verification takes that session's lock and reads its record during round trip 2 (longer only
 * when a webhook holds it, or the read has to be repeated); a resend first finds the verification
 * it repeats; a person field other than the reporter is read once the settings are known.
 * @param {any} context
 * @param {(settings: Settings, issueId: string) => Promise<{ input: StartVerificationInput, name: string | null }>} prepare
 */
async function sendLink(context, prepare) {
  const nowMs = Date.now();
  // The user and the issue come from the context; nothing is read for a caller without them.
  const accountId = callerOf(context);
  const issue = issueOf(context);

  // 1.
  const results = await Promise.allSettled([
    requireAgent(context, loadConfig()),
    takeLock(`issue.${issue.id}`),
    getRateCounts(accountId, issue.id, nowMs),
    getIssueIndex(issue.id),
    myName(),
    personField(issue.key, 'reporter'),
    getChecklist(),
    cachedToken(nowMs),
    transitionsNow(issue.key),
    publishToken(issue.id),
  ]);
  const [agentR, lockR, countsR, indexR, nameR, personR, checklistR, tokenR, transitionsR, publishR] = results;
  /** @type {import('./store.js').LockTaken | null} */
  let issueLock = lockR.status === 'fulfilled' ? lockR.value : null;
  if (issueLock && indexR.status === 'fulfilled') issueLock = settleLock(issueLock, { by: indexR.value.by, rev: indexRevOf(indexR.value) });
  if (issueLock && issueLock.state === 'busy') {
    await restoreLock(issueLock);
    issueLock = null;
    if (agentR.status === 'fulfilled') {
      // Another send on this issue: wait for it briefly, then read what it left.
      issueLock = await acquireLockHandle(`issue.${issue.id}`);
      if (!issueLock) throw new AppError('busy', 'Another link is being sent on this issue. Try again in a moment.', { retryable: true });
    }
  }
  const held = /** @type {import('./store.js').LockTaken | null} */ (issueLock);
  /** Releases the issue lock (failure paths): `rev` what the index is at, or null (unknown). @param {number | null} rev */
  const releaseIssue = async (rev) => {
    if (held) await releaseLock(held, { rev }).catch(() => logEvent('lock.release_failed', { issueKey: issue.key }));
  };
  let counts;
  let index;
  try {
    valueOf(agentR);
    if (!held) valueOf(lockR);
    counts = valueOf(countsR);
    index = valueOf(indexR);
  } catch (error) {
    // Left as found (a refused caller must not cost the next send a read).
    const asFound = held?.state === 'released' ? held.rev : held?.state === 'free' && indexR.status === 'fulfilled' ? indexRevOf(indexR.value) : null;
    await releaseIssue(asFound);
    throw error;
  }
  const agent = valueOf(agentR);
  const issueLockHeld = /** @type {import('./store.js').LockTaken} */ (held);
  const config = agent.record;
  const { settings, secrets } = config;
  let released = false;

  try {
    // What was read together with the lock is used only when no other send committed between.
    const consistent =
      issueLockHeld.state === 'free' || (issueLockHeld.state === 'released' && issueLockHeld.rev !== null && issueLockHeld.rev === indexRevOf(index));
    if (!consistent) [counts, index] = await Promise.all([getRateCounts(accountId, issue.id, nowMs), getIssueIndex(issue.id)]);
    const checklist = valueOf(checklistR);
    const agentName = valueOf(nameR);
    const token = valueOf(tokenR);
    const field = settings.personField === '' ? 'reporter' : settings.personField;
    const person = await personOrNull(async () => (field === 'reporter' ? personFrom(valueOf(personR), field) : personOf(settings, issue.key)), issue.key);
    const { input, name: knownName } = await prepare(settings, issue.id);
    const pub = publicSettings(settings, config.secretsSet);
    const block = sendBlock(pub, settings, counts);
    if (block) throw block;

    // 2. The Incode start; meanwhile, the issue's open verification (if any) is locked and read.
    const previousId = index.current;
    const [started, previousR] = await Promise.allSettled([
      startSession(settings, secrets, input, token),
      previousId ? lockAndRead(previousId) : Promise.resolve(null),
    ]);
    const previousLock = previousR.status === 'fulfilled' && previousR.value ? previousR.value.taken : null;
    /** @param {number | null} rev */
    const releasePrevious = async (rev) => {
      if (previousLock) await releaseLock(previousLock, { rev }).catch(() => logEvent('lock.release_failed', { sessionId: previousId }));
    };
    if (started.status === 'rejected' || previousR.status === 'rejected') {
      await releasePrevious(previousLock ? previousLock.rev : null);
      throw started.status === 'rejected' ? started.reason : /** @type {PromiseRejectedResult} */ (previousR).reason;
    }
    const session = started.value;
    const sentAtMs = Date.now();
    const samePerson = person !== null && person.email !== '' && person.email.toLowerCase() === input.email.toLowerCase();
    const verification = newVerification({
      id: randomUUID(),
      session,
      issueKey: issue.key,
      issueId: issue.id,
      email: input.email,
      name: knownName ?? (samePerson && person ? person.name : ''),
      delivery: input.delivery,
      phone: input.phone,
      alternateEmail: input.alternateEmail,
      requestedBy: accountId,
      requestedByName: agentName,
      nowMs: sentAtMs,
      linkExpiryMinutes: settings.linkExpiryMinutes,
    });
    /** @type {StoredVerification} */
    const record = {
      ...verification,
      pending: null,
      rev: 0,
      transitions: plannedTransitions(transitionsR.status === 'fulfilled' ? transitionsR.value : null, settings, issue.key),
      publish: publishR.status === 'fulfilled' ? publishR.value : null,
    };

    // The issue's open verification, if any, is superseded by the new link. When a webhook holds
    // its lock past the short wait, it is left to finish on its own (its outcome still counts).
    const previous = previousR.value && previousId !== session.sessionId ? previousR.value : null;
    /** @type {StoredVerification | null} */
    let superseded = null;
    if (previous && previous.record) {
      const cancelled = replaceVerification(asVerification(previous.record), sentAtMs);
      if (cancelled.ok && previousLock) {
        superseded = { ...previous.record, ...cancelled.value, rev: revOf(previous.record) + 1, by: previousLock.owner };
      }
    }

    // 3.
    const hash = emailHash(input.email);
    const hour = counts.hour;
    const indexRev = indexRevOf(index) < 0 ? 1 : indexRevOf(index) + 1;
    /** @type {{ key: string, value: unknown, ttl?: any }[]} */
    const sets = [
      { key: keys.record(record.sessionId), value: record, ttl: TTL.record },
      {
        key: keys.issue(issue.id),
        value: {
          current: record.sessionId,
          sessions: [record.sessionId, ...index.sessions.filter((s) => s !== record.sessionId)].slice(0, ISSUE_HISTORY_MAX),
          rev: indexRev,
          by: issueLockHeld.owner,
        },
      },
      {
        key: keys.person(hash, record.sessionId),
        value: { issueId: issue.id, accountId: samePerson && person ? person.accountId : '', phone: input.phone, alternateEmail: input.alternateEmail },
        ttl: TTL.record,
      },
      {
        key: keys.account(accountId, record.sessionId),
        value: { role: 'agent', sessionId: record.sessionId, issueId: issue.id, emailHash: hash, atMs: sentAtMs },
        ttl: TTL.record,
      },
      { key: keys.rateAgent(accountId, hour), value: counts.agent + 1, ttl: TTL.rate },
      { key: keys.rateTicket(issue.id, hour), value: counts.ticket + 1, ttl: TTL.rate },
      lockRelease(issueLockHeld, { rev: indexRev }),
    ];
    if (samePerson && person && person.accountId !== accountId) {
      sets.push({
        key: keys.account(person.accountId, record.sessionId),
        value: { role: 'person', sessionId: record.sessionId, issueId: issue.id, emailHash: hash, atMs: sentAtMs },
        ttl: TTL.record,
      });
    }
    if (superseded) sets.push({ key: keys.record(superseded.sessionId), value: superseded, ttl: TTL.record });
    if (previousLock) sets.push(lockRelease(previousLock, { rev: superseded ? revOf(superseded) : revOf(previousR.value?.record) }));
    if (checklist.firstVerificationAtMs === null) sets.push({ key: keys.checklist, value: { ...checklist, firstVerificationAtMs: sentAtMs } });

    const [view] = shownViews([record], agent.access);
    const [written] = await Promise.allSettled([
      writeTogether(sets),
      writeProperty(issue.key, verification),
      publishToIssue(issue.id, channelOf(issue.id), JSON.stringify({ verification: view }), record.publish),
    ]);
    // The link went out: without its record, its webhooks could not be matched. The transaction
    // only sets values, so writing it once more is safe even if the first one landed.
    const recorded =
      written.status === 'fulfilled' ||
      (await writeTogether(sets).then(
        () => true,
        (error) => {
          logEvent('send.record_retry_failed', { code: errorCode(error), sessionId: record.sessionId });
          return false;
        },
      ));
    if (!recorded) {
      // The link went out but could not be recorded: its webhooks will be logged as unknown.
      logEvent('send.unrecorded', { sessionId: record.sessionId, issueKey: issue.key });
      released = true;
      await Promise.all([releaseIssue(null), releasePrevious(null)]);
      throw /** @type {PromiseRejectedResult} */ (written).reason;
    }
    logEvent('send.sent', { sessionId: record.sessionId, issueKey: issue.key, verificationId: record.id });
    return { verification: view };
  } catch (error) {
    if (!released) await releaseIssue(indexRevOf(index));
    throw error;
  }
}

/**
 * Takes a session's lock (waiting briefly for a webhook) and reads its record, together; the
 * read is repeated when the swap shows that someone committed meanwhile. Null when still busy.
 * @param {string} sessionId
 * @returns {Promise<{ taken: import('./store.js').LockTaken, record: StoredVerification | undefined } | null>}
 */
async function lockAndRead(sessionId) {
  const [taking, reading] = await Promise.allSettled([takeLock(sessionId), getRecord(sessionId)]);
  const found = reading.status === 'fulfilled' ? reading.value : undefined;
  let taken = settleLock(valueOf(taking), { by: found?.by, rev: revOf(found), careful: found?.careful, lastKey: found?.last?.key ?? null });
  const first = taken;
  if (taken.state === 'busy') {
    await restoreLock(taken);
    const waited = await acquireLockHandle(sessionId);
    if (!waited) return null;
    taken = waited;
  }
  try {
    let record = valueOf(reading);
    const consistent = taken.state === 'free' || (taken.state === 'released' && taken.rev !== null && taken.rev === revOf(record));
    if (!consistent || taken !== first) record = await getRecord(sessionId);
    return { taken, record };
  } catch (error) {
    await releaseLock(taken, { rev: taken.rev }).catch(() => {});
    throw error;
  }
}

/** @param {{ payload: any, context: any }} request */
function send({ payload, context }) {
  return sendLink(context, async (settings) => ({ input: startInputOf(payload, settings), name: null }));
}

/** @param {{ payload: any, context: any }} request */
function resend({ payload, context }) {
  return sendLink(context, async (_settings, issueId) => {
    const previous = await findOnIssue(issueId, payload?.verificationId);
    if (!previous) throw new AppError('not_found', 'That verification is not on this issue.');
    /** @type {import('./store.js').PersonEntry | undefined} */
    const contact = await kvs.get(keys.person(emailHash(previous.email), previous.sessionId));
    return {
      input: { email: previous.email, delivery: previous.delivery, phone: contact?.phone ?? '', alternateEmail: contact?.alternateEmail ?? '' },
      name: previous.name,
    };
  });
}

/** @param {{ payload: any, context: any }} request */
async function cancel({ payload, context }) {
  const agent = await requireAgent(context, loadSettings());
  const [found, agentName] = await Promise.all([findOnIssue(agent.issue.id, payload?.verificationId), myName()]);
  if (!found) throw new AppError('not_found', 'That verification is not on this issue.');
  const { locked, record } = await changeRecord(found.sessionId, (fresh) => {
    const cancelled = cancelVerification(asVerification(fresh), Date.now(), agentName || 'agent');
    if (!cancelled.ok) throw fromCoreError(cancelled.error);
    return { ...fresh, ...cancelled.value };
  });
  if (!locked) throw new AppError('busy', 'This verification is being updated. Try again in a moment.', { retryable: true });
  if (!record) throw new AppError('not_found', 'That verification is not on this issue.');
  logEvent('cancel.cancelled', { sessionId: record.sessionId, issueKey: agent.issue.key });
  const [view] = shownViews([record], agent.access);
  await Promise.all([
    writeProperty(agent.issue.key, asVerification(record)),
    publishToIssue(agent.issue.id, channelOf(agent.issue.id), JSON.stringify({ verification: view })),
  ]);
  return { verification: view };
}

export const panelResolver = new Resolver()
  .define('panel.getState', guarded('panel.getState', getState))
  .define('panel.send', guarded('panel.send', send))
  .define('panel.resend', guarded('panel.resend', resend))
  .define('panel.cancel', guarded('panel.cancel', cancel))
  .getDefinitions();
