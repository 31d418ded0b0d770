//! What an admin action answers: its data, or a refusal with a stable code (the resolver's
//! envelope error), and how the answers of storage, Jira and Incode read as refusals.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::effects::{EffectResult, Ended};
use crate::model::HttpAnswer;
use crate::plan::Found;

/// A refused action: the envelope's error, one definition for every action.
pub use crate::actions::Refusal;

/// `{ ok: true, data }` or `{ ok: false, error }`: the last step's reply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<Refusal>,
}

impl Reply {
    /// The answer's data; one that cannot be written as JSON is an internal failure.
    pub fn data<T: Serialize>(data: &T) -> Reply {
        match serde_json::to_value(data) {
            Ok(data) => Reply {
                ok: true,
                data: Some(data),
                error: None,
            },
            Err(_) => Reply::refused(internal()),
        }
    }

    pub fn refused(error: Refusal) -> Reply {
        Reply {
            ok: false,
            data: None,
            error: Some(error),
        }
    }

    pub fn of<T: Serialize>(result: Result<T, Refusal>) -> Reply {
        match result {
            Ok(data) => Reply::data(&data),
            Err(error) => Reply::refused(error),
        }
    }
}

pub fn storage_unavailable() -> Refusal {
    Refusal::storage()
}

pub fn internal() -> Refusal {
    Refusal::internal()
}

/// A read's value (`null` when absent), or the storage outage it met.
pub fn found(found: Option<&Found>) -> Result<&Value, Refusal> {
    match found {
        Some(Found {
            value,
            failed: None,
        }) => Ok(value),
        _ => Err(storage_unavailable()),
    }
}

/// The transaction's outcome.
pub fn landed(write_failed: &Option<String>) -> Result<(), Refusal> {
    match write_failed {
        None => Ok(()),
        Some(_) => Err(storage_unavailable()),
    }
}

fn jira_unavailable() -> Refusal {
    Refusal::retryable(
        "jira_unavailable",
        "Jira did not answer. Try again in a moment.",
    )
}

/// Jira's JSON answer to an `AskJira`: 200 with JSON is the answer; no answer, 429 and 5xx are
/// an outage worth a retry; any other status is Jira refusing.
pub fn jira_json(result: Option<&EffectResult>) -> Result<Value, Refusal> {
    let answer = match result {
        Some(EffectResult {
            ended: Ended::Done,
            answer: Some(answer),
            ..
        }) => answer,
        _ => return Err(jira_unavailable()),
    };
    match answer.status {
        200 => match serde_json::from_str::<Value>(&answer.body) {
            Ok(Value::Null) | Err(_) => Err(jira_unavailable()),
            Ok(json) => Ok(json),
        },
        429 | 500.. => Err(jira_unavailable()),
        status => Err(Refusal::new(
            "jira_error",
            format!("Jira refused the request (HTTP {status})."),
        )),
    }
}

/// Incode's answer to an `AskIncode`, whatever its status; none at all is an outage.
pub fn incode_answer(result: Option<&EffectResult>) -> Result<&HttpAnswer, Refusal> {
    match result {
        Some(EffectResult {
            ended: Ended::Done,
            answer: Some(answer),
            ..
        }) => Ok(answer),
        _ => Err(Refusal::retryable(
            "incode_unavailable",
            "Incode could not be reached. Try again in a minute.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(status: u16, body: &str) -> EffectResult {
        EffectResult {
            ended: Ended::Done,
            status,
            note: None,
            answer: Some(HttpAnswer {
                status,
                body: body.to_owned(),
            }),
        }
    }

    #[test]
    fn jira_answers_read_as_the_resolvers_always_read_them() {
        assert_eq!(
            jira_json(Some(&asked(200, "{\"a\":1}"))).ok(),
            Some(serde_json::json!({ "a": 1 }))
        );
        let code = |r: Result<Value, Refusal>| r.err().map(|e| (e.code, e.retryable));
        assert_eq!(
            code(jira_json(Some(&asked(200, "<html>")))),
            Some(("jira_unavailable".into(), true))
        );
        assert_eq!(
            code(jira_json(Some(&asked(503, "")))),
            Some(("jira_unavailable".into(), true))
        );
        assert_eq!(
            code(jira_json(Some(&asked(429, "")))),
            Some(("jira_unavailable".into(), true))
        );
        assert_eq!(
            code(jira_json(Some(&asked(403, "")))),
            Some(("jira_error".into(), false))
        );
        let retry = EffectResult {
            ended: Ended::Retry,
            status: 0,
            note: None,
            answer: None,
        };
        assert_eq!(
            code(jira_json(Some(&retry))),
            Some(("jira_unavailable".into(), true))
        );
        assert_eq!(
            code(jira_json(None)),
            Some(("jira_unavailable".into(), true))
        );
    }

    #[test]
    fn a_failed_read_or_write_is_a_storage_outage() {
        let failed = Found {
            value: Value::Null,
            failed: Some("KVS".into()),
        };
        assert_eq!(
            found(Some(&failed)).err().map(|e| e.code),
            Some("storage_unavailable".into())
        );
        assert!(found(None).is_err());
        assert!(landed(&Some("x".into())).is_err());
        assert!(landed(&None).is_ok());
    }
}
