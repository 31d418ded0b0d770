//! Boundary types shared by the domain modules. Each one serialises (serde, camelCase) to the
//! TypeScript type of the same name, which `cargo test` generates from it into `types.d.ts`
//! (`typescript.rs`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The three outcomes an admin maps to transitions and comment templates.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Passed,
    Failed,
    ManualReview,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Passed, Outcome::Failed, Outcome::ManualReview];

    /// The field name used in settings paths ("templates.manualReview").
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::ManualReview => "manualReview",
        }
    }

    /// The outcome in words, for comments.
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::ManualReview => "manual review",
        }
    }
}

/// One value per outcome (transition names, templates).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PerOutcome<T> {
    pub passed: T,
    pub failed: T,
    pub manual_review: T,
}

impl<T> PerOutcome<T> {
    /// One value per outcome, from `value(outcome)`.
    pub fn from_fn(value: impl Fn(Outcome) -> T) -> Self {
        PerOutcome {
            passed: value(Outcome::Passed),
            failed: value(Outcome::Failed),
            manual_review: value(Outcome::ManualReview),
        }
    }

    pub fn get(&self, outcome: Outcome) -> &T {
        match outcome {
            Outcome::Passed => &self.passed,
            Outcome::Failed => &self.failed,
            Outcome::ManualReview => &self.manual_review,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Delivery {
    #[serde(rename = "SMS")]
    Sms,
    #[serde(rename = "EMAIL")]
    Email,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Environment {
    Demo,
    Production,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum CommentVisibility {
    Internal,
    Public,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum SignatureEncoding {
    Hex,
    Base64,
}

/// How webhook deliveries are authenticated. Reads and writes as `{ mode, ...fields }`.
// NOTE: Deserialize is written out below rather than derived: serde's derive for an internally
// tagged enum buffers the whole object into an intermediate tree before reading the variant,
// which costs a copy on every webhook and about 20 KB of wasm.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "mode",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum WebhookAuth {
    /// HMAC-SHA256 over the raw body (or `{timestamp}.{body}` when a timestamp header is set).
    Hmac {
        /// The header carrying the signature; looked up case-insensitively.
        header: String,
        /// How the digest is written; a `sha256=` prefix is always accepted.
        encoding: SignatureEncoding,
        /// "" = no timestamp; otherwise the header carrying Unix seconds (or milliseconds).
        timestamp_header: String,
        /// Accepted clock difference for the timestamp, 30..3600 seconds.
        tolerance_seconds: u32,
    },
    /// A secret value sent verbatim in a header.
    SharedSecret { header: String },
    /// Incode obtains a bearer token from the app's token webtrigger (client credentials).
    #[serde(rename = "oauth")]
    OAuth {
        /// The client id Incode presents; the client secret is the webhook secret.
        client_id: String,
        /// Lifetime of an issued token, 60..86400 seconds.
        token_ttl_seconds: u32,
    },
}

impl<'de> Deserialize<'de> for WebhookAuth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        #[derive(Deserialize)]
        enum Mode {
            #[serde(rename = "hmac")]
            Hmac,
            #[serde(rename = "sharedSecret")]
            SharedSecret,
            #[serde(rename = "oauth")]
            OAuth,
        }

        /// Every variant's fields in one object; those of the other variants are ignored, as
        /// the derived form ignores unknown fields.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fields {
            mode: Mode,
            header: Option<String>,
            encoding: Option<SignatureEncoding>,
            timestamp_header: Option<String>,
            tolerance_seconds: Option<u32>,
            client_id: Option<String>,
            token_ttl_seconds: Option<u32>,
        }

        fn required<T, E: Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
            value.ok_or_else(|| E::missing_field(name))
        }

        let f = Fields::deserialize(d)?;
        Ok(match f.mode {
            Mode::Hmac => WebhookAuth::Hmac {
                header: required(f.header, "header")?,
                encoding: required(f.encoding, "encoding")?,
                timestamp_header: required(f.timestamp_header, "timestampHeader")?,
                tolerance_seconds: required(f.tolerance_seconds, "toleranceSeconds")?,
            },
            Mode::SharedSecret => WebhookAuth::SharedSecret {
                header: required(f.header, "header")?,
            },
            Mode::OAuth => WebhookAuth::OAuth {
                client_id: required(f.client_id, "clientId")?,
                token_ttl_seconds: required(f.token_ttl_seconds, "tokenTtlSeconds")?,
            },
        })
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub per_ticket_per_hour: u32,
    pub per_agent_per_hour: u32,
}

/// The admin settings without secrets. A missing field takes its default (a stored value from a
/// release that had no such setting); `stored::settings_over_defaults` does so inside nested ones.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub environment: Environment,
    /// "" = the environment's API host; otherwise an https URL on an Incode host.
    pub base_url_override: String,
    pub client_id: String,
    pub integration_reference: String,
    /// "" = none.
    pub configuration_id: String,
    /// 5..60, default 10.
    pub link_expiry_minutes: u32,
    pub default_delivery: Delivery,
    /// Transition name per outcome; "" = leave the status alone.
    pub transitions: PerOutcome<String>,
    /// Handlebars comment template per outcome.
    pub templates: PerOutcome<String>,
    pub comment_visibility: CommentVisibility,
    pub webhook_auth: WebhookAuth,
    /// Jira group names whose members may send verifications; [] = anyone who may work the issue.
    pub agent_groups: Vec<String>,
    /// Where the person to verify comes from: "reporter" or a user-picker field id (customfield_NNNNN).
    pub person_field: String,
    /// Links per ticket per hour and per agent per hour, 1..100.
    pub limits: Limits,
    /// Show the requester a pending verification on the customer portal.
    pub portal_enabled: bool,
    /// Days the audit trail keeps an entry, 30..3650, default 400 (settings stored before the
    /// trail existed read as the default).
    pub audit_retention_days: u32,
    /// The custom templates compiled when the settings were saved (`template::template_code`):
    /// the core module has no template parser. Absent when every template is the default.
    #[serde(default, skip_serializing_if = "crate::template::no_template_code")]
    pub template_code: crate::template::TemplateCode,
}

impl Default for Settings {
    fn default() -> Self {
        crate::settings::default_settings()
    }
}

/// The secrets; "" = not set.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Secrets {
    pub api_key: String,
    pub client_secret: String,
    pub webhook_secret: String,
}

