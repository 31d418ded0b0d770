//! The OAuth 2.0 token webtrigger Incode calls before delivering webhooks (client credentials,
//! `webhook::issue_webhook_token`), as a plan: one round trip (the settings, the secrets and the
//! throttle's marker), then the answer. A wrong client id or secret counts toward the throttle
//! the webhook shares.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::reply::{line, respond, throttle_marker, Answer, WebtriggerResponse};
use super::{config_of, config_reads, Memory};
use crate::plan::{Results, Step};
use crate::throttle;
use crate::webhook::{self, Webtrigger};

/// One request to the token webtrigger.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TokenInput {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    #[cfg_attr(test, ts(type = "Record<string, string[] | string>"))]
    pub headers: Value,
    pub now_ms: i64,
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub memory: Option<Memory>,
}

/// What the token request carries to its second step (kept in the module, like a delivery's).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenState {
    body: String,
    authorization: String,
    now_ms: i64,
    memory: Memory,
}

pub type Planned = Step<TokenState, Answer>;

/// `{ error, error_description? }`, an OAuth error body.
fn error_body(error: &str, description: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        error_description: &'a str,
    }
    serde_json::to_string(&Body {
        error,
        error_description: description,
    })
    .unwrap_or_default()
}

fn ended(memory: Memory, response: WebtriggerResponse) -> Planned {
    Step::reply(Answer { response, memory })
}

fn locked(memory: Memory, seconds: u32) -> Planned {
    let response = respond(
        429,
        error_body("temporarily_unavailable", ""),
        vec![("Retry-After", seconds.to_string())],
    );
    ended(memory, response)
}

/// The first step: refuse early, or read the configuration.
pub fn start(input: TokenInput) -> Planned {
    let memory = input.memory.unwrap_or_default();
    if let Some(refusal) =
        webhook::check_request(Webtrigger::Token, &input.method, input.body.len())
    {
        let allow = refusal
            .allow
            .as_ref()
            .map(|allow| ("Allow", allow.clone()))
            .into_iter()
            .collect();
        let body = error_body("invalid_request", &refusal.reason);
        let log = line(
            "webtrigger.refused",
            vec![
                ("endpoint", "token".into()),
                ("status", refusal.status.into()),
                ("reason", refusal.reason.as_str().into()),
            ],
        );
        return Step {
            logs: vec![log],
            ..ended(memory, respond(refusal.status, body, allow))
        };
    }
    if let Some(seconds) = throttle::locked_for(&memory.failures, None, input.now_ms) {
        return locked(memory, seconds);
    }
    Step {
        reads: config_reads(),
        ..Step::then(TokenState {
            authorization: header(&input.headers, "authorization"),
            body: input.body,
            now_ms: input.now_ms,
            memory,
        })
    }
}

/// The answer, once the configuration is read.
pub fn next(state: TokenState, results: Results) -> Planned {
    let TokenState {
        body,
        authorization,
        now_ms,
        mut memory,
    } = state;
    let (config, marker) = match config_of(&results.reads) {
        Ok(read) => read,
        Err(failure) => {
            let log = line(
                "token.config_unavailable",
                vec![("code", failure.code().into())],
            );
            let response = respond(503, error_body("temporarily_unavailable", ""), Vec::new());
            return Step {
                logs: vec![log],
                ..ended(memory, response)
            };
        }
    };
    if let Some(until) = marker {
        let failures = &mut memory.failures;
        failures.locked_until_ms = failures.locked_until_ms.max(until);
    }
    if let Some(seconds) = throttle::locked_for(&memory.failures, marker, now_ms) {
        return locked(memory, seconds);
    }
    let answer = webhook::issue_webhook_token(
        &config.settings.webhook_auth,
        &config.secrets.webhook_secret,
        &authorization,
        &body,
        now_ms,
    );
    let mut puts = Vec::new();
    // A wrong client id or secret (invalid_client) counts toward the throttle; issuance being
    // off does not (no guess was checked, and the webhook shares the throttle).
    if answer.status == 401 && answer.off.is_empty() {
        let noted = throttle::note_failure(&memory.failures, now_ms);
        memory.failures = noted.failures;
        puts.extend(
            noted
                .mark_until_ms
                .map(|until| throttle_marker(until, now_ms)),
        );
    }
    let mut headers = BTreeMap::new();
    headers.insert(
        "Content-Type".to_owned(),
        vec!["application/json".to_owned()],
    );
    headers.insert("Cache-Control".to_owned(), vec!["no-store".to_owned()]);
    headers.insert("Pragma".to_owned(), vec!["no-cache".to_owned()]);
    let response = WebtriggerResponse {
        status_code: answer.status,
        headers,
        body: answer.body,
    };
    Step {
        puts,
        logs: vec![line("token.answered", {
            let mut fields = vec![("status", answer.status.into())];
            if !answer.off.is_empty() {
                fields.push(("reason", answer.off.into()));
            }
            fields
        })],
        ..ended(memory, response)
    }
}

/// A header's first value, by name in any case ("" when absent).
fn header(headers: &Value, name: &str) -> String {
    let Some(headers) = headers.as_object() else {
        return String::new();
    };
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, value)| match value {
            Value::String(one) => Some(one.clone()),
            Value::Array(many) => many.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .unwrap_or_default()
}
