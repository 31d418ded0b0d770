//! The customer portal's panel (`portal.getState`): when the admin turned it on, the requester
//! of a request sees that a verification link is on its way and until when it works. Nothing
//! else, and only their own. Loaded by the portal function with the core module alone, so it
//! stays small: it reads the few fields it shows, and a link past its expiry is simply not
//! pending (the agent's panel saves it as expired, `expiry.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    caller_of, is_issue_id, is_issue_key, jira_json, keys, read, refuse, value_of, Answer,
    CallerContext, Refusal,
};
use crate::effects::{Effect, EffectResult};
use crate::model::{Delivery, HttpRequest, Method};
use crate::plan::{Results, Step};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct PortalInput {
    pub owner: String,
    pub now_ms: i64,
    pub context: CallerContext,
}

/// What the requester sees.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PortalView {
    pub enabled: bool,
    pub pending: Option<Pending>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub expires_at_ms: i64,
    pub delivery: Delivery,
}

pub type PortalStep = Step<PortalState, Answer<PortalView>>;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    #[default]
    Read,
    Index,
    Record,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PortalState {
    pub phase: Phase,
    pub owner: String,
    pub now_ms: i64,
    pub account_id: String,
    /// Whether the context names a request (checked after the settings, as before).
    pub has_request: bool,
    pub issue_id: String,
}

fn request_key(context: &CallerContext) -> Option<&str> {
    context.request_key.as_str().filter(|k| is_issue_key(k))
}

/// Round trip 1: the settings, and the request's reporter (as the app).
pub fn start(input: PortalInput) -> PortalStep {
    if let Err(refusal) = caller_of(&input.context) {
        return refuse(refusal, Vec::new());
    }
    let mut effects = Vec::new();
    if let Some(key) = request_key(&input.context) {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("Accept".to_owned(), "application/json".to_owned());
        let request = HttpRequest {
            method: Method::Get,
            url: None,
            path: Some(format!(
                "/rest/api/3/issue/{}?fields=reporter",
                crate::jira::encode_segment(key)
            )),
            headers,
            body: None,
        };
        effects.push(Effect::AskJira {
            request,
            as_user: false,
        });
    }
    let state = PortalState {
        owner: input.owner.clone(),
        now_ms: input.now_ms,
        account_id: input.context.account_id.as_str().unwrap_or("").to_owned(),
        has_request: !effects.is_empty(),
        ..PortalState::default()
    };
    Step {
        reads: vec![read(keys::SETTINGS)],
        effects,
        state: Some(state),
        ..Step::default()
    }
}

/// The requester of the request, or the refusal.
fn requester(
    context_account: &str,
    answer: Option<&EffectResult>,
    has_key: bool,
) -> Result<String, Refusal> {
    if !has_key {
        return Err(Refusal::new(
            "bad_context",
            "Open this panel from a request on the portal.",
        ));
    }
    let not_yours = "This request is not yours.";
    let issue = jira_json(answer, Some(not_yours))?;
    let id = match issue.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let reporter = issue
        .get("fields")
        .and_then(|f| f.get("reporter"))
        .and_then(|r| r.get("accountId"))
        .and_then(Value::as_str);
    if reporter != Some(context_account) || !is_issue_id(&id) {
        return Err(Refusal::forbidden(not_yours));
    }
    Ok(id)
}

/// The next round trip.
pub fn next(mut st: PortalState, results: Results) -> PortalStep {
    let now = st.now_ms;
    match st.phase {
        Phase::Read => {
            // Settings no release wrote (the admin page saves over them) are refused, as before.
            let enabled = match value_of(results.reads.first()) {
                Ok(Value::Null) => false,
                Ok(record) => match record.get("settings") {
                    Some(settings @ Value::Object(_)) => match settings.get("portalEnabled") {
                        None | Some(Value::Null) => false,
                        Some(Value::Bool(on)) => *on,
                        Some(_) => return refuse(unreadable(), Vec::new()),
                    },
                    _ => return refuse(unreadable(), Vec::new()),
                },
                Err(refusal) => return refuse(refusal, Vec::new()),
            };
            if !enabled {
                return Step::reply(Answer::data(PortalView {
                    enabled: false,
                    pending: None,
                }));
            }
            match requester(&st.account_id, results.effects.first(), st.has_request) {
                Ok(id) => st.issue_id = id,
                Err(refusal) => return refuse(refusal, Vec::new()),
            }
            st.phase = Phase::Index;
            Step {
                reads: vec![read(keys::issue(&st.issue_id))],
                ..Step::then(st)
            }
        }
        Phase::Index => {
            let index = match value_of(results.reads.first()) {
                Ok(index) => index,
                Err(refusal) => return refuse(refusal, Vec::new()),
            };
            let Some(current) = index.get("current").and_then(Value::as_str) else {
                return view(None, now);
            };
            st.phase = Phase::Record;
            Step {
                reads: vec![read(keys::record(current))],
                ..Step::then(st)
            }
        }
        Phase::Record => {
            let record = match value_of(results.reads.first()) {
                Ok(record) => record,
                Err(refusal) => return refuse(refusal, Vec::new()),
            };
            let mine = record.get("issueId").and_then(Value::as_str) == Some(st.issue_id.as_str())
                // Only a link sent to the requester: one that went to another address, or to
                // another person named on the request, is not theirs to hear about.
                && record.get("personAccountId").and_then(Value::as_str)
                    == Some(st.account_id.as_str());
            view(mine.then_some(record), now)
        }
    }
}

fn unreadable() -> Refusal {
    Refusal::new(
        "settings_unreadable",
        "The app settings cannot be read. Ask your Jira admin to open the app settings and save them again.",
    )
}

/// A link still on its way: requested or in progress, not yet expired.
fn view(record: Option<&Value>, now: i64) -> PortalStep {
    let pending = record.and_then(|r| {
        let status = r.get("status").and_then(Value::as_str)?;
        let expires_at_ms = r.get("expiresAtMs").and_then(Value::as_i64)?;
        let delivery = match r.get("delivery").and_then(Value::as_str) {
            Some("SMS") => Delivery::Sms,
            Some("EMAIL") => Delivery::Email,
            _ => return None,
        };
        (matches!(status, "requested" | "inProgress") && expires_at_ms > now).then_some(Pending {
            expires_at_ms,
            delivery,
        })
    });
    Step::reply(Answer::data(PortalView {
        enabled: true,
        pending,
    }))
}