// Secrets never print, not even in a debug log line.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct SecretFlags {
    pub api_key: bool,
    pub client_secret: bool,
    pub webhook_secret: bool,
    /// The stored webhook secret fails the strength rule (`webhook::is_strong_secret`).
    pub weak_webhook_secret: bool,
}

impl SecretFlags {
    /// What is stored, and whether the webhook secret is weak.
    pub fn of(secrets: &Secrets) -> Self {
        SecretFlags {
            api_key: !secrets.api_key.is_empty(),
            client_secret: !secrets.client_secret.is_empty(),
            webhook_secret: !secrets.webhook_secret.is_empty(),
            weak_webhook_secret: !secrets.webhook_secret.is_empty()
                && !crate::webhook::is_strong_secret(&secrets.webhook_secret),
        }
    }
}

/// One problem with one field.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<u32>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// A request the shim performs: Jira ones carry `path`, Incode ones an absolute `url`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    pub method: Method,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<String>,
}

/// A raw HTTP answer handed back for parsing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct HttpAnswer {
    pub status: u16,
    pub body: String,
}

/// An expected failure with a stable code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CoreError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl CoreError {
    pub fn new(code: &str, message: impl Into<String>, retryable: bool) -> Self {
        CoreError {
            code: code.to_owned(),
            message: message.into(),
            retryable,
        }
    }
}

/// `Parsed<T>` in TypeScript: `{ ok: true, value } | { ok: false, error }`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged)]
pub enum Parsed<T> {
    Ok { ok: True, value: T },
    Err { ok: False, error: CoreError },
}

impl<T> From<Result<T, CoreError>> for Parsed<T> {
    fn from(result: Result<T, CoreError>) -> Self {
        match result {
            Ok(value) => Parsed::Ok { ok: True, value },
            Err(error) => Parsed::Err { ok: False, error },
        }
    }
}

/// Serialises as the literal `true`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct True;
/// Serialises as the literal `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct False;

impl Serialize for True {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(true)
    }
}
impl Serialize for False {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(false)
    }
}

