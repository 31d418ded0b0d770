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
        modified_fields: Value::Null,
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
        "history": [
            { "status": "requested", "atMs": passed_at - 60_000, "cause": "sent" },
            { "status": "passed", "atMs": passed_at, "cause": "SESSION_SUCCEEDED" }
        ], "appliedEvents": [] })
}

/// Runs the gate to the records' round trip with one stored verification.
fn to_records(configuration: Value, stored: Value, used: Option<Value>) -> GateStep {
    to_records_of(input(configuration), stored, used)
}

/// Runs the gate to the index's read: default settings, HELP-1 reported by Casey.
fn to_index(first: GateInput) -> GateStep {
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
    next(step.state.unwrap_or_else(|| unreachable!()), results)
}

/// The same, for a given input (another invocation, say).
fn to_records_of(first: GateInput, stored: Value, used: Option<Value>) -> GateStep {
    let step = to_index(first);
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
    assert_eq!(
        keys,
        ["gate:used:s1", "gate:used:s1", "account:avery:actor"],
        "the entry, the claim, and the actor indexed for the privacy report"
    );
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

/// A verification of `email` in `status`, with its history (status, time) after the send.
fn with_history(session: &str, email: &str, status: &str, history: &[(&str, i64)]) -> Value {
    let mut v = record(session, email, history.last().map_or(NOW, |h| h.1));
    v["status"] = json!(status);
    let mut entries =
        vec![json!({ "status": "requested", "atMs": NOW - 3_600_000, "cause": "sent" })];
    entries.extend(
        history
            .iter()
            .map(|(status, at)| json!({ "status": status, "atMs": at, "cause": "event" })),
    );
    v["history"] = Value::Array(entries);
    v
}

/// Runs the gate over several stored verifications of the issue, newest first (not `once`).
fn decide_over(records: Vec<Value>) -> (String, Option<String>) {
    let step = to_index(input(json!({})));
    // A record gone from storage still has its session in the index.
    let sessions: Vec<Value> = records
        .iter()
        .map(|r| r.get("sessionId").cloned().unwrap_or(json!("gone")))
        .collect();
    let index = Results {
        now_ms: NOW,
        reads: vec![found(json!({ "sessions": sessions }))],
        ..Results::default()
    };
    let step = next(step.state.unwrap_or_else(|| unreachable!()), index);
    let read = Results {
        now_ms: NOW,
        reads: records.into_iter().map(found).collect(),
        ..Results::default()
    };
    let step = next(step.state.unwrap_or_else(|| unreachable!()), read);
    // A pass claims the verification in a transaction first (its audit entry); a refusal answers.
    let code = match step.logs.first() {
        Some(line) => line.fields["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        None if step.writes.first().map(|w| &w.value["action"]) == Some(&json!("gatePassed")) => {
            "passed".to_owned()
        }
        None => String::new(),
    };
    (code, step.reply.and_then(|r| r.error_message))
}

#[test]
fn freshness_counts_from_the_completed_check_not_from_a_later_event() {
    let casey = "casey@example.test";
    // Passed 40 minutes ago; its identity enrolled a minute ago (a second passed entry).
    let enrolled_late = with_history(
        "s1",
        casey,
        "passed",
        &[("passed", NOW - 40 * 60_000), ("passed", NOW - 60_000)],
    );
    let (code, message) = decide_over(vec![enrolled_late]);
    assert_eq!(code, "too_old");
    let at = crate::jira::format_utc(NOW - 40 * 60_000);
    assert!(message.is_some_and(|m| m.contains(&format!("completed at {at} UTC"))));
    // Captured 40 minutes ago, approved by a reviewer a minute ago.
    let approved_late = with_history(
        "s1",
        casey,
        "passed",
        &[
            ("manualReview", NOW - 40 * 60_000),
            ("passed", NOW - 60_000),
        ],
    );
    assert_eq!(decide_over(vec![approved_late]).0, "too_old");
    // Captured 5 minutes ago, approved a minute ago: fresh.
    let approved = with_history(
        "s1",
        casey,
        "passed",
        &[("manualReview", NOW - 5 * 60_000), ("passed", NOW - 60_000)],
    );
    assert_eq!(decide_over(vec![approved]).0, "passed");
    // No completed check in the history (no release writes such a record): never fresh.
    let bare = with_history("s1", casey, "passed", &[]);
    assert_eq!(decide_over(vec![bare]).0, "too_old");
}

#[test]
fn the_newest_verification_of_the_person_decides() {
    let casey = "casey@example.test";
    let pass = with_history("s1", casey, "passed", &[("passed", NOW - 5 * 60_000)]);
    let refused = |status: &str, history: &[(&str, i64)]| {
        decide_over(vec![
            with_history("s2", casey, status, history),
            pass.clone(),
        ])
    };
    let (code, message) = refused("failed", &[("failed", NOW - 60_000)]);
    assert_eq!(code, "newest_not_passed");
    assert_eq!(
        message.as_deref(),
        Some("The newest identity verification of Casey Customer on this request failed, and only the newest one can count: send one from the Identity verification panel.")
    );
    for (status, history) in [
        ("requested", vec![]),
        ("inProgress", vec![("inProgress", NOW - 60_000)]),
        ("manualReview", vec![("manualReview", NOW - 60_000)]),
        ("expired", vec![("expired", NOW - 60_000)]),
        ("cancelled", vec![("cancelled", NOW - 60_000)]),
    ] {
        assert_eq!(refused(status, &history).0, "newest_not_passed", "{status}");
    }
    // A newer verification of someone else does not withdraw the person's pass.
    let other = with_history(
        "s2",
        "dana@example.test",
        "failed",
        &[("failed", NOW - 60_000)],
    );
    assert_eq!(decide_over(vec![other, pass.clone()]).0, "passed");
    // Nor does a record gone from storage.
    assert_eq!(decide_over(vec![Value::Null, pass]).0, "passed");
}

#[test]
fn a_screen_that_changes_the_person_refuses_before_anything_is_read() {
    let settings = || Results {
        now_ms: NOW,
        reads: vec![found(Value::Null)],
        ..Results::default()
    };
    let decide = |configuration: Value, modified: Value| {
        let mut first = input(configuration);
        first.modified_fields = modified;
        let step = start(first);
        next(step.state.unwrap_or_else(|| unreachable!()), settings())
    };
    for modified in [
        json!({ "reporter": { "accountId": "dana" } }),
        json!({ "project": { "key": "IT" } }),
        json!("unreadable"),
    ] {
        let step = decide(json!({}), modified.clone());
        assert_eq!(
            step.logs[0].fields["reason"], "person_changing",
            "{modified}"
        );
        assert!(step.effects.is_empty(), "nothing asked of Jira");
        assert_eq!(step.reply.map(|r| r.result), Some(false));
    }
    // Other fields on the screen, or no screen: the gate goes on to read the issue.
    for modified in [
        Value::Null,
        json!({}),
        json!({ "resolution": { "name": "Done" } }),
    ] {
        let step = decide(json!({}), modified);
        assert_eq!(step.effects.len(), 1, "the issue is asked for");
        assert!(step.reply.is_none());
    }
    // A rule that counts anyone's verification does not care who the person is.
    let anyone = decide(json!({ "samePerson": false }), json!({ "reporter": {} }));
    assert!(anyone.reply.is_none());
}
