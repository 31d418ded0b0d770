use super::*;
use crate::effects::EffectResult;
use crate::model::HttpAnswer;
use crate::plan::{EntityPage, Found, Listed};
use serde_json::json;

const NOW: i64 = 1_800_000_000_000;

fn at(value: Value) -> Found {
    Found {
        value,
        failed: None,
    }
}

fn listed() -> Results {
    let entry = |key: &str, value: Value| Entry {
        key: key.into(),
        value,
    };
    Results {
        now_ms: NOW,
        queries: vec![Listed {
            entries: vec![
                entry(
                    "account:robin:s1",
                    json!({ "role": "person", "sessionId": "s1", "issueId": "10", "emailHash": "h1", "atMs": 5 }),
                ),
                entry(
                    "account:pat:s2",
                    json!({ "role": "agent", "sessionId": "s2", "issueId": "11", "emailHash": "h2", "atMs": 7 }),
                ),
                entry(
                    "account:pat:s3",
                    json!({ "role": "agent", "sessionId": "s3", "issueId": "11", "emailHash": "h3", "atMs": 9 }),
                ),
                entry(
                    "account:avery:s4",
                    json!({ "role": "agent", "sessionId": "s4", "issueId": "12", "emailHash": "h4", "atMs": 1 }),
                ),
            ],
            failed: None,
            cursor: None,
        }],
        ..Results::default()
    }
}

fn reported(body: Value) -> Results {
    Results {
        now_ms: NOW,
        effects: vec![EffectResult {
            ended: Ended::Done,
            status: 200,
            note: None,
            answer: Some(HttpAnswer {
                status: 200,
                body: body.to_string(),
            }),
        }],
        ..Results::default()
    }
}

fn swapped(previous: Value, reads: Vec<Value>) -> Results {
    Results {
        now_ms: NOW,
        swaps: vec![at(previous)],
        reads: reads.into_iter().map(at).collect(),
        ..Results::default()
    }
}

fn landed() -> Results {
    Results {
        now_ms: NOW,
        ..Results::default()
    }
}

/// The audit trail has no entry naming the account (both indexes answer an empty page).
fn no_trail() -> Results {
    Results {
        now_ms: NOW,
        entity_pages: vec![EntityPage::default(), EntityPage::default()],
        ..Results::default()
    }
}

/// Past the account's trail, which names nothing: the step after it.
fn past_trail(step: &PrivacyStep) -> PrivacyStep {
    assert_eq!(
        step.entity_queries.len(),
        2,
        "the trail is read first: {step:?}"
    );
    next(state(step), &no_trail())
}

/// Robin closed and their one verification erased: the step that reads the trail naming them.
fn robin_trail(report: &PrivacyStep) -> PrivacyStep {
    let answer = json!([{ "accountId": "robin", "status": "closed" }]);
    let take = next(state(report), &reported(answer));
    assert_eq!(take.swaps[0].key, "lock:s1", "the verifications first");
    let record = json!({ "sessionId": "s1", "requestedBy": "avery" });
    let erase = next(
        state(&take),
        &swapped(Value::Null, vec![record, Value::Null]),
    );
    let trail = next(state(&erase), &landed());
    assert_eq!(trail.entity_queries.len(), 2, "then the trail: {trail:?}");
    trail
}

fn state(step: &PrivacyStep) -> PrivacyState {
    step.state
        .clone()
        .unwrap_or_else(|| unreachable!("the action goes on: {step:?}"))
}

