//! The webhook delivery as a plan (ARCHITECTURE.md "Webhook processing"): three sequential
//! platform round trips, two on a warm instance that keeps the installation's settings.
//!   W1  the settings, the secrets, the throttle's marker (and the checklist until it records a
//!       webhook); authenticate. Skipped while the instance's memory keeps the settings.
//!   W2  the session lock (one swap) with the record (and, with kept settings, their revision).
//!   W3  one transaction (the record, the lock's release, the delivery log, the checklist) with
//!       the effects (comment, transition, issue property, live update).
//! `locked.rs` plans what follows the lock: the event decision, duplicates, the failure paths.
//!
//! The instance's memory (`Memory`: the kept settings, the count of failed authentications, the
//! budget for logging unauthenticated deliveries) comes in with the delivery and goes back in the
//! answer: the executor keeps it per installation without reading it.

mod locked;
mod reply;
pub mod token;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lock::{self, Taken};
use crate::model::{IncodeEvent, Secrets, Settings};
use crate::plan::{Found, Read, Results, Step, Write};
use crate::stored;
use crate::throttle::{self, AuthFailures};
use crate::webhook::{self, WebhookInput, WebhookReceipt, Webtrigger};

use reply::Entry;
pub use reply::{Answer, WebtriggerResponse};

/// A warm instance uses the settings it read this recently without reading them again.
pub const CONFIG_TTL_MS: i64 = 10_000;
/// Unauthenticated deliveries logged to the delivery log: at most this many in a row...
const UNTRUSTED_LOG_BURST: i64 = 10;
/// ...refilled at this many a minute (the others reach the function log only).
const UNTRUSTED_LOG_PER_MINUTE: i64 = 10;

pub(crate) use crate::admin::config::{SECRETS_KEY, SETTINGS_KEY, SETTINGS_REVISION_KEY};
pub(crate) const THROTTLE_KEY: &str = "throttle:auth";
const CHECKLIST_KEY: &str = "checklist";
/// Where the revision key and the checklist are in the reads of `delivery_config_reads`.
const REVISION_READ: usize = 3;
const CHECKLIST_READ: usize = 4;

/// One delivery to the webhook webtrigger, with what the executor draws and keeps.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequest {
    #[serde(default)]
    pub method: String,
    /// The raw body, exactly as received (the binding hands it over on its own).
    #[serde(default)]
    pub body: String,
    /// The request's headers as Forge gives them (name to string or strings).
    #[serde(default)]
    #[cfg_attr(test, ts(type = "Record<string, string[] | string>"))]
    pub headers: Value,
    pub now_ms: i64,
    /// This delivery's lock owner id, drawn by the executor.
    pub owner: String,
    /// A random suffix for the delivery log's key, drawn by the executor.
    pub nonce: String,
    /// What this instance kept for the installation (absent: nothing yet).
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub memory: Option<Memory>,
}

/// What a function instance keeps for one installation between invocations.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Memory {
    /// The settings and secrets, and when they were read.
    #[cfg_attr(test, ts(optional))]
    pub kept: Option<Kept>,
    pub failures: AuthFailures,
    #[cfg_attr(test, ts(optional))]
    pub budget: Option<LogBudget>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub config: Config,
    pub read_at_ms: i64,
    /// The settings' revision key held their revision when they were read: a warm delivery
    /// confirms them by reading it (else, a store an earlier release wrote, the whole record).
    #[serde(default)]
    pub revision_key: bool,
}

/// The settings (with their revision) and the secrets a delivery is authenticated and applied with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub revision: u64,
    pub settings: Settings,
    pub secrets: Secrets,
}

/// The budget for logging deliveries that failed authentication, in thousandths of an entry
/// (whole numbers: no float formatting in the module).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct LogBudget {
    pub milli_tokens: i64,
    pub at_ms: i64,
}

/// What the delivery carries from step to step. It never crosses to JavaScript: the binding
/// keeps it in the module and hands the executor a handle.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryState {
    ctx: Context,
    at: At,
}

