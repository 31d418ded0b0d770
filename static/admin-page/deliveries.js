// What the deliveries table says about each webhook delivery: the verdict and its reason in
// plain words (the log stores the codes the webhook answered with).

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

/** Accepted deliveries carry the event they applied. */
const APPLIED = {
  started: 'The employee opened the link',
  progress: 'The employee is going through the verification',
  succeeded: 'Verification passed',
  failed: 'Verification failed',
  pendingReview: 'Sent to manual review',
  identityEnrolled: 'Identity enrolled at Incode',
  reviewApproved: 'Manual review approved',
  reviewRejected: 'Manual review rejected',
};

const REASONS = {
  // Ignored or repeated
  test_session: 'Test verification received ✓ (no ticket is changed)',
  unknown_session: 'No verification sent from Jira has this session',
  duplicate: 'Already applied: Incode sent this event again',
  afterFinal: 'The verification already had its final result',
  progress: 'Progress that changes nothing',
  notApplicable: 'The event belongs to another session',
  unknown_event: 'An event the app does not use',
  // Refused before reading: the delivery could not be authenticated
  not_configured: 'No webhook secret is saved, so nothing can be authenticated',
  missing_signature: 'The signature header is missing',
  malformed_signature: 'The signature is not in the expected encoding',
  bad_signature: 'The signature does not match the webhook secret',
  missing_timestamp: 'The timestamp header is missing',
  stale_timestamp: 'The timestamp is too old (or too far ahead)',
  missing_secret_header: 'The secret header is missing',
  bad_secret: 'The secret does not match the webhook secret',
  missing_token: 'No bearer token was sent',
  bad_token: 'The bearer token is not one the app issued',
  token_expired: 'The bearer token has expired',
  // Authenticated but unreadable
  malformed_json: 'The body is not JSON',
  too_large: 'The body is too large',
  missing_event: 'The body names no event',
  missing_session: 'The body names no session',
  unresolved_result: 'The result could not be read from the event',
  // Failed on the app's side (Incode retries)
  storage_unavailable: 'Storage was unavailable; Incode will retry',
  effects_pending: 'Jira updates still pending; Incode will retry',
  busy: 'Another delivery of this session was being handled; Incode will retry',
  // Refused or kept aside for the verification's safety
  loginHintMismatch: 'Refused: the event names another person than the verification. Nothing was applied.',
  afterCancel: 'A result arrived after the agent cancelled. Kept on the verification, not applied.',
  afterExpiry: 'Arrived after the link expired. Kept on the verification (a result) or ignored (a step), not applied.',
  weak_secret: 'Refused: the stored webhook secret is too weak. Set a new one of at least 16 characters.',
  too_many_failures: 'Refused without checking: too many failed authentications, retry later.',
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
 * @param {{ verdict: string, reason: string }} delivery
 * @returns {{ appearance: LozengeLook, verdict: string, reason: string }}
 */
export function describeDelivery({ verdict, reason }) {
  const code = typeof reason === 'string' ? reason : '';
  if (verdict === 'ignored' && code === 'test_session') {
    return { appearance: 'success', verdict: 'Test', reason: REASONS.test_session };
  }
  const [appearance, word] = VERDICTS[verdict] ?? ['default', spelled(String(verdict ?? 'unknown'))];
  const words = code === '' ? '' : verdict === 'accepted' ? (APPLIED[code] ?? spelled(code)) : (REASONS[code] ?? spelled(code));
  return { appearance, verdict: word, reason: words };
}
