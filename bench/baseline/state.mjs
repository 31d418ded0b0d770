// The verification lifecycle in the baseline: what an accepted event does to a verification and
// which effects follow (comment, transition name, issue property, realtime message), with the
// rules of rust/src/state.rs and the requests of rust/src/jira.rs.
import { formatUtc, isControl, isoUtc, isPrintableAscii, toInteger, trim } from './text.mjs';

const MAX_APPLIED_EVENTS = 50;
const MAX_CAUSE_CHARS = 120;
const MAX_LATE_RESULTS = 5;
/** The outcome a result event reports (steps report none). */
const RESULT_OF = { succeeded: 'passed', reviewApproved: 'passed', failed: 'failed', reviewRejected: 'failed', pendingReview: 'manualReview' };
const REALTIME_CHANNEL_PREFIX = 'incode-verification:';
const PROPERTY_KEY = 'incode-verification';

const LABELS = {
  requested: 'Requested',
  inProgress: 'In Progress',
  passed: 'Success',
  failed: 'Failed',
  manualReview: 'Pending Review',
  expired: 'Expired',
  cancelled: 'Cancelled',
};
const FINAL = new Set(['passed', 'failed', 'cancelled']);
const OUTCOME_OF = { passed: 'passed', failed: 'failed', manualReview: 'manualReview' };
const WORDS = { passed: 'passed', failed: 'failed', manualReview: 'manual review' };

/** `"Success - 2026-11-22 10:00:00 UTC"`. @param {string} status @param {number} atMs */
export function statusText(status, atMs) {
  const label = LABELS[status];
  if (label === undefined) throw Object.assign(new Error(`status has the wrong shape: ${status}`), { code: 'bad_input' });
  return `${label} - ${formatUtc(toInteger(atMs))} UTC`;
}

