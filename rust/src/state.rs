//! The verification lifecycle: the record of a sent link, what each accepted webhook event does
//! to it, expiry and cancellation, and the timestamped status text agents see.
//!
//! ```text
//! requested                  --started / progress------->  inProgress
//! any status not final       --pendingReview------------>  manualReview
//! any status not final       --succeeded / reviewApproved->  passed
//! any status not final       --failed / reviewRejected--->  failed
//! requested, link not opened in time ------------------->  expired
//! any status not final       --cancelled by an agent---->  cancelled
//! ```
//! `passed`, `failed` and `cancelled` are final. Events are applied at most once each: the
//! idempotency key `"{sessionId}:{eventType}"` is kept on the record.
//!
//! Nothing opens after a cancel or an expiry: the agent stopped trusting that link, and a pass
//! must not reach a ticket nobody is watching for it. A result that arrives then (or for a
//! `requested` link past its expiry) is kept on the record as a `LateResult`, with no comment,
//! transition or status change; the agent sends a new link. An event whose `loginHint` names
//! someone other than the verification's email is refused.

use serde::{Deserialize, Serialize};

use crate::incode::{normalize_email, normalize_phone, StartedSession};
use crate::jira;
use crate::model::{
    CoreError, Delivery, EventRecord, HistoryEntry, HttpRequest, IncodeEvent, IncodeEventType,
    LateReason, LateResult, Outcome, Settings, Shown, Verification, VerificationStatus,
};
use crate::template::{AdfDoc, AdfNode, CompiledTemplates, TemplateVars};

/// Idempotency keys kept on a record; older ones drop off (a session sends far fewer kinds).
pub const MAX_APPLIED_EVENTS: usize = 50;
/// Late results kept on a record; older ones drop off.
pub const MAX_LATE_RESULTS: usize = 5;
/// Link validity bounds, in minutes (as sent to Incode).
const MIN_LINK_MINUTES: u32 = 5;
const MAX_LINK_MINUTES: u32 = 60;
/// History causes are cut to this many characters.
const MAX_CAUSE_CHARS: usize = 120;
/// The realtime channel prefix; the issue id follows.
pub const REALTIME_CHANNEL_PREFIX: &str = "incode-verification:";

/// What the panel knows once Incode has accepted a start request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct NewVerificationInput {
    pub id: String,
    pub session: StartedSession,
    pub issue_key: String,
    pub issue_id: String,
    pub email: String,
    pub name: String,
    pub delivery: Delivery,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub alternate_email: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub now_ms: i64,
    pub link_expiry_minutes: u32,
}

/// Why an event changed nothing.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum IgnoreReason {
    /// This event was already applied (Incode retries deliveries).
    Duplicate,
    /// The verification already has its final status.
    AfterFinal,
    /// A progress event that moves nothing (the session is already under way).
    Progress,
    /// The event belongs to another session.
    NotApplicable,
    /// A step (not a result) for a link that has expired.
    AfterExpiry,
}

/// Why an authenticated event was refused.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum RefuseReason {
    /// The event's `loginHint` names another person than the verification's email.
    LoginHintMismatch,
}

/// A message for the open issue panel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RealtimeMessage {
    pub channel: String,
    /// A JSON string: `{ verificationId, sessionId, status, statusText, updatedAtMs }`.
    pub payload: String,
}

/// What the shim does after an applied event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EventActions {
    /// The outcome reached by this event, if any.
    pub outcome: Option<Outcome>,
    /// The Jira comment to post; only with an outcome.
    pub comment: Option<HttpRequest>,
    /// The transition to look up among the issue's transitions; None = leave the status alone.
    pub transition_name: Option<String>,
    /// The issue property that records the status.
    pub property: HttpRequest,
    pub realtime: RealtimeMessage,
}

/// The decision on one authenticated event for one verification.
// NOTE: one decision is built per event and serialised straight away, so the size difference
// between the variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EventDecision {
    Ignored {
        reason: IgnoreReason,
        verification: Verification,
    },
    /// Not applied, logged as refused; the record is unchanged.
    Refused {
        reason: RefuseReason,
        verification: Verification,
    },
    /// A result after a cancel or an expiry: kept on the record (`lateResults`), not applied.
    Late {
        idempotency_key: String,
        reason: LateReason,
        verification: Verification,
    },
    Applied {
        idempotency_key: String,
        verification: Verification,
        actions: EventActions,
    },
}

/// The words a status is shown with, as in the ServiceNow integration's IDV Status field.
fn status_label(status: VerificationStatus) -> &'static str {
    match status {
        VerificationStatus::Requested => "Requested",
        VerificationStatus::InProgress => "In Progress",
        VerificationStatus::Passed => "Success",
        VerificationStatus::Failed => "Failed",
        VerificationStatus::ManualReview => "Pending Review",
        VerificationStatus::Expired => "Expired",
        VerificationStatus::Cancelled => "Cancelled",
    }
}

/// `"Success - 2026-11-22 10:00:00 UTC"`: the status and when it was reached, in the words and
/// form of the ServiceNow integration's IDV Status field, with its time zone said.
pub fn status_text(status: VerificationStatus, at_ms: i64) -> String {
    format!("{} - {} UTC", status_label(status), jira::format_utc(at_ms))
}

/// Whether no event may change the status any more.
pub fn is_final(status: VerificationStatus) -> bool {
    matches!(
        status,
        VerificationStatus::Passed | VerificationStatus::Failed | VerificationStatus::Cancelled
    )
}

fn outcome_of(status: VerificationStatus) -> Option<Outcome> {
    match status {
        VerificationStatus::Passed => Some(Outcome::Passed),
        VerificationStatus::Failed => Some(Outcome::Failed),
        VerificationStatus::ManualReview => Some(Outcome::ManualReview),
        _ => None,
    }
}

