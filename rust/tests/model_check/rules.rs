//! What every step must respect, checked as it is performed, and what must hold once the
//! deliveries stop failing. A broken step is recorded in the world as a violation of one rule.

use incode_verify_core::effects::Effect;
use incode_verify_core::plan::Write;
use serde_json::Value;

use super::actors::{Ops, Role, UNKNOWN_SESSION};
use super::world::{CallFault, StepFault};
use super::World;

/// The rules a step can break (each is its own property).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Rule {
    /// Nothing is written under a lock by a holder that released it.
    Lock,
    /// A record's `rev` never goes back.
    Rev,
    /// A final status (passed, failed, cancelled) stays; an expired link may only be cancelled.
    Final,
    /// No comment, transition or status for a forged or unknown delivery, or for a result that
    /// came after the session was cancelled or expired.
    Effect,
}

pub const RULES: [(Rule, &str); 4] = [
    (Rule::Lock, "nothing is written after its lock was released"),
    (Rule::Rev, "a record's rev never goes back"),
    (Rule::Final, "a final status is never overwritten"),
    (
        Rule::Effect,
        "no effect for a forged, unknown, cancelled or expired session",
    ),
];

fn status(record: &Value) -> &str {
    record["status"].as_str().unwrap_or("")
}

/// Whether a result may still change the verification.
fn live(record: &Value, now: i64) -> bool {
    match status(record) {
        "requested" => record["expiresAtMs"].as_i64().is_some_and(|at| now < at),
        "inProgress" | "manualReview" => true,
        _ => false,
    }
}

/// The lock that protects a key's writes, if any.
fn lock_of(key: &str) -> Option<String> {
    if let Some(session) = key.strip_prefix("v:") {
        return Some(format!("lock:{session}"));
    }
    key.strip_prefix("issue:")
        .map(|issue| format!("lock:issue.{issue}"))
}

fn releases(w: &Write, me: &str) -> bool {
    w.key.starts_with("lock:") && w.value["owner"] == "" && w.value["by"] == me
}

/// Checks the step `me` (in `role`) just performed with `fault`; `old` are the records as
/// they were (`Kvs::records`), `landed` whether the transaction landed.
pub fn check_step(
    world: &mut World,
    role: Role,
    me: &str,
    ops: &Ops,
    old: &[(String, Value)],
    fault: StepFault,
    landed: bool,
) {
    let now = world.now;
    // The operations land in this order: swaps, the transaction, the puts.
    let swap_landed = !matches!(fault, StepFault::Swap(CallFault::Failed));
    if swap_landed {
        mark_released(world, &ops.swaps, me);
    }
    if landed {
        written_after_release(world, &ops.writes, me);
        mark_released(world, &ops.writes, me);
    }
    written_after_release(world, &ops.puts, me);
    mark_released(world, &ops.puts, me);

    let after = world.kvs.records("v:", now);
    let mut status_changed = false;
    for (key, was) in old {
        let Some((_, now_is)) = after.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let rev = |v: &Value| v["rev"].as_i64().unwrap_or(0);
        if rev(now_is) < rev(was) {
            let text = format!("{key}: rev went back from {} to {}", rev(was), rev(now_is));
            world.violations.push((Rule::Rev, text));
        }
        let (from, to) = (status(was), status(now_is));
        let allowed = match from {
            "passed" | "failed" | "cancelled" => to == from,
            "expired" => to == from || to == "cancelled",
            _ => true,
        };
        if !allowed {
            let text = format!("{key}: final status {from} overwritten by {to}");
            world.violations.push((Rule::Final, text));
        }
        status_changed |= from != to;
    }
    // A new record (a resend's) is a new status for the issue too.
    status_changed |= after.len() > old.len();
    if status_changed {
        world.status_by_delivery = role.is_delivery();
    }
    let written = |field: bool| {
        ops.effects.iter().enumerate().any(|(i, e)| {
            let this = match e {
                Effect::RecordStatus { .. } => field,
                Effect::IndexStatus { .. } => !field,
                _ => false,
            };
            this && fault != StepFault::Effect(i, CallFault::Failed)
        })
    };
    if written(false) {
        world.property_by_agent = !role.is_delivery();
    }
    if written(true) {
        world.field_by_agent = !role.is_delivery();
    }
    if let Role::Delivery { forged: true, .. } = role {
        // An unauthenticated delivery leaves no trace in the audit trail.
        if ops
            .writes
            .iter()
            .chain(&ops.puts)
            .any(|w| w.entity.as_deref() == Some("audit"))
        {
            let text = "a forged delivery wrote an audit entry".to_owned();
            world.violations.push((Rule::Effect, text));
        }
    }
    if let Role::Delivery {
        session, forged, ..
    } = role
    {
        check_effects(
            world,
            ops,
            old,
            session,
            forged || session == UNKNOWN_SESSION,
        );
    }
}