#[derive(Clone, Debug, PartialEq)]
struct Context {
    now_ms: i64,
    owner: String,
    nonce: String,
    memory: Memory,
    /// The settings in use when the memory does not keep them.
    config: Option<Config>,
    entry: Entry,
    /// Writes the delivery's last transaction carries besides its own (the checklist's tick).
    extra: Vec<Write>,
}

/// The delivery as it came, while it may have to be authenticated (again).
#[derive(Clone, Debug, PartialEq)]
struct Delivery {
    body: String,
    headers: Value,
}

/// Where the delivery stands: what the last step's results answer.
#[derive(Clone, Debug, PartialEq)]
enum At {
    /// W1 read the settings (`checklist`: it was read too).
    Config { delivery: Delivery, checklist: bool },
    /// W2 swapped the lock and read the record (`delivery`: kept settings were used, and their
    /// revision was read too).
    Locking {
        event: IncodeEvent,
        delivery: Option<Delivery>,
    },
    /// The settings changed since they were kept: read again, to authenticate once more.
    Refreshing {
        event: IncodeEvent,
        delivery: Delivery,
        taken: Taken,
        record: Found,
    },
    /// Later steps, under the lock.
    Locked(locked::Stage),
}

pub type Planned = Step<DeliveryState, Answer>;

/// The first step of a delivery.
pub fn start(input: DeliveryRequest) -> Planned {
    let DeliveryRequest {
        method,
        body,
        headers,
        now_ms,
        owner,
        nonce,
        memory,
    } = input;
    let mut ctx = Context {
        now_ms,
        owner,
        nonce,
        memory: memory.unwrap_or_default(),
        config: None,
        entry: Entry::default(),
        extra: Vec::new(),
    };
    if let Some(refusal) = webhook::check_request(Webtrigger::Webhook, &method, body.len()) {
        return reply::refused_early(ctx.memory, &refusal);
    }
    if let Some(seconds) = throttle::locked_for(&ctx.memory.failures, None, now_ms) {
        return reply::too_many_failures(ctx.memory, seconds);
    }
    let delivery = Delivery { body, headers };
    let kept = ctx.memory.kept.as_ref().filter(|k| {
        let age = now_ms - k.read_at_ms;
        (0..CONFIG_TTL_MS).contains(&age)
    });
    let Some(kept) = kept else {
        // Until the checklist records a webhook, the settings are not kept, so an instance that
        // keeps them has seen it recorded.
        let checklist = ctx.memory.kept.is_none();
        ctx.memory.kept = None;
        return read_config(ctx, delivery, checklist);
    };
    let receipt = authenticate(&kept.config, &delivery, now_ms);
    if !matches!(receipt, WebhookReceipt::Event { .. }) {
        // The settings may have changed since they were kept (a rotated secret, another mode).
        ctx.memory.kept = None;
        return read_config(ctx, delivery, false);
    }
    received(ctx, receipt, Some(delivery))
}

/// The next step, given what the last one found.
pub fn next(state: DeliveryState, results: Results) -> Planned {
    let DeliveryState { ctx, at } = state;
    match at {
        At::Config {
            delivery,
            checklist,
        } => config_read(ctx, delivery, checklist, results),
        At::Locking { event, delivery } => locked::lock_taken(ctx, event, delivery, results),
        At::Refreshing {
            event,
            delivery,
            taken,
            record,
        } => locked::refreshed(ctx, event, delivery, taken, record, results),
        At::Locked(stage) => locked::next(ctx, stage, results),
    }
}

/// W1: the settings, the secrets and the throttle's marker (and the checklist).
fn read_config(ctx: Context, delivery: Delivery, checklist: bool) -> Planned {
    let mut reads = delivery_config_reads();
    if !checklist {
        reads.truncate(CHECKLIST_READ);
    }
    Step {
        reads,
        ..Step::then(DeliveryState {
            ctx,
            at: At::Config {
                delivery,
                checklist,
            },
        })
    }
}

