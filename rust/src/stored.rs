//! Every value the app keeps in Forge KVS, as it is stored. Installations upgrade in place, so a
//! release reads what every earlier one wrote: each stored value carries `schemaVersion` (absent:
//! version 1, the values of the first release), reading accepts missing fields (their defaults)
//! and unknown ones (kept as they are, so a value a newer release wrote survives a round trip
//! through an older one), and writing stamps the current version (migrate on write).
//! `tests/vectors/stored/` holds what each release stored; every later release must read it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::model::{
    CoreError, Delivery, EventRecord, HistoryEntry, HttpRequest, LateResult, Outcome, SecretFlags,
    Settings, VerificationStatus,
};
use crate::settings::{default_settings, default_webhook_auth, AuthMode};

/// The schema version this release writes, for every kind.
pub const SCHEMA_VERSION: u32 = 3;

/// The kinds of stored values, named by their key (ARCHITECTURE.md "Storage").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `settings`
    Settings,
    /// `settings:revision`
    SettingsRevision,
    /// `secrets` (a secret)
    Secrets,
    /// `token:incode` (a secret)
    Token,
    /// `checklist`
    Checklist,
    /// `v:{sessionId}`
    Verification,
    /// `issue:{issueId}`
    IssueIndex,
    /// `person:{emailHash}:{sessionId}`
    Person,
    /// `account:{accountId}:{sessionId}`
    Account,
    /// `rate:agent:...`, `rate:ticket:...`
    Rate,
    /// `test:{sessionId}`
    TestSession,
    /// `lock:{sessionId}`, `lock:issue.{issueId}`
    Lock,
    /// `delivery:{invertedTime}:{rand}`
    Delivery,
    /// `sweep:backfill`
    Backfill,
    /// `gate:used:{sessionId}`
    GateUse,
    /// An entry of the custom entity `audit`
    AuditEntry,
    /// An entry of the custom entity `open-verification`
    OpenLink,
}

impl Kind {
    /// The kind by its JS name (`readStored(kind, value)`).
    pub fn named(name: &str) -> Option<Kind> {
        Some(match name {
            "settings" => Kind::Settings,
            "settingsRevision" => Kind::SettingsRevision,
            "secrets" => Kind::Secrets,
            "token" => Kind::Token,
            "checklist" => Kind::Checklist,
            "verification" => Kind::Verification,
            "issueIndex" => Kind::IssueIndex,
            "person" => Kind::Person,
            "account" => Kind::Account,
            "rate" => Kind::Rate,
            "testSession" => Kind::TestSession,
            "lock" => Kind::Lock,
            "delivery" => Kind::Delivery,
            "backfill" => Kind::Backfill,
            "gateUse" => Kind::GateUse,
            "auditEntry" => Kind::AuditEntry,
            "openLink" => Kind::OpenLink,
            _ => return None,
        })
    }

    /// The kind of the value under a KVS key (secrets: `secrets`, `token:incode`).
    pub fn of_key(key: &str) -> Option<Kind> {
        Some(match key {
            "settings" => Kind::Settings,
            "settings:revision" => Kind::SettingsRevision,
            "secrets" => Kind::Secrets,
            "token:incode" => Kind::Token,
            "checklist" => Kind::Checklist,
            _ if key.starts_with("v:") => Kind::Verification,
            _ if key.starts_with("issue:") => Kind::IssueIndex,
            _ if key.starts_with("person:") => Kind::Person,
            _ if key.starts_with("account:") => Kind::Account,
            _ if key.starts_with("rate:") => Kind::Rate,
            _ if key.starts_with("test:") => Kind::TestSession,
            _ if key.starts_with("lock:") => Kind::Lock,
            _ if key.starts_with("delivery:") => Kind::Delivery,
            "sweep:backfill" => Kind::Backfill,
            _ if key.starts_with("gate:used:") => Kind::GateUse,
            _ => return None,
        })
    }

    /// The kind of a custom entity's values (manifest.yml `app.storage.entities`).
    pub fn of_entity(entity: &str) -> Option<Kind> {
        Some(match entity {
            "lock" => Kind::Lock,
            "audit" => Kind::AuditEntry,
            "open-verification" => Kind::OpenLink,
            _ => return None,
        })
    }
}