fn mark_released(world: &mut World, writes: &[Write], me: &str) {
    for w in writes.iter().filter(|w| releases(w, me)) {
        let held = (w.key.clone(), me.to_owned());
        if !world.released.contains(&held) {
            world.released.push(held);
        }
    }
}

fn written_after_release(world: &mut World, writes: &[Write], me: &str) {
    for w in writes {
        let Some(lock) = lock_of(&w.key) else {
            continue;
        };
        if world.released.iter().any(|(l, o)| *l == lock && o == me) {
            let text = format!("{me} wrote {} after releasing {lock}", w.key);
            world.violations.push((Rule::Lock, text));
        }
    }
}

/// A delivery's effects: none for a forged or unknown one; for an authentic one, only those of
/// an event accepted while the session was live (decided now, or earlier).
fn check_effects(
    world: &mut World,
    ops: &Ops,
    old: &[(String, Value)],
    session: &str,
    untrusted: bool,
) {
    let now = world.now;
    let key = format!("v:{session}");
    let acting = ops.effects.iter().any(|e| {
        matches!(
            e,
            Effect::PostOutcomeComment { .. }
                | Effect::TakeOutcomeTransition { .. }
                | Effect::RecordStatus { .. }
                | Effect::IndexStatus { .. }
                | Effect::TellPanel { .. }
        )
    });
    if untrusted {
        if acting
            || ops
                .writes
                .iter()
                .chain(&ops.puts)
                .any(|w| w.key.starts_with("v:"))
        {
            let text = format!("a forged or unknown delivery for {session} acted");
            world.violations.push((Rule::Effect, text));
        }
        return;
    }
    let was = old
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(Value::Null, |(_, v)| v.clone());
    let written = ops.writes.iter().find(|w| w.key == key).map(|w| &w.value);
    let applied = written.filter(|w| w["last"]["key"] != was["last"]["key"]);
    let mut new_status = None;
    let mut new_text = None;
    if let Some(record) = applied {
        let event = record["last"]["key"].as_str().unwrap_or("").to_owned();
        if live(&was, now) {
            world.decided.push((event, status(record).to_owned()));
            new_status = Some(status(record).to_owned());
            new_text = record["statusText"].as_str().map(str::to_owned);
        } else if status(record) != status(&was) {
            let text = format!("{event} applied to a {} session", status(&was));
            world.violations.push((Rule::Effect, text));
        }
    }
    for effect in &ops.effects {
        let wrong = match effect {
            Effect::PostOutcomeComment { event_key, .. } => {
                (!world.decided.iter().any(|(k, _)| k == event_key))
                    .then(|| format!("a comment for {event_key}, never accepted on a live session"))
            }
            Effect::TakeOutcomeTransition { outcome, .. } => {
                let name = serde_json::to_value(outcome).unwrap_or_default();
                (!world.decided.iter().any(|(_, s)| name == s.as_str()))
                    .then(|| format!("a transition for {name}, never accepted on a live session"))
            }
            Effect::RecordStatus { text, .. } => {
                let own = was["statusText"] == text.as_str() || new_text.as_ref() == Some(text);
                (!own).then(|| {
                    format!(
                        "the status field says {text:?}, the record {:?}",
                        was["statusText"]
                    )
                })
            }
            Effect::IndexStatus { request } => {
                let body: Value = request
                    .body
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or_default();
                let shown = status(&body);
                let own = shown == status(&was) || new_status.as_deref() == Some(shown);
                (!own).then(|| {
                    format!(
                        "the issue property says {shown}, the record {}",
                        status(&was)
                    )
                })
            }
            _ => None,
        };
        if let Some(text) = wrong {
            world.violations.push((Rule::Effect, text));
        }
    }
}

