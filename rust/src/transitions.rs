//! Which Jira transition an outcome takes, or why none.
//!
//! Admins type a name per outcome. Jira only offers the transitions available from the issue's
//! current status, so the choice is made against the live `GET …/transitions` answer: first by
//! transition name, then by target status name (the user guide's table lists statuses such as
//! "In Progress" and "Escalate", and admins often type those), both ignoring case and
//! surrounding whitespace.

use crate::jira;
use crate::model::{HttpRequest, Outcome, Settings};
use serde::Serialize;
use serde_json::Value;

/// Which transition to apply for an outcome, with its request, or why there is none.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TransitionChoice {
    Transition {
        id: String,
        name: String,
        request: HttpRequest,
    },
    #[serde(rename = "none")]
    NoTransition {
        reason: NoTransitionReason,
        message: String,
    },
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum NoTransitionReason {
    /// The admin left the outcome's transition blank: the status is managed by hand.
    NotConfigured,
    /// The configured transition is not offered from the issue's current status (or Jira's
    /// answer could not be read).
    NotAvailable,
}

/// One transition from Jira's answer, as far as it could be read.
struct Offered {
    id: String,
    name: String,
    to: String,
}

/// Picks the transition configured for `outcome` among those in `answer` (Jira's transitions
/// answer, as an object or as its JSON text).
pub fn choose_transition(
    outcome: Outcome,
    settings: &Settings,
    issue_key: &str,
    answer: &Value,
) -> TransitionChoice {
    choose_named(
        outcome,
        settings.transitions.get(outcome),
        issue_key,
        answer,
    )
}

/// The same choice for the transition name configured for `outcome`.
pub fn choose_named(
    outcome: Outcome,
    configured: &str,
    issue_key: &str,
    answer: &Value,
) -> TransitionChoice {
    let configured = configured.trim();
    if configured.is_empty() {
        return TransitionChoice::NoTransition {
            reason: NoTransitionReason::NotConfigured,
            message: format!(
                "No transition is configured for the {} outcome; the status of {issue_key} is left as it is.",
                outcome.words()
            ),
        };
    }
    let Some(offered) = read_answer(answer) else {
        return TransitionChoice::NoTransition {
            reason: NoTransitionReason::NotAvailable,
            message: format!(
                "Jira's list of transitions for {issue_key} was unreadable, so \"{configured}\" was not applied."
            ),
        };
    };
    let found = offered
        .iter()
        .find(|t| same_name(&t.name, configured))
        .or_else(|| offered.iter().find(|t| same_name(&t.to, configured)));
    match found {
        Some(t) => TransitionChoice::Transition {
            id: t.id.clone(),
            name: t.name.clone(),
            request: jira::transition_request(issue_key, &t.id),
        },
        None => TransitionChoice::NoTransition {
            reason: NoTransitionReason::NotAvailable,
            message: not_available_message(issue_key, configured, &offered),
        },
    }
}

fn same_name(candidate: &str, configured: &str) -> bool {
    let candidate = candidate.trim();
    !candidate.is_empty() && crate::caseless::eq(candidate, configured)
}

fn not_available_message(issue_key: &str, configured: &str, offered: &[Offered]) -> String {
    if offered.is_empty() {
        return format!(
            "Transition \"{configured}\" is not available for {issue_key}: no transitions are available from its current status."
        );
    }
    let list: Vec<String> = offered
        .iter()
        .map(|t| {
            if t.to.is_empty() || t.to.eq_ignore_ascii_case(&t.name) {
                format!("\"{}\"", t.name)
            } else {
                format!("\"{}\" (to {})", t.name, t.to)
            }
        })
        .collect();
    format!(
        "Transition \"{configured}\" is not available for {issue_key} from its current status. Available: {}.",
        list.join(", ")
    )
}

