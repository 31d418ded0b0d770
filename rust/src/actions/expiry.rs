//! Links past their expiry, saved as expired when an agent opens the panel (no webhook tells the
//! app; the portal only stops showing them as pending, `portal.rs`). Each is saved under its session lock, checked again on the copy read
//! beside the lock (a webhook may just have finished it). One attempt, no waiting: a record whose
//! lock is held is shown expired and saved another time. A lock whose last holder left no `rev`
//! (a failed save, a lease run out) is kept and its record read once more under it.

use crate::audit::{Action, Entry};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{consistent, record_with, release_at, rev_of, take_lock, verification_of};
use crate::effects::Effect;
use crate::lock::{self, Found as LockFound, Taken};
use crate::model::VerificationStatus;
use crate::plan::{Found, Read, Write};
use crate::state::expire_if_due;

/// Whether a stored record is past its expiry now.
pub fn due(record: &Value, now_ms: i64) -> bool {
    verification_of(record).is_some_and(|v| expire_if_due(&v, now_ms).is_some())
}

/// The record as shown now: expired when it is due (whether or not that was saved).
pub fn shown(record: &Value, now_ms: i64) -> Value {
    match verification_of(record).and_then(|v| expire_if_due(&v, now_ms)) {
        Some(next) => record_with(record, &next, rev_of(record), None),
        None => record.clone(),
    }
}

/// The swaps that take the due records' locks and the reads beside them: each record, then its
/// lock as the previous release kept it (lock.rs).
pub fn attempt(session_ids: &[String], owner: &str, now_ms: i64) -> (Vec<Write>, Vec<Read>) {
    let swaps = session_ids
        .iter()
        .map(|id| take_lock(&super::keys::lock(id), owner, now_ms))
        .collect();
    let reads = session_ids
        .iter()
        .flat_map(|id| {
            [
                super::read(super::keys::record(id)),
                super::read(super::keys::lock(id)),
            ]
        })
        .collect();
    (swaps, reads)
}

/// What the attempt decided: the records to save with their locks' releases (one
/// transaction), the put-backs and releases of locks not used, each record as shown now, the
/// locks the transaction releases (released again if it fails), and the locks kept to read their
/// records again.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settled {
    pub writes: Vec<Write>,
    pub puts: Vec<Write>,
    pub records: Vec<Value>,
    pub held: Vec<Taken>,
    pub reread: Vec<Reread>,
}

/// A lock the attempt took whose record, read beside the swap, cannot be trusted: its last holder
/// left no `rev` (a failed save) or its lease ran out, so a save may have landed after that read.
/// Kept, and the record read again under it; `index` is the record's place in `records`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reread {
    pub index: usize,
    pub taken: Taken,
}

impl Settled {
    /// The records to read again under the kept locks, in `reread`'s order.
    pub fn reread_reads(&self) -> Vec<Read> {
        self.reread
            .iter()
            .map(|r| super::read(super::keys::record(r.taken.key.trim_start_matches("lock:"))))
            .collect()
    }

    /// The records read again under the kept locks (`reads`, in `reread`'s order), settled as a
    /// consistent read beside the swap is. A read that fails gives its lock back unknown.
    pub fn settle_reread(mut self, reads: &[Found], owner: &str, now_ms: i64) -> Settled {
        for (reread, fresh) in std::mem::take(&mut self.reread)
            .into_iter()
            .zip(reads.iter().map(Some).chain(std::iter::repeat(None)))
        {
            match fresh.filter(|f| f.failed.is_none() && f.value.is_object()) {
                Some(fresh) => {
                    let shown = self.decide(reread.taken, &fresh.value, owner, now_ms);
                    if let Some(slot) = self.records.get_mut(reread.index) {
                        *slot = shown;
                    }
                }
                None => self.puts.push(release_at(&reread.taken, None)),
            }
        }
        self
    }

