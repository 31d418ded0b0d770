// What the deliveries table says about each webhook delivery: the verdict, and its reason in the
// core's words (`reasonText`: the log stores the codes the webhook answered with).

/** @typedef {import('../shared/status.js').StateDisplay['lozenge']} LozengeLook */

/** @type {Record<string, [LozengeLook, string]>} */
const VERDICTS = {
  accepted: ['success', 'Accepted'],
  duplicate: ['default', 'Repeat'],
  ignored: ['default', 'Ignored'],
  rejected: ['removed', 'Rejected'],
  invalid: ['moved', 'Unreadable'],
  error: ['removed', 'Failed'],
};

/** "some_code" or "someCode" → "Some code", for a code this page does not know yet. */
function spelled(code) {
  const words = code
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The lozenge and the sentence for one delivery.
 * @param {{ verdict: string, reason: string, reasonText?: string }} delivery
 * @returns {{ appearance: LozengeLook, verdict: string, reason: string }}
 */
export function describeDelivery({ verdict, reason, reasonText }) {
  const words = typeof reasonText === 'string' ? reasonText : '';
  if (verdict === 'ignored' && reason === 'test_session') {
    return { appearance: 'success', verdict: 'Test', reason: words };
  }
  const [appearance, word] = VERDICTS[verdict] ?? ['default', spelled(String(verdict ?? 'unknown'))];
  return { appearance, verdict: word, reason: words };
}
