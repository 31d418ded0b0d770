//! The audit trail's retention (daily scheduled trigger, `src/privacy.js`): entries older than
//! the retention the admin set (`Settings::audit_retention_days`) are removed, oldest first. A
//! run reads one page of the oldest entries and removes them in one transaction while reading
//! the next page from its cursor (one round trip per page), and stops after `RUN_BUDGET_MS`
//! (a scheduled function has 55 s). What is left is still the oldest, so the next day's run
//! starts where this one stopped without a stored cursor.

use serde::{Deserialize, Serialize};

use super::answer::{Refusal, Reply};
use crate::audit;
use crate::delivery::settings_of;
use crate::plan::{EntityKey, EntityQuery, LogLine, Read, Results, Step};

/// Entries removed per transaction (a transaction holds at most 25 operations).
const PAGE: u32 = 25;
/// A run stops reading after this long.
const RUN_BUDGET_MS: i64 = 40_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RetentionInput {
    pub now_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RetentionState {
    Settings {
        started_ms: i64,
    },
    Removing {
        started_ms: i64,
        before_ms: f64,
        removed: u64,
        /// The keys the step's transaction removes.
        removing: Vec<String>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Removed {
    removed: u64,
    done: bool,
}

pub type RetentionStep = Step<RetentionState, Reply>;

pub fn start(input: RetentionInput) -> RetentionStep {
    Step {
        reads: vec![Read {
            key: crate::delivery::SETTINGS_KEY.to_owned(),
            secret: false,
        }],
        ..Step::then(RetentionState::Settings {
            started_ms: input.now_ms,
        })
    }
}

/// The oldest entries written before `before_ms`.
fn oldest(before_ms: f64, cursor: Option<String>) -> EntityQuery {
    EntityQuery {
        entity: audit::ENTITY.to_owned(),
        index: "atMs".to_owned(),
        partition: Vec::new(),
        range: [0.0, (before_ms - 1.0).max(0.0)],
        filters: Vec::new(),
        descending: false,
        cursor,
        limit: PAGE,
    }
}

/// The time before which entries go: `days` before `now_ms`.
pub fn cutoff_ms(now_ms: i64, days: u32) -> f64 {
    (now_ms - i64::from(days) * DAY_MS) as f64
}

pub fn next(state: RetentionState, results: &Results) -> RetentionStep {
    match state {
        RetentionState::Settings { started_ms } => {
            let stored = results.reads.first().map(|f| (&f.value, &f.failed));
            let settings = match stored {
                Some((value, None)) => settings_of(value).ok(),
                _ => None,
            };
            let Some((_, settings)) = settings else {
                // Unreadable settings remove nothing: a wrong retention would lose entries.
                return Step::reply(Reply::refused(Refusal::storage()));
            };
            let before_ms = cutoff_ms(results.now_ms, settings.audit_retention_days);
            Step {
                entity_queries: vec![oldest(before_ms, None)],
                ..Step::then(RetentionState::Removing {
                    started_ms,
                    before_ms,
                    removed: 0,
                    removing: Vec::new(),
                })
            }
        }
        RetentionState::Removing {
            started_ms,
            before_ms,
            mut removed,
            removing,
        } => {
            if results.write_failed.is_none() {
                removed += removing.len() as u64;
            }
            let page = results.entity_pages.first().cloned().unwrap_or_default();
            let keys: Vec<String> = page
                .entries
                .iter()
                .filter(|e| {
                    e.value
                        .get("atMs")
                        .and_then(serde_json::Value::as_f64)
                        .is_some_and(|at| at < before_ms)
                })
                .map(|e| e.key.clone())
                .collect();
            let spent = results.now_ms - started_ms >= RUN_BUDGET_MS;
            let done = page.failed.is_none() && page.cursor.is_none() && keys.is_empty();
            if keys.is_empty() || spent || page.failed.is_some() {
                let mut step = Step::reply(Reply::data(&Removed {
                    removed,
                    done: done && !spent,
                }));
                // The last page found is removed too, without waiting for its answer.
                step.entity_deletes = entity_keys(&keys);
                step.logs.push(log(removed + keys.len() as u64));
                return step;
            }
            Step {
                entity_deletes: entity_keys(&keys),
                entity_queries: page
                    .cursor
                    .map(|c| oldest(before_ms, Some(c)))
                    .into_iter()
                    .collect(),
                ..Step::then(RetentionState::Removing {
                    started_ms,
                    before_ms,
                    removed,
                    removing: keys,
                })
            }
        }
    }
}

fn entity_keys(keys: &[String]) -> Vec<EntityKey> {
    keys.iter()
        .map(|key| EntityKey {
            entity: audit::ENTITY.to_owned(),
            key: key.clone(),
        })
        .collect()
}

fn log(removed: u64) -> LogLine {
    let mut fields = serde_json::Map::new();
    fields.insert("removed".into(), removed.into());
    LogLine {
        event: "audit.retention".into(),
        fields,
    }
}