#[test]
fn closed_accounts_are_erased_under_each_verifications_lock() {
    let first = start(PrivacyInput { owner: "me".into() });
    assert_eq!(first.queries[0].prefix, "account:");
    let report = next(state(&first), &listed());
    let Effect::ReportAccounts { accounts } = &report.effects[0] else {
        unreachable!("{report:?}")
    };
    let ids: Vec<(&str, &str)> = accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.updated_at.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("robin", "1970-01-01T00:00:00.005Z"),
            ("pat", "1970-01-01T00:00:00.009Z"),
            ("avery", "1970-01-01T00:00:00.001Z")
        ]
    );

    let answer = json!([{ "accountId": "robin", "status": "closed" }, { "accountId": "pat", "status": "closed" }, { "accountId": "avery", "status": "updated" }]);
    // The verifications first, under their locks; the trail after them; the index entries last.
    let take = next(state(&report), &reported(answer));
    assert_eq!(take.swaps[0].key, "lock:s1");
    assert_eq!(
        take.reads
            .iter()
            .map(|r| r.key.as_str())
            .collect::<Vec<_>>(),
        ["v:s1", "issue:10", "lock:s1"]
    );

    // The person: record, contact details, index entries; the lock released in the same write.
    let record = json!({ "sessionId": "s1", "requestedBy": "avery" });
    let index = json!({ "current": "s1", "sessions": ["s0", "s1"], "rev": 3, "by": "x" });
    let erase = next(state(&take), &swapped(Value::Null, vec![record, index]));
    let keys: Vec<&str> = erase.deletes.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["person:h1:s1", "v:s1"]);
    assert_eq!(erase.writes[0].key, "issue:10");
    assert_eq!(
        erase.writes[0].value,
        json!({ "schemaVersion": SCHEMA_VERSION, "current": null, "sessions": ["s0"] })
    );
    assert_eq!(erase.writes[1].key, "lock:s1");
    assert_eq!(erase.writes[1].value["by"], "me");
    let forget = past_trail(&next(state(&erase), &landed()));
    let keys: Vec<&str> = forget.deletes.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["account:robin:s1"], "the index entries last");

    // The agent: their name and id leave the record they sent; another's record stays as it is.
    let take = next(state(&forget), &landed());
    assert_eq!(take.swaps[0].key, "lock:s2");
    let sent = json!({ "sessionId": "s2", "requestedBy": "pat", "requestedByName": "Pat", "email": "c@x" });
    let erase = next(state(&take), &swapped(Value::Null, vec![sent]));
    assert_eq!(erase.writes[0].value["requestedBy"], "");
    assert_eq!(erase.writes[0].value["requestedByName"], "Former user");
    assert_eq!(erase.writes[0].value["email"], "c@x");
    assert_eq!(
        erase.writes[0].value["schemaVersion"],
        json!(SCHEMA_VERSION)
    );
    assert!(
        erase.deletes.is_empty(),
        "the index entry stays until the end"
    );
    let take = next(state(&erase), &landed());
    let erase = next(
        state(&take),
        &swapped(Value::Null, vec![json!({ "requestedBy": "someone" })]),
    );
    assert_eq!(erase.writes.len(), 1, "only the lock's release");
    let forget = past_trail(&next(state(&erase), &landed()));
    let keys: Vec<&str> = forget.deletes.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["account:pat:s2", "account:pat:s3"]);
    let done = next(state(&forget), &landed());
    let reply = done.reply.clone().and_then(|r| r.data);
    assert_eq!(reply, Some(json!({ "closed": 2 })));
    assert_eq!(done.logs[0].event, "privacy.reported");
    assert_eq!(done.logs[0].fields["accounts"], json!(3));
}

#[test]
fn a_busy_verification_or_a_failed_write_leaves_the_account_for_next_week() {
    let first = start(PrivacyInput { owner: "me".into() });
    let report = next(state(&first), &listed());
    let answer = json!([{ "accountId": "robin", "status": "closed" }, { "accountId": "pat", "status": "closed" }]);
    let take = next(state(&report), &reported(answer));
    let lease = json!({ "owner": "webhook", "untilMs": NOW + 10_000 });
    let busy = next(
        state(&take),
        &swapped(
            lease.clone(),
            vec![json!({ "sessionId": "s1" }), Value::Null],
        ),
    );
    assert_eq!(
        busy.puts[0].value["owner"], lease["owner"],
        "the holder's lease is put back"
    );
    assert_eq!(
        busy.puts[0].only_if.as_ref().map(|c| c.value.clone()),
        Some(json!("me")),
        "while our own lease is still there"
    );
    assert_eq!(busy.logs[0].fields["code"], "busy");
    assert_eq!(busy.swaps[0].key, "lock:s2", "on to the next account");
    let erase = next(
        state(&busy),
        &swapped(Value::Null, vec![json!({ "requestedBy": "pat" })]),
    );
    let failed = Results {
        write_failed: Some("KVS".into()),
        ..landed()
    };
    let done = next(state(&erase), &failed);
    assert_eq!(done.puts[0].key, "lock:s2", "the release on its own");
    assert_eq!(done.logs[0].event, "privacy.erase_failed");
    assert_eq!(
        done.reply.and_then(|r| r.data),
        Some(json!({ "closed": 0 }))
    );
}