/// Once no delivery fails any more (every authentic one answered with a success), every
/// event the record accepted has its effects: one comment each, the ticket moved by the latest
/// outcome, and the issue property and the app's status field showing the record's status when a
/// delivery set it (and no agent's action wrote them since).
pub fn complete_when_quiet(w: &World, roles: &[Role]) -> bool {
    !quiet(w, roles) || effects_present(w)
}

/// Every accepted event's effects are there.
pub fn effects_present(w: &World) -> bool {
    let record = super::record(&w.kvs, w.now);
    let outcomes = record["outcomes"].as_array().cloned().unwrap_or_default();
    let commented = outcomes.iter().all(|o| {
        o["comment"].is_null() || w.jira.comments.iter().filter(|k| **k == o["key"]).count() == 1
    });
    let moved = match outcomes.last().and_then(|o| o["transition"].as_str()) {
        Some("Verified") => w.jira.status == "Verified" && w.jira.moves == 1,
        Some("Escalate") => w.jira.status == "Escalated" && w.jira.moves == 1,
        Some(_) => false,
        None => true,
    };
    let property: Value = w
        .jira
        .property
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    // An agent's later write (a cancel's, a resend's) supersedes what a delivery wrote.
    let indexed =
        !w.status_by_delivery || w.property_by_agent || status(&property) == status(&record);
    let shown = !w.status_by_delivery
        || w.field_by_agent
        || w.jira.field.as_deref() == record["statusText"].as_str();
    commented && moved && indexed && shown
}

/// Once no delivery fails any more, the audit trail holds exactly one entry per outcome the
/// records applied (under `outcome:{event key}`, saying that outcome) and nothing of a forged
/// delivery's; an unknown session's delivery is only ever recorded as ignored.
pub fn audited_when_quiet(w: &World, roles: &[Role]) -> bool {
    !quiet(w, roles) || audit_violation(w).is_none()
}

/// What is wrong with the audit trail, if anything.
pub fn audit_violation(w: &World) -> Option<String> {
    let mut applied = Vec::new();
    for (_, record) in w.kvs.records("v:", w.now) {
        for o in record["outcomes"].as_array().into_iter().flatten() {
            let key = o["key"].as_str().unwrap_or("");
            applied.push(format!("outcome:{key}"));
            let Some(entry) = w.kvs.entity("audit", &format!("outcome:{key}")) else {
                return Some(format!("no audit entry for the applied outcome {key}"));
            };
            if entry["action"] != "outcome" || entry["sessionId"] != record["sessionId"] {
                return Some(format!("the audit entry of {key} is {entry}"));
            }
        }
    }
    for (key, stored) in &w.kvs.entities {
        // The locks are entity values too: only the trail's entries are checked here.
        let Some(key) = key.strip_prefix("audit/") else {
            continue;
        };
        let entry: Value = serde_json::from_str(&stored.json).unwrap_or_default();
        if entry["action"] == "outcome" && !applied.iter().any(|a| a == key) {
            return Some(format!(
                "an outcome audit entry {key} of no applied outcome"
            ));
        }
        let unknown = entry["sessionId"] == UNKNOWN_SESSION || key.contains(UNKNOWN_SESSION);
        if unknown && entry["action"] != "ignoredResult" {
            return Some(format!(
                "an audit entry {key} for an unknown session: {entry}"
            ));
        }
    }
    None
}

/// No delivery fails any more: every authentic one answered with a success, nothing running.
fn quiet(w: &World, roles: &[Role]) -> bool {
    w.actors.iter().zip(roles).all(|(a, role)| match a {
        super::Actor::Answered { status, .. } => !role.genuine() || *status < 300,
        super::Actor::Gone { .. } => !role.genuine(),
        _ => false,
    })
}
