//! The hourly expiry run (scheduled trigger, `src/expiry.js`): links past their expiry that
//! nobody looked at are saved as expired by the same planner as the panel's (`expiry.rs`: under
//! each session lock, checked again on the record read beside it, audited once as `expired:{id}`),
//! with the issue's status field, so JQL, the report and the gate see "Expired" within the hour.
//!
//! It finds them without scanning: every send writes an entry of the custom entity
//! `open-verification` (key: the session, indexed by the link's expiry) in its transaction; a run
//! reads the entries whose expiry has passed, oldest first, a few at a time. An entry whose record
//! moved on (a result, a cancel, the panel's expiry) or is gone is removed then, so an entry lives
//! at most its link's time and an hour. Records of releases that wrote no entry are indexed once
//! from the issue index (`issue:{issueId}`: only an issue's current verification can still be
//! open), page by page across runs, its progress kept in `sweep:backfill`. A run stops after
//! `RUN_BUDGET_MS`; what is left is still the oldest, and the next run goes on.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{expiry, keys, log, read, verification_of, Answer, Refusal};
use crate::lock::Taken;
use crate::model::VerificationStatus;
use crate::plan::{EntityKey, EntityQuery, Query, Results, Step, Write};
use crate::stored::{BackfillMarker, OpenVerification, SCHEMA_VERSION};

/// The custom entity of links not known to be over.
pub const OPEN_ENTITY: &str = "open-verification";
/// Where the one-time indexing of earlier releases' records stands.
pub const BACKFILL_KEY: &str = "sweep:backfill";
/// Entries handled per round: a saved expiry is four of a transaction's 25 operations (the
/// record, the lock's release, the audit entry, the entry's removal).
const PAGE: u32 = 5;
/// Issue indexes read per backfill round (a KVS query page).
const BACKFILL_PAGE: u32 = 20;
/// A run stops starting rounds after this long (a scheduled function has 55 s).
const RUN_BUDGET_MS: i64 = 40_000;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct SweepInput {
    /// The lock owner the run writes as (drawn by the executor).
    pub owner: String,
    pub now_ms: i64,
}