pub(crate) fn plain(key: &str) -> Read {
    Read {
        key: key.to_owned(),
        secret: false,
    }
}

/// The settings, the secrets and the throttle's marker, in this order.
pub(crate) fn config_reads() -> Vec<Read> {
    vec![
        plain(SETTINGS_KEY),
        Read {
            key: SECRETS_KEY.to_owned(),
            secret: true,
        },
        plain(THROTTLE_KEY),
    ]
}

/// A delivery's `config_reads`, then the settings' revision key and the checklist.
pub(crate) fn delivery_config_reads() -> Vec<Read> {
    let mut reads = config_reads();
    reads.push(plain(SETTINGS_REVISION_KEY));
    reads.push(plain(CHECKLIST_KEY));
    reads
}

/// Whether the revision key read with the settings (`delivery_config_reads`) holds their
/// revision, so that later deliveries may confirm them by it.
pub(crate) fn revision_key_holds(reads: &[Found], config: &Config) -> bool {
    reads.get(REVISION_READ).is_some_and(|found| {
        found.failed.is_none() && key_revision(&found.value) == Some(config.revision)
    })
}

/// The revision the revision key holds (none: absent, or no release's).
fn key_revision(stored: &Value) -> Option<u64> {
    stored::read_as::<stored::SettingsRevision>(stored)
        .ok()
        .map(|key| key.revision)
}

/// Whether the kept settings are confirmed by their revision key (else by the whole record).
fn confirmed_by_key(memory: &Memory) -> bool {
    memory.kept.as_ref().is_some_and(|k| k.revision_key)
}

/// What W2 reads to confirm the kept settings: their revision key, or the whole record.
fn confirming_read(memory: &Memory) -> Read {
    if confirmed_by_key(memory) {
        plain(SETTINGS_REVISION_KEY)
    } else {
        plain(SETTINGS_KEY)
    }
}

/// The revision stored now, from what `confirming_read` read (none: the key is gone or no
/// release's, so the record is read again and judged).
pub(crate) fn confirmed_revision(
    memory: &Memory,
    stored: &Value,
) -> Result<Option<u64>, ConfigFailure> {
    if confirmed_by_key(memory) {
        Ok(key_revision(stored))
    } else {
        revision_of(stored).map(Some)
    }
}

/// The configuration from the reads of `config_reads`: Err names why it cannot be used (a
/// storage failure, or settings no release wrote).
pub(crate) fn config_of(reads: &[Found]) -> Result<(Config, Option<i64>), ConfigFailure> {
    if let Some(failed) = reads.iter().find_map(|r| r.failed.as_deref()) {
        return Err(ConfigFailure::Unavailable(failed.to_owned()));
    }
    let value = |index: usize| reads.get(index).map_or(Value::Null, |r| r.value.clone());
    let (revision, settings) = settings_of(&value(0))?;
    // A secrets value no release wrote authenticates nothing.
    let secrets = Secrets::deserialize(&value(1)).unwrap_or_default();
    let marker = value(2).get("untilMs").and_then(Value::as_i64);
    Ok((
        Config {
            revision,
            settings,
            secrets,
        },
        marker,
    ))
}

/// The stored settings record's revision and settings (none stored: the defaults), read as the
/// functions read them (every field a release did not write takes its default).
pub(crate) fn settings_of(stored: &Value) -> Result<(u64, Settings), ConfigFailure> {
    #[derive(Deserialize)]
    struct StoredSettings {
        #[serde(default)]
        revision: u64,
        #[serde(default)]
        settings: Option<Settings>,
    }
    if stored.is_null() {
        return Ok((0, crate::settings::default_settings()));
    }
    match StoredSettings::deserialize(stored) {
        Ok(StoredSettings {
            revision,
            settings: Some(settings),
        }) => Ok((revision, settings)),
        _ => Err(ConfigFailure::Unreadable),
    }
}

