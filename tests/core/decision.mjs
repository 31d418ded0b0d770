// The event decision on its own, as the webhook function made it before its planner: the tests
// of the JSON-text crossing and the vectors run it against the bundled console module, which
// holds `Core` (rust/src/binding/shared_api.rs). No function imports this file.

const NOT_ASCII = /[^\x00-\x7f]/;

/** Each Core's `webhookHeaders`, read once. @type {WeakMap<import('../../src/generated/console.js').Core, Set<string>>} */
const wantedHeaders = new WeakMap();

/**
 * Authenticates and parses one delivery with `core`'s settings (`Core#receiveWebhook`), passing
 * only the headers its authentication reads: a Forge delivery carries a dozen others, and writing
 * them all as JSON for the core cost more than the HMAC of a small body. The core matches the
 * names again. On an ASCII name, `trim` and `toLowerCase` here do what the core's trim and ASCII
 * case folding do; a name with any other character (JS and Rust trim different whitespace) is
 * passed as it is, for the core to decide.
 * @param {import('../../src/generated/console.js').Core} core
 * @param {import('../../src/generated/console.js').DeliveryInput} delivery
 * @returns {import('../../src/generated/console.js').WebhookReceipt}
 */
export function receiveDelivery(core, { secret, headers, body, nowMs }) {
  let wanted = wantedHeaders.get(core);
  if (!wanted) wantedHeaders.set(core, (wanted = new Set(core.webhookHeaders)));
  /** @type {Record<string, string[] | string>} */
  const picked = {};
  for (const name of Object.keys(headers ?? {})) {
    if (wanted.has(name.trim().toLowerCase()) || NOT_ASCII.test(name)) picked[name] = headers[name];
  }
  return core.receiveWebhook({ secret, headers: picked, body, nowMs });
}

/**
 * One accepted event applied to its verification (`Core#decideEvent`), the new record put
 * together here. The core reads only the fields of the record an event decision needs
 * (`EventRecord`, picked here) and answers only what the event changes, so the record's history
 * and the rest are neither written out as JSON for the core nor parsed back from its answer
 * (they were most of a decision's JSON). An ignored event leaves the record as it was: the
 * same object is answered.
 * @param {import('../../src/generated/console.js').Core} core
 * @param {import('../../src/generated/console.js').Verification} verification
 * @param {import('../../src/generated/console.js').IncodeEvent} event
 * @param {number} nowMs
 * @returns {import('../../src/generated/console.js').EventDecision}
 */
export function applyEvent(core, verification, event, nowMs) {
  if (!Array.isArray(verification?.history)) {
    throw Object.assign(new Error('verification has the wrong shape: history: expected an array'), { code: 'bad_input' });
  }
  const {
    id,
    sessionId,
    issueKey,
    issueId,
    email,
    name,
    delivery,
    requestedByName,
    status,
    statusText,
    identityId,
    appliedEvents,
    expiresAtMs,
    lateResults = [],
  } = verification;
  /** @type {import('../../src/generated/console.js').EventRecord} */
  const record = {
    id,
    sessionId,
    issueKey,
    issueId,
    email,
    name,
    delivery,
    requestedByName,
    status,
    statusText,
    identityId,
    appliedEvents,
    expiresAtMs,
    lateResults,
  };
  const answer = core.decideEvent(record, event, nowMs);
  const first = answer[0];
  if (first.kind === 'ignored') return { kind: 'ignored', reason: first.reason, verification };
  if (first.kind === 'refused') return { kind: 'refused', reason: first.reason, verification };
  if (first.kind === 'late') {
    return {
      kind: 'late',
      idempotencyKey: first.idempotencyKey,
      reason: first.late.reason,
      verification: {
        ...verification,
        lateResults: [...lateResults.slice(first.lateResultsDropped), first.late],
        appliedEvents: [...appliedEvents.slice(first.appliedEventsDropped), first.idempotencyKey],
      },
    };
  }
  const [decided, commentBody, propertyBody, payload] = /** @type {import('../../src/generated/console.js').DecidedApplied} */ (answer);
  if (decided.actions.comment && commentBody !== null) decided.actions.comment.body = commentBody;
  decided.actions.property.body = propertyBody;
  decided.actions.realtime.payload = payload;
  const { change, idempotencyKey } = decided;
  return {
    kind: 'applied',
    idempotencyKey,
    verification: {
      ...verification,
      status: change.status,
      statusText: change.statusText,
      updatedAtMs: change.updatedAtMs,
      identityId: change.identityId,
      history: [...verification.history, change.historyEntry],
      appliedEvents: [...appliedEvents.slice(change.appliedEventsDropped), idempotencyKey],
    },
    actions: decided.actions,
  };
}