fn event_key(kind: IncodeEventType) -> &'static str {
    match kind {
        IncodeEventType::Started => "started",
        IncodeEventType::Progress => "progress",
        IncodeEventType::Succeeded => "succeeded",
        IncodeEventType::Failed => "failed",
        IncodeEventType::PendingReview => "pendingReview",
        IncodeEventType::IdentityEnrolled => "identityEnrolled",
        IncodeEventType::ReviewApproved => "reviewApproved",
        IncodeEventType::ReviewRejected => "reviewRejected",
    }
}

/// The record of a link Incode has just sent.
pub fn new_verification(input: &NewVerificationInput) -> Verification {
    let email = normalize_email(&input.email).unwrap_or_else(|| input.email.trim().to_owned());
    let destination = match input.delivery {
        Delivery::Sms if input.phone.trim().is_empty() => "phone on file".to_owned(),
        Delivery::Sms => mask_phone(&input.phone),
        Delivery::Email if input.alternate_email.trim().is_empty() => email.clone(),
        Delivery::Email => normalize_email(&input.alternate_email)
            .unwrap_or_else(|| input.alternate_email.trim().to_owned()),
    };
    let minutes = input
        .link_expiry_minutes
        .clamp(MIN_LINK_MINUTES, MAX_LINK_MINUTES);
    let status = VerificationStatus::Requested;
    Verification {
        id: input.id.clone(),
        session_id: input.session.session_id.clone(),
        issue_key: input.issue_key.clone(),
        issue_id: input.issue_id.clone(),
        email,
        name: input.name.trim().to_owned(),
        delivery: input.delivery,
        destination,
        requested_by: input.requested_by.clone(),
        requested_by_name: input.requested_by_name.trim().to_owned(),
        requested_at_ms: input.now_ms,
        expires_at_ms: input
            .now_ms
            .saturating_add(i64::from(minutes).saturating_mul(60_000)),
        status,
        status_text: status_text(status, input.now_ms),
        updated_at_ms: input.now_ms,
        identity_id: String::new(),
        history: vec![HistoryEntry {
            status,
            at_ms: input.now_ms,
            cause: "sent".to_owned(),
        }],
        applied_events: Vec::new(),
        late_results: Vec::new(),
    }
}

/// A phone number as agents may see it: the country code and the last digits, the rest as
/// dots in groups of four ("+1 •••• •• 1234").
fn mask_phone(raw: &str) -> String {
    let compact = normalize_phone(raw).unwrap_or_else(|| {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    });
    let digits: Vec<char> = compact.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "phone given".to_owned();
    }
    // North America (+1) and Russia/Kazakhstan (+7) have one-digit country codes; for the
    // rest, two digits are shown (a three-digit code simply shows one digit less).
    let country_len = match digits.first() {
        Some('1' | '7') => 1,
        _ => 2,
    };
    let last_len = 4.min(digits.len().saturating_sub(country_len + 2));
    let hidden_len = digits.len() - country_len - last_len;
    let country: String = digits.iter().take(country_len).collect();
    let last: String = digits.iter().skip(country_len + hidden_len).collect();
    let hidden: Vec<String> = (0..hidden_len)
        .step_by(4)
        .map(|start| "•".repeat(4.min(hidden_len - start)))
        .collect();
    let mut out = format!("+{country} {}", hidden.join(" "));
    if !last.is_empty() {
        out.push(' ');
        out.push_str(&last);
    }
    out
}

/// The status an event moves a verification to, or why it moves nothing. The caller has
/// already checked the session, duplicates and final statuses.
fn next_status(
    current: VerificationStatus,
    kind: IncodeEventType,
) -> Result<VerificationStatus, IgnoreReason> {
    use IncodeEventType as E;
    use VerificationStatus as S;
    match kind {
        E::Started | E::Progress => match current {
            S::Requested | S::Expired => Ok(S::InProgress),
            // Already under way (or in review): an out-of-order start changes nothing.
            _ => Err(IgnoreReason::Progress),
        },
        E::Succeeded | E::ReviewApproved => Ok(S::Passed),
        E::Failed | E::ReviewRejected => Ok(S::Failed),
        E::PendingReview => Ok(S::ManualReview),
        E::IdentityEnrolled => Ok(current),
    }
}

/// The outcome a result event reports; None for steps (started, progress, enrolled).
fn result_of(kind: IncodeEventType) -> Option<Outcome> {
    use IncodeEventType as E;
    match kind {
        E::Succeeded | E::ReviewApproved => Some(Outcome::Passed),
        E::Failed | E::ReviewRejected => Some(Outcome::Failed),
        E::PendingReview => Some(Outcome::ManualReview),
        E::Started | E::Progress | E::IdentityEnrolled => None,
    }
}

/// Whether an event's login hint (when it carries one) names the verification's person:
/// emails compared trimmed and ignoring case.
fn same_person(login_hint: &str, email: &str) -> bool {
    let hint = login_hint.trim();
    hint.is_empty() || crate::caseless::eq(hint, email.trim())
}

/// What an applied event changes on its record; every other field stays as it was.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RecordChange {
    pub status: VerificationStatus,
    pub status_text: String,
    pub updated_at_ms: i64,
    pub identity_id: String,
    /// Appended to `history`.
    pub history_entry: HistoryEntry,
    /// How many of the oldest `appliedEvents` drop off before the event's idempotency key is
    /// appended (the record keeps at most `MAX_APPLIED_EVENTS`).
    pub applied_events_dropped: usize,
}

