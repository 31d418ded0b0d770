//! The verification report, the audit trail's erasure and its retention, driven through the real
//! planners against an in-memory custom entity (`Trail`) over a generated history of 10,000
//! verifications. The expected totals are counted here, directly from the generated entries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use std::collections::BTreeMap;
use std::time::Instant;

use incode_verify_core::admin::action::{AdminAction, AdminInput};
use incode_verify_core::admin::privacy::{self, PrivacyInput};
use incode_verify_core::admin::report::{self, ReportFilter};
use incode_verify_core::admin::retention::{self, RetentionInput};
use incode_verify_core::admin::{self as admin, Reply};
use incode_verify_core::audit::{Action, Entry};
use incode_verify_core::effects::{EffectResult, Ended};
use incode_verify_core::model::HttpAnswer;
use incode_verify_core::plan::{self, EntityPage, EntityQuery, Found, Listed, Results, Step};
use serde_json::{json, Value};

const DAY: f64 = 86_400_000.0;
const NOW: i64 = 1_800_000_000_000;

/// The custom entity `audit`, as the platform answers its index queries.
#[derive(Default)]
struct Trail {
    entries: BTreeMap<String, Entry>,
    /// Extra plain values (the account index) for the privacy run.
    plain: Vec<plan::Entry>,
}

impl Trail {
    fn attribute(entry: &Entry, name: &str) -> Value {
        let text = match name {
            "projectKey" => &entry.project_key,
            "actorAccountId" => &entry.actor_account_id,
            "personAccountId" => &entry.person_account_id,
            "outcome" => &entry.outcome,
            other => panic!("no attribute {other} in a query"),
        };
        Value::from(text.as_str())
    }

    fn query(&self, q: &EntityQuery) -> EntityPage {
        let partition_of = |index: &str| match index {
            "by-project" => Some("projectKey"),
            "by-actor" => Some("actorAccountId"),
            "by-person" => Some("personAccountId"),
            "atMs" => None,
            other => panic!("no index {other}"),
        };
        let mut rows: Vec<(&String, &Entry)> = self
            .entries
            .iter()
            .filter(|(_, e)| match partition_of(&q.index) {
                Some(attr) => Trail::attribute(e, attr) == q.partition[0].as_str(),
                None => q.partition.is_empty(),
            })
            .filter(|(_, e)| e.at_ms >= q.range[0] && e.at_ms <= q.range[1])
            .filter(|(_, e)| {
                q.filters
                    .iter()
                    .all(|f| Trail::attribute(e, &f.property) == f.value)
            })
            .collect();
        rows.sort_by(|a, b| {
            let order = a.1.at_ms.total_cmp(&b.1.at_ms).then(a.0.cmp(b.0));
            if q.descending {
                order.reverse()
            } else {
                order
            }
        });
        let start = match &q.cursor {
            None => 0,
            Some(after) => rows.iter().position(|r| r.0 == after).unwrap() + 1,
        };
        let page: Vec<_> = rows.iter().skip(start).take(q.limit as usize).collect();
        let more = rows.len() > start + page.len();
        EntityPage {
            entries: page
                .iter()
                .map(|(k, e)| plan::Entry {
                    key: (*k).clone(),
                    value: serde_json::to_value(e).unwrap(),
                })
                .collect(),
            cursor: more.then(|| page.last().unwrap().0.clone()),
            failed: None,
        }
    }

    /// Performs a step as `src/run.js` would: entity queries and writes against the trail;
    /// reads and swaps find nothing; the one effect (the privacy report) answers `report`.
    fn perform<S, R>(&mut self, step: &Step<S, R>, report: &str) -> Results {
        let pages = step.entity_queries.iter().map(|q| self.query(q)).collect();
        for w in step.writes.iter().chain(&step.puts) {
            if w.entity.as_deref() == Some("audit") {
                self.entries.insert(
                    w.key.clone(),
                    serde_json::from_value(w.value.clone()).unwrap(),
                );
            }
        }
        for d in &step.entity_deletes {
            self.entries.remove(&d.key);
        }
        Results {
            now_ms: NOW,
            reads: step.reads.iter().map(|_| Found::default()).collect(),
            swaps: step.swaps.iter().map(|_| Found::default()).collect(),
            effects: step
                .effects
                .iter()
                .map(|_| EffectResult {
                    ended: Ended::Done,
                    status: 200,
                    note: None,
                    answer: Some(HttpAnswer {
                        status: 200,
                        body: report.to_owned(),
                    }),
                })
                .collect(),
            queries: step
                .queries
                .iter()
                .map(|_| Listed {
                    entries: self.plain.clone(),
                    failed: None,
                    cursor: None,
                })
                .collect(),
            entity_pages: pages,
            ..Results::default()
        }
    }
}

