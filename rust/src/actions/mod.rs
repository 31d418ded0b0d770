//! The planners of the agent's and the customer's actions: opening the panel, sending (and
//! resending) a link, cancelling one, the portal's view, and the expiry of links past their
//! time. Each is a `start`/`next` pair answering `plan::Step`s; the executor (`src/run.js`)
//! performs them. The caller is checked first, from the invocation context, never the payload.

pub mod agent;
pub mod cancel;
pub mod expiry;
pub mod open;
pub mod portal;
pub mod send;
pub mod sweep;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::effects::{EffectResult, Ended};
use crate::lock::{self, Found as LockFound, Taken};
use crate::model::{CoreError, FieldError, True, Verification};
use crate::plan::{Found, LogLine, Read, Step, Ttl, Write};
use crate::stored::SCHEMA_VERSION;

/// How long an action waits for another holder of a lock, and how often it looks again.
pub const LOCK_WAIT_MS: i64 = 4_000;
pub const LOCK_SPIN_MS: u32 = 150;
/// How many verifications an issue index keeps (the panel shows them as history).
pub const ISSUE_HISTORY_MAX: usize = 25;
/// A verification record lives this long.
pub const RECORD_TTL: Ttl = Ttl::days(400);
/// A rate counter outlives its hour.
pub const RATE_TTL: Ttl = Ttl::hours(2);
/// The Incode token is cached at most a day.
const TOKEN_TTL_MAX_S: i64 = 86_400;

pub const STORAGE_MESSAGE: &str =
    "The app could not reach its storage. Nothing was lost; try again in a moment.";
pub const INTERNAL_MESSAGE: &str = "Something went wrong on our side. Try again; if it keeps failing, ask your Jira admin to check the app logs.";

/// The keys of the values the actions read and write (ARCHITECTURE.md "Storage").
pub mod keys {
    pub const SETTINGS: &str = "settings";
    pub const SECRETS: &str = "secrets";
    pub const TOKEN: &str = "token:incode";
    pub const CHECKLIST: &str = "checklist";
    pub fn record(session_id: &str) -> String {
        format!("v:{session_id}")
    }
    pub fn issue(issue_id: &str) -> String {
        format!("issue:{issue_id}")
    }
    pub fn issue_lock(issue_id: &str) -> String {
        format!("lock:issue.{issue_id}")
    }
    pub fn lock(session_id: &str) -> String {
        format!("lock:{session_id}")
    }
    pub fn person(email_hash: &str, session_id: &str) -> String {
        format!("person:{email_hash}:{session_id}")
    }
    pub fn account(account_id: &str, session_id: &str) -> String {
        format!("account:{account_id}:{session_id}")
    }
    pub fn rate_agent(account_id: &str, hour: i64) -> String {
        format!("rate:agent:{account_id}:{hour}")
    }
    pub fn rate_ticket(issue_id: &str, hour: i64) -> String {
        format!("rate:ticket:{issue_id}:{hour}")
    }
}

/// Why an action was refused: the envelope's error (`src/envelope.js`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(test, ts(as = "Option<bool>", optional))]
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub resets_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub fields: Option<Vec<FieldError>>,
}

impl Refusal {
    pub fn new(code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            code: code.to_owned(),
            message: message.into(),
            retryable: false,
            resets_at_ms: None,
            fields: None,
        }
    }
    pub fn retryable(code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            retryable: true,
            ..Refusal::new(code, message)
        }
    }
    pub fn storage() -> Refusal {
        Refusal::retryable("storage_unavailable", STORAGE_MESSAGE)
    }
    pub fn internal() -> Refusal {
        Refusal::new("internal", INTERNAL_MESSAGE)
    }
    pub fn forbidden(message: &str) -> Refusal {
        Refusal::new("forbidden", message)
    }
    /// A `validation` refusal's fields, placed next to the inputs they name.
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Refusal {
        self.fields = Some(fields);
        self
    }
}

impl From<CoreError> for Refusal {
    fn from(e: CoreError) -> Refusal {
        Refusal {
            retryable: e.retryable,
            ..Refusal::new(&e.code, e.message)
        }
    }
}