/// Only the stored settings' revision, to compare with the kept one: every save changes it, so a
/// changed value is read whole (and judged) on the path that follows.
pub(crate) fn revision_of(stored: &Value) -> Result<u64, ConfigFailure> {
    if stored.is_null() {
        return Ok(0);
    }
    match (stored.get("revision"), stored.get("settings")) {
        (None, Some(Value::Object(_))) => Ok(0),
        (Some(revision), Some(Value::Object(_))) => {
            revision.as_u64().ok_or(ConfigFailure::Unreadable)
        }
        _ => Err(ConfigFailure::Unreadable),
    }
}

pub(crate) enum ConfigFailure {
    /// The storage failed (its code, for the log).
    Unavailable(String),
    Unreadable,
}

impl ConfigFailure {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            ConfigFailure::Unavailable(_) => "storage_unavailable",
            ConfigFailure::Unreadable => "settings_unreadable",
        }
    }
    pub(crate) fn code(&self) -> &str {
        match self {
            ConfigFailure::Unavailable(code) => code,
            ConfigFailure::Unreadable => "settings_unreadable",
        }
    }
}

fn config_read(mut ctx: Context, delivery: Delivery, checklist: bool, results: Results) -> Planned {
    let (config, marker) = match config_of(&results.reads) {
        Ok(read) => read,
        Err(failure) => {
            return reply::config_unavailable(ctx.memory, &failure);
        }
    };
    let checklist_value = if checklist {
        match results.reads.get(CHECKLIST_READ) {
            Some(Found {
                failed: Some(code), ..
            }) => {
                let failure = ConfigFailure::Unavailable(code.clone());
                return reply::config_unavailable(ctx.memory, &failure);
            }
            Some(found) => Some(found.value.clone()),
            None => None,
        }
    } else {
        None
    };
    let now_ms = ctx.now_ms;
    // The marker is remembered, so later deliveries need not read it to stay locked.
    if let Some(until) = marker {
        let failures = &mut ctx.memory.failures;
        failures.locked_until_ms = failures.locked_until_ms.max(until);
    }
    // Until the checklist records a received webhook, each delivery reads it (to tick it).
    let ticked = checklist_value.as_ref().map(checklist_ticked);
    let keep = !matches!(ticked, Some(Ok(None)) | Some(Err(())));
    if keep {
        ctx.memory.kept = Some(Kept {
            config: config.clone(),
            read_at_ms: now_ms,
            revision_key: revision_key_holds(&results.reads, &config),
        });
    } else {
        ctx.config = Some(config.clone());
    }
    // While locked, nothing is authenticated: a guess can neither succeed nor be told from a miss.
    if let Some(seconds) = throttle::locked_for(&ctx.memory.failures, marker, now_ms) {
        return reply::too_many_failures(ctx.memory, seconds);
    }
    let receipt = authenticate(&config, &delivery, now_ms);
    if let Some(Ok(None)) = ticked {
        if matches!(
            receipt,
            WebhookReceipt::Event { .. } | WebhookReceipt::Ignored { .. }
        ) {
            if let Some(value) = checklist_value {
                ctx.extra.push(tick(value, now_ms));
            }
        }
    }
    received(ctx, receipt, None)
}

/// Whether a stored checklist records a received webhook: Ok(Some(at)) when it does, Ok(None)
/// when it does not yet, Err when it cannot be read.
fn checklist_ticked(value: &Value) -> Result<Option<i64>, ()> {
    if value.is_null() {
        return Ok(None);
    }
    let checklist: stored::Checklist = stored::read_as(value).map_err(|_| ())?;
    Ok(checklist.webhook_received_at_ms)
}

/// The checklist with its "webhook received" step ticked.
fn tick(value: Value, now_ms: i64) -> Write {
    let mut checklist: stored::Checklist = stored::read_as(&value).unwrap_or_default();
    checklist.schema_version = stored::SCHEMA_VERSION;
    checklist.webhook_received_at_ms = Some(now_ms);
    Write {
        key: CHECKLIST_KEY.to_owned(),
        value: stored::to_store(&checklist, value),
        ttl: None,
        secret: false,
        entity: None,
        only_if: None,
    }
}

