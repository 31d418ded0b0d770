//! The workflow gate "Identity verified" (`jira:workflowValidator`): Jira asks it on every
//! transition an admin added it to, and it lets the transition through only when the app's OWN
//! records (the `issue:{issueId}` index and the `v:{sessionId}` records) say that the newest
//! verification (of the person on the ticket, when the rule says so) passed, with its check
//! completed recently enough (not merely updated since), not used by another gated transition
//! when the rule says so; a transition whose screen changes the person (or the project) is
//! refused. Nothing people can edit (the status field, the issue property) is read. Every
//! decision is written to the audit trail; anything the gate cannot read refuses the transition
//! (fail closed).
//!
//! Round trips: the settings (which field names the person); the issue (its id, project and
//! person); the person's email when Jira did not embed it, with the issue's index; the records
//! (with their "used" markers); the pass's transaction.

pub mod config;
pub mod page;
mod reason;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actions::agent::{self, Person, PersonLook};
use crate::actions::{jira_json, keys, log, read, value_of, verification_of, write};
use crate::audit::{Action, Entry};
use crate::model::{Verification, VerificationStatus};
use crate::plan::{Results, Step};
use crate::stored::actor_account;
pub use config::{GateConfig, GateConfigCheck};
pub use reason::Reason;

/// What Jira's transition event carries, with the executor's clock.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct GateInput {
    pub now_ms: i64,
    /// `event.issue.key`.
    pub issue_key: String,
    /// The user who transitions (`context.principal.accountId`); empty when Jira names none.
    pub account_id: String,
    /// The rule's stored configuration (`event.configuration`).
    #[cfg_attr(test, ts(type = "unknown"))]
    pub configuration: Value,
    /// The status the transition leads to (`event.transition.to.id`): names the decision.
    pub to_status: String,
    /// This invocation's id, drawn by the executor: with the time it names the decision, so two
    /// attempts in the same millisecond keep an audit entry each.
    pub invocation: String,
    /// The fields the transition's screen changes, by field id (`event.modifiedFields`; null
    /// when the transition has no screen). The gate runs before they are saved, so the issue it
    /// reads still holds their old values.
    #[cfg_attr(test, ts(type = "unknown"))]
    pub modified_fields: Value,
}

/// Jira's answer to a validator: `{ result: true }` or `{ result: false, errorMessage }`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateVerdict {
    pub result: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error_message: Option<String>,
}

