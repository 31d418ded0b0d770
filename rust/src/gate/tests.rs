use super::*;
use crate::plan::Found;
use serde_json::json;

const NOW: i64 = 1_796_000_000_000;

fn input(configuration: Value) -> GateInput {
    GateInput {
        now_ms: NOW,
        issue_key: "HELP-1".into(),
        account_id: "avery".into(),
        configuration,
        to_status: "5".into(),
        invocation: "i1".into(),
    }
}

fn found(value: Value) -> Found {
    Found {
        value,
        failed: None,
    }
}

fn answered(body: Value) -> crate::effects::EffectResult {
    crate::effects::EffectResult {
        ended: crate::effects::Ended::Done,
        status: 200,
        note: None,
        answer: Some(crate::model::HttpAnswer {
            status: 200,
            body: body.to_string(),
        }),
    }
}

fn record(session: &str, email: &str, passed_at: i64) -> Value {
    json!({ "id": session, "sessionId": session, "issueKey": "HELP-1", "issueId": "10001",
        "email": email, "name": "", "delivery": "EMAIL", "destination": email,
        "requestedBy": "avery", "requestedByName": "Avery", "requestedAtMs": passed_at - 60_000,
        "expiresAtMs": passed_at + 540_000, "status": "passed",
        "statusText": "Success", "updatedAtMs": passed_at, "identityId": "id-1",
        "history": [], "appliedEvents": [] })
}

/// Runs the gate to the records' round trip with one stored verification.
fn to_records(configuration: Value, stored: Value, used: Option<Value>) -> GateStep {
    to_records_of(input(configuration), stored, used)
}

/// The same, for a given input (another invocation, say).
fn to_records_of(first: GateInput, stored: Value, used: Option<Value>) -> GateStep {
    let step = start(first);
    let results = Results {
        now_ms: NOW,
        reads: vec![found(Value::Null)],
        ..Results::default()
    };
    let step = next(step.state.unwrap_or_else(|| unreachable!()), results);
    let issue = json!({ "id": "10001", "fields": { "project": { "key": "HELP" },
        "reporter": { "accountId": "casey", "displayName": "Casey Customer", "emailAddress": "casey@example.test" } } });
    let results = Results {
        now_ms: NOW,
        effects: vec![answered(issue)],
        ..Results::default()
    };
    let step = next(step.state.unwrap_or_else(|| unreachable!()), results);
    let results = Results {
        now_ms: NOW,
        reads: vec![found(json!({ "current": "s1", "sessions": ["s1"] }))],
        ..Results::default()
    };
    let step = next(step.state.unwrap_or_else(|| unreachable!()), results);
    let mut reads = vec![found(stored)];
    reads.extend(used.map(found));
    let results = Results {
        now_ms: NOW,
        reads,
        ..Results::default()
    };
    next(step.state.unwrap_or_else(|| unreachable!()), results)
}

#[test]
fn a_recent_pass_of_the_person_is_claimed_once_in_one_transaction_with_its_audit_entry() {
    let step = to_records(
        json!({ "once": true }),
        record("s1", "Casey@Example.test", NOW - 60_000),
        Some(Value::Null),
    );
    assert_eq!(step.claims, ["gate:used:s1"]);
    let keys: Vec<_> = step.writes.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["gate:used:s1", "gate:used:s1"]);
    assert_eq!(step.writes[0].entity.as_deref(), Some("audit"));
    assert_eq!(step.writes[0].value["action"], "gatePassed");
    assert_eq!(step.writes[1].entity, None);
    let state = step.state.unwrap_or_else(|| unreachable!());
    let raced = Results {
        now_ms: NOW,
        write_failed: Some("CONDITIONAL_CHECK_FAILED".into()),
        ..Results::default()
    };
    let refused = next(state.clone(), raced).reply;
    assert_eq!(refused.map(|r| r.result), Some(false));
    let landed = next(state, Results::default()).reply;
    assert_eq!(landed.map(|r| r.result), Some(true));
}

#[test]
fn a_used_or_stale_or_foreign_pass_refuses() {
    let used = to_records(
        json!({ "once": true }),
        record("s1", "casey@example.test", NOW - 60_000),
        Some(json!({ "schemaVersion": 2 })),
    );
    let message = used.reply.and_then(|r| r.error_message).unwrap_or_default();
    assert!(message.contains("already used"), "{message}");
    let stale = to_records(
        json!({}),
        record("s1", "casey@example.test", NOW - 31 * 60_000),
        None,
    );
    let message = stale
        .reply
        .and_then(|r| r.error_message)
        .unwrap_or_default();
    assert!(
        message.starts_with(
            "No passed identity verification of Casey Customer in the last 30 minutes"
        ),
        "{message}"
    );
    let foreign = to_records(json!({}), record("s1", "dana@example.test", NOW), None);
    assert_eq!(
        foreign.writes[0].value["detail"]
            .as_str()
            .map(|d| d.contains("someone else")),
        Some(true)
    );
}

#[test]
fn two_decisions_in_the_same_millisecond_keep_an_audit_entry_each() {
    // Two attempts of the same transition at once: same issue, status and time, two invocations.
    let decide = |invocation: &str, configuration: Value, stored: Value| {
        let mut first = input(configuration);
        first.invocation = invocation.into();
        let step = to_records_of(first, stored, None);
        step.writes
            .first()
            .map(|w| w.key.clone())
            .unwrap_or_default()
    };
    let stale = record("s1", "casey@example.test", NOW - 31 * 60_000);
    let refused = [
        decide("i1", json!({}), stale.clone()),
        decide("i2", json!({}), stale.clone()),
    ];
    assert!(refused[0].starts_with("gate:refused:"), "{refused:?}");
    assert_ne!(refused[0], refused[1]);
    assert_eq!(
        refused[0],
        decide("i1", json!({}), stale),
        "the same decision, the same key"
    );
    let fresh = record("s1", "casey@example.test", NOW - 60_000);
    let passed = [
        decide("i1", json!({}), fresh.clone()),
        decide("i2", json!({}), fresh),
    ];
    assert!(passed[0].starts_with("gate:passed:"), "{passed:?}");
    assert_ne!(passed[0], passed[1]);
}
