//! A delivery's answers: the response Incode gets, the delivery log's entry (what the admin page
//! lists) and the function log's lines.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::locked::Stage;
use super::{At, ConfigFailure, Context, DeliveryState, Memory, Planned};
use crate::lock::Taken;
use crate::plan::{LogLine, Step, Ttl, Write};
use crate::stored::{DeliveryEntry, SCHEMA_VERSION};
use crate::throttle;
use crate::webhook::RequestRefusal;

/// How long Incode is asked to wait before retrying a delivery answered 503.
pub const RETRY_AFTER_SECONDS: &str = "10";
const DELIVERY_TTL: Ttl = Ttl::days(30);
/// Delivery log keys sort newest first: the time is written inverted.
const TIME_SPAN: i64 = 10_000_000_000_000;

/// The webtrigger's response, as Forge takes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WebtriggerResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: String,
}

/// The end of an action on a webtrigger: the response, and what the instance keeps.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "WebtriggerAnswer"))]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub response: WebtriggerResponse,
    pub memory: Memory,
}

/// What the delivery log's entry says of the delivery so far.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(super) struct Entry {
    pub event_type: String,
    pub session_id: String,
    pub issue_key: String,
    /// The verification's status after the delivery ("" when none was involved).
    pub status: String,
}

/// A value's serde name (`succeeded`, `afterFinal`, ...).
pub fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

/// One function log line.
pub fn line(event: &str, fields: Vec<(&str, Value)>) -> LogLine {
    let mut map = Map::new();
    for (name, value) in fields {
        map.insert(name.to_owned(), value);
    }
    LogLine {
        event: event.to_owned(),
        fields: map,
    }
}

/// A response with the JSON `body`: never cached, and a 503 says when to retry.
pub fn respond(status_code: u16, body: String, extra: Vec<(&str, String)>) -> WebtriggerResponse {
    let mut headers = BTreeMap::new();
    headers.insert(
        "Content-Type".to_owned(),
        vec!["application/json".to_owned()],
    );
    headers.insert("Cache-Control".to_owned(), vec!["no-store".to_owned()]);
    if status_code == 503 {
        headers.insert(
            "Retry-After".to_owned(),
            vec![RETRY_AFTER_SECONDS.to_owned()],
        );
    }
    for (name, value) in extra {
        headers.insert(name.to_owned(), vec![value]);
    }
    WebtriggerResponse {
        status_code,
        headers,
        body,
    }
}

/// `{ result, reason, status? }`, what the webhook answers.
fn body(result: &str, reason: &str, status: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        result: &'a str,
        reason: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        status: &'a str,
    }
    serde_json::to_string(&Body {
        result,
        reason,
        status,
    })
    .unwrap_or_default()
}

fn ended(memory: Memory, response: WebtriggerResponse, logs: Vec<LogLine>) -> Planned {
    Step {
        logs,
        ..Step::reply(Answer { response, memory })
    }
}

/// Another method than POST, or too large a body: refused before any work.
pub(super) fn refused_early(memory: Memory, refusal: &RequestRefusal) -> Planned {
    let log = line(
        "webtrigger.refused",
        vec![
            ("endpoint", "webhook".into()),
            ("status", refusal.status.into()),
            ("reason", refusal.reason.as_str().into()),
        ],
    );
    let allow = refusal
        .allow
        .as_ref()
        .map(|allow| ("Allow", allow.clone()))
        .into_iter()
        .collect();
    let response = respond(refusal.status, body("invalid", &refusal.reason, ""), allow);
    ended(memory, response, vec![log])
}

/// While failed authentications lock the webtriggers: nothing is authenticated.
pub(super) fn too_many_failures(memory: Memory, seconds: u32) -> Planned {
    let response = respond(
        429,
        body("error", "too_many_failures", ""),
        vec![("Retry-After", seconds.to_string())],
    );
    ended(memory, response, Vec::new())
}

/// The settings could not be read: Incode retries.
pub(super) fn config_unavailable(memory: Memory, failure: &ConfigFailure) -> Planned {
    let log = line(
        "webhook.config_unavailable",
        vec![("code", failure.code().into())],
    );
    let response = respond(503, body("error", failure.reason(), ""), Vec::new());
    ended(memory, response, vec![log])
}