/// A small deterministic generator (no randomness in a test's result).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const PROJECTS: [&str; 3] = ["HD", "IT", "OPS"];

/// 10,000 verifications over 300 days: each sent (or sent again), then passed, failed, sent to
/// review (half of those then approved), cancelled or expired; some late results, refused
/// gated transitions and settings changes among them.
fn history() -> Trail {
    let mut rng = Lcg(7);
    let mut trail = Trail::default();
    let start = NOW as f64 - 300.0 * DAY;
    for i in 0..10_000u64 {
        let sent_at = start + (i as f64) * (300.0 * DAY / 10_000.0) + rng.below(60_000) as f64;
        let project = PROJECTS[rng.below(3) as usize];
        let agent = format!("agent-{}", rng.below(8));
        let person = format!("person-{}", rng.below(500));
        let sid = format!("s{i}");
        let base = Entry {
            at_ms: sent_at,
            actor_account_id: agent.clone(),
            actor_name: format!("Agent {agent}, \"desk\""),
            issue_id: format!("{}", 10_000 + i),
            issue_key: format!("{project}-{i}"),
            project_key: project.to_owned(),
            person_account_id: person.clone(),
            person_email: format!("{person}@example.com"),
            person_name: if i % 97 == 0 {
                "=cmd|' /C calc'!A0".to_owned()
            } else {
                format!("Person {person}")
            },
            channel: if i % 3 == 0 { "SMS" } else { "EMAIL" }.to_owned(),
            session_id: sid.clone(),
            outcome: "requested".to_owned(),
            ..Entry::default()
        };
        let resent = rng.below(10) == 0;
        let sent = Entry {
            action: if resent { Action::Resent } else { Action::Sent },
            ..base.clone()
        };
        trail.entries.insert(format!("sent:{sid}"), sent);
        let took = 30_000.0 + rng.below(3_000_000) as f64;
        let result = |outcome: &str, after: f64| Entry {
            action: Action::Outcome,
            at_ms: sent_at + after,
            outcome: outcome.to_owned(),
            identity_id: format!("id-{i}"),
            duration_ms: after,
            detail: "succeeded".to_owned(),
            ..base.clone()
        };
        match rng.below(20) {
            0..=11 => {
                trail
                    .entries
                    .insert(format!("outcome:{sid}:succeeded"), result("passed", took));
            }
            12..=15 => {
                trail
                    .entries
                    .insert(format!("outcome:{sid}:failed"), result("failed", took));
            }
            16 | 17 => {
                trail.entries.insert(
                    format!("outcome:{sid}:pendingReview"),
                    result("manualReview", took),
                );
                if i % 2 == 0 {
                    let later = took + 3_600_000.0 + rng.below(7_200_000) as f64;
                    trail.entries.insert(
                        format!("outcome:{sid}:reviewApproved"),
                        result("passed", later),
                    );
                }
            }
            18 => {
                let cancelled = Entry {
                    action: Action::Cancelled,
                    at_ms: sent_at + 20_000.0,
                    outcome: "cancelled".to_owned(),
                    ..base.clone()
                };
                trail.entries.insert(format!("cancelled:{sid}"), cancelled);
                if i % 4 == 0 {
                    let late = Entry {
                        action: Action::LateResult,
                        at_ms: sent_at + 90_000.0,
                        ..base.clone()
                    };
                    trail.entries.insert(format!("late:{sid}:succeeded"), late);
                }
            }
            _ => {
                let expired = Entry {
                    action: Action::Expired,
                    at_ms: sent_at + 600_000.0,
                    outcome: "expired".to_owned(),
                    ..base.clone()
                };
                trail.entries.insert(format!("expired:{sid}"), expired);
            }
        }
        if i % 50 == 0 {
            let refused = Entry {
                action: Action::GateRefused,
                at_ms: sent_at + 1_000.0,
                detail: "not verified".to_owned(),
                ..base.clone()
            };
            trail.entries.insert(format!("gate:{sid}"), refused);
        }
        if i % 1_000 == 0 {
            let saved = Entry {
                action: Action::SettingsChanged,
                at_ms: sent_at + 5.0,
                actor_account_id: "admin-1".to_owned(),
                detail: "changed: transitions".to_owned(),
                ..Entry::default()
            };
            trail.entries.insert(format!("settings:{i}"), saved);
        }
    }
    trail
}

