//! The weekly personal-data report (scheduled trigger, `src/privacy.js`). The app stores
//! Atlassian account ids in its account index (`account:{accountId}:{sessionId}`: the agent who
//! sent or cancelled a link, the person verified when they are a Jira user;
//! `account:{accountId}:actor`: anyone else the audit trail names as acting). Atlassian answers which accounts
//! were closed; their data is erased, one verification at a time under its lock: a verified
//! person's record, contact details and index entries, and an agent's name and id on the records
//! they sent; then the audit entries naming them; their account index entries last. An account
//! whose erasure fails (a verification busy, storage down) is left for the next week's report,
//! which names it again.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::answer::{internal, Refusal, Reply};
use crate::audit;
use crate::effects::{AccountReport, Effect, Ended};
use crate::jira::iso_utc;
use crate::lock::{self, Found as LockFound, Leave};
use crate::plan::{Entry, LogLine, Query, Read, Results, Step, Ttl, Write};
use crate::stored::{self, AccountEntry, IssueIndex, Kind, SCHEMA_VERSION};

const ACCOUNT_PREFIX: &str = "account:";
/// Audit entries read per index and rewritten per transaction (two indexes: at most 24 writes).
const TRAIL_PAGE: u32 = 12;
/// How long a verification record lives (as when it was sent).
const RECORD_TTL: Ttl = Ttl::days(400);
/// Account index entries deleted per transaction (a transaction holds at most 25 operations).
const FORGET_BATCH: usize = 20;
/// What an agent's records say once their account is closed.
const FORMER_USER: &str = "Former user";

/// The run's lock owner, drawn by the executor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PrivacyInput {
    pub owner: String,
}

