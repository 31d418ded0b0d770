// Jira look-ups and the effects the core describes (comment, transition, issue property), each
// answered as `done`, `retry` (429, 5xx, timeout: try again later) or `dropped` (Jira refused
// for good, e.g. the issue was deleted: retrying cannot help).
import api, { route } from '@forge/api';
import { chooseTransition, propertyRequest, transitionsRequest } from './core.js';
/** @typedef {import('./store.js').KnownTransition} KnownTransition */
/** @typedef {import('./generated/core.js').Outcome} Outcome */
import { jiraJson } from './access.js';
import { AppError } from './envelope.js';
import { HttpFailure, isRetryableStatus, jiraAsApp, parseJson } from './http.js';
import { logEvent } from './log.js';

/** @typedef {'done' | 'retry' | 'dropped'} EffectResult */
/** @typedef {import('./generated/core.js').HttpRequest} HttpRequest */

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
 * The person to verify: the issue's reporter, or the user in the admin's person field, with the
 * email Jira shows the app. Null when the issue names nobody.
 * @param {import('./generated/core.js').Settings} settings @param {string} issueKey
 * @returns {Promise<{ accountId: string, email: string, name: string } | null>}
 */
export async function personOf(settings, issueKey) {
  const field = settings.personField === '' ? 'reporter' : settings.personField;
  return personFrom(await personField(issueKey, field), field);
}

/**
 * The issue with one user field, as the app sees it (the first half of `personOf`, issued before
 * the settings are known: the reporter unless the admin chose another field).
 * @param {string} issueKey @param {string} field @returns {Promise<any>}
 */
export function personField(issueKey, field) {
  return jiraJson((signal) => api.asApp().requestJira(route`/rest/api/3/issue/${issueKey}?fields=${field}`, { signal }));
}

/**
 * The person in an issue's user field. Jira embeds the user's email in the field when the app may
 * see it; only when it does not is the user looked up.
 * @param {any} issue @param {string} field
 * @returns {Promise<{ accountId: string, email: string, name: string } | null>}
 */
export async function personFrom(issue, field) {
  let user = issue?.fields?.[field];
  if (Array.isArray(user)) user = user[0];
  if (!user || typeof user.accountId !== 'string') return null;
  const accountId = user.accountId;
  const found =
    typeof user.emailAddress === 'string' && user.emailAddress !== ''
      ? user
      : await jiraJson((signal) => api.asApp().requestJira(route`/rest/api/3/user?accountId=${accountId}`, { signal }));
  return {
    accountId: user.accountId,
    email: typeof found?.emailAddress === 'string' ? found.emailAddress : '',
    name: typeof found?.displayName === 'string' ? found.displayName : String(user.displayName ?? ''),
  };
}

/** The calling user's display name. */
export async function myName() {
  const me = await jiraJson((signal) => api.asUser().requestJira(route`/rest/api/3/myself`, { signal }));
  return typeof me?.displayName === 'string' ? me.displayName : '';
}

/** The outcomes a transition may be configured for. @type {Outcome[]} */
const OUTCOMES = ['passed', 'failed', 'manualReview'];

/**
 * At send time: the issue's transitions (one GET), read later by `plannedTransitions`. Best
 * effort: without them, the outcome looks the transition up as before.
 * @param {string} issueKey @returns {Promise<unknown>} Jira's answer, or null
 */
export async function transitionsNow(issueKey) {
  try {
    const listed = await perform(transitionsRequest(issueKey));
    return listed.result === 'done' ? parseJson(listed.body) : null;
  } catch {
    return null;
  }
}

/**
 * The transition id the core picks for each configured outcome, from the issue's transitions.
 * @param {unknown} answer Jira's transitions answer (or null)
 * @param {import('./generated/core.js').Settings} settings @param {string} issueKey
 * @returns {Partial<Record<Outcome, KnownTransition>>}
 */
export function plannedTransitions(answer, settings, issueKey) {
  /** @type {Partial<Record<Outcome, KnownTransition>>} */
  const planned = {};
  if (!answer || typeof answer !== 'object') return planned;
  for (const outcome of OUTCOMES) {
    const name = settings.transitions[outcome].trim();
    if (name === '') continue;
    const choice = chooseTransition(outcome, settings, issueKey, /** @type {any} */ (answer));
    if (choice.kind === 'transition') planned[outcome] = { name, id: choice.id };
  }
  return planned;
}

/**
 * Writes the `incode-verification` issue property (best effort outside webhooks).
 * @param {string} issueKey @param {import('./generated/core.js').Verification} verification
 */
export async function writeProperty(issueKey, verification) {
  const { result, status } = await perform(propertyRequest(issueKey, verification));
  if (result !== 'done') logEvent('effect.property_failed', { status, issueKey });
  return result;
}

/** @param {unknown} error */
export function isJiraUnavailable(error) {
  return error instanceof AppError && error.code === 'jira_unavailable';
}
