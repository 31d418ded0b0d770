// What a webhook delivery came to, in words both sides can be held to: the HTTP status, the
// result the reply names, and the outcome whose comment is posted (if any). The core's side is
// its planner's reply and its effects' first calls (bench/entries/core.js); the baseline's, its receipt and
// decision (bench/entries/baseline.js), answered as the webhook function answers them.
'use strict';

/** The comment property the effects adapter adds to the planned comment (its idempotency key). */
const EVENT_PROPERTY = 'incode-verification-event';

/**
 * The outcome comment's request among the first calls of a plan's effects (`effectBegin`), if one
 * posts it (a comment looked for first, a retry's check, begins with a GET instead), as the
 * planner wrote it: without the event property the adapter adds.
 * @param {object[]} begun @returns {{ method: string, path: string, body: string } | undefined}
 */
function postedComment(begun) {
  const post = begun.find((p) => p.next === 'call' && p.call.via === 'jiraAsApp' && p.call.request.method === 'POST' && /\/comment$/.test(p.call.request.path));
  if (!post) return undefined;
  const body = JSON.parse(post.call.request.body);
  body.properties = body.properties.filter((p) => p.key !== EVENT_PROPERTY);
  return { ...post.call.request, body: JSON.stringify(body) };
}

/** @param {{ response: { statusCode: number, body: string }, effects: object[] }} planned */
function planVerdict({ response, effects }) {
  const { result, status } = JSON.parse(response.body);
  const posted = postedComment(effects) !== undefined;
  return `${response.statusCode} ${result}${posted ? ` comment:${status}` : ''}`;
}

/** @param {{ receipt: { kind: string, status?: number }, decision: null | { kind: string, reason?: string, actions?: { outcome: string | null } } }} decided */
function baselineVerdict({ receipt, decision }) {
  if (receipt.kind !== 'event') return `${receipt.status} ${receipt.kind}`;
  switch (decision.kind) {
    case 'refused':
      return '200 rejected';
    case 'ignored':
      return decision.reason === 'duplicate' ? '200 duplicate' : '200 ignored';
    case 'late':
      return '200 ignored';
    case 'applied':
      return `200 accepted${decision.actions.outcome ? ` comment:${decision.actions.outcome}` : ''}`;
    default:
      throw new Error(`unknown decision ${decision.kind}`);
  }
}

/** Either side's answer to `decide`, as its verdict. */
function verdictOf(answer) {
  return answer.response ? planVerdict(answer) : baselineVerdict(answer);
}

module.exports = { verdictOf, planVerdict, baselineVerdict, postedComment };
