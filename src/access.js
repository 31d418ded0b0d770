// Who is calling. The user, the issue and the request always come from the invocation context
// that Forge signs, never from the payload. Agents: may browse and comment on the issue and, when
// the admin named agent groups, belong to one. Admins: the global ADMINISTER permission. Customers
// (portal): the reporter of the request.
import api, { route } from '@forge/api';
import { AppError } from './envelope.js';
import { HttpFailure, jiraSend, parseJson } from './http.js';

/** @typedef {{ id: string, key: string }} IssueRef */

const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-[1-9][0-9]*$/;
const ISSUE_ID = /^[0-9]{1,18}$/;

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

/** The issue the panel is open on. @param {any} context @returns {IssueRef} */
export function issueOf(context) {
  const issue = context?.extension?.issue;
  const id = issue?.id === undefined ? '' : String(issue.id);
  const key = typeof issue?.key === 'string' ? issue.key : '';
  if (!ISSUE_ID.test(id) || !ISSUE_KEY.test(key)) {
    throw new AppError('bad_context', 'Open this panel from a Jira issue.');
  }
  return { id, key };
}

/** The request a portal panel is open on (its key). @param {any} context @returns {string} */
export function requestKeyOf(context) {
  const request = context?.extension?.request;
  const key = typeof request?.key === 'string' ? request.key : typeof request?.issueKey === 'string' ? request.issueKey : '';
  if (!ISSUE_KEY.test(key)) throw new AppError('bad_context', 'Open this panel from a request on the portal.');
  return key;
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

/**
 * Refuses anyone but the reporter of the portal request.
 * @param {any} context @returns {Promise<{ accountId: string, issue: IssueRef }>}
 */
export async function requireRequester(context) {
  const accountId = callerOf(context);
  const key = requestKeyOf(context);
  const notYours = () => forbidden('This request is not yours.');
  const issue = await jiraJson((signal) => api.asApp().requestJira(route`/rest/api/3/issue/${key}?fields=reporter`, { signal }), { notFound: notYours });
  const id = issue?.id === undefined ? '' : String(issue.id);
  if (issue?.fields?.reporter?.accountId !== accountId || !ISSUE_ID.test(id)) throw notYours();
  return { accountId, issue: { id, key } };
}