/// A stored value of `kind` (of any earlier version) in the current version's form: what a
/// reader works with and what a writer stores. Fails with `stored_unreadable` only on a value no
/// version could have written (a field of the wrong type, not an object).
pub fn current(kind: Kind, value: Value) -> Result<Value, CoreError> {
    match kind {
        Kind::Settings => settings_record(value).and_then(|r| {
            let mut out = encode(&r)?;
            keep_unknown(&mut out, r.rest, &[]);
            Ok(out)
        }),
        Kind::SettingsRevision => migrate::<SettingsRevision>(value),
        Kind::Secrets => migrate::<StoredSecrets>(value),
        Kind::Token => migrate::<StoredToken>(value),
        Kind::Checklist => migrate::<Checklist>(value),
        Kind::Verification => migrate::<StoredVerification>(value),
        Kind::IssueIndex => migrate::<IssueIndex>(value),
        Kind::Person => migrate::<PersonEntry>(value),
        Kind::Account => migrate::<AccountEntry>(value),
        Kind::Rate => RateCount::read(value).map(|c| Value::from(c.0)),
        Kind::TestSession => migrate::<TestSessionMarker>(value),
        Kind::Lock => {
            let lock: LockValue = typed(&value)?;
            let mut out = encode(&lock.migrated())?;
            keep_unknown_of(&mut out, value, &["expiresAtMs"]);
            Ok(out)
        }
        Kind::Delivery => migrate::<DeliveryEntry>(value),
        Kind::Backfill => migrate::<BackfillMarker>(value),
        Kind::GateUse => migrate::<GateUse>(value),
        Kind::AuditEntry => migrate::<crate::audit::Entry>(value),
        Kind::OpenLink => migrate::<OpenVerification>(value),
    }
}

fn unreadable(message: impl Into<String>) -> CoreError {
    CoreError::new("stored_unreadable", message, false)
}

/// A stored value of a struct kind as its type. Only an object: serde would also read a struct
/// from an array, field by field in order, which no release ever stored.
fn typed<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, CoreError> {
    if !value.is_object() {
        return Err(unreadable("expected an object"));
    }
    T::deserialize(value).map_err(|e| unreadable(e.to_string()))
}

/// A stored value of a struct kind as its type, for a planner that changes it and stores it
/// again with `to_store`. Read from the value itself: writing it out as text to parse that again
/// cost a delivery more than its decision (bench/README.md).
pub fn read_as<T: DeserializeOwned>(value: &Value) -> Result<T, CoreError> {
    if !value.is_object() {
        return Err(unreadable("expected an object"));
    }
    T::deserialize(value).map_err(|e| unreadable(e.to_string()))
}

/// The fields of a verification record the event decision reads (`EventRecord`), taken from the
/// record already read as `StoredVerification` rather than read a second time. Unreadable where
/// reading the stored value as an `EventRecord` fails: a field it requires is absent, a delivery
/// or status no release wrote, `lateResults` null.
pub fn event_record(stored: &Value, record: &StoredVerification) -> Result<EventRecord, CoreError> {
    const REQUIRED: [&str; 12] = [
        "id",
        "sessionId",
        "issueKey",
        "issueId",
        "email",
        "name",
        "delivery",
        "requestedByName",
        "status",
        "statusText",
        "identityId",
        "appliedEvents",
    ];
    if let Some(absent) = REQUIRED.iter().find(|k| stored.get(**k).is_none()) {
        return Err(unreadable(format!("missing field `{absent}`")));
    }
    let late_results = match &record.late_results {
        Field::Absent => Vec::new(),
        Field::Null => return Err(unreadable("lateResults: null")),
        Field::Set(results) => results.clone(),
    };
    fn named(text: &str) -> serde::de::value::StrDeserializer<'_, serde::de::value::Error> {
        serde::de::value::StrDeserializer::new(text)
    }
    Ok(EventRecord {
        id: record.id.clone(),
        session_id: record.session_id.clone(),
        issue_key: record.issue_key.clone(),
        issue_id: record.issue_id.clone(),
        email: record.email.clone(),
        name: record.name.clone(),
        delivery: Delivery::deserialize(named(&record.delivery))
            .map_err(|e| unreadable(e.to_string()))?,
        requested_by_name: record.requested_by_name.clone(),
        status: VerificationStatus::deserialize(named(&record.status))
            .map_err(|e| unreadable(e.to_string()))?,
        status_text: record.status_text.clone(),
        identity_id: record.identity_id.clone(),
        applied_events: record.applied_events.clone(),
        expires_at_ms: match stored.get("expiresAtMs") {
            Some(_) => record.expires_at_ms,
            None => i64::MAX,
        },
        late_results,
    })
}

