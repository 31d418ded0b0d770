// The agent's issue panel: state, send, resend, cancel. Every call first checks that the caller
// is an agent of the issue in the context; the core decides, this module loads and stores.
import { randomUUID } from 'node:crypto';
import Resolver from '@forge/resolver';
import { cancelVerification, newVerification, publicSettings } from './core.js';
import { requireAgent } from './access.js';
import { AppError, fromCoreError, guarded } from './envelope.js';
import { startSession } from './incode.js';
import { myName, personOf, writeProperty } from './jira.js';
import { logEvent } from './log.js';
import { publishToIssue, channelOf, subscribeToken } from './realtime.js';
import {
  acquireLock, asVerification, emailHash, getChecklist, getIssueIndex, getRateCounts, getRecord, keys, loadConfig,
  loadSettings, TTL, viewOf, writeTogether, ISSUE_HISTORY_MAX,
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

/** The person lookup is a convenience: when Jira cannot answer it, the panel still works. */
async function personOrNull(/** @type {Settings} */ settings, /** @type {string} */ issueKey) {
  try {
    return await personOf(settings, issueKey);
  } catch (error) {
    if (error instanceof AppError) {
      logEvent('panel.person_unavailable', { code: error.code, issueKey });
      return null;
    }
    throw error;
  }
}

/** @param {{ context: any }} request */
async function getState({ context }) {
  const nowMs = Date.now();
  const agent = await requireAgent(context, loadSettings());
  const record = agent.record;
  const pub = publicSettings(record.settings, record.secretsSet);
  const [verifications, person, counts, realtime] = await Promise.all([
    loadIssueVerifications(agent.issue.id, nowMs),
    personOrNull(record.settings, agent.issue.key),
    getRateCounts(agent.accountId, agent.issue.id, nowMs),
    subscribeToken(agent.issue.id),
  ]);
  const block = sendBlock(pub, record.settings, counts);
  return {
    setupRequired: !pub.ready,
    isAdmin: agent.isAdmin,
    canSend: block === null,
    cannotSendReason: block ? block.message : null,
    defaults: { delivery: record.settings.defaultDelivery, linkExpiryMinutes: record.settings.linkExpiryMinutes },
    person: person ? { email: person.email, name: person.name } : null,
    current: verifications.current ? viewOf(verifications.current) : null,
    history: verifications.history.map(viewOf),
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
 * Sends a link and records it: limits, Incode start, the new record (superseding the issue's
 * open one), indexes and counters in one transaction, then the issue property and a live update.
 * @param {any} context
 * @param {(settings: Settings, issueId: string) => Promise<{ input: StartVerificationInput, name: string | null }>} prepare
 */
async function sendLink(context, prepare) {
  const nowMs = Date.now();
  const agent = await requireAgent(context, loadConfig());
  const config = agent.record;
  const { settings, secrets } = config;
  const { input, name: knownName } = await prepare(settings, agent.issue.id);
  const pub = publicSettings(settings, config.secretsSet);

  const releaseIssue = await acquireLock(`issue.${agent.issue.id}`);
  if (!releaseIssue) {
    throw new AppError('busy', 'Another link is being sent on this issue. Try again in a moment.', { retryable: true });
  }
  try {
    const [counts, index, agentName, person, checklist] = await Promise.all([
      getRateCounts(agent.accountId, agent.issue.id, nowMs),
      getIssueIndex(agent.issue.id),
      myName(),
      personOrNull(settings, agent.issue.key),
      getChecklist(),
    ]);
    const block = sendBlock(pub, settings, counts);
    if (block) throw block;

    const session = await startSession(settings, secrets, input);
    const sentAtMs = Date.now();
    const samePerson = person !== null && person.email !== '' && person.email.toLowerCase() === input.email.toLowerCase();
    const verification = newVerification({
      id: randomUUID(),
      session,
      issueKey: agent.issue.key,
      issueId: agent.issue.id,
      email: input.email,
      name: knownName ?? (samePerson && person ? person.name : ''),
      delivery: input.delivery,
      phone: input.phone,
      alternateEmail: input.alternateEmail,
      requestedBy: agent.accountId,
      requestedByName: agentName,
      nowMs: sentAtMs,
      linkExpiryMinutes: settings.linkExpiryMinutes,
    });
    /** @type {StoredVerification} */
    const record = { ...verification, pending: null };

    // The issue's open verification, if any, is superseded by the new link. When a webhook holds
    // its lock past the short wait, it is left to finish on its own (its outcome still counts).
    /** @type {StoredVerification | null} */
    let superseded = null;
    /** @type {(() => Promise<void>) | null} */
    let releasePrevious = null;
    if (index.current && index.current !== session.sessionId) {
      releasePrevious = await acquireLock(index.current);
      const previous = releasePrevious ? await getRecord(index.current) : undefined;
      if (previous) {
        const cancelled = cancelVerification(asVerification(previous), sentAtMs, 'a newer link');
        if (cancelled.ok) superseded = { ...cancelled.value, pending: previous.pending ?? null };
      }
    }
    try {
      const hash = emailHash(input.email);
      const hour = counts.hour;
      /** @type {{ key: string, value: unknown, ttl?: any }[]} */
      const sets = [
        { key: keys.record(record.sessionId), value: record, ttl: TTL.record },
        {
          key: keys.issue(agent.issue.id),
          value: { current: record.sessionId, sessions: [record.sessionId, ...index.sessions.filter((s) => s !== record.sessionId)].slice(0, ISSUE_HISTORY_MAX) },
        },
        {
          key: keys.person(hash, record.sessionId),
          value: { issueId: agent.issue.id, accountId: samePerson && person ? person.accountId : '', phone: input.phone, alternateEmail: input.alternateEmail },
          ttl: TTL.record,
        },
        { key: keys.account(agent.accountId, record.sessionId), value: { role: 'agent', sessionId: record.sessionId, issueId: agent.issue.id, emailHash: hash, atMs: sentAtMs }, ttl: TTL.record },
        { key: keys.rateAgent(agent.accountId, hour), value: counts.agent + 1, ttl: TTL.rate },
        { key: keys.rateTicket(agent.issue.id, hour), value: counts.ticket + 1, ttl: TTL.rate },
      ];
      if (samePerson && person && person.accountId !== agent.accountId) {
        sets.push({ key: keys.account(person.accountId, record.sessionId), value: { role: 'person', sessionId: record.sessionId, issueId: agent.issue.id, emailHash: hash, atMs: sentAtMs }, ttl: TTL.record });
      }
      if (superseded) sets.push({ key: keys.record(superseded.sessionId), value: superseded, ttl: TTL.record });
      if (checklist.firstVerificationAtMs === null) sets.push({ key: keys.checklist, value: { ...checklist, firstVerificationAtMs: sentAtMs } });
      try {
        await writeTogether(sets);
      } catch (error) {
        // The link went out but could not be recorded: its webhooks will be logged as unknown.
        logEvent('send.unrecorded', { sessionId: record.sessionId, issueKey: agent.issue.key });
        throw error;
      }
    } finally {
      if (releasePrevious) await releasePrevious().catch(() => {});
    }
    logEvent('send.sent', { sessionId: record.sessionId, issueKey: agent.issue.key, verificationId: record.id });

    const view = viewOf(record);
    await Promise.all([
      writeProperty(agent.issue.key, verification),
      publishToIssue(agent.issue.id, channelOf(agent.issue.id), JSON.stringify({ verification: view })),
    ]);
    return { verification: view };
  } finally {
    await releaseIssue().catch(() => {});
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
    return { ...cancelled.value, pending: fresh.pending ?? null };
  });
  if (!locked) throw new AppError('busy', 'This verification is being updated. Try again in a moment.', { retryable: true });
  if (!record) throw new AppError('not_found', 'That verification is not on this issue.');
  logEvent('cancel.cancelled', { sessionId: record.sessionId, issueKey: agent.issue.key });
  const view = viewOf(record);
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