// In TypeScript, the literal types `true` and `false`.
#[cfg(test)]
impl ts_rs::TS for True {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "true".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}
#[cfg(test)]
impl ts_rs::TS for False {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "false".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// The normalised kinds of Incode webhook events.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum IncodeEventType {
    Started,
    Progress,
    Succeeded,
    Failed,
    PendingReview,
    IdentityEnrolled,
    ReviewApproved,
    ReviewRejected,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct IncodeEvent {
    #[serde(rename = "type")]
    pub kind: IncodeEventType,
    /// The Incode session (interview) id.
    pub session_id: String,
    pub identity_id: String,
    pub login_hint: String,
    /// The event name as sent, for the delivery log.
    pub raw_type: String,
    /// Epoch ms when Incode says it happened; 0 = not given.
    pub occurred_at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum VerificationStatus {
    Requested,
    InProgress,
    Passed,
    Failed,
    ManualReview,
    Expired,
    Cancelled,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub status: VerificationStatus,
    pub at_ms: i64,
    /// What moved it: an event's raw name, "sent", "cancelled by agent", "link expired".
    pub cause: String,
}

/// Why a result was kept beside a verification instead of applied to it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum LateReason {
    /// An agent had cancelled the verification.
    AfterCancel,
    /// The link had expired.
    AfterExpiry,
}

/// A result Incode reported after the verification was cancelled or its link expired: kept on
/// the record for agents to see, never applied (nothing opens after a cancel or an expiry).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct LateResult {
    pub outcome: Outcome,
    /// The event as Incode named it.
    pub event: String,
    pub reason: LateReason,
    pub at_ms: i64,
}

/// One verification of one person on one issue.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub id: String,
    pub session_id: String,
    pub issue_key: String,
    pub issue_id: String,
    pub email: String,
    pub name: String,
    pub delivery: Delivery,
    /// Where the link went, as agents may see it: masked phone or the address.
    pub destination: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub requested_at_ms: i64,
    pub expires_at_ms: i64,
    pub status: VerificationStatus,
    /// "Success - YYYY-MM-DD HH:MM:SS" etc.
    pub status_text: String,
    pub updated_at_ms: i64,
    pub identity_id: String,
    pub history: Vec<HistoryEntry>,
    /// Idempotency keys of the events already applied.
    pub applied_events: Vec<String>,
    /// Results that arrived after a cancel or an expiry (oldest first, at most a few).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late_results: Vec<LateResult>,
}

/// What an event decision reads of a record: what its effects show and the keys of the events
/// already applied. A whole `Verification` reads as one (the other fields are skipped); the
/// delivery planner takes it from the stored record (`stored::event_record`).
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: String,
    pub session_id: String,
    pub issue_key: String,
    pub issue_id: String,
    pub email: String,
    pub name: String,
    pub delivery: Delivery,
    pub requested_by_name: String,
    pub status: VerificationStatus,
    pub status_text: String,
    pub identity_id: String,
    pub applied_events: Vec<String>,
    /// When the link expires; a record without it never expires here.
    #[serde(default = "never")]
    pub expires_at_ms: i64,
    #[serde(default)]
    pub late_results: Vec<LateResult>,
}

fn never() -> i64 {
    i64::MAX
}

impl From<&Verification> for EventRecord {
    fn from(v: &Verification) -> Self {
        EventRecord {
            id: v.id.clone(),
            session_id: v.session_id.clone(),
            issue_key: v.issue_key.clone(),
            issue_id: v.issue_id.clone(),
            email: v.email.clone(),
            name: v.name.clone(),
            delivery: v.delivery,
            requested_by_name: v.requested_by_name.clone(),
            status: v.status,
            status_text: v.status_text.clone(),
            identity_id: v.identity_id.clone(),
            applied_events: v.applied_events.clone(),
            expires_at_ms: v.expires_at_ms,
            late_results: v.late_results.clone(),
        }
    }
}

/// A record as its effects show it: the outcome comment, the issue property and the live update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown<'a> {
    pub id: &'a str,
    pub session_id: &'a str,
    pub issue_key: &'a str,
    pub issue_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub delivery: Delivery,
    pub requested_by_name: &'a str,
    pub status: VerificationStatus,
    pub status_text: &'a str,
    pub identity_id: &'a str,
    pub updated_at_ms: i64,
}

impl Verification {
    pub fn shown(&self) -> Shown<'_> {
        Shown {
            id: &self.id,
            session_id: &self.session_id,
            issue_key: &self.issue_key,
            issue_id: &self.issue_id,
            email: &self.email,
            name: &self.name,
            delivery: self.delivery,
            requested_by_name: &self.requested_by_name,
            status: self.status,
            status_text: &self.status_text,
            identity_id: &self.identity_id,
            updated_at_ms: self.updated_at_ms,
        }
    }

    /// When the person completed the check, as the app learned it: the first history entry that
    /// left the verification passed or in manual review. What comes later (an identity enrolled
    /// after the pass, a reviewer's approval hours after the capture) does not make the check any
    /// newer. `None` when the history records no completed check.
    pub fn checked_at_ms(&self) -> Option<i64> {
        self.history
            .iter()
            .find(|h| {
                matches!(
                    h.status,
                    VerificationStatus::Passed | VerificationStatus::ManualReview
                )
            })
            .map(|h| h.at_ms)
    }
}
