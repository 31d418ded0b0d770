//! The locks: `lock:{sessionId}` (one writer per verification: a webhook, a cancel, an expiry,
//! an erasure) and `lock:issue.{issueId}` (one send per issue at a time).
//!
//! A lock is taken with ONE atomic swap (a set returning the value it replaced), so it costs one
//! round trip and is issued together with the reads it protects. What it replaced says:
//! - nothing, or a release marker: ours. A marker repeats the `rev` of the record (or issue
//!   index) its holder wrote, so a read made beside the swap is checked against it: a holder may
//!   have committed between that read and the swap (then it is read again).
//! - another owner's live lease: busy. The swap replaced it, so it is put back. That put-back may
//!   land just after the holder released, hiding its marker; a record read beside the swap that
//!   names the lease's owner as its writer (`by`) shows the owner committed: ours after all.
//! - an expired lease, or a marker with `careful`: ours, but an earlier holder may have carried
//!   out part of its effects without recording them: careful from now on (look before posting,
//!   look the transition up). An expired lease carries no `rev`: the record is read again.
//!
//! The lease outlives every invocation (webtrigger 55 s, resolver 25 s), so a live lease is never
//! taken over from a running holder and a holder releases without checking it still owns it.
//! `inflight`: events whose effects their holder may still be landing (it releases in the same
//! round trip as its effects); a later delivery of the same event only looks meanwhile.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{Ttl, Write};
use crate::stored::SCHEMA_VERSION;

/// A lease: longer than any invocation may run.
pub const LEASE_MS: i64 = 70_000;
/// How long after its holder's start an event's effects may still land (55 s limit + margin).
pub const EFFECTS_WINDOW_MS: i64 = 60_000;
/// A lock value outlives its lease: an expired lease is how the next taker learns its holder
/// died; a clean marker only has to outlive a concurrent read.
pub const TTL: Ttl = Ttl::days(7);
pub const RELEASED_TTL: Ttl = Ttl::hours(1);

/// An event whose effects may still be landing, until `untilMs`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Inflight {
    pub key: String,
    pub until_ms: i64,
}

/// The stored lock value. Live: `owner` set, `untilMs` ahead. Released (a marker): `owner`
/// empty, `by` the owner that released it, `rev` what it committed (null: unknown, read again).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct LockValue {
    pub schema_version: u32,
    pub owner: String,
    pub until_ms: i64,
    pub event_key: String,
    pub rev: Option<i64>,
    pub careful: bool,
    pub inflight: Vec<Inflight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// What the swap found.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Found {
    /// No value: never locked, or the marker expired.
    Free,
    /// A release marker.
    Released,
    /// A dead holder's lease.
    Expired,
    /// Another owner's live lease: not ours (put it back).
    Busy,
}

/// A lock after the swap: whose it is and what the previous holder left.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Taken {
    pub key: String,
    pub owner: String,
    pub found: Found,
    pub careful: bool,
    pub rev: Option<i64>,
    pub inflight: Vec<Inflight>,
    /// The value the swap replaced (a busy taker puts it back).
    #[cfg_attr(test, ts(type = "unknown"))]
    pub previous: Value,
}

/// What is read beside the swap: the record's (or the index's) writer, `rev`, `careful`, and the
/// key of its latest event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Side {
    pub by: Option<String>,
    pub rev: i64,
    pub careful: bool,
    pub last_key: Option<String>,
}

/// What a holder leaves on release.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Leave {
    pub rev: Option<i64>,
    pub careful: bool,
    pub inflight: Vec<Inflight>,
    pub event_key: String,
}

impl Leave {
    /// Nothing committed that a reader could check: the next holder reads again.
    pub fn unknown(taken: &Taken) -> Leave {
        Leave {
            rev: None,
            careful: taken.careful,
            inflight: taken.inflight.clone(),
            event_key: String::new(),
        }
    }
    /// Committed `rev`, nothing in flight added.
    pub fn at(taken: &Taken, rev: i64) -> Leave {
        Leave {
            rev: Some(rev),
            ..Leave::unknown(taken)
        }
    }
}

/// The swap that takes `key` for `owner` (`eventKey`: what it works on).
pub fn take(key: &str, owner: &str, event_key: &str, now_ms: i64) -> Write {
    let value = LockValue {
        schema_version: SCHEMA_VERSION,
        owner: owner.to_owned(),
        until_ms: now_ms + LEASE_MS,
        event_key: event_key.to_owned(),
        ..LockValue::default()
    };
    write(key, &value, TTL)
}

