//! The locks: `lock:{sessionId}` (one writer per verification: a webhook, a cancel, an expiry,
//! an erasure) and `lock:issue.{issueId}` (one send per issue at a time), values of the custom
//! entity `lock` (conditional sets exist only for custom entities).
//!
//! A lock is taken with ONE atomic swap (a set returning the value it replaced), so it costs one
//! round trip and is issued together with the reads it protects. What it replaced says:
//! - nothing, or a release marker: ours. A marker repeats the `rev` of the record (or issue
//!   index) its holder wrote, so a read made beside the swap is checked against it: a holder may
//!   have committed between that read and the swap (then it is read again).
//! - another owner's live lease: busy. The swap replaced it, so it is given back, but only while
//!   our own lease is still what is stored (`only_if` owner): a holder that released, or a newer
//!   holder, wrote over it, and their value stays. A value given back never hides a newer one.
//! - an expired lease, or a marker with `careful`: ours, but an earlier holder may have carried
//!   out part of its effects without recording them: careful from now on (look before posting,
//!   look the transition up). An expired lease carries no `rev`: the record is read again.
//!
//! The previous release kept locks under plain keys of the same names: while the entity holds
//! nothing, the plain key read beside the swap answers instead (a live lease there is busy, an
//! expired lease or a careful marker careful), until those values run out.
//!
//! The lease outlives every invocation (webtrigger 55 s, resolver 25 s), so a live lease is never
//! taken over from a running holder and a holder releases without checking it still owns it.
//! `inflight`: events whose effects their holder may still be landing (it releases in the same
//! round trip as its effects); a later delivery of the same event only looks meanwhile.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{Equals, Ttl, Write};
use crate::stored::SCHEMA_VERSION;

/// A lease: longer than any invocation may run.
pub const LEASE_MS: i64 = 70_000;
/// How long after its holder's start an event's effects may still land (55 s limit + margin).
pub const EFFECTS_WINDOW_MS: i64 = 60_000;
/// A lock value outlives its lease: an expired lease is how the next taker learns its holder
/// died; a clean marker only has to outlive a concurrent read.
pub const TTL: Ttl = Ttl::days(7);
pub const RELEASED_TTL: Ttl = Ttl::hours(1);
/// The custom entity the locks are values of (manifest.yml `app.storage.entities`).
pub const ENTITY: &str = "lock";

/// An event whose effects may still be landing, until `untilMs`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Inflight {
    pub key: String,
    pub until_ms: i64,
}

/// The stored lock value. Live: `owner` set, `untilMs` ahead. Released (a marker): `owner`
/// empty, `rev` what it committed (absent: unknown, read again). `by`: the holder that wrote the
/// value (its lease or its marker), what a conditional give-back or signal checks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct LockValue {
    pub schema_version: u32,
    pub owner: String,
    pub until_ms: i64,
    pub event_key: String,
    // Left out when unknown: an entity's integer attribute takes no null.
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// The value the swap replaced, or the legacy plain key's when the entity held none (a busy
    /// taker gives it back).
    #[cfg_attr(test, ts(type = "unknown"))]
    pub previous: Value,
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
        by: Some(owner.to_owned()),
        ..LockValue::default()
    };
    write(key, &value, TTL)
}

