// Who is calling. The user, the issue and the request always come from the invocation context
// that Forge signs, never from the payload; the core's planners check them (rust/src/actions/
// agent.rs and portal.rs for agents and customers, rust/src/admin/action.rs for Jira admins).

/**
 * The caller and the issue or request as the invocation context names them, for a planner to
 * check: never from the payload.
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