/// What to store for `typed`, read from `original` with `read_as` (its `schemaVersion` already
/// set to the current one): the fields its type does not know are put back as they were.
pub fn to_store<T: Serialize>(typed: &T, original: Value) -> Value {
    let mut out = encode(typed).unwrap_or_default();
    keep_unknown_of(&mut out, original, &[]);
    out
}

fn read<T: DeserializeOwned>(value: Value) -> Result<T, CoreError> {
    serde_json::from_value(value).map_err(|e| unreadable(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Result<Value, CoreError> {
    serde_json::to_value(value).map_err(|e| unreadable(e.to_string()))
}

/// Stored shapes whose versions so far differ only by `schemaVersion`.
trait Versioned: for<'de> Deserialize<'de> + Serialize {
    fn stamp(&mut self);
}

fn migrate<T: Versioned>(value: Value) -> Result<Value, CoreError> {
    let mut stored: T = typed(&value)?;
    stored.stamp();
    let mut out = encode(&stored)?;
    keep_unknown_of(&mut out, value, &[]);
    Ok(out)
}

/// Puts back the fields of a stored object that its type does not know (a later release wrote
/// them), except those a migration consumed. Every field the type knows is in `out` when it was
/// in the stored value.
fn keep_unknown_of(out: &mut Value, stored: Value, consumed: &[&str]) {
    if let Value::Object(fields) = stored {
        keep_unknown(out, fields, consumed);
    }
}

fn keep_unknown(out: &mut Value, fields: Map<String, Value>, consumed: &[&str]) {
    if let Value::Object(target) = out {
        for (key, value) in fields {
            if !consumed.contains(&key.as_str()) && !target.contains_key(&key) {
                target.insert(key, value);
            }
        }
    }
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn stamp(&mut self) {
                self.schema_version = SCHEMA_VERSION;
            }
        }
    )*};
}

/// Version 1 wrote no `schemaVersion`.
fn version_one() -> u32 {
    1
}

/// An optional field as it was stored: absent, `null`, or a value (all three read back as
/// written, so a round trip changes nothing a reader could tell apart).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Set(T),
}

impl<T> Field<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Field::Set(v),
            None => Field::Null,
        })
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Set(v) => v.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings

/// `settings`: the admin settings with their revision and which secrets are set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SettingsRecord {
    pub schema_version: u32,
    pub revision: u64,
    pub settings: Settings,
    pub secrets_set: SecretFlags,
    /// Top-level fields this release does not know, kept as they were.
    #[serde(skip)]
    pub rest: Map<String, Value>,
}

/// Reads a stored settings record: every setting a release did not write (or that a newer one
/// moved) takes its default, field by field, inside nested objects too.
pub fn settings_record(value: Value) -> Result<SettingsRecord, CoreError> {
    let Value::Object(mut fields) = value else {
        return Err(unreadable("the settings are not an object"));
    };
    let revision = match fields.remove("revision") {
        None | Some(Value::Null) => 0,
        Some(v) => read(v)?,
    };
    let secrets_set = match fields.remove("secretsSet") {
        None | Some(Value::Null) => SecretFlags::default(),
        Some(v) => read(v)?,
    };
    let stored = match fields.remove("settings") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v,
    };
    fields.remove("schemaVersion");
    let settings = settings_over_defaults(stored)?;
    Ok(SettingsRecord {
        schema_version: SCHEMA_VERSION,
        revision,
        settings,
        secrets_set,
        rest: fields,
    })
}