/// What the filter shows, counted directly.
#[derive(Debug, PartialEq)]
struct Expected {
    verifications: u64,
    results: u64,
    passed: u64,
    failures: u64,
    manual_reviews: u64,
    gate_refused: u64,
    median_seconds: Option<u64>,
}

fn shown<'a>(trail: &'a Trail, f: &ReportFilter) -> Vec<(&'a String, &'a Entry)> {
    let mut rows: Vec<_> = trail
        .entries
        .iter()
        .filter(|(_, e)| {
            e.at_ms >= f.from_ms
                && e.at_ms <= f.to_ms
                && (f.project_key.is_empty() || e.project_key == f.project_key)
                && (f.actor_account_id.is_empty() || e.actor_account_id == f.actor_account_id)
                && (f.outcome.is_empty() || e.outcome == f.outcome)
        })
        .collect();
    rows.sort_by(|a, b| b.1.at_ms.total_cmp(&a.1.at_ms).then(b.0.cmp(a.0)));
    rows
}

fn expected(trail: &Trail, f: &ReportFilter) -> Expected {
    let rows = shown(trail, f);
    let count = |pred: &dyn Fn(&Entry) -> bool| rows.iter().filter(|(_, e)| pred(e)).count() as u64;
    let mut durations: Vec<u64> = rows
        .iter()
        .filter(|(_, e)| e.action == Action::Outcome)
        .map(|(_, e)| {
            let s = (e.duration_ms / 1000.0) as u64;
            if s < 3600 {
                s
            } else {
                s / 60 * 60
            }
        })
        .collect();
    durations.sort_unstable();
    Expected {
        verifications: count(&|e| matches!(e.action, Action::Sent | Action::Resent)),
        results: count(&|e| e.action == Action::Outcome),
        passed: count(&|e| e.action == Action::Outcome && e.outcome == "passed"),
        failures: count(&|e| e.action == Action::Outcome && e.outcome == "failed"),
        manual_reviews: count(&|e| e.action == Action::Outcome && e.outcome == "manualReview"),
        gate_refused: count(&|e| e.action == Action::GateRefused),
        median_seconds: (!durations.is_empty()).then(|| durations[(durations.len() - 1) / 2]),
    }
}

/// One resolver call of the report, run through the admin planner to its reply.
fn call(trail: &mut Trail, payload: Value) -> Value {
    let asked = admin::start(AdminInput {
        action: AdminAction::Report,
        caller: serde_json::from_value(
            json!({ "accountId": "admin-1", "accountType": "licensed" }),
        )
        .unwrap(),
        payload,
        now_ms: NOW,
        urls: None,
        invocation: String::new(),
    });
    // The caller holds Administer Jira.
    let admitted = Results {
        now_ms: NOW,
        effects: vec![EffectResult {
            ended: Ended::Done,
            status: 200,
            note: None,
            answer: Some(HttpAnswer {
                status: 200,
                body: r#"{"permissions":{"ADMINISTER":{"havePermission":true}}}"#.into(),
            }),
        }],
        ..Results::default()
    };
    let mut step = admin::next(asked.state.unwrap(), &admitted);
    loop {
        let results = trail.perform(&step, "");
        // The state crosses to the executor and back as JSON.
        let Some(state) = step.state.take() else {
            let reply: Reply = step.reply.unwrap();
            assert!(reply.ok, "{reply:?}");
            return reply.data.unwrap();
        };
        let state = serde_json::from_value(serde_json::to_value(state).unwrap()).unwrap();
        step = admin::next(state, &results);
    }
}