impl RecordChange {
    /// The record after the change; `key` is the event's idempotency key.
    pub fn applied_to(&self, v: &Verification, key: &str) -> Verification {
        let mut next = v.clone();
        next.status = self.status;
        next.status_text.clone_from(&self.status_text);
        next.updated_at_ms = self.updated_at_ms;
        next.identity_id.clone_from(&self.identity_id);
        next.history.push(self.history_entry.clone());
        next.applied_events
            .drain(..self.applied_events_dropped.min(next.applied_events.len()));
        next.applied_events.push(key.to_owned());
        next
    }
}

/// The decision on one event: the change to the record rather than the whole new record, which
/// the delivery planner applies to the record it read (`delivery/locked.rs`).
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EventChange {
    Ignored {
        reason: IgnoreReason,
    },
    Refused {
        reason: RefuseReason,
    },
    /// Appended to `lateResults` (after `late_results_dropped` of the oldest drop off), the
    /// idempotency key to `appliedEvents` (after `applied_events_dropped`); nothing else changes.
    Late {
        idempotency_key: String,
        late: LateResult,
        late_results_dropped: usize,
        applied_events_dropped: usize,
    },
    Applied {
        idempotency_key: String,
        change: RecordChange,
        actions: EventActions,
    },
}

/// Applies one authenticated event to the verification of its session.
pub fn apply_event(
    v: &Verification,
    event: &IncodeEvent,
    settings: &Settings,
    templates: &CompiledTemplates,
    now_ms: i64,
) -> EventDecision {
    match decide_event(&EventRecord::from(v), event, settings, templates, now_ms) {
        EventChange::Ignored { reason } => EventDecision::Ignored {
            reason,
            verification: v.clone(),
        },
        EventChange::Refused { reason } => EventDecision::Refused {
            reason,
            verification: v.clone(),
        },
        EventChange::Late {
            idempotency_key,
            late,
            late_results_dropped,
            applied_events_dropped,
        } => {
            let mut next = v.clone();
            next.late_results
                .drain(..late_results_dropped.min(next.late_results.len()));
            let reason = late.reason;
            next.late_results.push(late);
            next.applied_events
                .drain(..applied_events_dropped.min(next.applied_events.len()));
            next.applied_events.push(idempotency_key.clone());
            EventDecision::Late {
                idempotency_key,
                reason,
                verification: next,
            }
        }
        EventChange::Applied {
            idempotency_key,
            change,
            actions,
        } => EventDecision::Applied {
            verification: change.applied_to(v, &idempotency_key),
            idempotency_key,
            actions,
        },
    }
}

/// `apply_event` as a change to the record, reading only what it needs of the record: what the
/// webhook's core call answers.
pub fn decide_event(
    v: &EventRecord,
    event: &IncodeEvent,
    settings: &Settings,
    templates: &CompiledTemplates,
    now_ms: i64,
) -> EventChange {
    let ignored = |reason| EventChange::Ignored { reason };
    if event.session_id != v.session_id {
        return ignored(IgnoreReason::NotApplicable);
    }
    if !same_person(&event.login_hint, &v.email) {
        return EventChange::Refused {
            reason: RefuseReason::LoginHintMismatch,
        };
    }
    let key = format!("{}:{}", v.session_id, event_key(event.kind));
    if v.applied_events.contains(&key) {
        return ignored(IgnoreReason::Duplicate);
    }
    let late = match v.status {
        VerificationStatus::Cancelled => Some(LateReason::AfterCancel),
        VerificationStatus::Expired => Some(LateReason::AfterExpiry),
        VerificationStatus::Requested if now_ms >= v.expires_at_ms => Some(LateReason::AfterExpiry),
        _ => None,
    };
    if let Some(reason) = late {
        let Some(outcome) = result_of(event.kind) else {
            return ignored(match reason {
                LateReason::AfterCancel => IgnoreReason::AfterFinal,
                LateReason::AfterExpiry => IgnoreReason::AfterExpiry,
            });
        };
        let event_name = clean(&event.raw_type, MAX_CAUSE_CHARS);
        return EventChange::Late {
            idempotency_key: key,
            late: LateResult {
                outcome,
                event: if event_name.is_empty() {
                    event_key(event.kind).to_owned()
                } else {
                    event_name
                },
                reason,
                at_ms: now_ms,
            },
            late_results_dropped: (v.late_results.len() + 1).saturating_sub(MAX_LATE_RESULTS),
            applied_events_dropped: (v.applied_events.len() + 1).saturating_sub(MAX_APPLIED_EVENTS),
        };
    }
    // Incode may announce the enrolled identity just after the success: a passed record without
    // an identity id takes it (no new status, no comment). Anything else after a final status is
    // late, and an identity id once recorded is never replaced.
    let enrolment_after_pass = event.kind == IncodeEventType::IdentityEnrolled
        && v.status == VerificationStatus::Passed
        && v.identity_id.is_empty();
    if is_final(v.status) && !enrolment_after_pass {
        return ignored(IgnoreReason::AfterFinal);
    }
    let status = match next_status(v.status, event.kind) {
        Ok(status) => status,
        Err(reason) => return ignored(reason),
    };

    let changed = status != v.status;
    let identity_id = clean(&event.identity_id, 200);
    let cause = clean(&event.raw_type, MAX_CAUSE_CHARS);
    let change = RecordChange {
        status,
        status_text: if changed {
            status_text(status, now_ms)
        } else {
            v.status_text.clone()
        },
        updated_at_ms: now_ms,
        identity_id: if identity_id.is_empty() {
            v.identity_id.clone()
        } else {
            identity_id
        },
        history_entry: HistoryEntry {
            status,
            at_ms: now_ms,
            cause: if cause.is_empty() {
                event_key(event.kind).to_owned()
            } else {
                cause
            },
        },
        applied_events_dropped: (v.applied_events.len() + 1).saturating_sub(MAX_APPLIED_EVENTS),
    };
    // The record as the effects show it after the change.
    let next = Shown {
        id: &v.id,
        session_id: &v.session_id,
        issue_key: &v.issue_key,
        issue_id: &v.issue_id,
        email: &v.email,
        name: &v.name,
        delivery: v.delivery,
        requested_by_name: &v.requested_by_name,
        status: change.status,
        status_text: &change.status_text,
        identity_id: &change.identity_id,
        updated_at_ms: change.updated_at_ms,
    };

    let outcome = if changed { outcome_of(status) } else { None };
    let comment = outcome.map(|outcome| {
        let mut adf = render_comment(&next, outcome, templates, now_ms);
        // Whatever the template says, a reviewer's decision is named as one.
        if let Some(line) = review_line(event.kind) {
            adf.content
                .insert(0, AdfNode::paragraph(vec![AdfNode::text(line, true)]));
        }
        jira::comment_request(next.issue_key, &adf, settings.comment_visibility)
    });
    let transition_name = outcome.and_then(|outcome| {
        let name = settings.transitions.get(outcome).trim();
        (!name.is_empty()).then(|| name.to_owned())
    });
    let actions = EventActions {
        outcome,
        comment,
        transition_name,
        property: jira::property_request(next.issue_key, &next),
        realtime: realtime_message(&next),
    };
    EventChange::Applied {
        idempotency_key: key,
        change,
        actions,
    }
}