fn authenticate(config: &Config, delivery: &Delivery, now_ms: i64) -> WebhookReceipt {
    let auth = &config.settings.webhook_auth;
    // Headers of another shape than Forge's read as none: the delivery is then not authenticated.
    let headers = webhook::wanted_headers(&delivery.headers, auth).unwrap_or_default();
    webhook::receive_webhook(&WebhookInput {
        auth: auth.clone(),
        secret: config.secrets.webhook_secret.clone(),
        headers,
        body: delivery.body.clone(),
        now_ms,
    })
}

/// The settings in use (kept, or read for this delivery only).
fn config_in_use(ctx: &Context) -> Option<&Config> {
    ctx.config
        .as_ref()
        .or_else(|| ctx.memory.kept.as_ref().map(|k| &k.config))
}

/// After authentication: refuse, answer, or (an event) take the lock. `delivery`: the settings
/// used were kept, so W2 reads their revision and the delivery may be authenticated again.
fn received(mut ctx: Context, receipt: WebhookReceipt, delivery: Option<Delivery>) -> Planned {
    let event = match receipt {
        WebhookReceipt::Rejected { reason, .. } => return reply::refused(ctx, &reason, Vec::new()),
        WebhookReceipt::Invalid { reason, .. } => {
            return reply::answer(ctx, 400, "invalid", &reason, Vec::new(), None)
        }
        WebhookReceipt::Ignored {
            reason, raw_type, ..
        } => {
            ctx.entry.event_type = raw_type;
            return reply::answer(ctx, 202, "ignored", &reason, Vec::new(), None);
        }
        WebhookReceipt::Event { event } => event,
    };
    ctx.entry.event_type.clone_from(&event.raw_type);
    if !is_key_part(&event.session_id) {
        return reply::answer(ctx, 400, "invalid", "bad_session_id", Vec::new(), None);
    }
    ctx.entry.session_id.clone_from(&event.session_id);
    let swap = lock::take(
        &lock_key(&event.session_id),
        &ctx.owner,
        &reply::name_of(&event.kind),
        ctx.now_ms,
    );
    // The record, and the lock as the previous release kept it (lock.rs).
    let mut reads = vec![
        plain(&record_key(&event.session_id)),
        plain(&lock_key(&event.session_id)),
    ];
    if delivery.is_some() {
        reads.push(confirming_read(&ctx.memory));
    }
    Step {
        swaps: vec![swap],
        reads,
        ..Step::then(DeliveryState {
            ctx,
            at: At::Locking { event, delivery },
        })
    }
}

pub(crate) fn record_key(session_id: &str) -> String {
    format!("v:{session_id}")
}

fn lock_key(session_id: &str) -> String {
    format!("lock:{session_id}")
}

/// KVS keys allow only some characters: an identifier from outside becomes part of a key only
/// when it is made of them (and cannot reach another key's prefix).
pub fn is_key_part(value: &str) -> bool {
    let bytes = value.as_bytes();
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    match bytes.split_first() {
        Some((first, rest)) => {
            allowed(first) && rest.len() < 200 && rest.iter().all(|b| allowed(b) || *b == b':')
        }
        None => false,
    }
}

/// Takes one entry of the budget for logging unauthenticated deliveries; false when spent.
fn may_log_untrusted(memory: &mut Memory, at_ms: i64) -> bool {
    const ONE: i64 = 1000;
    let budget = memory.budget.unwrap_or(LogBudget {
        milli_tokens: UNTRUSTED_LOG_BURST * ONE,
        at_ms,
    });
    let refill = (at_ms - budget.at_ms).max(0) * UNTRUSTED_LOG_PER_MINUTE * ONE / 60_000;
    let tokens = (UNTRUSTED_LOG_BURST * ONE).min(budget.milli_tokens.saturating_add(refill));
    let allowed = tokens >= ONE;
    memory.budget = Some(LogBudget {
        milli_tokens: if allowed { tokens - ONE } else { tokens },
        at_ms,
    });
    allowed
}