/// Every call of one part, from the start to the last cursor: (calls, the answers).
fn all(trail: &mut Trail, filter: &ReportFilter, part: &str) -> Vec<Value> {
    let mut answers: Vec<Value> = Vec::new();
    let mut cursor = Value::Null;
    let mut totals = Value::Null;
    loop {
        let answer = call(
            trail,
            json!({ "filter": filter, "part": part, "cursor": cursor, "totals": totals }),
        );
        cursor = answer.get("cursor").cloned().unwrap_or(Value::Null);
        totals = answer.get("totals").cloned().unwrap_or(Value::Null);
        answers.push(answer);
        if cursor.is_null() {
            return answers;
        }
    }
}

fn totals_of(trail: &mut Trail, filter: &ReportFilter) -> Expected {
    let answers = all(trail, filter, "totals");
    let s = &answers.last().unwrap()["summary"];
    let n = |field: &str| s[field].as_u64().unwrap();
    Expected {
        verifications: n("verifications"),
        results: n("results"),
        passed: n("passed"),
        failures: n("failures"),
        manual_reviews: n("manualReviews"),
        gate_refused: n("gateRefused"),
        median_seconds: s["medianSeconds"].as_u64(),
    }
}

/// RFC 4180, read back: records of fields (quoted fields may hold commas, quotes and breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the text ends with a record's end"
    );
    records
}

fn year() -> ReportFilter {
    ReportFilter {
        from_ms: NOW as f64 - 365.0 * DAY,
        to_ms: NOW as f64,
        ..ReportFilter::default()
    }
}

#[test]
fn the_totals_of_10000_verifications_match_a_direct_count_for_every_filter() {
    let mut trail = history();
    let filters = [
        year(),
        ReportFilter {
            project_key: "IT".into(),
            ..year()
        },
        ReportFilter {
            actor_account_id: "agent-3".into(),
            ..year()
        },
        ReportFilter {
            project_key: "OPS".into(),
            actor_account_id: "agent-5".into(),
            ..year()
        },
        ReportFilter {
            outcome: "failed".into(),
            ..year()
        },
        ReportFilter {
            from_ms: NOW as f64 - 30.0 * DAY,
            ..year()
        },
    ];
    for filter in &filters {
        let started = Instant::now();
        let got = totals_of(&mut trail, filter);
        let want = expected(&trail, filter);
        assert_eq!(got, want, "{filter:?}");
        println!("totals {filter:?}: {want:?} in {:?}", started.elapsed());
    }
    let all = expected(&trail, &year());
    assert_eq!(all.verifications, 10_000);
    assert!(all.passed > 5_000 && all.failures > 1_500 && all.manual_reviews > 500);
}

#[test]
fn the_list_pages_through_exactly_what_the_filter_shows_and_the_csv_says_the_same() {
    let mut trail = history();
    let filter = ReportFilter {
        project_key: "HD".into(),
        ..year()
    };
    let pages = all(&mut trail, &filter, "rows");
    let want = shown(&trail, &filter);
    let rows: Vec<&Value> = pages
        .iter()
        .flat_map(|p| p["rows"].as_array().unwrap())
        .collect();
    assert!(pages
        .iter()
        .all(|p| p["rows"].as_array().unwrap().len() <= 50));
    assert_eq!(pages[0]["rows"].as_array().unwrap().len(), 50);
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let want_keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, want_keys, "every row once, newest first");

    let csv: String = all(&mut trail, &filter, "csv")
        .iter()
        .map(|a| a["csv"].as_str().unwrap().to_owned())
        .collect();
    let csv = csv
        .strip_prefix('\u{feff}')
        .expect("a byte order mark first, for spreadsheets to read UTF-8");
    let records = parse_csv(csv);
    assert_eq!(records[0], report::CSV_COLUMNS.map(str::to_owned).to_vec());
    assert_eq!(records.len() - 1, rows.len());
    for (record, row) in records[1..].iter().zip(&rows) {
        let e = &row["entry"];
        assert_eq!(record[0], row["at"].as_str().unwrap());
        assert_eq!(record[1], e["action"].as_str().unwrap());
        assert_eq!(record[3], e["issueKey"].as_str().unwrap());
        assert_eq!(
            record[5],
            e["actorName"].as_str().unwrap(),
            "quotes and commas survive"
        );
        let name = e["personName"].as_str().unwrap();
        if name.starts_with('=') {
            assert_eq!(record[7], format!("'{name}"), "a formula is neutralised");
        } else {
            assert_eq!(record[7], name);
        }
        assert_eq!(record[8], e["personEmail"].as_str().unwrap());
        assert_eq!(record[11], e["sessionId"].as_str().unwrap());
    }
    assert!(
        csv.contains("'=cmd"),
        "the history holds a formula to neutralise"
    );
}