/// An action's answer: `{ ok: true, data }` or `{ ok: false, error }`.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged)]
pub enum Answer<T> {
    Done {
        ok: True,
        data: T,
    },
    Refused {
        ok: crate::model::False,
        error: Refusal,
    },
}

impl<T> Answer<T> {
    pub fn data(data: T) -> Self {
        Answer::Done { ok: True, data }
    }
}

impl<T> From<Refusal> for Answer<T> {
    fn from(error: Refusal) -> Self {
        Answer::Refused {
            ok: crate::model::False,
            error,
        }
    }
}

/// The last step: refused, with whatever must still be put back or released.
pub fn refuse<S, T>(error: Refusal, puts: Vec<Write>) -> Step<S, Answer<T>> {
    Step {
        puts,
        ..Step::reply(error.into())
    }
}

/// The caller as the invocation context names it (raw: checked here).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct CallerContext {
    #[cfg_attr(test, ts(type = "unknown"))]
    pub account_id: Value,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub account_type: Value,
    /// `extension.issue.id` and `.key` (the agent's panel).
    #[cfg_attr(test, ts(type = "unknown"))]
    pub issue_id: Value,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub issue_key: Value,
    /// `extension.request.key` (or `.issueKey`): the portal's request.
    #[cfg_attr(test, ts(type = "unknown"))]
    pub request_key: Value,
}

/// An issue the context names.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct IssueRef {
    pub id: String,
    pub key: String,
}

/// The calling user; anonymous callers are refused.
pub fn caller_of(context: &CallerContext) -> Result<String, Refusal> {
    let account = context.account_id.as_str().unwrap_or("");
    if account.is_empty() || context.account_type.as_str() == Some("anonymous") {
        return Err(Refusal::new(
            "unauthenticated",
            "Sign in to Jira to use this app.",
        ));
    }
    Ok(account.to_owned())
}

/// The issue the panel is open on.
pub fn issue_of(context: &CallerContext) -> Result<IssueRef, Refusal> {
    let id = match &context.issue_id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let key = context.issue_key.as_str().unwrap_or("").to_owned();
    if !is_issue_id(&id) || !is_issue_key(&key) {
        return Err(Refusal::new(
            "bad_context",
            "Open this panel from a Jira issue.",
        ));
    }
    Ok(IssueRef { id, key })
}