/// Stored settings laid over the defaults. The webhook authentication's defaults are those of
/// its stored mode.
pub fn settings_over_defaults(stored: Value) -> Result<Settings, CoreError> {
    if !stored.is_object() {
        return Err(unreadable("settings: expected an object"));
    }
    let mut base = encode(&default_settings())?;
    let mode = stored
        .get("webhookAuth")
        .and_then(|a| a.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("hmac");
    let auth_mode = match mode {
        "hmac" => AuthMode::Hmac,
        "sharedSecret" => AuthMode::SharedSecret,
        "oauth" => AuthMode::OAuth,
        other => {
            return Err(unreadable(format!(
                "settings.webhookAuth.mode: unknown mode {other:?}"
            )))
        }
    };
    if let Value::Object(b) = &mut base {
        b.insert(
            "webhookAuth".to_owned(),
            encode(&default_webhook_auth(auth_mode))?,
        );
    }
    lay_over(&mut base, stored);
    read(base).map_err(|e| unreadable(format!("settings: {}", e.message)))
}

/// Lays `top` over `base`: objects field by field, anything else replaced.
fn lay_over(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (key, value) in t {
                match b.get_mut(&key) {
                    Some(slot) if slot.is_object() && value.is_object() => lay_over(slot, value),
                    _ => {
                        b.insert(key, value);
                    }
                }
            }
        }
        (slot, top) => *slot = top,
    }
}

/// `settings:revision`: the settings record's revision alone, written in the same transaction
/// as the record, so that a warm webhook confirms the settings it kept by reading a few bytes
/// instead of the whole record. A store saved only by earlier releases has none.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SettingsRevision {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub revision: u64,
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// `secrets`: "" = not set.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredSecrets {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub api_key: String,
    pub client_secret: String,
    pub webhook_secret: String,
}

// Secrets never print.
impl std::fmt::Debug for StoredSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredSecrets { .. }")
    }
}

/// `token:incode`: the cached Incode access token.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredToken {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub access_token: String,
    pub refresh_at_ms: i64,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("refresh_at_ms", &self.refresh_at_ms)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Checklist, indexes, markers, counters, the delivery log

/// `checklist`: when each setup step first happened (null: not yet).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Checklist {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub credentials_tested_at_ms: Option<i64>,
    pub webhook_received_at_ms: Option<i64>,
    pub first_verification_at_ms: Option<i64>,
}

/// `issue:{issueId}`: the issue's current verification and its history. `rev` counts the sends
/// that wrote it; `by` is the lock owner that wrote it (store.js "Locks").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct IssueIndex {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub current: Option<String>,
    pub sessions: Vec<String>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub rev: Field<i64>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub by: Field<String>,
}

/// `person:{emailHash}:{sessionId}`: how the person was reached, for resends and erasure.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PersonEntry {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub issue_id: String,
    pub account_id: String,
    pub phone: String,
    pub alternate_email: String,
}

/// `account:{accountId}:{sessionId}`: a verification an account took part in (privacy report).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountEntry {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    /// "person", "agent" (sent or cancelled the session's link) or "actor" (named by the audit
    /// trail alone: a gated transition, an admin's change; no session).
    pub role: String,
    pub session_id: String,
    pub issue_id: String,
    pub email_hash: String,
    pub at_ms: i64,
    /// An agent's name as the session's history names them (a cancel), to erase it there.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl AccountEntry {
    /// An account's part in a session, as this release writes it.
    pub fn part(
        role: &str,
        session_id: &str,
        issue_id: &str,
        email_hash: &str,
        at_ms: i64,
    ) -> Self {
        AccountEntry {
            schema_version: SCHEMA_VERSION,
            role: role.to_owned(),
            session_id: session_id.to_owned(),
            issue_id: issue_id.to_owned(),
            email_hash: email_hash.to_owned(),
            at_ms,
            name: String::new(),
        }
    }

    /// The stored value.
    pub fn value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// `account:{accountId}:actor`: an account the audit trail names as the one who acted, with no
/// session to erase it from (a gated transition, an admin's save or test), so the privacy report
/// names it and its erasure reaches the trail. Written again with each such entry.
pub fn actor_account(account_id: &str, at_ms: i64) -> Option<crate::plan::Write> {
    if account_id.is_empty() {
        return None;
    }
    Some(crate::plan::Write {
        key: format!("account:{account_id}:actor"),
        value: AccountEntry::part("actor", "", "", "", at_ms).value(),
        ttl: None,
        secret: false,
        entity: None,
        only_if: None,
    })
}

