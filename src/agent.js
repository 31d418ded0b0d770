// Who may work the issue panel: an agent of the issue (Browse and Add Comments, a licensed
// account), and whether the admin's agent groups let them send or only see. Apart from
// `access.js` because the decision is the console module's, which the webhooks and the portal
// panel must not carry.
import api, { route } from '@forge/api';
import { callerOf, forbidden, granted, issueOf, jiraJson } from './access.js';
import { agentAccess } from './console.js';

/** @typedef {import('./access.js').IssueRef} IssueRef */

/**
 * Refuses anyone who is not an agent of this issue. Also tells whether the agent is a Jira admin
 * (one permission check answers both). The settings may still be loading: the permission check
 * runs meanwhile, and the group look-up (only when the admin named agent groups) after.
 * @template {{ settings: import('./generated/core.js').Settings }} S
 * An agent outside the agent groups may still see (`seeOnly`, the panel's state: whether the caller
 * was verified is what the ticket is about); every action refuses them.
 * @param {any} context
 * @param {Promise<S>} loading the settings record
 * @param {{ seeOnly?: boolean }} [options]
 * @returns {Promise<{ accountId: string, issue: IssueRef, isAdmin: boolean, record: S, access: import('./generated/core.js').AgentAccess }>}
 */
export async function requireAgent(context, loading, { seeOnly = false } = {}) {
  // A refusal below must not leave the load's failure unhandled.
  loading.catch(() => {});
  const accountId = callerOf(context);
  const issue = issueOf(context);
  // NOTE: JSM customers hold Browse and Add Comments on their own requests through the portal
  // role; the account type that Forge puts in the context tells them apart from agents.
  if (context.accountType !== undefined && context.accountType !== 'licensed') {
    throw forbidden('Only service desk agents can send identity verifications.');
  }
  const notVisible = () => forbidden('You cannot work on this issue.');
  const [permissions, record] = await Promise.all([
    jiraJson(
      (signal) =>
        api.asUser().requestJira(route`/rest/api/3/mypermissions?issueKey=${issue.key}&permissions=BROWSE_PROJECTS,ADD_COMMENTS,ADMINISTER`, { signal }),
      { notFound: notVisible },
    ),
    loading,
  ]);
  if (!granted(permissions, 'BROWSE_PROJECTS') || !granted(permissions, 'ADD_COMMENTS')) throw notVisible();
  const agentGroups = record.settings.agentGroups;
  /** @type {string[]} */
  let memberOf = [];
  if (agentGroups.length > 0) {
    const groups = await jiraJson((signal) => api.asApp().requestJira(route`/rest/api/3/user/groups?accountId=${accountId}`, { signal }), {
      notFound: notVisible,
    });
    memberOf = Array.isArray(groups) ? groups.map((g) => g?.name).filter((name) => typeof name === 'string') : [];
  }
  const access = agentAccess(agentGroups, memberOf);
  if (!access.maySend && !seeOnly) throw forbidden(access.reason ?? 'Only members of the agent groups chosen by your Jira admin can send verification links.');
  return { accountId, issue, isAdmin: granted(permissions, 'ADMINISTER'), record, access };
}