/** The state's one name, where no history is at hand (the issue property). */
const STATUS_NAMES = {
  requested: 'Link sent',
  inProgress: 'In progress',
  passed: 'Passed',
  failed: 'Failed',
  manualReview: 'Pending review',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

/** The first line of the comment on a reviewer's decision. */
const REVIEW_LINES = {
  reviewRejected: "A reviewer rejected this verification in Incode's manual review.",
  reviewApproved: "A reviewer approved this verification in Incode's manual review.",
};

/** Control characters dropped, trimmed, at most `max` code points. */
function clean(text, max) {
  if (isPrintableAscii(text)) {
    const trimmed = trim(text);
    return trimmed.length > max ? trimmed.slice(0, max) : trimmed;
  }
  let kept = '';
  for (const ch of text) if (!isControl(ch.codePointAt(0))) kept += ch;
  kept = trim(kept);
  let out = '';
  let n = 0;
  for (const ch of kept) {
    if (n === max) break;
    out += ch;
    n += 1;
  }
  return out;
}

/** The record's own fields (a stored record may carry more). */
function copyVerification(v) {
  return {
    id: v.id,
    sessionId: v.sessionId,
    issueKey: v.issueKey,
    issueId: v.issueId,
    email: v.email,
    name: v.name,
    delivery: v.delivery,
    destination: v.destination,
    requestedBy: v.requestedBy,
    requestedByName: v.requestedByName,
    requestedAtMs: v.requestedAtMs,
    expiresAtMs: v.expiresAtMs,
    status: v.status,
    statusText: v.statusText,
    updatedAtMs: v.updatedAtMs,
    identityId: v.identityId,
    history: v.history.map((h) => ({ status: h.status, atMs: h.atMs, cause: h.cause })),
    appliedEvents: v.appliedEvents.slice(),
    // As serde writes it: absent when empty.
    ...(v.lateResults?.length ? { lateResults: v.lateResults.map((l) => ({ ...l })) } : {}),
  };
}

function nextStatus(current, kind) {
  switch (kind) {
    case 'started':
    case 'progress':
      return current === 'requested' || current === 'expired' ? 'inProgress' : null;
    case 'succeeded':
    case 'reviewApproved':
      return 'passed';
    case 'failed':
    case 'reviewRejected':
      return 'failed';
    case 'pendingReview':
      return 'manualReview';
    case 'identityEnrolled':
      return current;
    default:
      throw Object.assign(new Error(`event has the wrong shape: ${kind}`), { code: 'bad_input' });
  }
}

/**
 * Applies one authenticated event to the verification of its session.
 * @param {object} v the stored verification
 * @param {object} event the parsed event
 * @param {object} settings
 * @param {import('./template.mjs').CompiledTemplates} templates
 * @param {number} nowMsInput
 */
export function applyEvent(v, event, settings, templates, nowMsInput) {
  const nowMs = toInteger(nowMsInput);
  const ignored = (reason) => ({ kind: 'ignored', reason, verification: copyVerification(v) });
  if (event.sessionId !== v.sessionId) return ignored('notApplicable');
  const hint = event.loginHint.trim();
  if (hint !== '' && hint.toLowerCase() !== v.email.trim().toLowerCase()) {
    return { kind: 'refused', reason: 'loginHintMismatch', verification: copyVerification(v) };
  }
  const key = `${v.sessionId}:${event.type}`;
  if (v.appliedEvents.includes(key)) return ignored('duplicate');
  const late = v.status === 'cancelled' ? 'afterCancel' : v.status === 'expired' || (v.status === 'requested' && nowMs >= v.expiresAtMs) ? 'afterExpiry' : null;
  if (late !== null) {
    const outcome = RESULT_OF[event.type];
    if (outcome === undefined) return ignored(late === 'afterCancel' ? 'afterFinal' : 'afterExpiry');
    const next = copyVerification(v);
    const cause = clean(event.rawType, MAX_CAUSE_CHARS);
    next.lateResults = [...(next.lateResults ?? []), { outcome, event: cause === '' ? event.type : cause, reason: late, atMs: nowMs }].slice(-MAX_LATE_RESULTS);
    next.appliedEvents.push(key);
    if (next.appliedEvents.length > MAX_APPLIED_EVENTS) next.appliedEvents.splice(0, next.appliedEvents.length - MAX_APPLIED_EVENTS);
    return { kind: 'late', idempotencyKey: key, reason: late, verification: next };
  }
  const enrolmentAfterPass = event.type === 'identityEnrolled' && v.status === 'passed' && v.identityId === '';
  if (FINAL.has(v.status) && !enrolmentAfterPass) return ignored('afterFinal');
  const status = nextStatus(v.status, event.type);
  if (status === null) return ignored('progress');

  const next = copyVerification(v);
  const changed = status !== v.status;
  if (changed) {
    next.status = status;
    next.statusText = statusText(status, nowMs);
  }
  next.updatedAtMs = nowMs;
  const identityId = clean(event.identityId, 200);
  if (identityId !== '') next.identityId = identityId;
  const cause = clean(event.rawType, MAX_CAUSE_CHARS);
  next.history.push({ status, atMs: nowMs, cause: cause === '' ? event.type : cause });
  next.appliedEvents.push(key);
  if (next.appliedEvents.length > MAX_APPLIED_EVENTS) {
    next.appliedEvents.splice(0, next.appliedEvents.length - MAX_APPLIED_EVENTS);
  }

  const outcome = changed ? (OUTCOME_OF[status] ?? null) : null;
  let comment = null;
  let transitionName = null;
  if (outcome !== null) {
    let adf = renderComment(next, outcome, templates, nowMs);
    const review = REVIEW_LINES[event.type];
    if (review) adf = { ...adf, content: [{ type: 'paragraph', content: [{ type: 'text', text: review, marks: [{ type: 'strong' }] }] }, ...adf.content] };
    comment = commentRequest(next.issueKey, adf, settings.commentVisibility);
    const name = trim(settings.transitions[outcome]);
    if (name !== '') transitionName = name;
  }
  return {
    kind: 'applied',
    idempotencyKey: key,
    verification: next,
    actions: {
      outcome,
      comment,
      transitionName,
      property: propertyRequest(next.issueKey, next),
      realtime: realtimeMessage(next),
    },
  };
}

/** The template variables of a verification's comment. */
export function templateVars(v, outcome, nowMs) {
  return {
    name: v.name,
    email: v.email,
    identityId: v.identityId,
    sessionId: v.sessionId,
    outcome: WORDS[outcome],
    agent: v.requestedByName,
    issueKey: v.issueKey,
    time: `${formatUtc(nowMs)} UTC`,
    delivery: v.delivery === 'SMS' ? 'SMS' : 'email',
    status: v.statusText,
  };
}

/** The outcome comment, or a plain line carrying the verdict should the template fail. */
function renderComment(v, outcome, templates, nowMs) {
  const rendered = templates.render(outcome, templateVars(v, outcome, nowMs));
  if (rendered.ok) return rendered.value;
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: fallbackComment(v, outcome) }] }] };
}