/// `test:{sessionId}`: a session started from the admin page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TestSessionMarker {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub at_ms: i64,
}

/// `rate:...`: a bare count, the one stored value without `schemaVersion` (a number has no room
/// for one). Reading also accepts `{ count }`, the form a later release would move to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateCount(pub u64);

impl RateCount {
    pub fn read(value: Value) -> Result<RateCount, CoreError> {
        match value {
            Value::Null => Ok(RateCount(0)),
            Value::Object(mut o) => RateCount::read(o.remove("count").unwrap_or(Value::Null)),
            other => read(other).map(RateCount),
        }
    }
}

/// One webhook delivery as the admin page lists it (`delivery:...`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeliveryEntry {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub at_ms: i64,
    pub verdict: String,
    pub reason: String,
    pub event_type: String,
    pub session_id: String,
    pub issue_key: String,
    pub status: String,
    pub http_status: u16,
}

/// `sweep:backfill`: how far the hourly expiry run has indexed the records of releases that
/// wrote no `open-verification` entry (absent: not started; `cursor`: the issue index's next page).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BackfillMarker {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub done: bool,
    pub cursor: Option<String>,
}

/// `gate:used:{sessionId}`: the verification opened a gated transition whose rule allows one
/// transition per verification (written with the gate's claim of its audit entry).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GateUse {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub issue_id: String,
    pub to_status: String,
    pub at_ms: i64,
}

/// An entry of the custom entity `open-verification` (key: the session): a link not known to be
/// over, indexed by its expiry (a `float`: Forge's integers are 32-bit).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OpenVerification {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub session_id: String,
    pub issue_id: String,
    pub expires_at_ms: f64,
}

// ---------------------------------------------------------------------------------------------
// Locks

/// An event whose effects its holder may still be landing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Inflight {
    pub key: String,
    pub until_ms: i64,
}

/// `lock:...`: a live lease (`owner` set) or a release marker (`owner` empty, `by` the owner
/// that released it, `rev` what it committed, null: read again). store.js "Locks".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LockValue {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub owner: String,
    pub until_ms: i64,
    pub event_key: String,
    pub rev: Option<i64>,
    pub careful: bool,
    pub inflight: Vec<Inflight>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub by: Field<String>,
    /// The lease's end in the app's earliest lock values; read into `until_ms`.
    #[serde(skip_serializing)]
    pub expires_at_ms: Option<i64>,
}

impl LockValue {
    fn migrated(mut self) -> LockValue {
        if self.until_ms == 0 {
            self.until_ms = self.expires_at_ms.unwrap_or(0);
        }
        self.expires_at_ms = None;
        self.schema_version = SCHEMA_VERSION;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Verification records

/// The most recently applied event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct LastEvent {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The effects of an applied outcome event, kept so that a later delivery can check them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeEffects {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub comment: Option<HttpRequest>,
    #[serde(default)]
    pub transition: Option<String>,
    #[serde(default)]
    pub at_ms: i64,
}

/// The transition id chosen at send time for an outcome, and the configured name it was for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct KnownTransition {
    pub name: String,
    pub id: String,
}

/// A publish-only realtime token for the issue's channel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PublishToken {
    pub token: String,
    pub expires_at_ms: i64,
}

/// `v:{sessionId}`: a verification (`model::Verification`) with the shim's bookkeeping
/// (store.js `StoredVerification`).
/// `pending`, the effects the first releases left unconfirmed (read by none since), stays as
/// stored, like every field this type does not name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredVerification {
    #[serde(default = "version_one")]
    pub schema_version: u32,
    pub id: String,
    pub session_id: String,
    pub issue_key: String,
    pub issue_id: String,
    pub email: String,
    pub name: String,
    /// "EMAIL" or "SMS".
    #[serde(default = "email_delivery")]
    pub delivery: String,
    pub destination: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub requested_at_ms: i64,
    pub expires_at_ms: i64,
    /// `model::VerificationStatus`.
    #[serde(default = "requested")]
    pub status: String,
    pub status_text: String,
    pub updated_at_ms: i64,
    pub identity_id: String,
    pub history: Vec<HistoryEntry>,
    pub applied_events: Vec<String>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub late_results: Field<Vec<LateResult>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub rev: Field<i64>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub by: Field<String>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub careful: Field<bool>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub last: Field<LastEvent>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub outcomes: Field<Vec<OutcomeEffects>>,
    /// By outcome name, a `KnownTransition` each, kept as stored: one is read only when its
    /// outcome is applied (`known_transition`), and one a release cannot read is looked up in
    /// Jira again rather than making the whole record unreadable.
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub transitions: Field<Map<String, Value>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub publish: Field<PublishToken>,
}