/// Reads what the swap replaced (`previous`), or when the entity held nothing what the plain key
/// of the previous release holds (`legacy`, read beside the swap). A value no release wrote
/// reads as free. A live lease on the plain key is busy whatever the entity holds: an instance
/// of the previous release, still running during a deploy, holds the lock through it.
pub fn found(key: &str, owner: &str, previous: Value, legacy: &Value, now_ms: i64) -> Taken {
    let legacy_live = value_of(legacy).is_some_and(|l| !l.owner.is_empty() && l.until_ms > now_ms);
    let previous = match previous {
        Value::Object(_) => previous,
        _ => legacy.clone(),
    };
    let lock = value_of(&previous);
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
    if legacy_live || (!lock.owner.is_empty() && lock.until_ms > now_ms) {
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

fn value_of(value: &Value) -> Option<LockValue> {
    match value {
        Value::Object(_) => LockValue::deserialize(value).ok(),
        _ => None,
    }
}

/// `value` set back under `key` only while the stored value's `property` is `is` (a conditional
/// set: over anyone else's newer value it lands nothing).
fn give_back(key: &str, value: &LockValue, property: &str, is: &str) -> Write {
    Write {
        only_if: Some(Equals {
            property: property.to_owned(),
            value: Value::from(is),
        }),
        ..write(key, value, TTL)
    }
}

/// The lease a busy swap replaced, given back while our own lease is still the stored value.
pub fn put_back(taken: &Taken) -> Option<Write> {
    if taken.found != Found::Busy {
        return None;
    }
    let theirs = value_of(&taken.previous)?;
    Some(give_back(&taken.key, &theirs, "by", &taken.owner))
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
/// failed, or landed while an effect failed): its release, landing only over its own lease or
/// marker (`by` it). A newer holder's value stays: the lock is never seen free while it holds.
/// Best effort: without it the lease or the effects window simply runs out.
pub fn signal(taken: &Taken, leave: &Leave) -> Write {
    let released = release(taken, leave);
    Write {
        only_if: Some(Equals {
            property: "by".to_owned(),
            value: Value::from(taken.owner.as_str()),
        }),
        ..released
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
        entity: Some(ENTITY.to_owned()),
        only_if: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_000_000;

    fn taken(previous: Value) -> Taken {
        found("lock:s1", "me", previous, &Value::Null, NOW)
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
    fn a_busy_lease_is_given_back_only_over_our_own() {
        let live = json!({ "owner": "other", "untilMs": NOW + 1, "eventKey": "e" });
        let back = put_back(&taken(live)).unwrap_or_else(|| take("x", "", "", 0));
        assert_eq!(back.value["owner"], json!("other"));
        assert_eq!(back.entity.as_deref(), Some(ENTITY));
        assert_eq!(
            back.only_if,
            Some(Equals {
                property: "by".into(),
                value: json!("me")
            })
        );
        assert_eq!(put_back(&taken(Value::Null)), None);
    }

    #[test]
    fn the_previous_release_plain_key_answers_while_the_entity_holds_nothing_and_its_live_lease_always(
    ) {
        let legacy = |value: Value| found("lock:s1", "me", Value::Null, &value, NOW);
        let live = json!({ "owner": "old", "untilMs": NOW + 1, "rev": null });
        let busy = legacy(live);
        assert_eq!(busy.found, Found::Busy);
        let back = put_back(&busy).map(|w| w.value).unwrap_or_default();
        assert_eq!(back["owner"], json!("old"));
        assert!(
            back.get("rev").is_none(),
            "no null for the entity's integer"
        );
        let careful = legacy(json!({ "owner": "", "by": "old", "rev": 3, "careful": true }));
        assert_eq!(
            (careful.found, careful.careful, careful.rev),
            (Found::Released, true, Some(3))
        );
        let dead = legacy(json!({ "owner": "old", "untilMs": NOW - 1 }));
        assert_eq!((dead.found, dead.careful), (Found::Expired, true));
        let ours = json!({ "owner": "", "by": "new", "rev": 4 });
        let entity_first = found(
            "lock:s1",
            "me",
            ours,
            &json!({ "owner": "old", "untilMs": NOW + 1 }),
            NOW,
        );
        assert_eq!(
            entity_first.found,
            Found::Busy,
            "a running instance of the previous release holds it through the plain key"
        );
        let back = put_back(&entity_first).map(|w| w.value).unwrap_or_default();
        assert_eq!(
            (back["by"].clone(), back["rev"].clone()),
            (json!("new"), json!(4)),
            "the entity's own value is what a busy taker gives back"
        );
        let stale = found(
            "lock:s1",
            "me",
            json!({ "owner": "", "by": "new", "rev": 4 }),
            &json!({ "owner": "old", "untilMs": NOW - 1 }),
            NOW,
        );
        assert_eq!((stale.found, stale.rev), (Found::Released, Some(4)));
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
    fn a_signal_lands_only_over_its_own_lease_or_marker() {
        let t = taken(Value::Null);
        let lease = take("lock:s1", "me", "e", NOW);
        assert_eq!(lease.value["by"], json!("me"), "a lease names its writer");
        let signal = signal(
            &t,
            &Leave {
                careful: true,
                ..Leave::unknown(&t)
            },
        );
        assert_eq!(
            (
                signal.value["owner"].clone(),
                signal.value["careful"].clone()
            ),
            (json!(""), json!(true))
        );
        assert_eq!(
            signal.only_if,
            Some(Equals {
                property: "by".into(),
                value: json!("me")
            })
        );
    }
}
