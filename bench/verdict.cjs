// What a webhook delivery came to, in words both sides can be held to: the HTTP status, the
// result the reply names, and the outcome whose comment is posted (if any). The core's side is
// its planner's reply and effects (bench/entries/core.js); the baseline's, its receipt and
// decision (bench/entries/baseline.js), answered as the webhook function answers them.
'use strict';

/** @param {{ response: { statusCode: number, body: string }, effects: object[] }} planned */
function planVerdict({ response, effects }) {
  const { result, status } = JSON.parse(response.body);
  // A comment looked for first is a retry's check, not the outcome's comment.
  const posted = effects.some((e) => e.postOutcomeComment && !e.postOutcomeComment.lookFirst);
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

module.exports = { verdictOf, planVerdict, baselineVerdict };