    /// A record read while its lock is held: saved expired when due (the record, the lock's
    /// release at the new `rev`, the audit entry), else its lock given back at its `rev`.
    /// Answers the record as shown now.
    fn decide(&mut self, taken: Taken, record: &Value, owner: &str, now_ms: i64) -> Value {
        let id = record
            .get("sessionId")
            .and_then(Value::as_str)
            .unwrap_or("");
        match verification_of(record).and_then(|v| expire_if_due(&v, now_ms)) {
            Some(next) => {
                let rev = rev_of(record) + 1;
                let expired_at_ms = next.updated_at_ms;
                let saved = record_with(record, &next, rev, Some(owner));
                self.writes.push(super::write(
                    super::keys::record(id),
                    saved.clone(),
                    Some(super::RECORD_TTL),
                ));
                self.writes.push(release_at(&taken, Some(rev)));
                // Whoever noticed the expiry (a panel, the portal, a webhook), and whenever, it is
                // the link's: at its expiry time, as its status says.
                self.writes.push(
                    Entry::of_record(Action::Expired, &saved, expired_at_ms)
                        .because("link expired")
                        .write(format!("expired:{id}")),
                );
                self.held.push(taken);
                saved
            }
            None => {
                self.puts.push(release_at(&taken, Some(rev_of(record))));
                record.clone()
            }
        }
    }
}

/// Settles the attempt on `due` (the records first read), from its swaps and reads in order.
pub fn settle(
    due: &[Value],
    swaps: &[Found],
    reads: &[Found],
    owner: &str,
    now_ms: i64,
) -> Settled {
    let mut out = Settled::default();
    for (i, first) in due.iter().enumerate() {
        let id = first.get("sessionId").and_then(Value::as_str).unwrap_or("");
        let key = super::keys::lock(id);
        let (Some(swap), Some(fresh)) = (swaps.get(i), reads.get(2 * i)) else {
            out.records.push(shown(first, now_ms));
            continue;
        };
        if swap.failed.is_some() {
            out.records.push(shown(first, now_ms));
            continue;
        }
        let legacy = reads.get(2 * i + 1).map_or(&Value::Null, |r| &r.value);
        let taken = lock::found(&key, owner, swap.value.clone(), legacy, now_ms);
        if taken.found == LockFound::Busy {
            out.puts
                .extend(lock::put_back(&taken).map(super::stamp_lock));
            out.records.push(shown(first, now_ms));
            continue;
        }
        let readable = fresh.failed.is_none() && fresh.value.is_object();
        if readable && consistent(&taken, rev_of(&fresh.value)) {
            let shown = out.decide(taken, &fresh.value, owner, now_ms);
            out.records.push(shown);
        } else if readable {
            out.reread.push(Reread {
                index: out.records.len(),
                taken,
            });
            out.records.push(shown(first, now_ms));
        } else {
            out.puts.push(release_at(&taken, None));
            out.records.push(shown(first, now_ms));
        }
    }
    out
}

/// The issues' status field and property once links were saved as expired (`held`: the locks
/// of the saved ones; `current(i)`: whether `records[i]` is its issue's current link, since an
/// older link expiring changes nothing the ticket shows). The panel and the hourly run share it.
pub fn status_effects(
    records: &[Value],
    held: &[Taken],
    current: impl Fn(usize) -> bool,
) -> Vec<Effect> {
    let saved = |id: &str| held.iter().any(|t| t.key == super::keys::lock(id));
    records
        .iter()
        .enumerate()
        .filter(|(i, _)| current(*i))
        .filter_map(|(_, r)| verification_of(r))
        .filter(|v| saved(&v.session_id) && v.status == VerificationStatus::Expired)
        .flat_map(|v| {
            let shown = v.shown();
            [
                Effect::record_status(&shown),
                Effect::index_status(&v.issue_key, &shown),
            ]
        })
        .collect()
}

