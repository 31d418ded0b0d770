// The webtriggers Incode calls. `webhook`: authenticate the exact raw body (the core), then, under
// the session's lock, apply the event to its verification and carry out what the core decided:
// comment, transition, issue property, live update. The new record is written before any effect
// (write-ahead, with the effects marked pending) and each effect is cleared only once it is
// confirmed, so a failure anywhere answers 5xx, Incode retries, and the retry finishes exactly
// the effects still pending. `webhookToken`: the OAuth client-credentials endpoint for Incode.
import { ForgeKvsError } from '@forge/kvs';
import { issueWebhookToken, receiveWebhook } from './core.js';
import { errorCode } from './envelope.js';
import { applyTransition, perform, postEventComment } from './jira.js';
import { logEvent } from './log.js';
import { publishToIssue } from './realtime.js';
import {
  acquireLock, asVerification, coreFor, getChecklist, getRecord, isKeyPart, isTestSession, loadConfig, logDelivery,
  putRecord, updateChecklist,
} from './store.js';

/** @typedef {import('./store.js').StoredVerification} StoredVerification */
/** @typedef {import('./store.js').PendingEffects} PendingEffects */
/** @typedef {import('./store.js').DeliveryEntry} DeliveryEntry */
/** @typedef {{ statusCode: number, headers: Record<string, string[]>, body: string }} WebtriggerResponse */

const RETRY_AFTER_SECONDS = '10';

/** @param {number} statusCode @param {Record<string, string>} body @returns {WebtriggerResponse} */
function respond(statusCode, body) {
  /** @type {Record<string, string[]>} */
  const headers = { 'Content-Type': ['application/json'], 'Cache-Control': ['no-store'] };
  if (statusCode === 503) headers['Retry-After'] = [RETRY_AFTER_SECONDS];
  return { statusCode, headers, body: JSON.stringify(body) };
}

/** Records a delivery; the log is best effort and never changes the answer. @param {DeliveryEntry} entry */
async function record(entry) {
  logEvent('webhook.delivery', {
    verdict: entry.verdict, reason: entry.reason, eventType: entry.eventType, sessionId: entry.sessionId,
    issueKey: entry.issueKey, status: entry.httpStatus,
  });
  try {
    await logDelivery(entry);
  } catch (error) {
    logEvent('webhook.delivery_log_failed', { code: errorCode(error) });
  }
}

/**
 * Carries out the pending effects of a record and saves what remains pending.
 * @param {StoredVerification} stored with `pending` set
 * @param {import('./generated/core.js').Settings} settings
 * @param {boolean} retry true when the effects may have run before (look for the comment first)
 * @returns {Promise<{ record: StoredVerification, complete: boolean }>}
 */
async function runEffects(stored, settings, retry) {
  const pending = /** @type {PendingEffects} */ (stored.pending);
  const issueKey = pending.issueKey;
  /** @param {Promise<'done' | 'retry' | 'dropped'> | null} task */
  const settle = async (task) => {
    if (task === null) return 'done';
    try {
      const result = await task;
      return result === 'retry' ? 'retry' : 'done';
    } catch (error) {
      logEvent('webhook.effect_error', { code: errorCode(error), sessionId: stored.sessionId });
      return 'retry';
    }
  };
  const [comment, transition, property, realtime] = await Promise.all([
    settle(pending.comment ? postEventComment(pending.comment, issueKey, pending.key, retry) : null),
    settle(pending.transition !== null && pending.outcome !== null ? applyTransition(pending.outcome, settings, issueKey) : null),
    settle(pending.property ? perform(pending.property).then((r) => r.result) : null),
    // Live updates are best effort: the panel also polls, so a failed publish is not retried.
    settle(pending.realtime ? publishToIssue(stored.issueId, pending.realtime.channel, pending.realtime.payload).then(() => 'done') : null),
  ]);
  void realtime;
  /** @type {PendingEffects} */
  const left = {
    ...pending,
    comment: comment === 'retry' ? pending.comment : null,
    transition: transition === 'retry' ? pending.transition : null,
    property: property === 'retry' ? pending.property : null,
    realtime: null,
  };
  const complete = left.comment === null && left.transition === null && left.property === null;
  for (const [effect, result] of Object.entries({ comment, transition, property })) {
    if (result === 'retry') logEvent('webhook.effect_pending', { effect, sessionId: stored.sessionId, issueKey });
  }
  /** @type {StoredVerification} */
  const next = { ...stored, pending: complete ? null : left };
  await putRecord(next);
  return { record: next, complete };
}

/**
 * @param {{ method?: string, body?: string, headers?: Record<string, string[] | string> }} request
 * @returns {Promise<WebtriggerResponse>}
 */