/// The delivery log's entry for the answer `http_status`.
pub(super) fn entry(ctx: &Context, http_status: u16, verdict: &str, reason: &str) -> DeliveryEntry {
    DeliveryEntry {
        schema_version: SCHEMA_VERSION,
        at_ms: ctx.now_ms,
        verdict: verdict.to_owned(),
        reason: reason.to_owned(),
        event_type: ctx.entry.event_type.clone(),
        session_id: ctx.entry.session_id.clone(),
        issue_key: ctx.entry.issue_key.clone(),
        status: ctx.entry.status.clone(),
        http_status,
    }
}

/// The function log's line for a delivery's answer.
pub(super) fn delivery_line(entry: &DeliveryEntry) -> LogLine {
    line(
        "webhook.delivery",
        vec![
            ("verdict", entry.verdict.as_str().into()),
            ("reason", entry.reason.as_str().into()),
            ("eventType", entry.event_type.as_str().into()),
            ("sessionId", entry.session_id.as_str().into()),
            ("issueKey", entry.issue_key.as_str().into()),
            ("status", entry.http_status.into()),
        ],
    )
}

/// The delivery log's entry as a write (its key is the same for a rewrite of the entry).
pub(super) fn delivery_write(ctx: &Context, entry: &DeliveryEntry) -> Write {
    let inverted = TIME_SPAN.saturating_sub(ctx.now_ms).max(0);
    Write {
        key: format!("delivery:{inverted:014}:{}", ctx.nonce),
        value: serde_json::to_value(entry).unwrap_or_default(),
        ttl: Some(DELIVERY_TTL),
        secret: false,
        entity: None,
        only_if: None,
    }
}

/// The delivery's response (the entry's status is the verification's, when there is one).
pub(super) fn finish(ctx: Context, status: u16, verdict: &str, reason: &str) -> Answer {
    Answer {
        response: respond(status, body(verdict, reason, &ctx.entry.status), Vec::new()),
        memory: ctx.memory,
    }
}

/// Answers and logs the delivery in one transaction with `writes` (and the checklist). The log
/// is best effort; when the transaction fails, the lock it released (`lock`) is released alone.
pub(super) fn answer(
    ctx: Context,
    status: u16,
    verdict: &str,
    reason: &str,
    mut writes: Vec<Write>,
    lock: Option<Taken>,
) -> Planned {
    let done = entry(&ctx, status, verdict, reason);
    writes.extend(ctx.extra.iter().cloned());
    writes.push(delivery_write(&ctx, &done));
    let logs = vec![delivery_line(&done)];
    match lock {
        None => Step {
            writes,
            logs,
            ..Step::reply(finish(ctx, status, verdict, reason))
        },
        Some(taken) => Step {
            writes,
            logs,
            ..Step::then(DeliveryState {
                ctx,
                at: At::Locked(Stage::Answered {
                    taken,
                    status,
                    verdict: verdict.to_owned(),
                    reason: reason.to_owned(),
                }),
            })
        },
    }
}

/// A delivery that failed authentication: counted for the throttle (the marker written once
/// per lockout), and logged to the delivery log from the budget.
pub(super) fn refused(mut ctx: Context, reason: &str, puts: Vec<Write>) -> Planned {
    let noted = throttle::note_failure(&ctx.memory.failures, ctx.now_ms);
    ctx.memory.failures = noted.failures;
    let mut puts = puts;
    if let Some(until) = noted.mark_until_ms {
        puts.push(throttle_marker(until, ctx.now_ms));
    }
    let mut step = if super::may_log_untrusted(&mut ctx.memory, ctx.now_ms) {
        answer(ctx, 401, "rejected", reason, Vec::new(), None)
    } else {
        let done = entry(&ctx, 401, "rejected", reason);
        Step {
            logs: vec![delivery_line(&done)],
            ..Step::reply(finish(ctx, 401, "rejected", reason))
        }
    };
    step.puts.extend(puts);
    step
}

/// The stored marker that locks both webtriggers until `until_ms`, for every instance.
pub(crate) fn throttle_marker(until_ms: i64, now_ms: i64) -> Write {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Marker {
        schema_version: u32,
        until_ms: i64,
    }
    let seconds = (until_ms - now_ms + 999) / 1000;
    Write {
        key: super::THROTTLE_KEY.to_owned(),
        value: serde_json::to_value(Marker {
            schema_version: SCHEMA_VERSION,
            until_ms,
        })
        .unwrap_or_default(),
        ttl: Some(Ttl::seconds(u32::try_from(seconds.max(1)).unwrap_or(1))),
        secret: false,
        entity: None,
        only_if: None,
    }
}