/// The transaction failed: the locks it would have released are released (the records are
/// saved another time).
pub fn release_unsaved(held: &[Taken]) -> Vec<Write> {
    held.iter().map(|t| release_at(t, None)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 2_000_000;

    fn record(status: &str, rev: i64) -> Value {
        json!({
            "id": "v1", "sessionId": "s1", "issueKey": "HELP-1", "issueId": "10001", "email": "c@x.test",
            "name": "", "delivery": "EMAIL", "destination": "c@x.test", "requestedBy": "a", "requestedByName": "",
            "requestedAtMs": 0, "expiresAtMs": 1_000, "status": status, "statusText": "", "updatedAtMs": 0,
            "identityId": "", "history": [], "appliedEvents": [], "rev": rev, "publish": { "token": "t", "expiresAtMs": 9 }
        })
    }

    fn found(value: Value) -> Found {
        Found {
            value,
            failed: None,
        }
    }

    #[test]
    fn a_due_link_is_saved_expired_under_its_lock() {
        let first = record("requested", 2);
        assert!(due(&first, NOW));
        let settled = settle(
            std::slice::from_ref(&first),
            &[found(Value::Null)],
            &[found(first.clone())],
            "me",
            NOW,
        );
        assert_eq!(settled.writes.len(), 3);
        let saved = &settled.writes[0].value;
        let trail = &settled.writes[2];
        assert_eq!(
            (trail.key.as_str(), trail.entity.as_deref()),
            ("expired:s1", Some("audit"))
        );
        assert_eq!(trail.value["action"], "expired");
        assert_eq!(
            (saved["status"].clone(), saved["rev"].clone()),
            (json!("expired"), json!(3))
        );
        assert_eq!(
            saved["publish"]["token"],
            json!("t"),
            "the bookkeeping is kept"
        );
        assert_eq!(saved["schemaVersion"], json!(crate::stored::SCHEMA_VERSION));
        assert_eq!(settled.writes[1].value["rev"], json!(3));
        assert_eq!(settled.held.len(), 1);
    }

    #[test]
    fn a_link_a_webhook_holds_or_finished_is_not_saved() {
        let first = record("requested", 2);
        let live = json!({ "owner": "webhook", "untilMs": NOW + 10_000 });
        let busy = settle(
            std::slice::from_ref(&first),
            &[found(live.clone())],
            &[found(first.clone())],
            "me",
            NOW,
        );
        assert!(busy.writes.is_empty());
        assert_eq!(
            busy.puts.first().map(|w| w.value["owner"].clone()),
            Some(json!("webhook"))
        );
        assert_eq!(
            busy.records[0]["status"],
            json!("expired"),
            "shown expired all the same"
        );
        let finished = record("passed", 3);
        let marker = json!({ "owner": "", "rev": 3, "by": "webhook" });
        let done = settle(&[first], &[found(marker)], &[found(finished)], "me", NOW);
        assert!(done.writes.is_empty());
        assert_eq!(done.records[0]["status"], json!("passed"));
        assert_eq!(done.puts[0].value["rev"], json!(3));
    }

    #[test]
    fn a_lock_left_without_a_rev_is_kept_and_its_record_read_again_under_it() {
        let first = record("requested", 2);
        // A failed save gave the lock back without a `rev`: the read beside the swap may be older
        // than a save that landed after all.
        let unknown = json!({ "owner": "", "by": "webhook", "untilMs": 0 });
        let settled = settle(
            std::slice::from_ref(&first),
            &[found(unknown)],
            &[found(first.clone())],
            "me",
            NOW,
        );
        assert!(
            settled.writes.is_empty() && settled.puts.is_empty(),
            "the lock is kept"
        );
        assert_eq!(settled.reread.len(), 1);
        assert_eq!(
            settled.records[0]["status"],
            json!("expired"),
            "shown expired meanwhile"
        );
        let reads = settled.reread_reads();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].key, "v:s1");

        // Still due when read under the lock: saved, as a consistent read is.
        let saved = settled
            .clone()
            .settle_reread(&[found(record("requested", 4))], "me", NOW);
        assert_eq!(saved.writes.len(), 3);
        assert_eq!(saved.writes[0].value["rev"], json!(5));
        assert_eq!(
            saved.writes[1].value["rev"],
            json!(5),
            "released at the new rev"
        );
        assert_eq!(saved.held.len(), 1);
        assert_eq!(saved.records[0]["status"], json!("expired"));

        // A webhook had finished it: nothing saved, the lock given back at the record's rev.
        let finished = settled
            .clone()
            .settle_reread(&[found(record("passed", 4))], "me", NOW);
        assert!(finished.writes.is_empty());
        assert_eq!(finished.puts[0].value["rev"], json!(4));
        assert_eq!(finished.records[0]["status"], json!("passed"));

        // The read fails: the lock is given back unknown, for the next attempt to read again.
        let failed = settled.settle_reread(
            &[Found {
                value: Value::Null,
                failed: Some("KVS_ERROR".into()),
            }],
            "me",
            NOW,
        );
        assert!(failed.writes.is_empty());
        assert_eq!(failed.puts.len(), 1);
        assert!(failed.puts[0].value.get("rev").is_none_or(Value::is_null));
    }

    #[test]
    fn a_lease_that_ran_out_is_kept_too() {
        let first = record("requested", 2);
        let dead = json!({ "owner": "crashed", "untilMs": NOW - 1 });
        let settled = settle(
            std::slice::from_ref(&first),
            &[found(dead)],
            &[found(first.clone())],
            "me",
            NOW,
        );
        assert_eq!(settled.reread.len(), 1);
        assert!(settled.puts.is_empty());
    }
}
