// What a person should read, and do next, for each error code a resolver (or the bridge) reports.

/**
 * @typedef {{ title: string, message: string, next: 'retry' | 'admin' | 'fix' | 'wait' | 'none',
 *   detail?: string }} Advice
 */

const ADVICE = {
  employee_not_found: {
    title: 'Employee not found in Incode',
    message:
      'This email is not in your Incode employee directory. Check the address with the caller, ' + 'or ask your Incode administrator to enrol the employee.',
    next: 'fix',
  },
  bad_credentials: {
    title: 'Incode rejected the app credentials',
    message: 'Ask a Jira admin to check the Incode credentials (Test credentials on the settings page).',
    next: 'admin',
  },
  incode_unavailable: {
    title: 'Incode is not responding',
    message: 'Incode could not be reached just now. Try again in a minute.',
    next: 'retry',
  },
  rate_limited: {
    title: 'Too many requests',
    message: 'Too many requests in a short time. Try again in a minute.',
    next: 'retry',
  },
  limit_reached: {
    title: 'Sending limit reached',
    message:
      'The hourly limit of verification links for this ticket or for you has been reached. ' +
      'Wait before sending another link, or ask a Jira admin about the limits.',
    next: 'wait',
  },
  validation: {
    title: 'Check the highlighted fields',
    message: 'Some values need to be corrected before this can be sent.',
    next: 'fix',
  },
  setup_required: {
    title: 'Setup required',
    message: 'The app has not been configured yet. Go to Jira Settings → Apps → Incode Verification Settings ' + 'and enter your Incode credentials.',
    next: 'admin',
  },
  forbidden: {
    title: 'Not allowed',
    message: 'You do not have permission to do this. Ask a Jira admin if you think you should.',
    next: 'none',
  },
  not_found: {
    title: 'Not found',
    message: 'This verification no longer exists. Reload the panel.',
    next: 'retry',
  },
  conflict: {
    title: 'Already changed',
    message: 'The verification changed in the meantime. The panel has been refreshed.',
    next: 'retry',
  },
  unreachable: {
    title: 'The app could not be reached',
    message: 'Check your connection and try again.',
    next: 'retry',
  },
  unexpected_answer: {
    title: 'Unexpected answer',
    message: 'The app sent an answer this page does not understand. Reload the page and try again.',
    next: 'retry',
  },
  bad_response: {
    title: 'Incode sent an unexpected answer',
    message: 'Try again in a minute. If it keeps happening, ask a Jira admin to check the Incode environment and base URL.',
    next: 'retry',
  },
  not_configured: {
    title: 'Setup required',
    message: 'The Incode settings are incomplete. Ask a Jira admin to finish them on the settings page.',
    next: 'admin',
  },
  incode_not_found: {
    title: 'Incode endpoint not found',
    message: 'Ask a Jira admin to check the Incode environment, base URL and integration reference.',
    next: 'admin',
  },
  incode_rejected: {
    title: 'Incode refused the request',
    message: 'Check the details below; if they look right, ask a Jira admin to check the Incode integration.',
    next: 'fix',
  },
  invalid_email: {
    title: 'Check the email address',
    message: 'Incode did not accept this email address.',
    next: 'fix',
  },
  invalid_phone: {
    title: 'Check the phone number',
    message: 'Incode did not accept this phone number. Use the international format, or leave it empty.',
    next: 'fix',
  },
  invalid_alternate_email: {
    title: 'Check the alternate email',
    message: 'Incode did not accept the alternate email address.',
    next: 'fix',
  },
  busy: {
    title: 'Busy',
    message: 'Someone else is changing this verification right now. Try again in a moment.',
    next: 'retry',
  },
  storage_unavailable: {
    title: 'Storage did not answer',
    message: 'The app could not reach its storage. Nothing was lost; try again in a moment.',
    next: 'retry',
  },
  saved_in_part: {
    title: 'Saved in part',
    message: 'Only part of this was saved. Save again to finish.',
    next: 'retry',
    // The resolver says which part: its message replaces this one.
    preferRaw: true,
  },
  jira_unavailable: {
    title: 'Jira is not responding',
    message: 'Jira did not answer. Try again in a moment.',
    next: 'retry',
  },
  unauthenticated: {
    title: 'Signed out',
    message: 'Sign in to Jira again, then reload this page.',
    next: 'none',
  },
  bad_context: {
    title: 'Wrong place',
    message: 'Open this page from a Jira issue or portal request.',
    next: 'none',
  },
};

/**
 * What the same codes mean on the settings page, where the reader is the Jira admin: "ask a Jira
 * admin" would send them to themselves.
 */
const ADMIN_ADVICE = {
  bad_credentials: {
    message: 'Incode did not accept these credentials. Check the API key, client ID and client secret, and that the environment matches your Incode account.',
    next: 'fix',
  },
  setup_required: {
    message: 'Enter and save the Incode credentials first, then try again.',
    next: 'fix',
    // The resolver names exactly what is missing: its message replaces this one.
    preferRaw: true,
  },
  not_configured: {
    message: 'Finish and save the Incode settings first, then try again.',
    next: 'fix',
  },
  incode_not_found: {
    message: 'Check the environment, the base URL override and the integration reference.',
    next: 'fix',
  },
  incode_rejected: {
    message: 'Check the details below and the integration in your Incode dashboard.',
    next: 'fix',
  },
  bad_response: {
    message: 'Check the environment and the base URL override, then try again in a minute.',
    next: 'retry',
  },
  limit_reached: {
    message: 'The hourly limit of verification links has been reached. Wait, or raise the limits below.',
    next: 'wait',
  },
  conflict: {
    message: 'Someone else saved these settings after this page was loaded. Reload the page to see their changes.',
    next: 'none',
    // The resolver says what to do: its message replaces this one.
    preferRaw: true,
  },
};

/** Error codes that are about one field of the send form. */
export const FIELD_OF_CODE = {
  employee_not_found: 'email',
  invalid_email: 'email',
  invalid_phone: 'phone',
  invalid_alternate_email: 'alternateEmail',
};

/**
 * The advice for an error `{ code, message }`. Known codes get a fixed explanation (the resolver's
 * own message is kept as `detail` when it says something different); anything else shows the
 * resolver's message as is. `audience: 'admin'` words it for the Jira admin on the settings page.
 * @param {any} error @param {{ audience?: 'agent' | 'admin' }} [options]
 * @returns {Advice}
 */
export function adviceFor(error, { audience = 'agent' } = {}) {
  const code = error && typeof error.code === 'string' ? error.code : '';
  const raw = error && typeof error.message === 'string' ? error.message.trim() : '';
  const known = ADVICE[code] && audience === 'admin' && ADMIN_ADVICE[code] ? { ...ADVICE[code], ...ADMIN_ADVICE[code] } : ADVICE[code];
  if (!known) {
    return { title: 'Something went wrong', message: raw || 'Something went wrong. Try again.', next: 'retry' };
  }
  const { preferRaw, ...advice } = known;
  if (preferRaw && raw) return { ...advice, message: raw };
  // Field errors speak for themselves next to their fields; without them, the message is all.
  const hasFields = Array.isArray(error.fields) && error.fields.length > 0;
  if (raw && raw !== known.message && !(code === 'validation' && hasFields)) advice.detail = raw;
  return advice;
}

/** True when simply trying again later may succeed (the resolver's own `retryable` wins). */
export function isRetryable(error) {
  if (error && typeof error.retryable === 'boolean') return error.retryable;
  return ['retry', 'wait'].includes(adviceFor(error).next);
}