export async function webhook(request) {
  const atMs = Date.now();
  /** @type {DeliveryEntry} */
  const entry = { atMs, verdict: 'error', reason: '', eventType: '', sessionId: '', issueKey: '', status: '', httpStatus: 0 };
  /** @param {number} statusCode @param {string} verdict @param {string} reason */
  const answer = async (statusCode, verdict, reason) => {
    await record({ ...entry, verdict, reason, httpStatus: statusCode });
    /** @type {Record<string, string>} */
    const body = { result: verdict, reason };
    if (entry.status !== '') body.status = entry.status;
    return respond(statusCode, body);
  };

  let config;
  let checklist;
  try {
    [config, checklist] = await Promise.all([loadConfig(), getChecklist()]);
  } catch (error) {
    logEvent('webhook.config_unavailable', { code: errorCode(error) });
    return respond(503, { result: 'error', reason: 'storage_unavailable' });
  }

  const receipt = receiveWebhook({
    auth: config.settings.webhookAuth,
    secret: config.secrets.webhookSecret,
    headers: request?.headers ?? {},
    body: typeof request?.body === 'string' ? request.body : '',
    nowMs: atMs,
  });
  if (receipt.kind === 'rejected') return answer(401, 'rejected', receipt.reason);
  if (receipt.kind === 'invalid') return answer(400, 'invalid', receipt.reason);

  if (checklist.webhookReceivedAtMs === null) {
    await updateChecklist({ webhookReceivedAtMs: atMs }).catch(() => logEvent('webhook.checklist_failed', {}));
  }
  if (receipt.kind === 'ignored') {
    entry.eventType = receipt.rawType;
    return answer(202, 'ignored', receipt.reason);
  }

  const event = receipt.event;
  entry.eventType = event.rawType;
  if (!isKeyPart(event.sessionId)) return answer(400, 'invalid', 'bad_session_id');
  entry.sessionId = event.sessionId;

  /** @type {(() => Promise<void>) | null} */
  let release = null;
  try {
    release = await acquireLock(event.sessionId);
    if (!release) return answer(503, 'error', 'busy');

    const stored = await getRecord(event.sessionId);
    if (!stored) {
      const test = await isTestSession(event.sessionId);
      // 202 either way: Incode must not keep retrying a session this site never sent.
      return answer(202, 'ignored', test ? 'test_session' : 'unknown_session');
    }
    entry.issueKey = stored.issueKey;
    entry.status = stored.status;

    // Effects an earlier delivery could not finish come first, in order.
    let current = stored;
    if (current.pending) {
      const flushed = await runEffects(current, config.settings, true);
      current = flushed.record;
      entry.status = current.status;
      if (!flushed.complete) return answer(503, 'error', 'effects_pending');
    }

    const decision = coreFor(config).applyEvent(asVerification(current), event, atMs);
    if (decision.kind === 'ignored') {
      const verdict = decision.reason === 'duplicate' ? 'duplicate' : 'ignored';
      return answer(200, verdict, decision.reason);
    }

    const actions = decision.actions;
    /** @type {StoredVerification} */
    const next = {
      ...decision.verification,
      pending: {
        key: decision.idempotencyKey,
        outcome: actions.outcome,
        issueKey: decision.verification.issueKey,
        comment: actions.comment,
        transition: actions.transitionName,
        property: actions.property,
        realtime: actions.realtime,
      },
    };
    await putRecord(next);
    entry.status = next.status;
    const done = await runEffects(next, config.settings, false);
    if (!done.complete) return answer(503, 'error', 'effects_pending');
    return answer(200, 'accepted', event.type);
  } catch (error) {
    logEvent('webhook.failed', { code: errorCode(error), sessionId: entry.sessionId });
    // Either way Incode retries; the log tells an outage of the store from a defect.
    const storage = error instanceof ForgeKvsError;
    return answer(storage ? 503 : 500, 'error', storage ? 'storage_unavailable' : 'internal_error');
  } finally {
    if (release) await release().catch(() => logEvent('lock.release_failed', { sessionId: entry.sessionId }));
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
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    logEvent('token.config_unavailable', { code: errorCode(error) });
    return respond(503, { error: 'temporarily_unavailable' });
  }
  const result = issueWebhookToken(
    config.settings.webhookAuth,
    config.secrets.webhookSecret,
    header(request?.headers, 'authorization'),
    typeof request?.body === 'string' ? request.body : '',
    Date.now(),
  );
  logEvent('token.answered', { status: result.status });
  return {
    statusCode: result.status,
    headers: { 'Content-Type': ['application/json'], 'Cache-Control': ['no-store'], Pragma: ['no-cache'] },
    body: result.body,
  };
}