#[test]
fn a_report_the_platform_refused_fails_the_run() {
    let first = start(PrivacyInput { owner: "me".into() });
    let report = next(state(&first), &listed());
    let refused = Results {
        effects: vec![EffectResult {
            ended: Ended::Retry,
            status: 0,
            note: None,
            answer: None,
        }],
        ..landed()
    };
    let done = next(state(&report), &refused);
    assert_eq!(done.reply.map(|r| r.ok), Some(false));
    assert_eq!(done.logs[0].event, "privacy.failed");
}

#[test]
fn a_closed_accounts_audit_entries_keep_the_fact_and_lose_the_person() {
    let first = start(PrivacyInput { owner: "me".into() });
    let report = next(state(&first), &listed());
    let trail = robin_trail(&report);
    let entry = json!({ "action": "outcome", "atMs": 5.0, "actorAccountId": "avery", "actorName": "Avery",
        "issueKey": "HD-1", "projectKey": "HD", "personAccountId": "robin", "personEmail": "robin@x",
        "personName": "Robin", "identityId": "id-1", "outcome": "passed", "sessionId": "s1" });
    let page = EntityPage {
        entries: vec![Entry {
            key: "outcome:s1:succeeded".into(),
            value: entry,
        }],
        ..EntityPage::default()
    };
    let found = Results {
        now_ms: NOW,
        entity_pages: vec![page.clone(), page],
        ..Results::default()
    };
    let rewrite = next(state(&trail), &found);
    assert_eq!(
        rewrite.writes.len(),
        1,
        "an entry found twice is written once"
    );
    let w = &rewrite.writes[0];
    assert_eq!(w.entity.as_deref(), Some("audit"));
    assert_eq!(w.key, "outcome:s1:succeeded");
    for (field, kept) in [
        ("action", "outcome"),
        ("outcome", "passed"),
        ("issueKey", "HD-1"),
        ("actorName", "Avery"),
    ] {
        assert_eq!(w.value[field], kept, "{field}");
    }
    for gone in ["personAccountId", "personEmail", "personName", "identityId"] {
        assert_eq!(w.value[gone], "", "{gone}");
    }
    assert_eq!(w.value["erased"], true);
    // Read again once the rewrite landed: nothing names the account any more, its index entries go.
    let again = next(state(&rewrite), &landed());
    assert_eq!(again.entity_queries.len(), 2);
    let forget = next(state(&again), &no_trail());
    assert_eq!(forget.deletes[0].key, "account:robin:s1");
    // A failed rewrite leaves the account (and its index entries) for next week's report.
    let failed = Results {
        write_failed: Some("KVS".into()),
        ..landed()
    };
    let done = next(state(&rewrite), &failed);
    assert_eq!(done.logs[0].event, "privacy.erase_failed");
    assert_eq!(
        done.reply.and_then(|r| r.data),
        Some(json!({ "closed": 0 }))
    );
}

#[test]
fn a_closed_admins_settings_and_credentials_entries_lose_their_name() {
    let first = start(PrivacyInput { owner: "me".into() });
    let report = next(state(&first), &listed());
    let trail = robin_trail(&report);
    let entries = [
        ("settings:4:inv-1", "settingsChanged"),
        ("credentials:5:robin:inv-2", "credentialsTested"),
    ]
    .map(|(key, action)| Entry {
        key: key.into(),
        value: json!({ "action": action, "atMs": 5.0, "actorAccountId": "robin",
            "actorName": "Robin Admin", "detail": "changed: linkExpiryMinutes" }),
    });
    let found = Results {
        now_ms: NOW,
        entity_pages: vec![
            EntityPage::default(),
            EntityPage {
                entries: entries.to_vec(),
                ..EntityPage::default()
            },
        ],
        ..Results::default()
    };
    let rewrite = next(state(&trail), &found);
    assert_eq!(rewrite.writes.len(), 2);
    for w in &rewrite.writes {
        assert_eq!(w.value["actorAccountId"], "", "{}", w.key);
        assert_eq!(w.value["actorName"], "Former user", "{}", w.key);
        assert_eq!(w.value["erased"], true);
    }
}
