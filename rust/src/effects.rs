//! The effects a planner asks for, in the product's terms, and the one place that turns them into
//! Jira, Incode and realtime calls. A second ticketing platform would replace this module and
//! keep the planners.
//!
//! An effect runs as a small conversation: `begin` names the first call, the executor makes it
//! and hands the answer to `advance`, which names the next call or the effect's result. The
//! executor (`src/run.js`) knows how to make each kind of `Call` and nothing else.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jira;
use crate::model::{HttpAnswer, HttpRequest, Outcome};
use crate::transitions::{choose_named, TransitionChoice};

/// The comment property that marks a comment as the one for an event (its idempotency key).
pub const EVENT_PROPERTY: &str = "incode-verification-event";
/// How far back a comment is looked for (it was posted recently): the newest 500, 50 a page.
const COMMENT_PAGE: u32 = 50;
const COMMENT_PAGES_MAX: u32 = 10;
/// A stored publish token is used only with this much life left.
const TOKEN_MARGIN_MS: i64 = 60_000;

/// What a planner wants done outside storage.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
// Externally tagged (`{ "postOutcomeComment": { ... } }`): reading an internally tagged enum
// back buffers it through serde's `Content`, about 40 KB of the core module per enum.
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Effect {
    /// The outcome's comment on the ticket, exactly once: `lookFirst` looks for it by its event
    /// property before posting (a retry after an unknown end). `request`: the core's comment.
    PostOutcomeComment {
        issue_key: String,
        event_key: String,
        request: HttpRequest,
        look_first: bool,
    },
    /// Only looks: `done` when the event's comment is on the ticket, `busy` when it is not.
    FindOutcomeComment {
        issue_key: String,
        event_key: String,
    },
    /// Moves the ticket along the transition configured for an outcome (`name`): by the id chosen
    /// at send time when there is one (Jira refusing it with 400, 404 or 409 falls back to the
    /// look-up), else looked up and chosen now.
    TakeOutcomeTransition {
        issue_key: String,
        outcome: Outcome,
        name: String,
        #[serde(default)]
        known_id: Option<String>,
    },
    /// Only looks: `done` when the transition is no longer offered, `busy` when it still is.
    CheckOutcomeTransition {
        issue_key: String,
        outcome: Outcome,
        name: String,
    },
    /// The ticket's verification status: the app's read-only field "Identity verification"
    /// (`text`, written by the issue's id; only the app can write it). Never read back for a
    /// decision.
    RecordStatus { issue_id: String, text: String },
    /// The issue property JQL searches by outcome and date (`request`), written beside the
    /// field. Anyone with Edit Issues can write it: nothing reads it for a decision.
    IndexStatus { request: HttpRequest },
    /// Asks Jira something (an issue's person field, its transitions, the caller's permissions):
    /// ends `done` with Jira's answer in `answer`, whatever its status, or `retry` with none.
    AskJira {
        request: HttpRequest,
        #[serde(default)]
        as_user: bool,
    },
    /// Asks Incode (an access token, a new session): ends like `askJira`.
    AskIncode { request: HttpRequest },
    /// Reports the Atlassian accounts the app stores data about (the weekly personal-data
    /// report): ends `done` with the platform's answer (`[{ accountId, status }]`) in `answer`.
    ReportAccounts { accounts: Vec<AccountReport> },
    /// Signs a realtime token for the issue's channel: a subscribe-only one for the browser
    /// (`subscribe`), else a publish-only one the backend keeps. Ends `done` with
    /// `{ token, expiresAt }` in `answer` (status 200), or `dropped`.
    SignToken {
        issue_id: String,
        channel: String,
        #[serde(default)]
        subscribe: bool,
    },
    /// Waits `ms` before the action looks again (another holder has a lock it needs).
    Wait { ms: u32 },
    /// Tells the issue's open panels (best effort: they also poll). `token`: the publish token
    /// prepared at send time, used while it has a minute left.
    TellPanel {
        issue_id: String,
        channel: String,
        payload: String,
        #[serde(default)]
        token: Option<PublishToken>,
    },
}

impl Effect {
    /// `verification`'s status in the issue's field.
    pub fn record_status(verification: &crate::model::Shown) -> Effect {
        Effect::RecordStatus {
            issue_id: verification.issue_id.to_owned(),
            text: verification.status_text.to_owned(),
        }
    }
    /// `verification`'s status in the property of the issue `issue_key`.
    pub fn index_status(issue_key: &str, verification: &crate::model::Shown) -> Effect {
        Effect::IndexStatus {
            request: jira::property_request(issue_key, verification),
        }
    }
}