/// Reads what the swap replaced. A value no release wrote reads as free.
pub fn found(key: &str, owner: &str, previous: Value, now_ms: i64) -> Taken {
    let lock: Option<LockValue> = match &previous {
        Value::Object(_) => LockValue::deserialize(&previous).ok(),
        _ => None,
    };
    let mut taken = Taken {
        key: key.to_owned(),
        owner: owner.to_owned(),
        found: Found::Free,
        careful: false,
        rev: None,
        inflight: Vec::new(),
        previous,
    };
    let Some(lock) = lock else {
        return taken;
    };
    let inflight: Vec<Inflight> = lock
        .inflight
        .into_iter()
        .filter(|i| i.until_ms > now_ms)
        .collect();
    if !lock.owner.is_empty() && lock.until_ms > now_ms {
        taken.found = Found::Busy;
        taken.careful = lock.careful;
        taken.inflight = inflight;
    } else if !lock.owner.is_empty() {
        // A dead holder's own effects may have landed in part; those it inherited ended with its
        // lease.
        taken.found = Found::Expired;
        taken.careful = true;
    } else {
        taken.found = Found::Released;
        taken.careful = lock.careful;
        taken.rev = lock.rev;
        taken.inflight = inflight;
    }
    taken
}

/// A busy answer whose live owner already committed what was read beside the swap (a busy
/// taker put its lease back over its marker): released after all, its event's effects window
/// still open. Any other answer is returned as it is.
pub fn settle(taken: Taken, side: &Side, now_ms: i64) -> Taken {
    if taken.found != Found::Busy {
        return taken;
    }
    let owner = taken.previous.get("owner").and_then(Value::as_str);
    if side.by.is_none() || owner != side.by.as_deref() {
        return taken;
    }
    let until_ms = taken
        .previous
        .get("untilMs")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let window = until_ms - LEASE_MS + EFFECTS_WINDOW_MS;
    let inflight = match &side.last_key {
        Some(key) if window > now_ms => vec![Inflight {
            key: key.clone(),
            until_ms: window,
        }],
        _ => Vec::new(),
    };
    Taken {
        found: Found::Released,
        rev: Some(side.rev),
        careful: side.careful,
        inflight,
        ..taken
    }
}

/// The put-back of the lease a busy swap replaced.
pub fn put_back(taken: &Taken) -> Option<Write> {
    (taken.found == Found::Busy).then(|| Write {
        key: taken.key.clone(),
        value: taken.previous.clone(),
        ttl: Some(TTL),
        secret: false,
        entity: None,
    })
}

/// The write that releases the lock (in a transaction, or alone).
pub fn release(taken: &Taken, leave: &Leave) -> Write {
    let value = LockValue {
        schema_version: SCHEMA_VERSION,
        owner: String::new(),
        until_ms: 0,
        event_key: leave.event_key.clone(),
        rev: leave.rev,
        careful: leave.careful,
        inflight: leave.inflight.clone(),
        by: Some(taken.owner.clone()),
    };
    let lasting = value.careful || value.rev.is_none();
    write(&taken.key, &value, if lasting { TTL } else { RELEASED_TTL })
}

/// A holder's last word after a failure, when it may already have released (its transaction
/// failed, or landed while an effect failed): `release` is swapped in, and this answers what to
/// put back when another holder took the lock meanwhile (its lease, or its marker without our
/// effects window `closed`). Best effort: without it the lease or the window simply runs out.
pub fn after_signal(
    taken: &Taken,
    leave: &Leave,
    closed: &str,
    previous: Value,
    now_ms: i64,
) -> Option<Write> {
    let owner = previous.get("owner").and_then(Value::as_str)?;
    let by = previous.get("by").and_then(Value::as_str);
    if owner == taken.owner || by == Some(taken.owner.as_str()) {
        return None;
    }
    let theirs = found(&taken.key, &taken.owner, previous.clone(), now_ms);
    match theirs.found {
        Found::Busy => Some(Write {
            key: taken.key.clone(),
            value: previous,
            ttl: Some(TTL),
            secret: false,
            entity: None,
        }),
        Found::Released => {
            let mut value = previous;
            let inflight: Vec<Inflight> = theirs
                .inflight
                .into_iter()
                .filter(|i| i.key != closed)
                .collect();
            if let Some(object) = value.as_object_mut() {
                object.insert(
                    "inflight".into(),
                    serde_json::to_value(inflight).unwrap_or_default(),
                );
                object.insert(
                    "careful".into(),
                    Value::Bool(theirs.careful || leave.careful),
                );
            }
            Some(Write {
                key: taken.key.clone(),
                value,
                ttl: Some(TTL),
                secret: false,
                entity: None,
            })
        }
        Found::Free | Found::Expired => None,
    }
}