/// Where the gate stands between two round trips.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GateState {
    input: GateInput,
    config: GateConfig,
    stage: Stage,
    #[serde(default)]
    field: String,
    #[serde(default)]
    issue_id: String,
    #[serde(default)]
    project_key: String,
    #[serde(default)]
    person: Option<Person>,
    #[serde(default)]
    sessions: Vec<String>,
    /// The verification a pass claims.
    #[serde(default)]
    chosen: Option<Chosen>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Chosen {
    session_id: String,
    identity_id: String,
    email: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum Stage {
    Settings,
    Issue,
    /// The index is read; `lookUp`: the person's email is being looked up beside it.
    Index {
        look_up: bool,
    },
    Records,
    Passing,
}

pub type GateStep = Step<GateState, GateVerdict>;

/// The first round trip: the settings (they name the ticket's person field).
pub fn start(input: GateInput) -> GateStep {
    let checked = config::check(&input.configuration);
    let Some(config) = checked.config else {
        let st = state(input, GateConfig::default());
        let fields: Vec<&str> = checked.errors.iter().map(|e| e.field.as_str()).collect();
        return refuse(&st, Reason::Misconfigured(fields.join(", ")));
    };
    Step {
        reads: vec![read(keys::SETTINGS)],
        ..Step::then(state(input, config))
    }
}

fn state(input: GateInput, config: GateConfig) -> GateState {
    GateState {
        input,
        config,
        stage: Stage::Settings,
        field: String::new(),
        issue_id: String::new(),
        project_key: String::new(),
        person: None,
        sessions: Vec::new(),
        chosen: None,
    }
}

/// The next round trip, from the last one's results.
pub fn next(mut st: GateState, results: Results) -> GateStep {
    match st.stage {
        Stage::Settings => match agent::settings_of(results.reads.first()) {
            Err(_) => refuse(&st, Reason::Storage),
            Ok((settings, _)) => {
                st.field = agent::person_field(&settings).to_owned();
                // The person checked must be the one the request names after the transition: a
                // screen that changes the person (or the project) is refused, never read past.
                if st.config.same_person && changes_the_person(&st.input.modified_fields, &st.field)
                {
                    return refuse(&st, Reason::PersonChanging);
                }
                let ask = agent::issue_field(&st.input.issue_key, &format!("project,{}", st.field));
                st.stage = Stage::Issue;
                Step {
                    effects: vec![ask],
                    ..Step::then(st)
                }
            }
        },
        Stage::Issue => issue_read(st, &results),
        Stage::Index { look_up } => index_read(st, &results, look_up),
        Stage::Records => records_read(st, &results),
        Stage::Passing => match results.write_failed.as_deref() {
            None => pass(&st),
            Some(code) if st.config.once && code.contains("CONDITION") => {
                refuse(&st, Reason::UsedMeanwhile)
            }
            Some(_) => refuse(&st, Reason::Storage),
        },
    }
}

/// Whether the transition's screen changes the person field or the project (whose person field
/// may be another). What Jira hands over that is not a map of fields cannot be read: it counts
/// as a change.
fn changes_the_person(modified: &Value, field: &str) -> bool {
    match modified {
        Value::Null => false,
        Value::Object(fields) => fields.contains_key(field) || fields.contains_key("project"),
        _ => true,
    }
}

fn issue_read(mut st: GateState, results: &Results) -> GateStep {
    let issue = match jira_json(results.effects.first(), Some("gone")) {
        Ok(issue) => issue,
        Err(_) => return refuse(&st, Reason::Jira),
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    st.issue_id = text(issue.get("id"));
    st.project_key = text(
        issue
            .get("fields")
            .and_then(|f| f.get("project"))
            .and_then(|p| p.get("key")),
    );
    if st.issue_id.is_empty() {
        return refuse(&st, Reason::Jira);
    }
    let (person, look_up) = match agent::person_in(&issue, &st.field) {
        PersonLook::Nobody => (None, false),
        PersonLook::Found(person) => (Some(person), false),
        PersonLook::LookUp(person) => (Some(person), st.config.same_person),
    };
    if person.is_none() && st.config.same_person {
        return refuse(&st, Reason::NoPerson);
    }
    st.stage = Stage::Index { look_up };
    let effects = match (&person, look_up) {
        (Some(p), true) => vec![agent::user(&p.account_id)],
        _ => Vec::new(),
    };
    st.person = person;
    Step {
        reads: vec![read(keys::issue(&st.issue_id))],
        effects,
        ..Step::then(st)
    }
}

fn index_read(mut st: GateState, results: &Results, look_up: bool) -> GateStep {
    if look_up {
        let known = st.person.take().unwrap_or_default();
        st.person = Some(match jira_json(results.effects.first(), None) {
            Ok(user) => agent::person_from_user(&known, &user),
            Err(_) => known,
        });
    }
    if st.config.same_person && st.person.as_ref().is_none_or(|p| p.email.is_empty()) {
        return refuse(&st, Reason::PersonEmail);
    }
    let index = match value_of(results.reads.first()) {
        Ok(index) => index,
        Err(_) => return refuse(&st, Reason::Storage),
    };
    st.sessions = index
        .get("sessions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if st.sessions.is_empty() {
        return refuse(&st, Reason::NonePassed);
    }
    let mut reads: Vec<_> = st.sessions.iter().map(|s| read(keys::record(s))).collect();
    if st.config.once {
        reads.extend(st.sessions.iter().map(|s| read(used_key(s))));
    }
    st.stage = Stage::Records;
    Step {
        reads,
        ..Step::then(st)
    }
}

/// The marker a claimed verification leaves (in the pass's transaction), so that later gates
/// skip it without racing: the claim itself is the audit entry's conditional write.
fn used_key(session_id: &str) -> String {
    format!("gate:used:{session_id}")
}

/// The newest verification of the person on the request decides (the index lists the newest
/// first): it must have passed, its check must have been completed within the window, and with
/// `once` it must not have opened another gated transition. A newer check that failed, is still
/// open or was abandoned withdraws every earlier pass; verifications of someone else are passed
/// over (when the rule wants the person on the ticket).
fn records_read(st: GateState, results: &Results) -> GateStep {
    let count = st.sessions.len();
    if results.reads.len() < count || results.reads.iter().any(|r| r.failed.is_some()) {
        return refuse(&st, Reason::Storage);
    }
    let now = results.now_ms.max(st.input.now_ms);
    let window_ms = i64::from(st.config.within_minutes) * 60_000;
    let email = st
        .person
        .as_ref()
        .map(|p| p.email.trim().to_owned())
        .unwrap_or_default();
    let mut other_person = false;
    for (i, found) in results.reads.iter().take(count).enumerate() {
        let Some(v) = verification_of(&found.value) else {
            continue;
        };
        if v.issue_id != st.issue_id {
            continue;
        }
        if st.config.same_person && !crate::caseless::eq(v.email.trim(), &email) {
            other_person |= v.status == VerificationStatus::Passed;
            continue;
        }
        if v.status != VerificationStatus::Passed {
            return refuse(&st, Reason::NotPassed(v.status));
        }
        // A record whose history holds no completed check (no release writes one) never counts.
        let checked_at_ms = v.checked_at_ms();
        if checked_at_ms.is_none_or(|at| at < now - window_ms) {
            return refuse(
                &st,
                Reason::TooOld(checked_at_ms.unwrap_or(v.updated_at_ms)),
            );
        }
        let used = st.config.once
            && results
                .reads
                .get(count + i)
                .is_some_and(|r| !r.value.is_null());
        if used {
            return refuse(&st, Reason::Used);
        }
        return claim(st, &v);
    }
    refuse(
        &st,
        if other_person {
            Reason::OtherPerson
        } else {
            Reason::NonePassed
        },
    )
}

/// The pass's transaction: its audit entry, and with `once` the claim of the verification.
fn claim(mut st: GateState, v: &Verification) -> GateStep {
    st.chosen = Some(Chosen {
        session_id: v.session_id.clone(),
        identity_id: v.identity_id.clone(),
        email: v.email.clone(),
    });
    st.stage = Stage::Passing;
    let mut entry = entry(&st, Action::GatePassed, "passed");
    entry.outcome = "passed".to_owned();
    let (key, claims, marker) = if st.config.once {
        let key = format!("gate:used:{}", v.session_id);
        let marker = write(
            used_key(&v.session_id),
            serde_json::to_value(crate::stored::GateUse {
                schema_version: crate::stored::SCHEMA_VERSION,
                issue_id: st.issue_id.clone(),
                to_status: st.input.to_status.clone(),
                at_ms: st.input.now_ms,
            })
            .unwrap_or_default(),
            Some(crate::actions::RECORD_TTL),
        );
        (key.clone(), vec![key], Some(marker))
    } else {
        let key = format!(
            "gate:passed:{}:{}:{}:{}{}",
            st.issue_id,
            st.input.to_status,
            v.session_id,
            st.input.now_ms,
            decision(&st.input)
        );
        (key, Vec::new(), None)
    };
    let mut writes = vec![entry.write(key)];
    writes.extend(marker);
    writes.extend(actor_account(&st.input.account_id, st.input.now_ms));
    Step {
        writes,
        claims,
        ..Step::then(st)
    }
}

fn pass(st: &GateState) -> GateStep {
    let session = st.chosen.as_ref().map_or("", |c| c.session_id.as_str());
    Step {
        logs: vec![log(
            "gate.passed",
            &[
                ("issueKey", Value::from(st.input.issue_key.as_str())),
                ("sessionId", Value::from(session)),
                ("once", Value::from(st.config.once)),
            ],
        )],
        ..Step::reply(GateVerdict {
            result: true,
            error_message: None,
        })
    }
}

/// Refuses the transition with the reason's message, written to the audit trail (best effort:
/// the refusal stands whether or not the entry lands).
fn refuse(st: &GateState, reason: Reason) -> GateStep {
    let message = reason.message(st.person.as_ref(), &st.config);
    let mut entry = entry(st, Action::GateRefused, reason.code());
    entry.detail.clone_from(&message);
    let issue = if st.issue_id.is_empty() {
        &st.input.issue_key
    } else {
        &st.issue_id
    };
    let key = format!(
        "gate:refused:{issue}:{}:{}{}",
        st.input.to_status,
        st.input.now_ms,
        decision(&st.input)
    );
    let mut writes = vec![entry.write(key)];
    writes.extend(actor_account(&st.input.account_id, st.input.now_ms));
    Step {
        writes,
        logs: vec![log(
            "gate.refused",
            &[
                ("issueKey", Value::from(st.input.issue_key.as_str())),
                ("reason", Value::from(reason.code())),
            ],
        )],
        ..Step::reply(GateVerdict {
            result: false,
            error_message: Some(message),
        })
    }
}

/// What names one decision beside its time: the invocation's id (none: an executor that draws
/// none, keyed by the time alone as before).
fn decision(input: &GateInput) -> String {
    if input.invocation.is_empty() {
        String::new()
    } else {
        format!(":{}", input.invocation)
    }
}

fn entry(st: &GateState, action: Action, code: &str) -> Entry {
    let person = st.person.clone().unwrap_or_default();
    let chosen = st.chosen.as_ref();
    Entry {
        action,
        at_ms: st.input.now_ms as f64,
        actor_account_id: st.input.account_id.clone(),
        issue_id: st.issue_id.clone(),
        issue_key: st.input.issue_key.clone(),
        project_key: st.project_key.clone(),
        person_account_id: person.account_id,
        person_email: chosen.map_or(person.email, |c| c.email.clone()),
        person_name: person.name,
        session_id: chosen.map(|c| c.session_id.clone()).unwrap_or_default(),
        identity_id: chosen.map(|c| c.identity_id.clone()).unwrap_or_default(),
        detail: code.to_owned(),
        ..Entry::default()
    }
}

#[cfg(test)]
mod tests;