/// An account the app stores data about, and when that data last changed (ISO 8601).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountReport {
    pub account_id: String,
    pub updated_at: String,
}

/// A publish-only realtime token for an issue's channel (never sent to the browser).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PublishToken {
    pub token: String,
    pub expires_at_ms: i64,
}

/// One call the executor makes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "via", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Call {
    /// `requestJira` as the app.
    JiraAsApp { request: HttpRequest },
    /// `requestJira` as the calling user (resolvers only).
    JiraAsUser { request: HttpRequest },
    /// `fetch` to Incode.
    Incode { request: HttpRequest },
    /// `signRealtimeToken(channel, { issueId }, ["publish"])`; answered `{ token, expiresAt }`.
    SignPublishToken { channel: String, issue_id: String },
    /// `privacy.reportPersonalData(accounts)`; answered 200 with the updates as JSON.
    ReportPersonalData { accounts: Vec<AccountReport> },
    /// `signRealtimeToken(channel, { issueId }, ["subscribe"])`; answered like the publish one.
    SignSubscribeToken { channel: String, issue_id: String },
    /// A pause of `ms`; answered 200.
    Wait { ms: u32 },
    /// `PUT /rest/api/3/app/field/{field}/value` as the app, `field` being the key Forge gives
    /// the app's `jira:customField` module `moduleKey` in this environment (only the runtime
    /// knows the app id and environment); `body` is Jira's request body.
    SetAppField { module_key: String, body: String },
    /// `publishGlobal(channel, payload, { token })`; answered 200, or 500 with the errors.
    Publish {
        channel: String,
        payload: String,
        token: String,
    },
}

/// What a call got: Jira's or Incode's answer, or `status` 0 when it never came (a timeout, a
/// network failure).
pub type CallAnswer = HttpAnswer;

/// How an effect ended. `retry`: try again later (429, 5xx, no answer); `dropped`: refused for
/// good (the issue was deleted); `busy`: what a look-only effect saw still needs doing.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Ended {
    Done,
    Retry,
    Dropped,
    Busy,
}

/// An effect's result, with the status of its last call (for the log).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EffectResult {
    pub ended: Ended,
    #[serde(default)]
    pub status: u16,
    /// Why, when it matters to the log (a transition not offered, a refused id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub note: Option<String>,
    /// The answer an asking effect got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub answer: Option<HttpAnswer>,
}

/// Where an effect stands between two calls.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Running {
    pub effect: Effect,
    pub stage: Stage,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Stage {
    /// Reading the newest comments, a page from `startAt`.
    Looking {
        start_at: u32,
    },
    Posting,
    /// Reading the issue's transitions.
    Listing,
    /// Posting a transition; `known`: the id chosen at send time.
    Moving {
        known: bool,
    },
    Signing,
    Publishing,
    /// Waiting for the answer an asking effect hands back.
    Asking,
}

/// The next call, or the end.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "next", rename_all = "camelCase")]
#[allow(clippy::large_enum_variant)] // crosses to JS at once: never held in bulk
pub enum Progress {
    Call { call: Call, running: Running },
    Ended { result: EffectResult },
}

