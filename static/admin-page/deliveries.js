// How the deliveries table draws each webhook delivery: the lozenge's look for its verdict as the
// core shows it (`shownVerdict`: "test" for a test verification). The words (`verdictText`,
// `reasonText`) are the core's: the log stores the codes the webhook answered with.

/** @typedef {import('../shared/status.js').StateDisplay['lozenge']} LozengeLook */

/** @type {Record<string, LozengeLook>} */
const LOOKS = {
  test: 'success',
  accepted: 'success',
  rejected: 'removed',
  invalid: 'moved',
  error: 'removed',
};

/**
 * The lozenge and the sentence for one delivery.
 * @param {{ shownVerdict?: string, verdictText?: string, reasonText?: string }} delivery
 * @returns {{ appearance: LozengeLook, verdict: string, reason: string }}
 */
export function describeDelivery({ shownVerdict, verdictText, reasonText }) {
  return {
    appearance: typeof shownVerdict === 'string' && Object.hasOwn(LOOKS, shownVerdict) ? LOOKS[shownVerdict] : 'default',
    verdict: typeof verdictText === 'string' ? verdictText : '',
    reason: typeof reasonText === 'string' ? reasonText : '',
  };
}