/// The template variables of a verification's comment.
pub fn template_vars(v: &Shown, outcome: Outcome, now_ms: i64) -> TemplateVars {
    TemplateVars {
        name: v.name.to_owned(),
        email: v.email.to_owned(),
        identity_id: v.identity_id.to_owned(),
        session_id: v.session_id.to_owned(),
        outcome: outcome.words().to_owned(),
        agent: v.requested_by_name.to_owned(),
        issue_key: v.issue_key.to_owned(),
        time: format!("{} UTC", jira::format_utc(now_ms)),
        delivery: match v.delivery {
            Delivery::Sms => "SMS",
            Delivery::Email => "email",
        }
        .to_owned(),
        status: v.status_text.to_owned(),
    }
}

/// The outcome comment; should the template fail to render, a plain line that still carries
/// the verdict, so the ticket never misses it.
fn render_comment(
    v: &Shown,
    outcome: Outcome,
    templates: &CompiledTemplates,
    now_ms: i64,
) -> AdfDoc {
    match templates.render(outcome, &template_vars(v, outcome, now_ms)) {
        Ok(adf) => adf,
        Err(_) => AdfDoc::new(vec![AdfNode::paragraph(vec![AdfNode::text(
            fallback_comment(v, outcome),
            false,
        )])]),
    }
}

/// The first line of the comment on a decision taken by a reviewer in Incode's manual review.
fn review_line(kind: IncodeEventType) -> Option<&'static str> {
    match kind {
        IncodeEventType::ReviewRejected => {
            Some("A reviewer rejected this verification in Incode's manual review.")
        }
        IncodeEventType::ReviewApproved => {
            Some("A reviewer approved this verification in Incode's manual review.")
        }
        _ => None,
    }
}

fn fallback_comment(v: &Shown, outcome: Outcome) -> String {
    let verdict = match outcome {
        Outcome::Passed => "Incode identity verification passed",
        Outcome::Failed => "Incode identity verification failed: do not proceed",
        Outcome::ManualReview => {
            "Incode identity verification needs manual review: do not proceed until it is complete"
        }
    };
    let mut text = format!(
        "{verdict}. {} Session ID: {}.",
        v.status_text,
        clean(v.session_id, 200)
    );
    let identity = clean(v.identity_id, 200);
    if !identity.is_empty() {
        text.push_str(&format!(" Identity ID: {identity}."));
    }
    text
}

/// The message that updates the open issue panel.
fn realtime_message(v: &Shown) -> RealtimeMessage {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        verification_id: &'a str,
        session_id: &'a str,
        status: VerificationStatus,
        status_text: &'a str,
        updated_at_ms: i64,
    }
    let payload = Payload {
        verification_id: v.id,
        session_id: v.session_id,
        status: v.status,
        status_text: v.status_text,
        updated_at_ms: v.updated_at_ms,
    };
    RealtimeMessage {
        channel: format!("{REALTIME_CHANNEL_PREFIX}{}", v.issue_id),
        // Serialising strings, an enum and a number cannot fail; the fallback is still JSON.
        payload: serde_json::to_string(&payload).unwrap_or_else(|_| "{}".to_owned()),
    }
}

/// The verification marked expired when its link was never opened in time; None when nothing
/// changes. Only a `requested` link expires: once the person has started, Incode decides.
pub fn expire_if_due(v: &Verification, now_ms: i64) -> Option<Verification> {
    if v.status != VerificationStatus::Requested || now_ms < v.expires_at_ms {
        return None;
    }
    let status = VerificationStatus::Expired;
    let mut next = v.clone();
    next.status = status;
    // The link expired at its expiry time, whenever that was noticed: what the status says, and
    // what the panel shows beside it, is that time.
    next.status_text = status_text(status, v.expires_at_ms);
    next.updated_at_ms = v.updated_at_ms.max(v.expires_at_ms);
    next.history.push(HistoryEntry {
        status,
        at_ms: v.expires_at_ms,
        cause: "link expired".to_owned(),
    });
    Some(next)
}

/// The verification cancelled by an agent; `already_final` once it has a final status.
pub fn cancel_verification(
    v: &Verification,
    now_ms: i64,
    by: &str,
) -> Result<Verification, CoreError> {
    if is_final(v.status) {
        return Err(CoreError::new(
            "already_final",
            format!(
                "This verification already ended ({}); it can no longer be cancelled.",
                v.status_text
            ),
            false,
        ));
    }
    let status = VerificationStatus::Cancelled;
    let by = clean(by, 100);
    let mut next = v.clone();
    next.status = status;
    next.status_text = status_text(status, now_ms);
    next.updated_at_ms = now_ms;
    next.history.push(HistoryEntry {
        status,
        at_ms: now_ms,
        cause: format!("cancelled by {}", if by.is_empty() { "agent" } else { &by }),
    });
    Ok(next)
}