/// `^[0-9]{1,18}$`
pub fn is_issue_id(id: &str) -> bool {
    (1..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// `^[A-Z][A-Z0-9_]*-[1-9][0-9]*$`
pub fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.rsplit_once('-') else {
        return false;
    };
    let mut letters = project.bytes();
    letters.next().is_some_and(|b| b.is_ascii_uppercase())
        && letters.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && number
            .bytes()
            .next()
            .is_some_and(|b| (b'1'..=b'9').contains(&b))
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// A read's value, or the storage refusal when it failed.
pub fn value_of(found: Option<&Found>) -> Result<&Value, Refusal> {
    match found {
        Some(Found {
            failed: None,
            value,
        }) => Ok(value),
        _ => Err(Refusal::storage()),
    }
}

/// A Jira look-up's answer as JSON (`jiraJson` in `src/access.js`): `not_found` names the
/// refusal a 401, 403 or 404 means for this look-up.
pub fn jira_json(result: Option<&EffectResult>, not_found: Option<&str>) -> Result<Value, Refusal> {
    let unavailable = || {
        Refusal::retryable(
            "jira_unavailable",
            "Jira did not answer. Try again in a moment.",
        )
    };
    let Some(EffectResult {
        ended: Ended::Done,
        answer: Some(answer),
        ..
    }) = result
    else {
        return Err(unavailable());
    };
    match answer.status {
        200 => serde_json::from_str(&answer.body).map_err(|_| unavailable()),
        429 => Err(unavailable()),
        s if s >= 500 || s == 0 => Err(unavailable()),
        401 | 403 | 404 if not_found.is_some() => {
            Err(Refusal::forbidden(not_found.unwrap_or_default()))
        }
        s => Err(Refusal::new(
            "jira_error",
            format!("Jira refused the request (HTTP {s})."),
        )),
    }
}

/// One log line.
pub fn log(event: &str, fields: &[(&str, Value)]) -> LogLine {
    LogLine {
        event: event.to_owned(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

pub fn read(key: impl Into<String>) -> Read {
    Read {
        key: key.into(),
        secret: false,
    }
}

pub fn secret_read(key: &str) -> Read {
    Read {
        key: key.to_owned(),
        secret: true,
    }
}

/// A stored value with the current `schemaVersion`.
pub fn write(key: impl Into<String>, value: Value, ttl: Option<Ttl>) -> Write {
    Write {
        key: key.into(),
        value: stamped(value),
        ttl,
        secret: false,
        entity: None,
        only_if: None,
    }
}

/// An object stamped with `schemaVersion` (anything else as it is: a counter has no room).
pub fn stamped(mut value: Value) -> Value {
    if let Value::Object(fields) = &mut value {
        fields.insert("schemaVersion".into(), Value::from(SCHEMA_VERSION));
    }
    value
}

/// The Incode token cache entry for `token`, or None when it is already due.
pub fn token_cache(token: &crate::incode::IncodeToken, now_ms: i64) -> Option<Write> {
    let seconds = (token.refresh_at_ms - now_ms).div_euclid(1000);
    if seconds < 1 {
        return None;
    }
    let value = crate::stored::StoredToken {
        schema_version: SCHEMA_VERSION,
        access_token: token.access_token.clone(),
        refresh_at_ms: token.refresh_at_ms,
    };
    Some(Write {
        key: keys::TOKEN.to_owned(),
        value: serde_json::to_value(value).unwrap_or_default(),
        ttl: Some(Ttl::seconds(
            u32::try_from(seconds.min(TOKEN_TTL_MAX_S)).unwrap_or(1),
        )),
        secret: true,
        entity: None,
        only_if: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Records

/// The `rev` a stored record carries (-1: no record).
pub fn rev_of(record: &Value) -> i64 {
    if record.is_object() {
        record.get("rev").and_then(Value::as_i64).unwrap_or(0)
    } else {
        -1
    }
}

/// The record as the core knows it (without the bookkeeping), or None when it is no record.
pub fn verification_of(record: &Value) -> Option<Verification> {
    if !record.is_object() {
        return None;
    }
    serde_json::from_value(record.clone()).ok()
}

/// The stored record with a verification's fields laid over it (the bookkeeping and fields
/// this release does not know are kept), `rev` and `by` as given, stamped.
pub fn record_with(record: &Value, v: &Verification, rev: i64, by: Option<&str>) -> Value {
    let mut fields = match record {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    if let Ok(Value::Object(core)) = serde_json::to_value(v) {
        fields.extend(core);
    }
    fields.insert("rev".into(), Value::from(rev));
    if let Some(by) = by {
        fields.insert("by".into(), Value::from(by));
    }
    stamped(Value::Object(fields))
}

/// Whether a read made beside the swap is what the lock protects now.
pub fn consistent(taken: &Taken, rev_read: i64) -> bool {
    match taken.found {
        LockFound::Free => true,
        LockFound::Released => taken.rev == Some(rev_read),
        _ => false,
    }
}

/// The release of a held lock at `rev` (None: unknown, the next holder reads again).
pub fn release_at(taken: &Taken, rev: Option<i64>) -> Write {
    let leave = match rev {
        Some(rev) => lock::Leave::at(taken, rev),
        None => lock::Leave::unknown(taken),
    };
    stamp_lock(lock::release(taken, &leave))
}

/// A lock write with `schemaVersion` (every stored value carries it).
pub fn stamp_lock(mut w: Write) -> Write {
    w.value = stamped(w.value);
    w
}

/// The swap that takes a lock.
pub fn take_lock(key: &str, owner: &str, now_ms: i64) -> Write {
    stamp_lock(lock::take(key, owner, "", now_ms))
}

// ---------------------------------------------------------------------------------------------
// Views

/// A verification as the browser may see it (no applied-event keys, no bookkeeping), with how
/// the panel shows it to this caller.
pub fn view_of(v: &Verification, access: &crate::panel::AgentAccess) -> Value {
    let input = crate::panel::ShownInput {
        status: v.status,
        history: v.history.clone(),
    };
    let mut fields = match serde_json::to_value(v) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    fields.remove("appliedEvents");
    if let Some(shown) = crate::panel::shown(std::slice::from_ref(&input), access).first() {
        if let Ok(Value::Object(extra)) = serde_json::to_value(shown) {
            fields.extend(extra);
        }
    }
    Value::Object(fields)
}

/// The realtime channel of an issue's panels.
pub fn channel_of(issue_id: &str) -> String {
    format!("{}{issue_id}", crate::state::REALTIME_CHANNEL_PREFIX)
}

/// An expiry as epoch ms: an ISO date (`2026-01-02T03:04:05.678Z`), or epoch seconds or ms.
pub fn epoch_ms(value: &Value) -> Option<i64> {
    let number = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    if let Some(n) = number {
        // Truncation of a fractional ms is fine for an expiry.
        #[allow(clippy::cast_possible_truncation)]
        let n = n as i64;
        return Some(if n < 1_000_000_000_000 { n * 1000 } else { n });
    }
    iso_ms(value.as_str()?)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` as epoch ms.
fn iso_ms(text: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes.get(4) != Some(&b'-') || bytes.get(10) != Some(&b'T') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, min, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = text.get(19..)?;
    let ms = match rest.strip_prefix('.') {
        Some(frac) => {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            let three: String = format!("{digits:0<3}").chars().take(3).collect();
            three.parse::<i64>().ok()?
        }
        None => 0,
    };
    if !rest.ends_with('Z') || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000 + s * 1000 + ms)
}

/// The `H:MM` (UTC) of an instant, as limit messages say it.
pub fn utc_clock(ms: i64) -> String {
    crate::jira::format_utc(ms)
        .get(11..16)
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issue_keys_and_ids_are_checked_like_the_context() {
        assert!(is_issue_key("HELP-12") && is_issue_key("A_B2-1"));
        for bad in ["help-1", "HELP-0", "HELP-", "-1", "HELP-1/..", "1A-1"] {
            assert!(!is_issue_key(bad), "{bad}");
        }
        assert!(is_issue_id("10001") && !is_issue_id("") && !is_issue_id("1x"));
    }

    #[test]
    fn expiries_read_in_every_form() {
        assert_eq!(epoch_ms(&json!(1_700_000_000)), Some(1_700_000_000_000));
        assert_eq!(epoch_ms(&json!("1700000000000")), Some(1_700_000_000_000));
        assert_eq!(
            epoch_ms(&json!("2023-11-14T22:13:20.000Z")),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            epoch_ms(&json!("2023-11-14T22:13:20Z")),
            Some(1_700_000_000_000)
        );
        assert_eq!(epoch_ms(&json!("soon")), None);
        assert_eq!(utc_clock(1_700_000_000_000), "22:13");
    }

    #[test]
    fn a_written_record_keeps_its_bookkeeping_and_is_stamped() {
        let record = json!({ "sessionId": "s", "transitions": { "passed": { "name": "Done", "id": "5" } }, "rev": 3 });
        let v: Verification = serde_json::from_value(json!({
            "id": "v", "sessionId": "s", "issueKey": "A-1", "issueId": "1", "email": "e@x.test", "name": "",
            "delivery": "EMAIL", "destination": "e@x.test", "requestedBy": "a", "requestedByName": "",
            "requestedAtMs": 0, "expiresAtMs": 1, "status": "requested", "statusText": "", "updatedAtMs": 0,
            "identityId": "", "history": [], "appliedEvents": []
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        let out = record_with(&record, &v, 4, Some("me"));
        assert_eq!(out["rev"], json!(4));
        assert_eq!(out["by"], json!("me"));
        assert_eq!(out["transitions"]["passed"]["id"], json!("5"));
        assert_eq!(out["schemaVersion"], json!(SCHEMA_VERSION));
        assert_eq!(rev_of(&Value::Null), -1);
    }
}