/// One verification a closed account took part in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    session_id: String,
    entry: AccountEntry,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    account_id: String,
    parts: Vec<Part>,
    /// The audit trail's entries naming the account are rewritten (after its verifications, so
    /// that no result applied meanwhile writes an entry naming it that no later pass would see).
    #[serde(default)]
    trail_erased: bool,
    /// Its account index entries, deleted last: until then a failure leaves the account in the
    /// index for next week's report.
    #[serde(default)]
    keys: Vec<String>,
    /// When the app last stored data about the account (the latest of its index entries).
    #[serde(default)]
    updated_at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Stage {
    /// The verification's lock is being taken, its record (and issue index) read beside it.
    Taking,
    /// The erasure's transaction (with the lock's release) is landing.
    Landing { release: Write },
    /// A batch of the account's index entries is being deleted, once everything else is erased.
    Forgetting,
    /// A page of the audit entries naming the account is being read.
    Trail,
    /// Those entries, rewritten without the account's data, are landing.
    TrailLanding,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
#[allow(clippy::large_enum_variant)] // one value per step, crossing to JS at once
pub enum PrivacyState {
    Listing {
        owner: String,
    },
    Reporting {
        owner: String,
        accounts: Vec<Account>,
    },
    Erasing(Erasure),
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    owner: String,
    reported: usize,
    closed: u32,
    /// The closed accounts still to erase; the first one's first part is in hand.
    queue: Vec<Account>,
    stage: Stage,
}

pub type PrivacyStep = Step<PrivacyState, Reply>;

#[derive(Serialize)]
struct Closed {
    closed: u32,
}

pub fn start(input: PrivacyInput) -> PrivacyStep {
    Step {
        queries: vec![Query {
            prefix: ACCOUNT_PREFIX.to_owned(),
            limit: None,
            cursor: None,
        }],
        ..Step::then(PrivacyState::Listing { owner: input.owner })
    }
}

pub fn next(state: PrivacyState, results: &Results) -> PrivacyStep {
    match state {
        PrivacyState::Listing { owner } => report(owner, results),
        PrivacyState::Reporting { owner, accounts } => closed_accounts(owner, accounts, results),
        PrivacyState::Erasing(erasure) => erasing(erasure, results),
    }
}

fn log(event: &str, fields: &[(&str, Value)]) -> LogLine {
    let mut map = Map::new();
    for (name, value) in fields {
        map.insert((*name).to_owned(), value.clone());
    }
    LogLine {
        event: event.to_owned(),
        fields: map,
    }
}

/// The report failed as a whole: 500, and next week's run reports again.
fn failed(code: &str) -> PrivacyStep {
    Step {
        logs: vec![log("privacy.failed", &[("code", code.into())])],
        ..Step::reply(Reply::refused(Refusal::new(
            code,
            "The personal-data report failed.",
        )))
    }
}

/// The account index by account, in key order.
fn by_account(entries: &[Entry]) -> Vec<Account> {
    let mut accounts: Vec<Account> = Vec::new();
    for Entry { key, value } in entries {
        let Some(rest) = key.strip_prefix(ACCOUNT_PREFIX) else {
            continue;
        };
        let Some((account_id, session_id)) = rest.rsplit_once(':') else {
            continue;
        };
        let entry: AccountEntry = serde_json::from_value(value.clone()).unwrap_or_default();
        if !accounts.iter().any(|a| a.account_id == account_id) {
            accounts.push(Account {
                account_id: account_id.to_owned(),
                parts: Vec::new(),
                trail_erased: false,
                keys: Vec::new(),
                updated_at_ms: 0,
            });
        }
        let Some(account) = accounts.iter_mut().find(|a| a.account_id == account_id) else {
            continue;
        };
        account.keys.push(key.clone());
        account.updated_at_ms = account.updated_at_ms.max(entry.at_ms);
        // Named by the trail alone ("actor"): no verification to erase.
        if entry.role != "actor" {
            account.parts.push(Part {
                session_id: session_id.to_owned(),
                entry,
            });
        }
    }
    accounts
}

/// ISO 8601 with milliseconds, as `Date#toISOString` writes it.
fn iso_ms(ms: i64) -> String {
    let seconds = iso_utc(ms);
    let base = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{base}.{:03}Z", ms.rem_euclid(1000))
}

fn report(owner: String, results: &Results) -> PrivacyStep {
    let listed = match results.queries.first() {
        Some(listed) if listed.failed.is_none() => listed,
        _ => return failed("storage_unavailable"),
    };
    let accounts = by_account(&listed.entries);
    let reports = accounts
        .iter()
        .map(|a| AccountReport {
            account_id: a.account_id.clone(),
            updated_at: iso_ms(a.updated_at_ms),
        })
        .collect();
    Step {
        effects: vec![Effect::ReportAccounts { accounts: reports }],
        ..Step::then(PrivacyState::Reporting { owner, accounts })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Update {
    account_id: String,
    status: String,
}

fn closed_accounts(owner: String, accounts: Vec<Account>, results: &Results) -> PrivacyStep {
    let answer = match results.effects.first() {
        Some(result) if result.ended == Ended::Done => result.answer.as_ref(),
        _ => None,
    };
    let Some(updates) = answer
        .filter(|a| (200..300).contains(&a.status))
        .and_then(|a| serde_json::from_str::<Option<Vec<Update>>>(&a.body).ok())
    else {
        return failed("report_failed");
    };
    let reported = accounts.len();
    let closed: Vec<&str> = updates
        .iter()
        .flatten()
        .filter(|u| u.status == "closed")
        .map(|u| u.account_id.as_str())
        .collect();
    let queue = accounts
        .into_iter()
        .filter(|a| closed.contains(&a.account_id.as_str()))
        .collect();
    let erasure = Erasure {
        owner,
        reported,
        closed: 0,
        queue,
        stage: Stage::Taking,
    };
    advance(erasure, results.now_ms, Vec::new(), Vec::new())
}

/// Takes the lock of the next part to erase (with its record and index read beside); once the
/// account's verifications are erased, rewrites its audit entries, then deletes its index
/// entries; or ends.
fn advance(
    mut erasure: Erasure,
    now_ms: i64,
    puts: Vec<Write>,
    mut logs: Vec<LogLine>,
) -> PrivacyStep {
    let Some(account) = erasure.queue.first_mut() else {
        logs.push(log(
            "privacy.reported",
            &[
                ("accounts", erasure.reported.into()),
                ("closed", erasure.closed.into()),
            ],
        ));
        return Step {
            puts,
            logs,
            ..Step::reply(Reply::data(&Closed {
                closed: erasure.closed,
            }))
        };
    };
    let Some(part) = account.parts.first().cloned() else {
        if !account.trail_erased {
            let entity_queries = audit::naming(&account.account_id, TRAIL_PAGE);
            erasure.stage = Stage::Trail;
            return Step {
                entity_queries,
                puts,
                logs,
                ..Step::then(PrivacyState::Erasing(erasure))
            };
        }
        let batch = account.keys.len().min(FORGET_BATCH);
        let deletes = account.keys.drain(..batch).map(plain).collect();
        erasure.stage = Stage::Forgetting;
        return Step {
            deletes,
            puts,
            logs,
            ..Step::then(PrivacyState::Erasing(erasure))
        };
    };
    let mut reads = vec![Read {
        key: format!("v:{}", part.session_id),
        secret: false,
    }];
    if part.entry.role == "person" {
        reads.push(Read {
            key: format!("issue:{}", part.entry.issue_id),
            secret: false,
        });
    }
    // The lock as the previous release kept it (lock.rs), read last.
    reads.push(Read {
        key: format!("lock:{}", part.session_id),
        secret: false,
    });
    let swap = lock::take(
        &format!("lock:{}", part.session_id),
        &erasure.owner,
        "",
        now_ms,
    );
    erasure.stage = Stage::Taking;
    Step {
        swaps: vec![swap],
        reads,
        puts,
        logs,
        ..Step::then(PrivacyState::Erasing(erasure))
    }
}

/// The account in hand could not be erased: logged, left for next week.
fn give_up(mut erasure: Erasure, code: &str, now_ms: i64, puts: Vec<Write>) -> PrivacyStep {
    if !erasure.queue.is_empty() {
        erasure.queue.remove(0);
    }
    let logs = vec![log("privacy.erase_failed", &[("code", code.into())])];
    advance(erasure, now_ms, puts, logs)
}

fn erasing(mut erasure: Erasure, results: &Results) -> PrivacyStep {
    let now_ms = results.now_ms;
    match std::mem::replace(&mut erasure.stage, Stage::Taking) {
        Stage::Landing { release } => {
            if results.write_failed.is_some() {
                // The release went with the failed transaction: put it on its own.
                return give_up(erasure, "storage_unavailable", now_ms, vec![release]);
            }
            if let Some(account) = erasure.queue.first_mut() {
                if !account.parts.is_empty() {
                    account.parts.remove(0);
                }
            }
            advance(erasure, now_ms, Vec::new(), Vec::new())
        }
        Stage::Forgetting => {
            if results.write_failed.is_some() {
                return give_up(erasure, "storage_unavailable", now_ms, Vec::new());
            }
            if erasure.queue.first().is_some_and(|a| a.keys.is_empty()) {
                erasure.queue.remove(0);
                erasure.closed += 1;
            }
            advance(erasure, now_ms, Vec::new(), Vec::new())
        }
        Stage::Taking => taken(erasure, results),
        Stage::Trail => trail_read(erasure, results),
        Stage::TrailLanding => {
            if results.write_failed.is_some() {
                return give_up(erasure, "storage_unavailable", now_ms, Vec::new());
            }
            // Read again: the rewritten entries have left the account's partitions.
            advance(erasure, now_ms, Vec::new(), Vec::new())
        }
    }
}

/// A page of the account's audit entries: rewritten without its data, or (none left) done.
fn trail_read(mut erasure: Erasure, results: &Results) -> PrivacyStep {
    let now_ms = results.now_ms;
    let Some(account_id) = erasure.queue.first().map(|a| a.account_id.clone()) else {
        return advance(erasure, now_ms, Vec::new(), Vec::new());
    };
    if results.entity_pages.len() != 2 || results.entity_pages.iter().any(|p| p.failed.is_some()) {
        return give_up(erasure, "storage_unavailable", now_ms, Vec::new());
    }
    let mut writes: Vec<Write> = Vec::new();
    for found in results.entity_pages.iter().flat_map(|p| &p.entries) {
        if writes.iter().any(|w| w.key == found.key) {
            continue;
        }
        let Ok(entry) = serde_json::from_value::<audit::Entry>(found.value.clone()) else {
            return give_up(erasure, "stored_unreadable", now_ms, Vec::new());
        };
        writes.push(entry.erased(&account_id).write(found.key.clone()));
    }
    if writes.is_empty() {
        if let Some(account) = erasure.queue.first_mut() {
            account.trail_erased = true;
        }
        return advance(erasure, now_ms, Vec::new(), Vec::new());
    }
    erasure.stage = Stage::TrailLanding;
    Step {
        writes,
        ..Step::then(PrivacyState::Erasing(erasure))
    }
}

fn taken(mut erasure: Erasure, results: &Results) -> PrivacyStep {
    let now_ms = results.now_ms;
    let Some((account_id, part)) = erasure
        .queue
        .first()
        .and_then(|a| Some((a.account_id.clone(), a.parts.first()?.clone())))
    else {
        return advance(erasure, now_ms, Vec::new(), Vec::new());
    };
    let swapped = match results.swaps.first() {
        Some(found) if found.failed.is_none() => found.value.clone(),
        _ => return give_up(erasure, "storage_unavailable", now_ms, Vec::new()),
    };
    let lock_key = format!("lock:{}", part.session_id);
    let at = if part.entry.role == "person" { 2 } else { 1 };
    let legacy = results.reads.get(at).map_or(&Value::Null, |l| &l.value);
    let taken = lock::found(&lock_key, &erasure.owner, swapped, legacy, now_ms);
    let record = results.reads.first().filter(|f| f.failed.is_none());
    if taken.found == LockFound::Busy {
        let back = lock::put_back(&taken).into_iter().collect();
        return give_up(erasure, "busy", now_ms, back);
    }
    let release = lock::release(&taken, &Leave::unknown(&taken));
    let index = results.reads.get(1).filter(|f| f.failed.is_none());
    let (Some(record), true) = (record, part.entry.role != "person" || index.is_some()) else {
        return give_up(erasure, "storage_unavailable", now_ms, vec![release]);
    };
    let planned = if part.entry.role == "person" {
        erase_person(
            &part,
            &record.value,
            index.map_or(&Value::Null, |i| &i.value),
        )
    } else {
        erase_agent(&part, &account_id, &record.value)
    };
    let (mut writes, deletes) = match planned {
        Ok(planned) => planned,
        Err(_) => return give_up(erasure, "stored_unreadable", now_ms, vec![release]),
    };
    writes.push(release.clone());
    // The ticket's current verification was the person's: its issue property (which anyone who
    // sees the ticket can read) keeps the status for searches, without the Incode ids.
    let current = index
        .and_then(|i| i.value.get("current"))
        .and_then(Value::as_str)
        == Some(part.session_id.as_str());
    let effects = match crate::actions::verification_of(&record.value) {
        Some(mut v) if part.entry.role == "person" && current => {
            v.identity_id.clear();
            v.session_id.clear();
            vec![Effect::index_status(&v.issue_key, &v.shown())]
        }
        _ => Vec::new(),
    };
    erasure.stage = Stage::Landing { release };
    Step {
        writes,
        deletes,
        effects,
        ..Step::then(PrivacyState::Erasing(erasure))
    }
}

type Planned = (Vec<Write>, Vec<Read>);

fn plain(key: String) -> Read {
    Read { key, secret: false }
}

/// A verified person: their record, contact details and index entries go.
fn erase_person(part: &Part, record: &Value, index: &Value) -> Result<Planned, Refusal> {
    let mut writes = Vec::new();
    if !index.is_null() {
        let index: IssueIndex = serde_json::from_value(index.clone()).map_err(|_| internal())?;
        let sessions: Vec<String> = index
            .sessions
            .iter()
            .filter(|s| **s != part.session_id)
            .cloned()
            .collect();
        if sessions.len() != index.sessions.len() {
            // Without `rev` and `by`: a sender holding the issue's lock reads the index again.
            let current = index.current.filter(|c| *c != part.session_id);
            let changed = IssueIndex {
                schema_version: SCHEMA_VERSION,
                current,
                sessions,
                ..IssueIndex::default()
            };
            writes.push(Write {
                key: format!("issue:{}", part.entry.issue_id),
                value: serde_json::to_value(&changed).map_err(|_| internal())?,
                ttl: None,
                secret: false,
                entity: None,
                only_if: None,
            });
        }
    }
    let mut deletes = vec![plain(format!(
        "person:{}:{}",
        part.entry.email_hash, part.session_id
    ))];
    if !record.is_null() {
        deletes.push(plain(format!("v:{}", part.session_id)));
    }
    Ok((writes, deletes))
}

/// An agent: their name and id leave the records they sent (the verification is the person's).
fn erase_agent(part: &Part, account_id: &str, record: &Value) -> Result<Planned, Refusal> {
    let mut writes = Vec::new();
    let sent_by_them = record.get("requestedBy").and_then(Value::as_str) == Some(account_id);
    let name = part.entry.name.trim();
    let cancelled_by = format!("cancelled by {name}");
    let cancelled_by_them = !name.is_empty()
        && record
            .get("history")
            .and_then(Value::as_array)
            .is_some_and(|h| {
                h.iter()
                    .any(|e| e.get("cause").and_then(Value::as_str) == Some(&cancelled_by))
            });
    if sent_by_them || cancelled_by_them {
        let mut value = stored::current(Kind::Verification, record.clone())?;
        if let Value::Object(fields) = &mut value {
            if sent_by_them {
                fields.insert("requestedBy".into(), "".into());
                fields.insert("requestedByName".into(), FORMER_USER.into());
            }
            for entry in fields
                .get_mut("history")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if entry.get("cause").and_then(Value::as_str) == Some(&cancelled_by) {
                    entry["cause"] = format!("cancelled by {FORMER_USER}").into();
                }
            }
        }
        writes.push(Write {
            key: format!("v:{}", part.session_id),
            value,
            ttl: Some(RECORD_TTL),
            secret: false,
            entity: None,
            only_if: None,
        });
    }
    Ok((writes, Vec::new()))
}

#[cfg(test)]
mod tests;