/// The open verification of an issue, replaced by a newer link sent on it; `already_final` once
/// it has a final status.
pub fn replace_verification(v: &Verification, now_ms: i64) -> Result<Verification, CoreError> {
    let mut next = cancel_verification(v, now_ms, "")?;
    if let Some(entry) = next.history.last_mut() {
        crate::panel::REPLACED_CAUSE.clone_into(&mut entry.cause);
    }
    Ok(next)
}

/// Control characters dropped, trimmed, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CommentVisibility, PerOutcome, WebhookAuth};
    use serde_json::{json, Value};

    const T0: i64 = 1_763_800_000_000; // 2025-11-22 08:26:40 UTC

    /// The defaults with the transitions and templates these tests read.
    fn settings() -> Settings {
        Settings {
            default_delivery: Delivery::Sms,
            transitions: PerOutcome {
                passed: "Verified".into(),
                failed: " Escalate ".into(),
                manual_review: "  ".into(),
            },
            templates: PerOutcome {
                passed: "Passed {{name}} {{identityId}} {{status}} {{time}} {{agent}} {{delivery}}"
                    .into(),
                failed: "Failed {{sessionId}}".into(),
                manual_review: "Review {{outcome}}".into(),
            },
            comment_visibility: CommentVisibility::Internal,
            webhook_auth: WebhookAuth::SharedSecret {
                header: "x-incode-secret".into(),
            },
            ..crate::settings::default_settings()
        }
    }

    fn input() -> NewVerificationInput {
        NewVerificationInput {
            id: "ver-1".into(),
            session: StartedSession {
                session_id: "sess-1".into(),
                url: "https://demo.incode.com/l/1".into(),
            },
            issue_key: "HD-7".into(),
            issue_id: "10007".into(),
            email: "Jane@Example.com".into(),
            name: "Jane Doe".into(),
            delivery: Delivery::Sms,
            phone: "+1 415 555 1234".into(),
            alternate_email: String::new(),
            requested_by: "acc-1".into(),
            requested_by_name: "Sam Agent".into(),
            now_ms: T0,
            link_expiry_minutes: 10,
        }
    }

    fn event(kind: IncodeEventType, raw: &str) -> IncodeEvent {
        IncodeEvent {
            kind,
            session_id: "sess-1".into(),
            identity_id: String::new(),
            login_hint: String::new(),
            raw_type: raw.into(),
            occurred_at_ms: 0,
        }
    }

    fn apply(v: &Verification, e: &IncodeEvent, at: i64) -> EventDecision {
        let s = settings();
        let templates = CompiledTemplates::new(&s.templates);
        apply_event(v, e, &s, &templates, at)
    }

    fn applied(decision: EventDecision) -> (Verification, EventActions) {
        match decision {
            EventDecision::Applied {
                verification,
                actions,
                ..
            } => (verification, actions),
            other => panic!("not applied: {other:?}"),
        }
    }

    fn late(decision: EventDecision) -> (Verification, LateReason) {
        match decision {
            EventDecision::Late {
                verification,
                reason,
                ..
            } => (verification, reason),
            other => panic!("not late: {other:?}"),
        }
    }

    fn ignored_reason(decision: &EventDecision) -> IgnoreReason {
        match decision {
            EventDecision::Ignored { reason, .. } => *reason,
            other => panic!("not ignored: {other:?}"),
        }
    }

    fn comment_text(request: &HttpRequest) -> String {
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        fn texts(node: &Value, out: &mut String) {
            if let Some(text) = node.get("text").and_then(Value::as_str) {
                out.push_str(text);
            }
            if let Some(children) = node.get("content").and_then(Value::as_array) {
                children.iter().for_each(|child| texts(child, out));
            }
        }
        let mut out = String::new();
        texts(&body["body"], &mut out);
        out
    }

    #[test]
    fn status_texts() {
        assert_eq!(
            status_text(VerificationStatus::Passed, T0),
            "Success - 2025-11-22 08:26:40 UTC"
        );
        assert_eq!(
            status_text(VerificationStatus::ManualReview, 0),
            "Pending Review - 1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            status_text(VerificationStatus::InProgress, T0),
            "In Progress - 2025-11-22 08:26:40 UTC"
        );
    }

    #[test]
    fn new_record() {
        let v = new_verification(&input());
        assert_eq!(v.status, VerificationStatus::Requested);
        assert_eq!(v.status_text, "Requested - 2025-11-22 08:26:40 UTC");
        assert_eq!(v.destination, "+1 •••• •• 1234");
        assert_eq!(v.email, "Jane@example.com");
        assert_eq!(v.expires_at_ms, T0 + 600_000);
        assert_eq!(v.history.len(), 1);
        assert_eq!(v.history[0].cause, "sent");
        assert!(v.applied_events.is_empty());

        let mut no_phone = input();
        no_phone.phone = String::new();
        assert_eq!(new_verification(&no_phone).destination, "phone on file");
        let mut email = input();
        email.delivery = Delivery::Email;
        assert_eq!(new_verification(&email).destination, "Jane@example.com");
        email.alternate_email = " jane@Home.Example ".into();
        assert_eq!(new_verification(&email).destination, "jane@home.example");
        let mut long_expiry = input();
        long_expiry.link_expiry_minutes = 1000;
        assert_eq!(new_verification(&long_expiry).expires_at_ms, T0 + 3_600_000);
    }

    #[test]
    fn phone_masks() {
        assert_eq!(mask_phone("+14155551234"), "+1 •••• •• 1234");
        assert_eq!(mask_phone("+44 20 7946 0958"), "+44 •••• •• 0958");
        // Short numbers keep at least two digits hidden.
        assert_eq!(mask_phone("+2901234"), "+29 •• 234");
        assert_eq!(mask_phone("+79161234567"), "+7 •••• •• 4567");
        assert_eq!(mask_phone("12"), "phone given");
        for phone in ["+14155551234", "+442079460958", "+2901234"] {
            let masked = mask_phone(phone);
            let middle = phone.get(3..phone.len() - 4).unwrap();
            assert!(!masked.contains(middle), "{masked}");
        }
    }

    #[test]
    fn full_lifecycle_to_passed() {
        let v = new_verification(&input());
        let (v, actions) = applied(apply(
            &v,
            &event(IncodeEventType::Started, "SESSION_STARTED"),
            T0 + 1000,
        ));
        assert_eq!(v.status, VerificationStatus::InProgress);
        assert_eq!(v.status_text, "In Progress - 2025-11-22 08:26:41 UTC");
        assert_eq!(actions.outcome, None);
        assert_eq!(actions.comment, None);
        assert_eq!(actions.transition_name, None);
        assert_eq!(actions.realtime.channel, "incode-verification:10007");

        let mut success = event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED");
        success.identity_id = "ident-9".into();
        let decision = apply(&v, &success, T0 + 60_000);
        let EventDecision::Applied {
            idempotency_key, ..
        } = &decision
        else {
            panic!("not applied");
        };
        assert_eq!(idempotency_key, "sess-1:succeeded");
        let (v, actions) = applied(decision);
        assert_eq!(v.status, VerificationStatus::Passed);
        assert_eq!(v.identity_id, "ident-9");
        assert_eq!(v.updated_at_ms, T0 + 60_000);
        assert_eq!(v.applied_events, vec!["sess-1:started", "sess-1:succeeded"]);
        assert_eq!(
            v.history
                .iter()
                .map(|h| h.cause.as_str())
                .collect::<Vec<_>>(),
            vec!["sent", "SESSION_STARTED", "SESSION_SUCCEEDED"]
        );
        assert_eq!(actions.outcome, Some(Outcome::Passed));
        assert_eq!(actions.transition_name.as_deref(), Some("Verified"));
        let comment = actions.comment.unwrap();
        assert_eq!(
            comment.path.as_deref(),
            Some("/rest/api/3/issue/HD-7/comment")
        );
        assert_eq!(
            comment_text(&comment),
            "Passed Jane Doe ident-9 Success - 2025-11-22 08:27:40 UTC 2025-11-22 08:27:40 UTC \
             Sam Agent SMS"
        );
        assert_eq!(
            actions.property.path.as_deref(),
            Some("/rest/api/3/issue/HD-7/properties/incode-verification")
        );
        let payload: Value = serde_json::from_str(&actions.realtime.payload).unwrap();
        assert_eq!(
            payload,
            json!({"verificationId":"ver-1","sessionId":"sess-1","status":"passed",
                   "statusText":"Success - 2025-11-22 08:27:40 UTC","updatedAtMs":T0 + 60_000})
        );

        // Retried delivery, then anything after the final status.
        assert_eq!(
            ignored_reason(&apply(&v, &success, T0 + 61_000)),
            IgnoreReason::Duplicate
        );
        assert_eq!(
            ignored_reason(&apply(
                &v,
                &event(IncodeEventType::Failed, "SESSION_FAILED"),
                T0
            )),
            IgnoreReason::AfterFinal
        );
        // An enrolment after the success never replaces a recorded identity id ...
        let mut enrolled = event(IncodeEventType::IdentityEnrolled, "IDENTITY_ENROLLED");
        enrolled.identity_id = "ident-after".into();
        assert_eq!(
            ignored_reason(&apply(&v, &enrolled, T0 + 62_000)),
            IgnoreReason::AfterFinal
        );
        // ... but gives a passed record without one its identity id, and nothing else.
        let mut without = v.clone();
        without.identity_id = String::new();
        let (after, actions) = applied(apply(&without, &enrolled, T0 + 62_000));
        assert_eq!(after.status, VerificationStatus::Passed);
        assert_eq!(after.status_text, v.status_text);
        assert_eq!(after.identity_id, "ident-after");
        assert_eq!(actions.outcome, None);
        assert!(actions.comment.is_none());
        assert!(actions.transition_name.is_none());
    }

    #[test]
    fn review_paths() {
        let v = new_verification(&input());
        let (v, actions) = applied(apply(
            &v,
            &event(IncodeEventType::PendingReview, "SESSION_PENDING_REVIEW"),
            T0,
        ));
        assert_eq!(v.status, VerificationStatus::ManualReview);
        assert_eq!(actions.outcome, Some(Outcome::ManualReview));
        // A blank transition name means none.
        assert_eq!(actions.transition_name, None);
        assert_eq!(
            comment_text(&actions.comment.unwrap()),
            "Review manual review"
        );
        assert_eq!(
            ignored_reason(&apply(
                &v,
                &event(IncodeEventType::Progress, "SESSION_PROGRESS"),
                T0
            )),
            IgnoreReason::Progress
        );
        assert_eq!(
            ignored_reason(&apply(
                &v,
                &event(IncodeEventType::Started, "SESSION_STARTED"),
                T0
            )),
            IgnoreReason::Progress
        );
        let (rejected, actions) = applied(apply(
            &v,
            &event(IncodeEventType::ReviewRejected, "MANUAL_REVIEW_REJECTED"),
            T0,
        ));
        assert_eq!(rejected.status, VerificationStatus::Failed);
        assert_eq!(actions.transition_name.as_deref(), Some("Escalate"));
        assert_eq!(
            comment_text(&actions.comment.unwrap()),
            "A reviewer rejected this verification in Incode's manual review.Failed sess-1"
        );
        let (approved, actions) = applied(apply(
            &v,
            &event(IncodeEventType::ReviewApproved, "MANUAL_REVIEW_APPROVED"),
            T0,
        ));
        assert_eq!(approved.status, VerificationStatus::Passed);
        assert_eq!(actions.outcome, Some(Outcome::Passed));
    }

    #[test]
    fn identity_enrolled_records_the_identity_only() {
        let v = new_verification(&input());
        let mut enrolled = event(IncodeEventType::IdentityEnrolled, "IDENTITY_ENROLLED");
        enrolled.identity_id = "ident-1".into();
        let (next, actions) = applied(apply(&v, &enrolled, T0 + 5));
        assert_eq!(next.status, VerificationStatus::Requested);
        assert_eq!(next.status_text, v.status_text);
        assert_eq!(next.identity_id, "ident-1");
        assert_eq!(next.updated_at_ms, T0 + 5);
        assert_eq!(next.history.len(), 2);
        assert_eq!(actions.outcome, None);
        assert_eq!(actions.comment, None);
    }

    #[test]
    fn other_sessions_and_expiry() {
        let v = new_verification(&input());
        let mut other = event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED");
        other.session_id = "sess-2".into();
        assert_eq!(
            ignored_reason(&apply(&v, &other, T0)),
            IgnoreReason::NotApplicable
        );

        assert_eq!(expire_if_due(&v, T0 + 599_999), None);
        let expired = expire_if_due(&v, T0 + 900_000).unwrap();
        assert_eq!(expired.status, VerificationStatus::Expired);
        assert_eq!(expired.status_text, "Expired - 2025-11-22 08:36:40 UTC");
        assert_eq!(
            expired.updated_at_ms, v.expires_at_ms,
            "changed at its expiry, not when that was noticed"
        );
        assert_eq!(expired.history.last().unwrap().cause, "link expired");
        assert_eq!(expire_if_due(&expired, T0 + 999_999), None);
        // After the expiry nothing opens: a step is ignored, a result is kept beside the record.
        assert_eq!(
            ignored_reason(&apply(
                &expired,
                &event(IncodeEventType::Started, "SESSION_STARTED"),
                T0 + 1_000_000,
            )),
            IgnoreReason::AfterExpiry
        );
        let (kept, reason) = late(apply(
            &expired,
            &event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED"),
            T0 + 1_000_000,
        ));
        assert_eq!(reason, LateReason::AfterExpiry);
        assert_eq!(kept.status, VerificationStatus::Expired);
        assert_eq!(kept.status_text, expired.status_text);
        assert_eq!(kept.history, expired.history);
        assert_eq!(
            kept.late_results,
            vec![LateResult {
                outcome: Outcome::Passed,
                event: "SESSION_SUCCEEDED".into(),
                reason: LateReason::AfterExpiry,
                at_ms: T0 + 1_000_000,
            }]
        );
        // Its retry is a duplicate.
        assert_eq!(
            ignored_reason(&apply(
                &kept,
                &event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED"),
                T0 + 1_000_001,
            )),
            IgnoreReason::Duplicate
        );
        // A requested link past its expiry, not yet marked expired, is expired all the same.
        let (_, reason) = late(apply(
            &v,
            &event(IncodeEventType::Failed, "SESSION_FAILED"),
            T0 + 600_000,
        ));
        assert_eq!(reason, LateReason::AfterExpiry);
        // Before its expiry, it is applied.
        let (next, actions) = applied(apply(
            &v,
            &event(IncodeEventType::Failed, "SESSION_FAILED"),
            T0 + 599_999,
        ));
        assert_eq!(next.status, VerificationStatus::Failed);
        assert_eq!(actions.outcome, Some(Outcome::Failed));
    }

    #[test]
    fn late_results_are_capped() {
        let mut v = new_verification(&input());
        v.status = VerificationStatus::Cancelled;
        v.late_results = (0..MAX_LATE_RESULTS)
            .map(|i| LateResult {
                outcome: Outcome::Failed,
                event: format!("old-{i}"),
                reason: LateReason::AfterCancel,
                at_ms: T0,
            })
            .collect();
        let (kept, _) = late(apply(
            &v,
            &event(IncodeEventType::PendingReview, "SESSION_PENDING_REVIEW"),
            T0,
        ));
        assert_eq!(kept.late_results.len(), MAX_LATE_RESULTS);
        assert_eq!(kept.late_results[0].event, "old-1");
        assert_eq!(
            kept.late_results.last().map(|l| l.outcome),
            Some(Outcome::ManualReview)
        );
    }

    #[test]
    fn a_login_hint_naming_someone_else_is_refused() {
        let v = new_verification(&input());
        let mut e = event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED");
        e.login_hint = "mallory@example.com".into();
        assert!(matches!(
            apply(&v, &e, T0),
            EventDecision::Refused {
                reason: RefuseReason::LoginHintMismatch,
                ..
            }
        ));
        // The same address in another case, with spaces around it, is the same person.
        e.login_hint = format!("  {}  ", v.email.to_uppercase());
        let (next, _) = applied(apply(&v, &e, T0));
        assert_eq!(next.status, VerificationStatus::Passed);
        // No hint at all: the session id decides.
        e.login_hint = String::new();
        applied(apply(&v, &e, T0));
    }

    #[test]
    fn cancellation() {
        let v = new_verification(&input());
        let cancelled = cancel_verification(&v, T0 + 10, "Sam Agent").unwrap();
        assert_eq!(cancelled.status, VerificationStatus::Cancelled);
        assert_eq!(
            cancelled.history.last().unwrap().cause,
            "cancelled by Sam Agent"
        );
        assert_eq!(
            cancel_verification(&cancelled, T0, "x").unwrap_err().code,
            "already_final"
        );
        // A pass after the cancel is kept for agents to see, and opens nothing.
        let (kept, reason) = late(apply(
            &cancelled,
            &event(IncodeEventType::Succeeded, "SESSION_SUCCEEDED"),
            T0 + 20,
        ));
        assert_eq!(reason, LateReason::AfterCancel);
        assert_eq!(kept.status, VerificationStatus::Cancelled);
        assert_eq!(kept.late_results.len(), 1);
        assert_eq!(kept.late_results[0].outcome, Outcome::Passed);
        // A step after the cancel is simply ignored.
        assert_eq!(
            ignored_reason(&apply(
                &cancelled,
                &event(IncodeEventType::Started, "SESSION_STARTED"),
                T0 + 20
            )),
            IgnoreReason::AfterFinal
        );
        let anonymous = cancel_verification(&v, T0, " \n").unwrap();
        assert_eq!(
            anonymous.history.last().unwrap().cause,
            "cancelled by agent"
        );
    }

    #[test]
    fn applied_events_are_capped() {
        let mut v = new_verification(&input());
        v.applied_events = (0..60).map(|i| format!("old:{i}")).collect();
        let (next, _) = applied(apply(
            &v,
            &event(IncodeEventType::Started, "SESSION_STARTED"),
            T0,
        ));
        assert_eq!(next.applied_events.len(), MAX_APPLIED_EVENTS);
        assert_eq!(
            next.applied_events.last().map(String::as_str),
            Some("sess-1:started")
        );
        assert_eq!(
            next.applied_events.first().map(String::as_str),
            Some("old:11")
        );
    }

    #[test]
    fn fallback_comment_keeps_the_verdict() {
        let v = new_verification(&input());
        let mut failed = v.clone();
        failed.status = VerificationStatus::Failed;
        failed.status_text = status_text(VerificationStatus::Failed, T0);
        let text = fallback_comment(&failed.shown(), Outcome::Failed);
        assert!(text.starts_with("Incode identity verification failed: do not proceed."));
        assert!(text.contains("Failed - 2025-11-22 08:26:40 UTC") && text.contains("sess-1"));
    }

    #[test]
    fn a_broken_stored_template_still_posts_the_verdict() {
        let mut s = settings();
        s.templates.failed = "{{#each name}}{{/each}}".into();
        let templates = CompiledTemplates::new(&s.templates);
        let v = new_verification(&input());
        let decision = apply_event(
            &v,
            &event(IncodeEventType::Failed, "SESSION_FAILED"),
            &s,
            &templates,
            T0 + 1_000,
        );
        let (_, actions) = applied(decision);
        let body = actions.comment.and_then(|c| c.body).unwrap_or_default();
        assert!(
            body.contains("Incode identity verification failed: do not proceed"),
            "{body}"
        );
    }

    #[test]
    fn decisions_serialise_as_the_contract() {
        let v = new_verification(&input());
        let decision = apply(
            &v,
            &event(IncodeEventType::Progress, "SESSION_PROGRESS"),
            T0,
        );
        let value = serde_json::to_value(&decision).unwrap();
        assert_eq!(value["kind"], "applied");
        assert_eq!(value["idempotencyKey"], "sess-1:progress");
        assert_eq!(value["actions"]["outcome"], Value::Null);
        assert_eq!(value["actions"]["comment"], Value::Null);
        assert_eq!(value["actions"]["transitionName"], Value::Null);
        assert_eq!(value["verification"]["status"], "inProgress");
        let (v, _) = applied(decision);
        let value = serde_json::to_value(apply(
            &v,
            &event(IncodeEventType::Progress, "SESSION_PROGRESS"),
            T0,
        ))
        .unwrap();
        assert_eq!(value["kind"], "ignored");
        assert_eq!(value["reason"], "duplicate");
    }

    #[test]
    fn a_reviewers_decision_is_named_in_the_comment() {
        let v = new_verification(&input());
        let (review, _) = applied(apply(
            &v,
            &event(IncodeEventType::PendingReview, "SESSION_PENDING_REVIEW"),
            T0,
        ));
        let (_, rejected) = applied(apply(
            &review,
            &event(IncodeEventType::ReviewRejected, "MANUAL_REVIEW_REJECTED"),
            T0 + 5,
        ));
        let text = comment_text(&rejected.comment.unwrap());
        assert!(
            text.starts_with("A reviewer rejected this verification in Incode's manual review."),
            "{text}"
        );
        let (_, approved) = applied(apply(
            &review,
            &event(IncodeEventType::ReviewApproved, "MANUAL_REVIEW_APPROVED"),
            T0 + 5,
        ));
        assert!(comment_text(&approved.comment.unwrap()).starts_with("A reviewer approved"));
        // Incode's own verdict names no reviewer.
        let (_, failed) = applied(apply(
            &v,
            &event(IncodeEventType::Failed, "SESSION_FAILED"),
            T0 + 5,
        ));
        assert!(!comment_text(&failed.comment.unwrap()).contains("reviewer"));
    }

    #[test]
    fn a_replaced_link_says_so() {
        let v = new_verification(&input());
        let replaced = replace_verification(&v, T0 + 10).unwrap();
        assert_eq!(replaced.status, VerificationStatus::Cancelled);
        assert_eq!(
            crate::panel::shown_state(replaced.status, &replaced.history),
            crate::panel::ShownState::Replaced
        );
        assert_eq!(
            replace_verification(&replaced, T0).unwrap_err().code,
            "already_final"
        );
    }
}