impl StoredVerification {
    /// The transition chosen at send time for `outcome` (its serde name), when one was.
    pub fn known_transition(&self, outcome: &str) -> Option<KnownTransition> {
        let known = self.transitions.value()?.get(outcome)?;
        KnownTransition::deserialize(known).ok()
    }
}

fn email_delivery() -> String {
    "EMAIL".to_owned()
}

fn requested() -> String {
    "requested".to_owned()
}

versioned!(
    SettingsRevision,
    StoredSecrets,
    StoredToken,
    Checklist,
    IssueIndex,
    PersonEntry,
    AccountEntry,
    TestSessionMarker,
    DeliveryEntry,
    BackfillMarker,
    GateUse,
    crate::audit::Entry,
    OpenVerification,
    StoredVerification
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_missing_fields_take_defaults_and_unknown_ones_are_kept() {
        let stored = json!({
            "revision": 3,
            "settings": { "clientId": "c", "webhookAuth": { "mode": "sharedSecret" }, "limits": { "perAgentPerHour": 7 }, "newSetting": true },
            "secretsSet": { "apiKey": true },
            "futureField": [1]
        });
        let record = settings_record(stored).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(record.schema_version, SCHEMA_VERSION);
        assert_eq!(record.revision, 3);
        assert_eq!(record.settings.client_id, "c");
        assert_eq!(record.settings.limits.per_agent_per_hour, 7);
        assert_eq!(record.settings.limits.per_ticket_per_hour, 5);
        assert_eq!(
            record.settings.webhook_auth,
            default_webhook_auth(AuthMode::SharedSecret)
        );
        assert!(record.secrets_set.api_key && !record.secrets_set.webhook_secret);
        assert_eq!(record.rest.get("futureField"), Some(&json!([1])));
    }

    #[test]
    fn a_value_no_release_wrote_is_unreadable() {
        for (kind, value) in [
            (Kind::Settings, json!("text")),
            (
                Kind::Settings,
                json!({ "settings": { "linkExpiryMinutes": "ten" } }),
            ),
            (
                Kind::Settings,
                json!({ "settings": { "webhookAuth": { "mode": "carrier-pigeon" } } }),
            ),
            (Kind::Verification, json!({ "history": 5 })),
            (Kind::Lock, json!([])),
            (Kind::Verification, json!(["id", "sessionId"])),
            (Kind::Delivery, json!(7)),
        ] {
            let error = current(kind, value).err().map(|e| e.code);
            assert_eq!(error.as_deref(), Some("stored_unreadable"), "{kind:?}");
        }
    }

    #[test]
    fn a_lock_of_the_earliest_form_reads_its_lease() {
        let lock = current(Kind::Lock, json!({ "owner": "a", "expiresAtMs": 99 }))
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(lock.get("untilMs"), Some(&json!(99)));
        assert_eq!(lock.get("expiresAtMs"), None);
        assert_eq!(lock.get("schemaVersion"), Some(&json!(SCHEMA_VERSION)));
    }

    #[test]
    fn optional_bookkeeping_reads_back_as_written() {
        let record = json!({ "sessionId": "s", "pending": null, "rev": 2, "future": { "a": 1 } });
        let out = current(Kind::Verification, record).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(out.get("pending"), Some(&Value::Null));
        assert_eq!(out.get("rev"), Some(&json!(2)));
        assert_eq!(out.get("by"), None);
        assert_eq!(
            out.get("future"),
            Some(&json!({ "a": 1 })),
            "unknown fields are kept"
        );
    }

    #[test]
    fn a_first_release_pending_effect_is_kept_as_stored() {
        let pending = json!({ "key": "s:succeeded", "outcome": "passed", "comment": { "x": [1] } });
        let record = json!({ "sessionId": "s", "pending": pending, "rev": 2 });
        let read = read_as::<StoredVerification>(&record).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(to_store(&read, record).get("pending"), Some(&pending));
    }

    #[test]
    fn a_known_transition_is_read_when_its_outcome_asks_for_it() {
        let record = json!({
            "sessionId": "s",
            "transitions": { "passed": { "name": "Done", "id": "31" }, "failed": "garbage" }
        });
        let read = read_as::<StoredVerification>(&record).unwrap_or_else(|e| unreachable!("{e:?}"));
        let passed = KnownTransition {
            name: "Done".into(),
            id: "31".into(),
        };
        assert_eq!(read.known_transition("passed"), Some(passed));
        assert_eq!(
            read.known_transition("failed"),
            None,
            "unreadable: looked up in Jira"
        );
        assert_eq!(read.known_transition("manualReview"), None);
        let kept = to_store(&read, record.clone());
        assert_eq!(kept.get("transitions"), record.get("transitions"));
    }

    #[test]
    fn the_event_record_is_what_reading_the_record_as_one_would_give() {
        let full = json!({
            "id": "v-1", "sessionId": "s-1", "issueKey": "HD-1", "issueId": "10001",
            "email": "a@example.com", "name": "Ann", "delivery": "SMS", "requestedByName": "Bo",
            "status": "inProgress", "statusText": "In progress", "identityId": "",
            "appliedEvents": ["k1"], "expiresAtMs": 5, "history": [], "future": 1
        });
        let with = |change: &dyn Fn(&mut Map<String, Value>)| {
            let mut value = full.clone();
            if let Value::Object(fields) = &mut value {
                change(fields);
            }
            value
        };
        let cases = [
            full.clone(),
            with(&|f| {
                f.remove("expiresAtMs");
            }),
            with(&|f| {
                f.remove("id");
            }),
            with(&|f| {
                f.remove("delivery");
            }),
            with(&|f| {
                f.remove("status");
            }),
            with(&|f| {
                f.insert("status".into(), json!("lost"));
            }),
            with(&|f| {
                f.insert("delivery".into(), json!("PIGEON"));
            }),
            with(&|f| {
                f.insert("lateResults".into(), Value::Null);
            }),
            with(&|f| {
                f.insert(
                    "lateResults".into(),
                    json!([{ "outcome": "failed", "event": "SESSION_FAILED", "atMs": 3, "reason": "afterCancel" }]),
                );
            }),
        ];
        let mut readable = 0;
        for value in cases {
            let expected = serde_json::from_value::<EventRecord>(value.clone()).ok();
            readable += usize::from(expected.is_some());
            let record = read_as::<StoredVerification>(&value);
            let actual = record.and_then(|r| event_record(&value, &r)).ok();
            assert_eq!(actual, expected, "{value}");
        }
        assert_eq!(
            readable, 3,
            "the full record, without expiresAtMs, with late results"
        );
    }

    #[test]
    fn the_settings_revision_key_is_its_own_kind_and_needs_its_revision() {
        assert_eq!(
            Kind::of_key("settings:revision"),
            Some(Kind::SettingsRevision)
        );
        assert_eq!(Kind::of_key("settings"), Some(Kind::Settings));
        assert_eq!(
            current(
                Kind::SettingsRevision,
                json!({ "revision": 3, "later": true })
            )
            .ok(),
            Some(json!({ "schemaVersion": SCHEMA_VERSION, "revision": 3, "later": true }))
        );
        assert!(current(Kind::SettingsRevision, json!({ "schemaVersion": 3 })).is_err());
        assert!(current(Kind::SettingsRevision, json!(3)).is_err());
    }

    #[test]
    fn rate_counts_read_either_form() {
        assert_eq!(current(Kind::Rate, json!(4)).ok(), Some(json!(4)));
        assert_eq!(
            current(Kind::Rate, json!({ "count": 2 })).ok(),
            Some(json!(2))
        );
        assert!(current(Kind::Rate, json!("x")).is_err());
    }
}