fn write(key: &str, value: &LockValue, ttl: Ttl) -> Write {
    let mut value = serde_json::to_value(value).unwrap_or_default();
    // Stamped like every stored value (`stored.rs`).
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "schemaVersion".to_owned(),
            crate::stored::SCHEMA_VERSION.into(),
        );
    }
    Write {
        key: key.to_owned(),
        value,
        ttl: Some(ttl),
        secret: false,
        entity: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_000_000;

    fn taken(previous: Value) -> Taken {
        found("lock:s1", "me", previous, NOW)
    }

    #[test]
    fn lock_values_are_stamped_with_the_schema_version() {
        let lease = take("lock:s1", "me", "e", NOW);
        assert_eq!(
            lease.value["schemaVersion"],
            json!(crate::stored::SCHEMA_VERSION)
        );
        let released = release(&taken(Value::Null), &Leave::unknown(&taken(Value::Null)));
        assert_eq!(
            released.value["schemaVersion"],
            json!(crate::stored::SCHEMA_VERSION)
        );
        assert_eq!(
            taken(lease.value).found,
            Found::Busy,
            "and read back as before"
        );
    }

    #[test]
    fn the_states_a_swap_can_find() {
        assert_eq!(taken(Value::Null).found, Found::Free);
        assert_eq!(taken(json!("garbage")).found, Found::Free);
        let live = json!({ "owner": "other", "untilMs": NOW + 1, "eventKey": "e" });
        assert_eq!(taken(live).found, Found::Busy);
        let dead = json!({ "owner": "other", "untilMs": NOW - 1, "inflight": [{ "key": "e", "untilMs": NOW + 5 }] });
        let expired = taken(dead);
        assert_eq!(
            (expired.found, expired.careful, expired.rev),
            (Found::Expired, true, None)
        );
        assert!(
            expired.inflight.is_empty(),
            "a dead holder's inherited windows end with it"
        );
        let marker = json!({ "owner": "", "rev": 4, "careful": true, "by": "x",
            "inflight": [{ "key": "old", "untilMs": NOW - 1 }, { "key": "e", "untilMs": NOW + 5 }] });
        let released = taken(marker);
        assert_eq!(
            (released.found, released.rev, released.careful),
            (Found::Released, Some(4), true)
        );
        assert_eq!(
            released.inflight,
            vec![Inflight {
                key: "e".into(),
                until_ms: NOW + 5
            }]
        );
    }

    #[test]
    fn a_busy_lock_released_by_its_owner_is_ours_after_all() {
        let start = NOW - 1_000;
        let live = json!({ "owner": "other", "untilMs": start + LEASE_MS });
        let side = Side {
            by: Some("other".into()),
            rev: 3,
            careful: false,
            last_key: Some("e".into()),
        };
        let settled = settle(taken(live.clone()), &side, NOW);
        assert_eq!((settled.found, settled.rev), (Found::Released, Some(3)));
        assert_eq!(
            settled.inflight,
            vec![Inflight {
                key: "e".into(),
                until_ms: start + EFFECTS_WINDOW_MS
            }]
        );
        let stranger = Side {
            by: Some("someone".into()),
            ..side
        };
        assert_eq!(settle(taken(live), &stranger, NOW).found, Found::Busy);
    }

    #[test]
    fn release_keeps_careful_markers_longer() {
        let t = taken(Value::Null);
        assert_eq!(release(&t, &Leave::at(&t, 1)).ttl, Some(RELEASED_TTL));
        assert_eq!(release(&t, &Leave::unknown(&t)).ttl, Some(TTL));
        let released = release(
            &t,
            &Leave {
                careful: true,
                ..Leave::at(&t, 1)
            },
        );
        assert_eq!(released.ttl, Some(TTL));
        assert_eq!(released.value["by"], json!("me"));
        assert_eq!(released.value["owner"], json!(""));
    }

    #[test]
    fn a_signal_gives_a_newer_holder_its_value_back() {
        let t = taken(Value::Null);
        let leave = Leave::unknown(&t);
        assert_eq!(
            after_signal(&t, &leave, "e", json!({ "owner": "me" }), NOW),
            None
        );
        assert_eq!(
            after_signal(&t, &leave, "e", json!({ "owner": "", "by": "me" }), NOW),
            None
        );
        let theirs = json!({ "owner": "other", "untilMs": NOW + 5 });
        assert_eq!(
            after_signal(&t, &leave, "e", theirs.clone(), NOW).map(|w| w.value),
            Some(theirs)
        );
        let marker = json!({ "owner": "", "by": "other", "rev": 2, "inflight": [{ "key": "e", "untilMs": NOW + 5 }] });
        let back = after_signal(
            &t,
            &Leave {
                careful: true,
                ..leave
            },
            "e",
            marker,
            NOW,
        );
        let value = back.map(|w| w.value).unwrap_or_default();
        assert_eq!(
            (value["careful"].clone(), value["inflight"].clone()),
            (json!(true), json!([]))
        );
    }
}