/// The transitions in Jira's answer. `None` when the answer is not a transitions list at all;
/// entries without an id or a name are skipped (they cannot be applied or matched).
fn read_answer(answer: &Value) -> Option<Vec<Offered>> {
    let parsed;
    let answer = match answer {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    let list = answer.get("transitions")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|entry| {
                let id = match entry.get("id")? {
                    Value::String(id) if !id.trim().is_empty() => id.trim().to_owned(),
                    Value::Number(id) => id.to_string(),
                    _ => return None,
                };
                let name = entry.get("name")?.as_str()?.trim().to_owned();
                let to = entry
                    .get("to")
                    .and_then(|to| to.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                Some(Offered { id, name, to })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::default_settings;
    use serde_json::json;

    fn settings(passed: &str) -> Settings {
        let mut s = default_settings();
        s.transitions.passed = passed.to_owned();
        s.transitions.failed = "Escalate".to_owned();
        s
    }

    fn answer() -> Value {
        json!({ "transitions": [
            { "id": "11", "name": "Start progress", "to": { "name": "In Progress" } },
            { "id": "21", "name": "Escalate", "to": { "name": "Escalated" } },
            { "id": "31", "name": "Resolve", "to": { "name": "Resolved" } }
        ]})
    }

    fn chosen_id(choice: &TransitionChoice) -> Option<&str> {
        match choice {
            TransitionChoice::Transition { id, .. } => Some(id),
            TransitionChoice::NoTransition { .. } => None,
        }
    }

    #[test]
    fn not_configured() {
        let choice = choose_transition(Outcome::Passed, &settings("  "), "HD-1", &answer());
        assert!(matches!(
            choice,
            TransitionChoice::NoTransition {
                reason: NoTransitionReason::NotConfigured,
                ..
            }
        ));
    }

    #[test]
    fn by_name_ignoring_case_and_space() {
        let choice = choose_transition(
            Outcome::Passed,
            &settings(" start PROGRESS "),
            "HD-1",
            &answer(),
        );
        assert_eq!(chosen_id(&choice), Some("11"));
        let TransitionChoice::Transition { name, request, .. } = choice else {
            panic!("expected a transition");
        };
        assert_eq!(name, "Start progress");
        assert_eq!(request, jira::transition_request("HD-1", "11"));
    }

    #[test]
    fn by_target_status_when_no_name_matches() {
        let choice =
            choose_transition(Outcome::Passed, &settings("in progress"), "HD-1", &answer());
        assert_eq!(chosen_id(&choice), Some("11"));
    }

    #[test]
    fn a_name_match_wins_over_a_status_match() {
        let answer = json!({ "transitions": [
            { "id": "1", "name": "Back", "to": { "name": "Escalate" } },
            { "id": "2", "name": "Escalate", "to": { "name": "Escalated" } }
        ]});
        let choice = choose_transition(Outcome::Failed, &settings(""), "HD-1", &answer);
        assert_eq!(chosen_id(&choice), Some("2"));
    }

    #[test]
    fn not_available_names_what_is() {
        let choice = choose_transition(Outcome::Passed, &settings("Close"), "HD-1", &answer());
        let TransitionChoice::NoTransition { reason, message } = choice else {
            panic!("expected none");
        };
        assert_eq!(reason, NoTransitionReason::NotAvailable);
        assert_eq!(
            message,
            "Transition \"Close\" is not available for HD-1 from its current status. Available: \"Start progress\" (to In Progress), \"Escalate\" (to Escalated), \"Resolve\" (to Resolved)."
        );
        let none = choose_transition(
            Outcome::Passed,
            &settings("Close"),
            "HD-1",
            &json!({"transitions": []}),
        );
        assert!(
            matches!(none, TransitionChoice::NoTransition { ref message, .. } if message.contains("no transitions are available"))
        );
    }

    #[test]
    fn tolerates_malformed_answers() {
        for bad in [
            json!(null),
            json!([]),
            json!({"transitions": "x"}),
            json!("not json"),
            json!(42),
        ] {
            let choice = choose_transition(Outcome::Passed, &settings("Resolve"), "HD-1", &bad);
            let TransitionChoice::NoTransition { reason, message } = choice else {
                panic!("expected none for {bad}");
            };
            assert_eq!(reason, NoTransitionReason::NotAvailable);
            assert!(message.contains("unreadable"), "{message}");
        }
        let partly =
            json!({ "transitions": [ { "name": "Resolve" }, { "id": 31, "name": "Resolve" } ] });
        let choice = choose_transition(Outcome::Passed, &settings("Resolve"), "HD-1", &partly);
        assert_eq!(chosen_id(&choice), Some("31"));
        let text = Value::String(answer().to_string());
        assert_eq!(
            chosen_id(&choose_transition(
                Outcome::Passed,
                &settings("Resolve"),
                "HD-1",
                &text
            )),
            Some("31")
        );
    }

    #[test]
    fn serialises_as_the_contract() {
        let choice = choose_transition(Outcome::Passed, &settings("Resolve"), "HD-1", &answer());
        let value = serde_json::to_value(&choice).unwrap();
        assert_eq!(value["kind"], "transition");
        assert_eq!(value["id"], "31");
        assert_eq!(value["name"], "Resolve");
        assert_eq!(value["request"]["method"], "POST");
        let none = serde_json::to_value(choose_transition(
            Outcome::ManualReview,
            &settings(""),
            "HD-1",
            &answer(),
        ))
        .unwrap();
        assert_eq!(none["kind"], "none");
        assert_eq!(none["reason"], "notConfigured");
    }
}
