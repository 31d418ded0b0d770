// Who is calling. The user, the issue and the request always come from the invocation context
// that Forge signs, never from the payload. Admins: the global ADMINISTER permission. Agents and
// customers (portal) are checked by the core's planners (rust/src/actions/agent.rs, portal.rs),
// from `callerContext`.
import api, { route } from '@forge/api';
import { AppError } from './envelope.js';
import { HttpFailure, jiraSend, parseJson } from './http.js';

/** @typedef {{ id: string, key: string }} IssueRef */

export const forbidden = (/** @type {string} */ message) => new AppError('forbidden', message);
const jiraUnavailable = () => new AppError('jira_unavailable', 'Jira did not answer. Try again in a moment.', { retryable: true });

/** The calling user; anonymous callers are refused. @param {any} context @returns {string} */
export function callerOf(context) {
  const accountId = context?.accountId;
  if (typeof accountId !== 'string' || accountId === '' || context?.accountType === 'anonymous') {
    throw new AppError('unauthenticated', 'Sign in to Jira to use this app.');
  }
  return accountId;
}

/**
 * The caller and the issue or request as the invocation context names them, for a planner to
 * check (rust/src/actions/): never from the payload.
 * @param {any} context
 * @returns {import('./generated/core.js').CallerContext}
 */
export function callerContext(context) {
  const issue = context?.extension?.issue;
  const request = context?.extension?.request;
  return {
    accountId: context?.accountId ?? null,
    accountType: context?.accountType ?? null,
    issueId: issue?.id ?? null,
    issueKey: issue?.key ?? null,
    requestKey: typeof request?.key === 'string' ? request.key : (request?.issueKey ?? null),
  };
}

/**
 * A Jira GET answering parsed JSON; errors become AppErrors.
 * @param {(signal: AbortSignal) => Promise<import('@forge/api').APIResponse>} send
 * @param {{ notFound?: () => AppError }} [handlers]
 */
export async function jiraJson(send, handlers = {}) {
  let answer;
  try {
    answer = await jiraSend(send);
  } catch (error) {
    if (error instanceof HttpFailure) throw jiraUnavailable();
    throw error;
  }
  if (answer.status === 200) {
    const json = parseJson(answer.body);
    if (json !== null) return json;
    throw jiraUnavailable();
  }
  if (answer.status === 429 || answer.status >= 500) throw jiraUnavailable();
  if ((answer.status === 404 || answer.status === 403 || answer.status === 401) && handlers.notFound) throw handlers.notFound();
  throw new AppError('jira_error', `Jira refused the request (HTTP ${answer.status}).`);
}

/** @param {any} answer @param {string} permission */
export const granted = (answer, permission) => answer?.permissions?.[permission]?.havePermission === true;

/** Refuses anyone without the global Administer Jira permission. @param {any} context */
export async function requireAdmin(context) {
  const accountId = callerOf(context);
  const permissions = await jiraJson((signal) => api.asUser().requestJira(route`/rest/api/3/mypermissions?permissions=ADMINISTER`, { signal }));
  if (!granted(permissions, 'ADMINISTER')) throw forbidden('Only Jira admins can change these settings.');
  return { accountId };
}
