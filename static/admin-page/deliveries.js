// How the deliveries table draws each webhook delivery: the lozenge's look for its verdict. The
// words (`verdictText`, `reasonText`) are the core's: the log stores the codes the webhook
// answered with.

/** @typedef {import('../shared/status.js').StateDisplay['lozenge']} LozengeLook */

/** @type {Record<string, LozengeLook>} */
const LOOKS = {
  accepted: 'success',
  rejected: 'removed',
  invalid: 'moved',
  error: 'removed',
};

/**
 * The lozenge and the sentence for one delivery.
 * @param {{ verdict: string, reason: string, verdictText?: string, reasonText?: string }} delivery
 * @returns {{ appearance: LozengeLook, verdict: string, reason: string }}
 */
export function describeDelivery({ verdict, reason, verdictText, reasonText }) {
  const test = verdict === 'ignored' && reason === 'test_session';
  return {
    appearance: test ? 'success' : (LOOKS[verdict] ?? 'default'),
    verdict: typeof verdictText === 'string' ? verdictText : '',
    reason: typeof reasonText === 'string' ? reasonText : '',
  };
}