/// What a run did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Swept {
    /// Links saved as expired.
    pub expired: u64,
    /// Entries removed (their link moved on, or its record is gone).
    pub removed: u64,
    /// Records of earlier releases indexed.
    pub indexed: u64,
    /// Nothing left for now (false: the budget ran out, the next run goes on).
    pub done: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Phase {
    /// The backfill marker is read.
    Marker,
    /// A page of issue indexes was asked (from `cursor`).
    Issues { cursor: Option<String> },
    /// Their current records are read; `next`: the page after.
    Candidates { next: Option<String> },
    /// The backfill's entries and marker are landing; `next`: where it goes on.
    Indexing { next: Option<String>, count: u64 },
    /// A page of due entries was asked.
    Page,
    /// The entries' records and issue indexes are read.
    Records {
        sessions: Vec<String>,
        issues: Vec<String>,
    },
    /// The due records' locks are taken, beside the records.
    Attempt { due: Vec<Value>, current: Vec<bool> },
    /// Records read again under locks the attempt kept (`expiry::Reread`).
    Reread {
        settled: expiry::Settled,
        current: Vec<bool>,
    },
    /// The expiries are landing.
    Saved {
        records: Vec<Value>,
        held: Vec<Taken>,
        current: Vec<bool>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SweepState {
    owner: String,
    started_ms: i64,
    phase: Phase,
    swept: Swept,
    /// The cursor of the next page of due entries (none: from the oldest).
    #[serde(default)]
    cursor: Option<String>,
}

pub type SweepStep = Step<SweepState, Answer<Swept>>;

pub fn start(input: SweepInput) -> SweepStep {
    Step {
        reads: vec![read(BACKFILL_KEY)],
        ..Step::then(SweepState {
            owner: input.owner,
            started_ms: input.now_ms,
            phase: Phase::Marker,
            swept: Swept::default(),
            cursor: None,
        })
    }
}

/// The entry a send writes in its transaction, for the link `session_id` of `issue_id`.
pub fn open_entry(session_id: &str, issue_id: &str, expires_at_ms: i64) -> Write {
    let entry = OpenVerification {
        schema_version: SCHEMA_VERSION,
        session_id: session_id.to_owned(),
        issue_id: issue_id.to_owned(),
        expires_at_ms: expires_at_ms as f64,
    };
    Write {
        key: session_id.to_owned(),
        value: serde_json::to_value(entry).unwrap_or_default(),
        ttl: None,
        secret: false,
        entity: Some(OPEN_ENTITY.to_owned()),
        only_if: None,
    }
}

fn due_page(now_ms: i64, cursor: Option<String>) -> EntityQuery {
    EntityQuery {
        entity: OPEN_ENTITY.to_owned(),
        index: "expiresAtMs".to_owned(),
        partition: Vec::new(),
        range: [0.0, now_ms as f64],
        filters: Vec::new(),
        descending: false,
        cursor,
        limit: PAGE,
    }
}

fn issue_page(cursor: Option<String>) -> Query {
    Query {
        prefix: "issue:".to_owned(),
        limit: Some(BACKFILL_PAGE),
        cursor,
    }
}

fn marker(done: bool, cursor: Option<String>) -> Write {
    let value = BackfillMarker {
        schema_version: SCHEMA_VERSION,
        done,
        cursor,
    };
    super::write(
        BACKFILL_KEY,
        serde_json::to_value(value).unwrap_or_default(),
        None,
    )
}

fn removal(session_id: &str) -> EntityKey {
    EntityKey {
        entity: OPEN_ENTITY.to_owned(),
        key: session_id.to_owned(),
    }
}

pub fn next(mut st: SweepState, results: &Results) -> SweepStep {
    let now = results.now_ms;
    let spent = now - st.started_ms >= RUN_BUDGET_MS;
    match std::mem::replace(&mut st.phase, Phase::Page) {
        Phase::Marker => {
            let Some(found) = results.reads.first().filter(|f| f.failed.is_none()) else {
                return Step::reply(Refusal::storage().into());
            };
            let stored: BackfillMarker = crate::stored::read_as(&found.value).unwrap_or_default();
            if stored.done {
                return sweep_from(st, now, None);
            }
            st.phase = Phase::Issues {
                cursor: stored.cursor.clone(),
            };
            Step {
                queries: vec![issue_page(stored.cursor)],
                ..Step::then(st)
            }
        }
        Phase::Issues { cursor } => {
            let listed = results.queries.first().cloned().unwrap_or_default();
            if listed.failed.is_some() {
                // A cursor the store no longer knows starts the backfill over next run (its
                // entries are written again, to the same keys).
                let mut step = sweep_from(st, now, None);
                if cursor.is_some() {
                    step.puts.push(marker(false, None));
                }
                return step;
            }
            let reads = listed
                .entries
                .iter()
                .filter_map(|e| e.value.get("current").and_then(Value::as_str))
                .map(|sid| read(keys::record(sid)))
                .collect();
            st.phase = Phase::Candidates {
                next: listed.cursor,
            };
            Step {
                reads,
                ..Step::then(st)
            }
        }
        Phase::Candidates { next } => {
            let mut writes: Vec<Write> = results
                .reads
                .iter()
                .filter(|f| f.failed.is_none())
                .filter_map(|f| verification_of(&f.value))
                .filter(|v| v.status == VerificationStatus::Requested)
                .map(|v| open_entry(&v.session_id, &v.issue_id, v.expires_at_ms))
                .collect();
            if results.reads.iter().any(|f| f.failed.is_some()) {
                // Read again next run rather than skip a record that may be open.
                return sweep_from(st, now, None);
            }
            let count = writes.len() as u64;
            writes.push(marker(next.is_none(), next.clone()));
            st.phase = Phase::Indexing { next, count };
            Step {
                writes,
                ..Step::then(st)
            }
        }
        Phase::Indexing { next, count } => {
            if results.write_failed.is_some() {
                return sweep_from(st, now, None);
            }
            st.swept.indexed += count;
            match next {
                Some(cursor) if !spent => {
                    st.phase = Phase::Issues {
                        cursor: Some(cursor.clone()),
                    };
                    Step {
                        queries: vec![issue_page(Some(cursor))],
                        ..Step::then(st)
                    }
                }
                _ => sweep_from(st, now, None),
            }
        }
        Phase::Page => {
            let page = results.entity_pages.first().cloned().unwrap_or_default();
            if page.failed.is_some() {
                return finish(st, false);
            }
            let entries: Vec<OpenVerification> = page
                .entries
                .iter()
                .filter_map(|e| crate::stored::read_as(&e.value).ok())
                .collect();
            st.cursor = page.cursor;
            if entries.is_empty() {
                let done = st.cursor.is_none();
                return finish(st, done);
            }
            let sessions: Vec<String> = entries.iter().map(|e| e.session_id.clone()).collect();
            let issues: Vec<String> = entries.iter().map(|e| e.issue_id.clone()).collect();
            let mut reads: Vec<_> = sessions.iter().map(|s| read(keys::record(s))).collect();
            reads.extend(issues.iter().map(|i| read(keys::issue(i))));
            st.phase = Phase::Records { sessions, issues };
            Step {
                reads,
                ..Step::then(st)
            }
        }
        Phase::Records { sessions, issues } => {
            let n = sessions.len();
            let mut removals = Vec::new();
            let mut corrections = Vec::new();
            let mut due = Vec::new();
            let mut current = Vec::new();
            for (i, sid) in sessions.iter().enumerate() {
                let (Some(record), Some(index)) = (results.reads.get(i), results.reads.get(n + i))
                else {
                    continue;
                };
                if record.failed.is_some() {
                    continue;
                }
                let Some(v) = verification_of(&record.value) else {
                    // No record (its time ran out, or the person's data was erased).
                    removals.push(removal(sid));
                    continue;
                };
                if v.status != VerificationStatus::Requested {
                    removals.push(removal(sid));
                } else if expiry::due(&record.value, now) {
                    due.push(record.value.clone());
                    let is_current = index.failed.is_none()
                        && index.value.get("current").and_then(Value::as_str) == Some(sid.as_str());
                    current.push(is_current);
                } else {
                    // Indexed under another time than the record's (it is the record that counts).
                    let issue = issues.get(i).map_or("", String::as_str);
                    corrections.push(open_entry(sid, issue, v.expires_at_ms));
                }
            }
            st.swept.removed += removals.len() as u64;
            if due.is_empty() {
                let mut step = go_on(st, now, spent);
                step.entity_deletes = removals;
                step.writes = corrections;
                return step;
            }
            let ids: Vec<String> = due
                .iter()
                .filter_map(|r| r.get("sessionId").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            let (swaps, reads) = expiry::attempt(&ids, &st.owner, now);
            st.phase = Phase::Attempt { due, current };
            Step {
                swaps,
                reads,
                writes: corrections,
                entity_deletes: removals,
                ..Step::then(st)
            }
        }
        Phase::Attempt { due, current } => {
            let mut settled = expiry::settle(&due, &results.swaps, &results.reads, &st.owner, now);
            if settled.reread.is_empty() {
                return save_expired(st, settled, current, now, spent);
            }
            let reads = settled.reread_reads();
            let puts = std::mem::take(&mut settled.puts);
            st.phase = Phase::Reread { settled, current };
            Step {
                reads,
                puts,
                ..Step::then(st)
            }
        }
        Phase::Reread { settled, current } => {
            let settled = settled.settle_reread(&results.reads, &st.owner, now);
            save_expired(st, settled, current, now, spent)
        }
        Phase::Saved {
            records,
            held,
            current,
        } => {
            if results.write_failed.is_some() {
                let mut step = go_on(st, now, true);
                step.puts = expiry::release_unsaved(&held);
                return step;
            }
            st.swept.expired += held.len() as u64;
            let effects = expiry::status_effects(&records, &held, |i| {
                current.get(i).copied().unwrap_or(false)
            });
            let mut step = go_on(st, now, spent);
            step.effects = effects;
            step
        }
    }
}

/// The settled expiries saved in one transaction, their entries going with them; the others
/// stay for the next run.
fn save_expired(
    mut st: SweepState,
    settled: expiry::Settled,
    current: Vec<bool>,
    now: i64,
    spent: bool,
) -> SweepStep {
    if settled.writes.is_empty() {
        let mut step = go_on(st, now, spent);
        step.puts = settled.puts;
        return step;
    }
    let removals: Vec<EntityKey> = settled
        .held
        .iter()
        .filter_map(|t| t.key.strip_prefix("lock:"))
        .map(removal)
        .collect();
    st.phase = Phase::Saved {
        records: settled.records,
        held: settled.held,
        current,
    };
    Step {
        writes: settled.writes,
        puts: settled.puts,
        entity_deletes: removals,
        ..Step::then(st)
    }
}

/// The sweep of due entries, from the oldest (`cursor`: none).
fn sweep_from(mut st: SweepState, now_ms: i64, cursor: Option<String>) -> SweepStep {
    st.phase = Phase::Page;
    Step {
        entity_queries: vec![due_page(now_ms, cursor)],
        ..Step::then(st)
    }
}

/// The next page of due entries, or the answer when there is none or the budget is spent.
fn go_on(mut st: SweepState, now_ms: i64, spent: bool) -> SweepStep {
    match st.cursor.take() {
        Some(cursor) if !spent => sweep_from(st, now_ms, Some(cursor)),
        Some(_) => finish(st, false),
        None => finish(st, !spent),
    }
}

fn finish(mut st: SweepState, done: bool) -> SweepStep {
    st.swept.done = done;
    let swept = st.swept;
    Step {
        logs: vec![log(
            "expiry.sweep",
            &[
                ("expired", Value::from(swept.expired)),
                ("removed", Value::from(swept.removed)),
                ("indexed", Value::from(swept.indexed)),
                ("done", Value::from(swept.done)),
            ],
        )],
        ..Step::reply(Answer::data(swept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::Effect;
    use crate::plan::{EntityPage, Entry, Found, Listed};
    use serde_json::json;

    const NOW: i64 = 5_000_000;

    fn found(value: Value) -> Found {
        Found {
            value,
            failed: None,
        }
    }

    fn record(sid: &str, status: &str, expires_at_ms: i64) -> Value {
        json!({
            "id": sid, "sessionId": sid, "issueKey": "HELP-1", "issueId": "10001", "email": "c@x.test",
            "name": "", "delivery": "EMAIL", "destination": "c@x.test", "requestedBy": "avery", "requestedByName": "Avery",
            "requestedAtMs": 0, "expiresAtMs": expires_at_ms, "status": status, "statusText": "", "updatedAtMs": 0,
            "identityId": "", "history": [], "appliedEvents": [], "rev": 1
        })
    }

    fn state(step: &SweepStep) -> SweepState {
        step.state
            .clone()
            .unwrap_or_else(|| unreachable!("a state"))
    }

    fn page(entries: Vec<(&str, i64)>) -> Results {
        Results {
            now_ms: NOW,
            entity_pages: vec![EntityPage {
                entries: entries
                    .into_iter()
                    .map(|(sid, at)| Entry {
                        key: sid.into(),
                        value: json!({ "schemaVersion": 2, "sessionId": sid, "issueId": "10001", "expiresAtMs": at as f64 }),
                    })
                    .collect(),
                ..EntityPage::default()
            }],
            ..Results::default()
        }
    }

    fn swept(step: &SweepStep) -> Option<Swept> {
        match &step.reply {
            Some(Answer::Done { data, .. }) => Some(data.clone()),
            _ => None,
        }
    }

    /// A page naming `s1`, its record `due` and its issue index read: the step taking its lock.
    fn to_attempt(due: &Value) -> SweepStep {
        let records = next(state(&to_page()), &page(vec![("s1", 1_000)]));
        let read = Results {
            now_ms: NOW,
            reads: vec![found(due.clone()), found(json!({ "current": "s1" }))],
            ..Results::default()
        };
        next(state(&records), &read)
    }

    /// Runs from a done backfill to the due page.
    fn to_page() -> SweepStep {
        let first = start(SweepInput {
            owner: "run".into(),
            now_ms: NOW,
        });
        let marker = Results {
            now_ms: NOW,
            reads: vec![found(json!({ "schemaVersion": 2, "done": true }))],
            ..Results::default()
        };
        next(state(&first), &marker)
    }

    #[test]
    fn a_due_link_is_saved_expired_under_its_lock_audited_once_and_its_entry_removed() {
        let asked = to_page();
        let q = &asked.entity_queries[0];
        assert_eq!(
            (q.entity.as_str(), q.index.as_str()),
            (OPEN_ENTITY, "expiresAtMs")
        );
        assert_eq!(q.range, [0.0, NOW as f64]);
        assert!(!q.descending, "the oldest first");
        let records = next(state(&asked), &page(vec![("s1", 1_000)]));
        let keys: Vec<_> = records.reads.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["v:s1", "issue:10001"]);
        let due = record("s1", "requested", 1_000);
        let attempt = to_attempt(&due);
        assert_eq!(attempt.swaps[0].key, "lock:s1");
        assert_eq!(attempt.reads[0].key, "v:s1");
        let locked = Results {
            now_ms: NOW,
            swaps: vec![found(Value::Null)],
            reads: vec![found(due)],
            ..Results::default()
        };
        let saving = next(state(&attempt), &locked);
        let keys: Vec<_> = saving.writes.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["v:s1", "lock:s1", "expired:s1"]);
        assert_eq!(saving.writes[0].value["status"], "expired");
        assert_eq!(saving.writes[2].entity.as_deref(), Some("audit"));
        assert_eq!(saving.entity_deletes, [removal("s1")]);
        let landed = next(
            state(&saving),
            &Results {
                now_ms: NOW,
                ..Results::default()
            },
        );
        assert!(matches!(
            landed.effects.as_slice(),
            [Effect::RecordStatus { text, .. }, Effect::IndexStatus { .. }] if text.starts_with("Expired - ")
        ));
        let done = swept(&landed).unwrap_or_default();
        assert_eq!((done.expired, done.done), (1, true));
    }

    #[test]
    fn an_entry_whose_link_moved_on_or_is_gone_is_removed_and_one_not_due_is_corrected() {
        let asked = to_page();
        let records = next(
            state(&asked),
            &page(vec![("s1", 1_000), ("s2", 1_000), ("s3", 1_000)]),
        );
        let read = Results {
            now_ms: NOW,
            reads: vec![
                found(record("s1", "passed", 1_000)),
                found(Value::Null),
                found(record("s3", "requested", NOW + 60_000)),
                found(Value::Null),
                found(Value::Null),
                found(Value::Null),
            ],
            ..Results::default()
        };
        let step = next(state(&records), &read);
        assert!(step.swaps.is_empty(), "nothing to lock");
        assert_eq!(step.entity_deletes, [removal("s1"), removal("s2")]);
        assert_eq!(step.writes[0].key, "s3");
        assert_eq!(
            step.writes[0].value["expiresAtMs"],
            json!((NOW + 60_000) as f64)
        );
        assert_eq!(swept(&step).map(|s| (s.removed, s.done)), Some((2, true)));
    }

    #[test]
    fn a_link_a_webhook_holds_stays_indexed_for_the_next_run() {
        let due = record("s1", "requested", 1_000);
        let attempt = to_attempt(&due);
        let busy = Results {
            now_ms: NOW,
            swaps: vec![found(
                json!({ "owner": "webhook", "untilMs": NOW + 10_000 }),
            )],
            reads: vec![found(due)],
            ..Results::default()
        };
        let step = next(state(&attempt), &busy);
        assert!(step.writes.is_empty() && step.entity_deletes.is_empty());
        assert_eq!(step.puts[0].value["owner"], "webhook", "the lease put back");
        assert_eq!(swept(&step).map(|s| s.expired), Some(0));
    }

    #[test]
    fn earlier_releases_records_are_indexed_once_from_the_issue_index() {
        let first = start(SweepInput {
            owner: "run".into(),
            now_ms: NOW,
        });
        assert_eq!(first.reads[0].key, BACKFILL_KEY);
        let issues = next(
            state(&first),
            &Results {
                now_ms: NOW,
                reads: vec![found(Value::Null)],
                ..Results::default()
            },
        );
        assert_eq!(issues.queries[0].prefix, "issue:");
        let listed = Results {
            now_ms: NOW,
            queries: vec![Listed {
                entries: vec![
                    Entry {
                        key: "issue:1".into(),
                        value: json!({ "current": "s1", "sessions": ["s1"] }),
                    },
                    Entry {
                        key: "issue:2".into(),
                        value: json!({ "current": "s2", "sessions": ["s2", "s0"] }),
                    },
                ],
                cursor: Some("c2".into()),
                failed: None,
            }],
            ..Results::default()
        };
        let candidates = next(state(&issues), &listed);
        let keys: Vec<_> = candidates.reads.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["v:s1", "v:s2"],
            "only an issue's current link can be open"
        );
        let read = Results {
            now_ms: NOW,
            reads: vec![
                found(record("s1", "requested", 1_000)),
                found(record("s2", "passed", 1_000)),
            ],
            ..Results::default()
        };
        let indexing = next(state(&candidates), &read);
        let keys: Vec<_> = indexing.writes.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["s1", BACKFILL_KEY]);
        assert_eq!(indexing.writes[0].entity.as_deref(), Some(OPEN_ENTITY));
        assert_eq!(indexing.writes[1].value["cursor"], "c2");
        assert_eq!(indexing.writes[1].value["done"], false);
        let on = next(
            state(&indexing),
            &Results {
                now_ms: NOW,
                ..Results::default()
            },
        );
        assert_eq!(on.queries[0].cursor.as_deref(), Some("c2"), "the next page");
        // The last page marks the backfill done; then the sweep reads the due entries.
        let last = next(
            state(&on),
            &Results {
                now_ms: NOW,
                queries: vec![Listed::default()],
                ..Results::default()
            },
        );
        let done = next(
            state(&last),
            &Results {
                now_ms: NOW,
                ..Results::default()
            },
        );
        assert_eq!(done.writes[0].value["done"], true);
        let sweep = next(
            state(&done),
            &Results {
                now_ms: NOW,
                ..Results::default()
            },
        );
        assert_eq!(sweep.entity_queries[0].entity, OPEN_ENTITY);
        assert_eq!(sweep.state.map(|s| s.swept.indexed), Some(1));
    }
}