function fallbackComment(v, outcome) {
  const verdict = {
    passed: 'Incode identity verification passed',
    failed: 'Incode identity verification failed: do not proceed',
    manualReview: 'Incode identity verification needs manual review: do not proceed until it is complete',
  }[outcome];
  let text = `${verdict}. ${v.statusText} Session ID: ${clean(v.sessionId, 200)}.`;
  const identity = clean(v.identityId, 200);
  if (identity !== '') text += ` Identity ID: ${identity}.`;
  return text;
}

function realtimeMessage(v) {
  return {
    channel: REALTIME_CHANNEL_PREFIX + v.issueId,
    payload: JSON.stringify({
      verificationId: v.id,
      sessionId: v.sessionId,
      status: v.status,
      statusText: v.statusText,
      updatedAtMs: v.updatedAtMs,
    }),
  };
}

/** The verification marked expired when its link was never opened in time; null otherwise. */
export function expireIfDue(v, nowMsInput) {
  const nowMs = toInteger(nowMsInput);
  if (v.status !== 'requested' || nowMs < v.expiresAtMs) return null;
  const next = copyVerification(v);
  next.status = 'expired';
  next.statusText = statusText('expired', v.expiresAtMs);
  next.updatedAtMs = Math.max(v.updatedAtMs, v.expiresAtMs);
  next.history.push({ status: 'expired', atMs: v.expiresAtMs, cause: 'link expired' });
  return next;
}

/** The verification cancelled by an agent; `already_final` once it has a final status. */
export function cancelVerification(v, nowMsInput, by) {
  const nowMs = toInteger(nowMsInput);
  if (FINAL.has(v.status)) {
    return {
      ok: false,
      error: {
        code: 'already_final',
        message: `This verification already ended (${v.statusText}); it can no longer be cancelled.`,
        retryable: false,
      },
    };
  }
  const who = clean(by, 100);
  const next = copyVerification(v);
  next.status = 'cancelled';
  next.statusText = statusText('cancelled', nowMs);
  next.updatedAtMs = nowMs;
  next.history.push({ status: 'cancelled', atMs: nowMs, cause: `cancelled by ${who === '' ? 'agent' : who}` });
  return { ok: true, value: next };
}

// ---------------------------------------------------------------------------------------------
// Jira requests

/** One path segment, percent-encoded so that it can never add, remove or climb a segment. */
function encodeSegment(segment) {
  if (segment === '') return '%20';
  if (/^[A-Za-z0-9_~-]+$/.test(segment)) return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ok = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte === 45 || byte === 95 || byte === 126;
    out += ok ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function jiraRequest(method, path, body) {
  const headers = body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' };
  return body === undefined ? { method, path, headers } : { method, path, headers, body };
}

function commentRequest(issueKey, adf, visibility) {
  const body = JSON.stringify({
    body: adf,
    properties: [{ key: 'sd.public.comment', value: { internal: visibility === 'internal' } }],
  });
  return jiraRequest('POST', `/rest/api/3/issue/${encodeSegment(issueKey)}/comment`, body);
}

function propertyRequest(issueKey, v) {
  const body = JSON.stringify({
    status: v.status,
    statusName: STATUS_NAMES[v.status],
    statusText: v.statusText,
    updatedAt: isoUtc(v.updatedAtMs),
    sessionId: v.sessionId,
    identityId: v.identityId,
    delivery: v.delivery,
  });
  return jiraRequest('PUT', `/rest/api/3/issue/${encodeSegment(issueKey)}/properties/${PROPERTY_KEY}`, body);
}