/// The first call of an effect.
pub fn begin(effect: Effect, now_ms: i64) -> Progress {
    match &effect {
        Effect::PostOutcomeComment {
            look_first: true, ..
        }
        | Effect::FindOutcomeComment { .. } => look(effect, 0),
        Effect::PostOutcomeComment { .. } => post_comment(effect),
        Effect::TakeOutcomeTransition {
            issue_key,
            known_id: Some(id),
            ..
        } => {
            let request = jira::transition_request(issue_key, id);
            call(
                effect,
                Stage::Moving { known: true },
                Call::JiraAsApp { request },
            )
        }
        Effect::TakeOutcomeTransition { issue_key, .. }
        | Effect::CheckOutcomeTransition { issue_key, .. } => {
            let request = jira::transitions_request(issue_key);
            call(effect, Stage::Listing, Call::JiraAsApp { request })
        }
        Effect::AskJira { request, as_user } => {
            let request = request.clone();
            let jira = if *as_user {
                Call::JiraAsUser { request }
            } else {
                Call::JiraAsApp { request }
            };
            call(effect, Stage::Asking, jira)
        }
        Effect::AskIncode { request } => {
            let request = request.clone();
            call(effect, Stage::Asking, Call::Incode { request })
        }
        Effect::ReportAccounts { accounts } => {
            let accounts = accounts.clone();
            call(effect, Stage::Asking, Call::ReportPersonalData { accounts })
        }
        Effect::SignToken {
            issue_id,
            channel,
            subscribe,
        } => {
            let (channel, issue_id) = (channel.clone(), issue_id.clone());
            let sign = if *subscribe {
                Call::SignSubscribeToken { channel, issue_id }
            } else {
                Call::SignPublishToken { channel, issue_id }
            };
            call(effect, Stage::Asking, sign)
        }
        Effect::Wait { ms } => {
            let ms = *ms;
            call(effect, Stage::Asking, Call::Wait { ms })
        }
        Effect::RecordStatus { issue_id, text, .. } => {
            let set = Call::SetAppField {
                module_key: jira::STATUS_FIELD.to_owned(),
                body: jira::field_value_body(issue_id, text),
            };
            call(effect, Stage::Posting, set)
        }
        Effect::IndexStatus { request } => {
            let request = request.clone();
            call(effect, Stage::Posting, Call::JiraAsApp { request })
        }
        Effect::TellPanel {
            channel,
            payload,
            token: Some(token),
            ..
        } if token.expires_at_ms > now_ms + TOKEN_MARGIN_MS => {
            let publish = Call::Publish {
                channel: channel.clone(),
                payload: payload.clone(),
                token: token.token.clone(),
            };
            call(effect, Stage::Publishing, publish)
        }
        Effect::TellPanel {
            channel, issue_id, ..
        } => {
            let sign = Call::SignPublishToken {
                channel: channel.clone(),
                issue_id: issue_id.clone(),
            };
            call(effect, Stage::Signing, sign)
        }
    }
}

/// The effect's next call, given the answer to its last one.
pub fn advance(running: Running, answer: &CallAnswer) -> Progress {
    let Running { effect, stage } = running;
    let status = answer.status;
    match stage {
        Stage::Looking { start_at } => {
            if status == 404 {
                // The issue is gone: its comment cannot be there.
                return found_comment(effect, false, status);
            }
            if !ok(status) {
                return ended(Ended::Retry, status, None);
            }
            let Some(page) = comment_page(effect_event_key(&effect), &answer.body) else {
                return ended(Ended::Retry, status, None);
            };
            if page.found {
                return found_comment(effect, true, status);
            }
            let next = start_at + page.count;
            if page.last || next >= COMMENT_PAGE * COMMENT_PAGES_MAX {
                return found_comment(effect, false, status);
            }
            look(effect, next)
        }
        Stage::Posting => classify(status),
        Stage::Asking if status == 0 => ended(Ended::Retry, 0, None),
        Stage::Asking => Progress::Ended {
            result: EffectResult {
                ended: Ended::Done,
                status,
                note: None,
                answer: Some(answer.clone()),
            },
        },
        Stage::Listing => listed(effect, answer),
        Stage::Moving { known } => {
            if known && matches!(status, 400 | 404 | 409) {
                // The issue moved on since the id was chosen: look the transitions up now.
                let Effect::TakeOutcomeTransition { issue_key, .. } = &effect else {
                    return ended(Ended::Dropped, status, None);
                };
                let request = jira::transitions_request(issue_key);
                return call(effect, Stage::Listing, Call::JiraAsApp { request });
            }
            classify(status)
        }
        Stage::Signing => signed(effect, answer),
        Stage::Publishing => {
            let end = if ok(status) {
                Ended::Done
            } else {
                Ended::Dropped
            };
            ended(end, status, None)
        }
    }
}

fn call(effect: Effect, stage: Stage, call: Call) -> Progress {
    Progress::Call {
        call,
        running: Running { effect, stage },
    }
}