#[test]
fn erasing_a_closed_account_keeps_the_totals_and_removes_the_person_everywhere() {
    let mut trail = history();
    let person = "person-42";
    let before = expected(&trail, &year());
    let named = trail
        .entries
        .values()
        .filter(|e| e.person_account_id == person)
        .count();
    assert!(
        named > 20,
        "the person took part in many verifications ({named})"
    );
    trail.plain = vec![plan::Entry {
        key: format!("account:{person}:s-gone"),
        value: json!({ "role": "person", "sessionId": "s-gone", "issueId": "1", "emailHash": "h", "atMs": 5 }),
    }];
    let report = json!([{ "accountId": person, "status": "closed" }]).to_string();
    let mut step = privacy::start(PrivacyInput { owner: "me".into() });
    let mut steps = 0;
    while let Some(state) = step.state.take() {
        let results = trail.perform(&step, &report);
        step = privacy::next(state, &results);
        steps += 1;
        assert!(steps < 1_000, "the erasure ends");
    }
    let needles = [
        format!("\"{person}\""),
        format!("\"{person}@example.com\""),
        format!("\"Person {person}\""),
    ];
    for (key, e) in &trail.entries {
        let text = serde_json::to_string(e).unwrap();
        assert!(
            !needles.iter().any(|n| text.contains(n)),
            "{key} still names the person: {text}"
        );
    }
    let erased: Vec<&Entry> = trail.entries.values().filter(|e| e.erased).collect();
    assert_eq!(erased.len(), named);
    assert!(erased
        .iter()
        .all(|e| e.person_name.is_empty() && !e.issue_key.is_empty()));
    assert_eq!(expected(&trail, &year()), before);
    assert_eq!(
        totals_of(&mut trail, &year()),
        before,
        "the report's totals are unchanged"
    );
}

#[test]
fn retention_removes_only_entries_older_than_the_setting() {
    let mut trail = history();
    let cutoff = retention::cutoff_ms(NOW, 200);
    let old = trail.entries.values().filter(|e| e.at_ms < cutoff).count();
    let total = trail.entries.len();
    assert!(old > 1_000 && old < total);
    let settings = json!({ "revision": 1, "settings": { "auditRetentionDays": 200 } });
    let mut step = retention::start(RetentionInput { now_ms: NOW });
    let mut round_trips = 0;
    while let Some(state) = step.state.take() {
        let mut results = trail.perform(&step, "");
        if round_trips == 0 {
            results.reads = vec![Found {
                value: settings.clone(),
                failed: None,
            }];
        }
        step = retention::next(state, &results);
        round_trips += 1;
    }
    trail.perform(&step, "");
    assert_eq!(trail.entries.len(), total - old);
    assert!(trail.entries.values().all(|e| e.at_ms >= cutoff));
    let reply = step.reply.unwrap().data.unwrap();
    assert_eq!(reply["removed"], json!(old as u64));
    assert_eq!(reply["done"], json!(true));
    println!("retention: {old} entries removed in {round_trips} round trips of 25");
}

#[test]
fn settings_from_before_the_trail_read_as_the_default_retention() {
    for stored in [
        json!(null),
        json!({ "revision": 3, "settings": { "clientId": "c" } }),
    ] {
        let mut trail = Trail::default();
        trail.entries.insert(
            "old".into(),
            Entry {
                at_ms: NOW as f64 - 401.0 * DAY,
                ..Entry::default()
            },
        );
        trail.entries.insert(
            "kept".into(),
            Entry {
                at_ms: NOW as f64 - 399.0 * DAY,
                ..Entry::default()
            },
        );
        let mut step = retention::start(RetentionInput { now_ms: NOW });
        let mut first = true;
        while let Some(state) = step.state.take() {
            let mut results = trail.perform(&step, "");
            if first {
                results.reads = vec![Found {
                    value: stored.clone(),
                    failed: None,
                }];
                first = false;
            }
            step = retention::next(state, &results);
        }
        trail.perform(&step, "");
        assert_eq!(trail.entries.keys().collect::<Vec<_>>(), ["kept"]);
    }
}
