//! The shape every action's planner answers in. An action (a webhook delivery, a send, a cancel,
//! saving the settings, ...) is a sequence of steps: each names what to read, swap, write and do,
//! the executor (`src/run.js`) performs all of it concurrently and hands back the results, and
//! the planner's `next` turns them into the next step, until one carries the reply. Every
//! decision stays here; the executor knows only how to perform the named operations.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::effects::{Effect, EffectResult};

/// How long a stored value lives.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Ttl {
    pub value: u32,
    pub unit: TtlUnit,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TtlUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl Ttl {
    pub const fn seconds(value: u32) -> Ttl {
        Ttl {
            value,
            unit: TtlUnit::Seconds,
        }
    }
    pub const fn hours(value: u32) -> Ttl {
        Ttl {
            value,
            unit: TtlUnit::Hours,
        }
    }
    pub const fn days(value: u32) -> Ttl {
        Ttl {
            value,
            unit: TtlUnit::Days,
        }
    }
}

/// A stored value to read: from the KVS, or from its secret store.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Read {
    pub key: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(test, ts(as = "Option<bool>", optional))]
    pub secret: bool,
}

/// A custom entity's value, by key (for a delete in the transaction).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EntityKey {
    pub entity: String,
    pub key: String,
}

/// A value to store (already stamped with its `schemaVersion` by `stored.rs`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Write {
    pub key: String,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub ttl: Option<Ttl>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(test, ts(as = "Option<bool>", optional))]
    pub secret: bool,
    /// The custom entity (`app.storage.entities`) the value belongs to; none: a plain key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub entity: Option<String>,
    /// A condition on the value stored under the key (custom entities only): the set lands only
    /// while the stored value's `property` equals `value`, else nothing lands (an absent value
    /// fails it too). In `puts`: a value given back only while no one wrote over it since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub only_if: Option<Equals>,
}

/// One step of an action. `state` goes back to the planner with the results; a step with a
/// `reply` is the last (its reads, swaps, writes and effects are still performed first).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "S: Deserialize<'de>, R: Deserialize<'de>")
)]
pub struct Step<S, R> {
    #[serde(default)]
    pub reads: Vec<Read>,
    /// Atomic sets that return the value they replaced (how a lock is taken).
    #[serde(default)]
    pub swaps: Vec<Write>,
    /// One transaction: all land, or none.
    #[serde(default)]
    pub writes: Vec<Write>,
    /// Sets outside the transaction, each on its own (best effort: a lock's release after a
    /// failure, or a value given back under its `only_if`).
    #[serde(default)]
    pub puts: Vec<Write>,
    #[serde(default)]
    pub deletes: Vec<Read>,
    /// Keys of custom-entity writes in the transaction that may only create: the transaction
    /// fails when a value is already stored under one (a conditional write: two concurrent
    /// claims of the same key, one lands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>", optional))]
    pub claims: Vec<String>,
    /// Custom entity values removed in the same transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<EntityKey>>", optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_serializing)
    )]
    pub entity_deletes: Vec<EntityKey>,
    /// Every stored value whose key begins with a prefix (the delivery log, the account index).
    #[serde(default)]
    pub queries: Vec<Query>,
    /// Pages of a custom entity's index (the audit trail), each from its cursor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<EntityQuery>>", optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_serializing)
    )]
    pub entity_queries: Vec<EntityQuery>,
    /// What the effects are. The executor runs each by its handle (`running`, added by the
    /// binding), so the core module keeps them out of the step: they are never read in
    /// JavaScript there, and were a third of a commit step's text (bench/README.md).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<Effect>>", optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_serializing)
    )]
    pub effects: Vec<Effect>,
    /// Log lines (event name, fields) the executor writes with `logEvent`.
    #[serde(default)]
    pub logs: Vec<LogLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub state: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub reply: Option<R>,
}

impl<S, R> Default for Step<S, R> {
    fn default() -> Self {
        Step {
            reads: Vec::new(),
            swaps: Vec::new(),
            writes: Vec::new(),
            puts: Vec::new(),
            deletes: Vec::new(),
            claims: Vec::new(),
            entity_deletes: Vec::new(),
            queries: Vec::new(),
            entity_queries: Vec::new(),
            effects: Vec::new(),
            logs: Vec::new(),
            state: None,
            reply: None,
        }
    }
}