fn ended(ended: Ended, status: u16, note: Option<String>) -> Progress {
    Progress::Ended {
        result: EffectResult {
            ended,
            status,
            note,
            answer: None,
        },
    }
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A 2xx is done; 429, 5xx and no answer are worth a retry; any other refusal is final.
fn classify(status: u16) -> Progress {
    let end = if ok(status) {
        Ended::Done
    } else if status == 0 || status == 429 || status >= 500 {
        Ended::Retry
    } else {
        Ended::Dropped
    };
    ended(end, status, None)
}

fn effect_event_key(effect: &Effect) -> &str {
    match effect {
        Effect::PostOutcomeComment { event_key, .. }
        | Effect::FindOutcomeComment { event_key, .. } => event_key,
        _ => "",
    }
}

fn look(effect: Effect, start_at: u32) -> Progress {
    let issue_key = match &effect {
        Effect::PostOutcomeComment { issue_key, .. }
        | Effect::FindOutcomeComment { issue_key, .. } => issue_key.clone(),
        _ => String::new(),
    };
    let request = jira::comments_request(&issue_key, start_at, COMMENT_PAGE);
    call(
        effect,
        Stage::Looking { start_at },
        Call::JiraAsApp { request },
    )
}

/// The comment request with the event's idempotency property added.
fn post_comment(effect: Effect) -> Progress {
    let Effect::PostOutcomeComment {
        request, event_key, ..
    } = &effect
    else {
        return ended(Ended::Dropped, 0, None);
    };
    let mut body: Value = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    let Some(object) = body.as_object_mut() else {
        return ended(
            Ended::Dropped,
            0,
            Some("the comment request has no JSON body".into()),
        );
    };
    let property = serde_json::json!({ "key": EVENT_PROPERTY, "value": { "key": event_key } });
    match object.get_mut("properties").and_then(Value::as_array_mut) {
        Some(list) => list.push(property),
        None => {
            object.insert("properties".into(), Value::Array(vec![property]));
        }
    }
    let request = HttpRequest {
        // `to_string`, not `Value`'s `Display`, which also carries a pretty printer.
        body: serde_json::to_string(&body).ok(),
        ..request.clone()
    };
    call(effect, Stage::Posting, Call::JiraAsApp { request })
}

/// The look ended: a find answers found/absent; a post posts when absent.
fn found_comment(effect: Effect, found: bool, status: u16) -> Progress {
    match (&effect, found) {
        (_, true) => ended(Ended::Done, status, None),
        (Effect::PostOutcomeComment { .. }, false) => post_comment(effect),
        (_, false) => ended(Ended::Busy, status, None),
    }
}

struct CommentPage {
    found: bool,
    count: u32,
    last: bool,
}

fn comment_page(event_key: &str, body: &str) -> Option<CommentPage> {
    let page: Value = serde_json::from_str(body).ok()?;
    let comments = page.get("comments")?.as_array()?;
    let found = comments.iter().any(|c| {
        c.get("properties")
            .and_then(Value::as_array)
            .is_some_and(|props| {
                props.iter().any(|p| {
                    p.get("key").and_then(Value::as_str) == Some(EVENT_PROPERTY)
                        && p.get("value")
                            .and_then(|v| v.get("key"))
                            .and_then(Value::as_str)
                            == Some(event_key)
                })
            })
    });
    let count = u32::try_from(comments.len()).unwrap_or(u32::MAX);
    let total = page.get("total").and_then(Value::as_u64).unwrap_or(0);
    let start_at = page.get("startAt").and_then(Value::as_u64).unwrap_or(0);
    let last = count < COMMENT_PAGE || start_at + u64::from(count) >= total;
    Some(CommentPage { found, count, last })
}

/// The issue's transitions arrived: choose, then move (or only say whether it is offered).
fn listed(effect: Effect, answer: &CallAnswer) -> Progress {
    let status = answer.status;
    let check = matches!(effect, Effect::CheckOutcomeTransition { .. });
    if !ok(status) {
        if check && status == 404 {
            return ended(Ended::Done, status, Some("issue_gone".into()));
        }
        return classify(if check && status != 0 && status < 500 {
            500
        } else {
            status
        });
    }
    let Ok(list) = serde_json::from_str::<Value>(&answer.body) else {
        return ended(Ended::Retry, status, Some("unreadable_transitions".into()));
    };
    let (issue_key, outcome, name) = match &effect {
        Effect::TakeOutcomeTransition {
            issue_key,
            outcome,
            name,
            ..
        }
        | Effect::CheckOutcomeTransition {
            issue_key,
            outcome,
            name,
        } => (issue_key.clone(), *outcome, name.clone()),
        _ => return ended(Ended::Dropped, status, None),
    };
    match (choose_named(outcome, &name, &issue_key, &list), check) {
        (TransitionChoice::Transition { .. }, true) => ended(Ended::Busy, status, None),
        (TransitionChoice::NoTransition { .. }, true) => ended(Ended::Done, status, None),
        (TransitionChoice::Transition { request, .. }, false) => call(
            effect,
            Stage::Moving { known: false },
            Call::JiraAsApp { request },
        ),
        (TransitionChoice::NoTransition { message, .. }, false) => {
            ended(Ended::Done, status, Some(message))
        }
    }
}

/// A publish token arrived: publish with it.
fn signed(effect: Effect, answer: &CallAnswer) -> Progress {
    let token = serde_json::from_str::<Value>(&answer.body)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned));
    match (token, &effect) {
        (
            Some(token),
            Effect::TellPanel {
                channel, payload, ..
            },
        ) if ok(answer.status) => {
            let publish = Call::Publish {
                channel: channel.clone(),
                payload: payload.clone(),
                token,
            };
            call(effect, Stage::Publishing, publish)
        }
        _ => ended(Ended::Dropped, answer.status, Some("sign_failed".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_of_accounts_is_one_platform_call_answered_whole() {
        let accounts = vec![AccountReport {
            account_id: "a1".into(),
            updated_at: "2026-12-06T09:00:00.000Z".into(),
        }];
        let effect = Effect::ReportAccounts {
            accounts: accounts.clone(),
        };
        let Progress::Call { call, running } = begin(effect, 0) else {
            unreachable!("a report makes a call")
        };
        assert_eq!(call, Call::ReportPersonalData { accounts });
        let body = r#"[{"accountId":"a1","status":"closed"}]"#;
        let answer = HttpAnswer {
            status: 200,
            body: body.into(),
        };
        match advance(running.clone(), &answer) {
            Progress::Ended { result } => {
                assert_eq!(result.ended, Ended::Done);
                assert_eq!(result.answer.map(|a| a.body), Some(body.to_owned()));
            }
            other => unreachable!("{other:?}"),
        }
        let none = HttpAnswer {
            status: 0,
            body: String::new(),
        };
        assert!(matches!(
            advance(running, &none),
            Progress::Ended { result } if result.ended == Ended::Retry
        ));
    }

    fn first_call(effect: Effect) -> (Call, Running) {
        match begin(effect, 0) {
            Progress::Call { call, running } => (call, running),
            Progress::Ended { result } => unreachable!("ended at once: {result:?}"),
        }
    }

    #[test]
    fn a_wait_pauses_then_ends_done() {
        let (call, running) = first_call(Effect::Wait { ms: 150 });
        assert_eq!(call, Call::Wait { ms: 150 });
        let answer = HttpAnswer {
            status: 200,
            body: String::new(),
        };
        let Progress::Ended { result } = advance(running, &answer) else {
            unreachable!("a wait makes one call");
        };
        assert_eq!(result.ended, Ended::Done);
    }

    #[test]
    fn a_token_is_signed_for_subscribing_or_publishing_and_handed_back() {
        let sign = |subscribe| Effect::SignToken {
            issue_id: "10001".into(),
            channel: "incode-verification:10001".into(),
            subscribe,
        };
        let (call, _) = first_call(sign(true));
        assert!(matches!(call, Call::SignSubscribeToken { .. }));
        let (call, running) = first_call(sign(false));
        assert!(matches!(call, Call::SignPublishToken { .. }));
        let body = r#"{"token":"t","expiresAt":"2026-01-01T00:00:00.000Z"}"#.to_owned();
        let answer = HttpAnswer { status: 200, body };
        let Progress::Ended { result } = advance(running.clone(), &answer) else {
            unreachable!("one call");
        };
        assert_eq!((result.ended, result.answer), (Ended::Done, Some(answer)));
        let none = HttpAnswer {
            status: 0,
            body: String::new(),
        };
        let Progress::Ended { result } = advance(running, &none) else {
            unreachable!("one call");
        };
        assert_eq!(result.ended, Ended::Retry);
    }

    #[test]
    fn the_status_is_written_to_the_app_field_by_the_issue_id() {
        let effect = Effect::RecordStatus {
            issue_id: "10001".into(),
            text: "Success - 2026-12-06 10:04:31 UTC".into(),
        };
        let (call, running) = first_call(effect);
        assert_eq!(
            call,
            Call::SetAppField {
                module_key: jira::STATUS_FIELD.into(),
                body: r#"{"updates":[{"issueIds":[10001],"value":"Success - 2026-12-06 10:04:31 UTC"}]}"#
                    .into(),
            }
        );
        let ended = |status| match advance(
            running.clone(),
            &HttpAnswer {
                status,
                body: String::new(),
            },
        ) {
            Progress::Ended { result } => result.ended,
            Progress::Call { call, .. } => unreachable!("{call:?}"),
        };
        assert_eq!(ended(204), Ended::Done);
        assert_eq!(ended(503), Ended::Retry);
        assert_eq!(ended(404), Ended::Dropped);
    }
}
