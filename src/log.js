// Log lines carry codes and identifiers only. Payloads, headers, bodies, emails, phone numbers,
// tokens and secrets never reach a log line: every field is checked against an allow-list of
// names and a shape that no secret or address can take.
const ALLOWED_FIELDS = new Set([
  'resolver',
  'code',
  'reason',
  'status',
  'verdict',
  'eventType',
  'sessionId',
  'issueId',
  'issueKey',
  'verificationId',
  'effect',
  'attempt',
  'count',
  'outcome',
  'transition',
  'accounts',
  'closed',
]);
const SAFE_VALUE = /^[A-Za-z0-9 _.:#/-]{0,120}$/;

/**
 * @param {string} event dotted event name (`webhook.accepted`)
 * @param {Record<string, string | number | boolean | null | undefined>} [fields]
 */
export function logEvent(event, fields = {}) {
  /** @type {Record<string, string | number | boolean>} */
  const line = { event };
  for (const [name, value] of Object.entries(fields)) {
    if (!ALLOWED_FIELDS.has(name) || value === undefined || value === null) continue;
    if (typeof value === 'number' || typeof value === 'boolean') line[name] = value;
    else if (typeof value === 'string' && SAFE_VALUE.test(value) && !value.includes('@')) line[name] = value;
    else line[name] = '[redacted]';
  }
  console.log(JSON.stringify(line));
}