impl<S, R> Step<S, R> {
    /// The last step: answer.
    pub fn reply(reply: R) -> Self {
        Step {
            reply: Some(reply),
            ..Step::default()
        }
    }
    /// The same step with its state replaced by what `keep` answers for it (the binding keeps a
    /// plan's state in the module and hands the executor a handle instead).
    pub fn held<T>(self, keep: impl FnOnce(S) -> T) -> Step<T, R> {
        self.map(keep, |reply| reply)
    }
    /// The same step with its reply turned into what `answer` makes of it.
    pub fn map_reply<T>(self, answer: impl FnOnce(R) -> T) -> Step<S, T> {
        self.map(|state| state, answer)
    }
    /// The same operations, with the state and the reply mapped.
    fn map<T, U>(self, state: impl FnOnce(S) -> T, reply: impl FnOnce(R) -> U) -> Step<T, U> {
        Step {
            reads: self.reads,
            swaps: self.swaps,
            writes: self.writes,
            puts: self.puts,
            deletes: self.deletes,
            claims: self.claims,
            entity_deletes: self.entity_deletes,
            queries: self.queries,
            entity_queries: self.entity_queries,
            effects: self.effects,
            logs: self.logs,
            state: self.state.map(state),
            reply: self.reply.map(reply),
        }
    }
    /// A step that goes on with `state`.
    pub fn then(state: S) -> Self {
        Step {
            state: Some(state),
            ..Step::default()
        }
    }
}

/// The values whose keys begin with `prefix`, in key order: all of them, or the first `limit`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub limit: Option<u32>,
    /// Where an earlier query with a limit stopped (`Listed.cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_serializing)
    )]
    pub cursor: Option<String>,
}

// The core module (the webhook's) never plans or reads a custom entity's index: built for it
// alone, the fields that carry them are left out of its (de)serializers, which keeps its size.

/// One page of a custom entity's index: the entries whose range attribute lies in `range`
/// (inclusive), within the index's partition, that match every `filter`, in order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EntityQuery {
    pub entity: String,
    pub index: String,
    #[serde(default)]
    pub partition: Vec<String>,
    /// `[from, to]` of the range attribute, both included.
    pub range: [f64; 2],
    /// Attributes that must equal a value.
    #[serde(default)]
    pub filters: Vec<Equals>,
    pub descending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub cursor: Option<String>,
    pub limit: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Equals {
    pub property: String,
    #[cfg_attr(test, ts(type = "string | boolean | number"))]
    pub value: Value,
}

/// What an entity query found: the page, the cursor of the next one (none: the last), or why
/// it failed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EntityPage {
    #[serde(default)]
    pub entries: Vec<Entry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub failed: Option<String>,
}

/// One stored value a query found.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Entry {
    pub key: String,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub value: Value,
}

/// What a query found, or why it failed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Listed {
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// Where to go on when the query stopped at its limit with more to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_deserializing)
    )]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub failed: Option<String>,
}

/// One line for the function log: an event name and a few fields (never a secret or a body).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LogLine {
    pub event: String,
    #[cfg_attr(test, ts(type = "Record<string, string | number | boolean>"))]
    pub fields: serde_json::Map<String, Value>,
}

/// What a read (or a swap) found: the value (absent: `null`), or why it failed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Found {
    #[serde(default)]
    #[cfg_attr(test, ts(type = "unknown"))]
    pub value: Value,
    /// The storage failure's code (absent: the read worked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub failed: Option<String>,
}

/// What the executor hands back for a step: one entry per read, swap and effect, in order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Results {
    /// The executor's clock when the step's operations had all finished.
    pub now_ms: i64,
    #[serde(default)]
    pub reads: Vec<Found>,
    #[serde(default)]
    pub swaps: Vec<Found>,
    /// The transaction's failure code; absent when it landed (or there was none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub write_failed: Option<String>,
    #[serde(default)]
    pub effects: Vec<EffectResult>,
    /// One entry per query.
    #[serde(default)]
    pub queries: Vec<Listed>,
    /// One page per entity query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<EntityPage>>", optional))]
    #[cfg_attr(
        all(target_arch = "wasm32", not(feature = "console")),
        serde(skip_deserializing)
    )]
    pub entity_pages: Vec<EntityPage>,
}
