// Jira look-ups and the effects the core describes (comment, transition, issue property), each
// answered as `done`, `retry` (429, 5xx, timeout: try again later) or `dropped` (Jira refused
// for good, e.g. the issue was deleted: retrying cannot help).
import api, { route } from '@forge/api';
import { chooseTransition, transitionsRequest } from './core.js';
/** @typedef {import('./store.js').KnownTransition} KnownTransition */
/** @typedef {import('./generated/core.js').Outcome} Outcome */
import { HttpFailure, isRetryableStatus, jiraAsApp, jiraSend, parseJson } from './http.js';
import { logEvent } from './log.js';

/** @typedef {'done' | 'retry' | 'dropped'} EffectResult */
/** @typedef {import('./generated/core.js').HttpRequest} HttpRequest */

/** The comment property that marks a comment as the one for an event (idempotency key). */
export const EVENT_PROPERTY = 'incode-verification-event';

/**
 * Runs a Jira call and classifies its answer.
 * @param {() => Promise<{ status: number, body: string }>} call
 * @returns {Promise<{ result: EffectResult, status: number, body: string }>}
 */
async function settle(call) {
  try {
    const answer = await call();
    if (answer.status >= 200 && answer.status < 300) return { result: 'done', ...answer };
    return { result: isRetryableStatus(answer.status) ? 'retry' : 'dropped', ...answer };
  } catch (error) {
    if (error instanceof HttpFailure) return { result: 'retry', status: 0, body: '' };
    throw error;
  }
}

/** A Jira request the core described, made as the app. @param {HttpRequest} request */
export function perform(request) {
  return settle(() => jiraAsApp(request));
}

/**
 * Looks for the comment already posted for an event (a retry after the post succeeded but its
 * confirmation was lost). Newest first, since it was posted recently.
 * @param {string} issueKey @param {string} eventKey
 * @returns {Promise<'found' | 'absent' | 'retry'>}
 */
export async function findEventComment(issueKey, eventKey) {
  // The comment, if posted, is among the newest: the 500 newest are searched (10 pages at most).
  const pageSize = 50;
  for (let startAt = 0; startAt < 500; startAt += pageSize) {
    const { result, status, body } = await settle(() =>
      jiraSend((signal) =>
        api
          .asApp()
          .requestJira(route`/rest/api/3/issue/${issueKey}/comment?expand=properties&orderBy=-created&startAt=${startAt}&maxResults=${pageSize}`, { signal }),
      ),
    );
    if (result === 'retry') return 'retry';
    if (result === 'dropped') return status === 404 ? 'absent' : 'retry';
    const page = parseJson(body);
    const comments = Array.isArray(page?.comments) ? page.comments : [];
    const hit = comments.some(
      (/** @type {any} */ c) =>
        Array.isArray(c?.properties) && c.properties.some((/** @type {any} */ p) => p?.key === EVENT_PROPERTY && p?.value?.key === eventKey),
    );
    if (hit) return 'found';
    const total = Number(page?.total ?? 0);
    if (comments.length < pageSize || startAt + comments.length >= total) return 'absent';
  }
  return 'absent';
}

/**
 * Adds the idempotency property to a comment request the core built.
 * @param {HttpRequest} request @param {string} eventKey @returns {HttpRequest}
 */
export function withEventProperty(request, eventKey) {
  const body = parseJson(request.body ?? '');
  if (!body || typeof body !== 'object') throw new Error('the comment request has no JSON body');
  const properties = Array.isArray(body.properties) ? body.properties : [];
  return { ...request, body: JSON.stringify({ ...body, properties: [...properties, { key: EVENT_PROPERTY, value: { key: eventKey } }] }) };
}

/**
 * Posts an event's comment exactly once: on a retry, first looks for the one already posted.
 * @param {HttpRequest} request @param {string} issueKey @param {string} eventKey @param {boolean} lookFirst
 * @returns {Promise<EffectResult>}
 */
export async function postEventComment(request, issueKey, eventKey, lookFirst) {
  if (lookFirst) {
    const existing = await findEventComment(issueKey, eventKey);
    if (existing === 'found') return 'done';
    if (existing === 'retry') return 'retry';
  }
  const { result, status } = await perform(withEventProperty(request, eventKey));
  if (result === 'dropped') logEvent('effect.dropped', { effect: 'comment', status, issueKey });
  return result;
}

/**
 * Moves the issue along the transition the admin chose for an outcome, if the issue's workflow
 * offers it from where the issue is now.
 * @param {import('./generated/core.js').Outcome} outcome
 * @param {import('./generated/core.js').Settings} settings @param {string} issueKey
 * @returns {Promise<EffectResult>}
 */
export async function applyTransition(outcome, settings, issueKey) {
  const listed = await perform(transitionsRequest(issueKey));
  if (listed.result !== 'done') {
    if (listed.result === 'dropped') logEvent('effect.dropped', { effect: 'transition', status: listed.status, issueKey });
    return listed.result;
  }
  const answer = parseJson(listed.body);
  if (!answer || typeof answer !== 'object') return 'retry';
  const choice = chooseTransition(outcome, settings, issueKey, answer);
  if (choice.kind === 'none') {
    logEvent('effect.transition_skipped', { reason: choice.reason, issueKey, outcome });
    return 'done';
  }
  const moved = await perform(choice.request);
  if (moved.result === 'dropped') logEvent('effect.dropped', { effect: 'transition', status: moved.status, issueKey });
  return moved.result;
}

/**
 * Looks without acting: whether the issue's workflow still offers the transition configured for
 * an outcome from where the issue is now (`offered`), or not (`none`: taken, or not available).
 * @param {Outcome} outcome @param {import('./generated/core.js').Settings} settings @param {string} issueKey
 * @returns {Promise<'offered' | 'none' | 'retry'>}
 */
export async function transitionOffered(outcome, settings, issueKey) {
  const listed = await perform(transitionsRequest(issueKey));
  if (listed.result === 'dropped') return listed.status === 404 ? 'none' : 'retry';
  if (listed.result !== 'done') return 'retry';
  const answer = parseJson(listed.body);
  if (!answer || typeof answer !== 'object') return 'retry';
  return chooseTransition(outcome, settings, issueKey, answer).kind === 'transition' ? 'offered' : 'none';
}

/**
 * Moves the issue for an outcome with the transition id chosen at send time, without looking the
 * transitions up first. When none was chosen for the name configured now, or Jira refuses the id
 * (400, 404, 409: the issue has moved on), falls back to `applyTransition` (look up, choose, post).
 * @param {Outcome} outcome @param {import('./generated/core.js').Settings} settings @param {string} issueKey
 * @param {KnownTransition | undefined} known
 * @returns {Promise<EffectResult>}
 */
export async function applyPlannedTransition(outcome, settings, issueKey, known) {
  const name = settings.transitions[outcome].trim();
  if (!known || name === '' || known.name !== name) return applyTransition(outcome, settings, issueKey);
  const choice = chooseTransition(outcome, settings, issueKey, { transitions: [{ id: known.id, name }] });
  if (choice.kind !== 'transition') return applyTransition(outcome, settings, issueKey);
  const moved = await perform(choice.request);
  if (moved.result === 'dropped' && [400, 404, 409].includes(moved.status)) {
    logEvent('effect.transition_refreshed', { status: moved.status, issueKey, outcome });
    return applyTransition(outcome, settings, issueKey);
  }
  if (moved.result === 'dropped') logEvent('effect.dropped', { effect: 'transition', status: moved.status, issueKey });
  return moved.result;
}
