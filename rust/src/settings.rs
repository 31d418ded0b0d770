//! The settings model: defaults, save-time validation, the browser-safe view and the Incode hosts.
//!
//! `validate_settings` merges what the admin page submits over the stored settings, field by
//! field, and checks the merged result. Every problem is a [`FieldError`] on a dotted path
//! (`limits.perAgentPerHour`), at most one per field; wrong JSON types are field errors too.
//! Secrets are never part of [`Settings`]: they come back separately as [`SecretUpdates`], and
//! the browser only ever learns whether each one is set.

use crate::model::{
    CommentVisibility, Delivery, Environment, False, FieldError, Limits, Outcome, PerOutcome,
    SecretFlags, Settings, SignatureEncoding, True, WebhookAuth,
};
use crate::site::{self, SiteFacts};
use crate::{template, webhook};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::{Host, Url};

/// Incode's API hosts and OAuth servers per environment.
pub const DEMO_API_URL: &str = "https://demo-api.incodesmile.com";
pub const PRODUCTION_API_URL: &str = "https://saas-api.incodesmile.com";
pub const DEMO_AUTH_URL: &str = "https://auth.demo.incode.com";
pub const PRODUCTION_AUTH_URL: &str = "https://auth.incode.com";

/// The domains the manifest lets the app call (`https://*.incodesmile.com`,
/// `https://*.incode.com`); a base URL override must be on one of them.
pub const ALLOWED_HOST_SUFFIXES: [&str; 2] = [".incodesmile.com", ".incode.com"];

pub const DEFAULT_HMAC_HEADER: &str = "x-incode-signature";
pub const DEFAULT_SHARED_SECRET_HEADER: &str = "x-incode-secret";
pub const DEFAULT_OAUTH_CLIENT_ID: &str = "incode-webhooks";

const MAX_ID_CHARS: usize = 200;
const MAX_TRANSITION_CHARS: usize = 255;
const MAX_GROUPS: usize = 50;
const MAX_GROUP_CHARS: usize = 255;
const MAX_HEADER_CHARS: usize = 64;
const MAX_SECRET_CHARS: usize = 4096;

/// Headers that already mean something: a webhook credential can't live in them.
const RESERVED_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "content-length",
    "host",
    "cookie",
    "transfer-encoding",
    "connection",
];

/// The settings of a fresh install.
pub fn default_settings() -> Settings {
    Settings {
        environment: Environment::Demo,
        base_url_override: String::new(),
        client_id: String::new(),
        integration_reference: String::new(),
        configuration_id: String::new(),
        link_expiry_minutes: 10,
        default_delivery: Delivery::Email,
        transitions: PerOutcome::default(),
        templates: PerOutcome::from_fn(|outcome| template::default_template(outcome).to_owned()),
        comment_visibility: CommentVisibility::Internal,
        webhook_auth: default_webhook_auth(AuthMode::Hmac),
        agent_groups: Vec::new(),
        person_field: "reporter".to_owned(),
        limits: Limits {
            per_ticket_per_hour: 5,
            per_agent_per_hour: 20,
        },
        portal_enabled: false,
        audit_retention_days: 400,
        template_code: PerOutcome::default(),
    }
}

/// The webhook authentication modes, without their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Hmac,
    SharedSecret,
    OAuth,
}

impl AuthMode {
    pub fn of(auth: &WebhookAuth) -> AuthMode {
        match auth {
            WebhookAuth::Hmac { .. } => AuthMode::Hmac,
            WebhookAuth::SharedSecret { .. } => AuthMode::SharedSecret,
            WebhookAuth::OAuth { .. } => AuthMode::OAuth,
        }
    }

    fn parse(text: &str) -> Option<AuthMode> {
        match text {
            "hmac" => Some(AuthMode::Hmac),
            "sharedSecret" => Some(AuthMode::SharedSecret),
            "oauth" => Some(AuthMode::OAuth),
            _ => None,
        }
    }
}

/// A mode with its default fields.
pub fn default_webhook_auth(mode: AuthMode) -> WebhookAuth {
    match mode {
        AuthMode::Hmac => WebhookAuth::Hmac {
            header: DEFAULT_HMAC_HEADER.to_owned(),
            encoding: SignatureEncoding::Hex,
            timestamp_header: String::new(),
            tolerance_seconds: 300,
        },
        AuthMode::SharedSecret => WebhookAuth::SharedSecret {
            header: DEFAULT_SHARED_SECRET_HEADER.to_owned(),
        },
        AuthMode::OAuth => WebhookAuth::OAuth {
            client_id: DEFAULT_OAUTH_CLIENT_ID.to_owned(),
            token_ttl_seconds: 3600,
        },
    }
}

/// The Incode API base URL: the override, or the environment's host; never a trailing slash.
pub fn api_base_url(settings: &Settings) -> String {
    let custom = settings.base_url_override.trim().trim_end_matches('/');
    if !custom.is_empty() {
        return custom.to_owned();
    }
    match settings.environment {
        Environment::Demo => DEMO_API_URL.to_owned(),
        Environment::Production => PRODUCTION_API_URL.to_owned(),
    }
}

/// The Incode OAuth server for the environment.
pub fn auth_base_url(settings: &Settings) -> String {
    match settings.environment {
        Environment::Demo => DEMO_AUTH_URL.to_owned(),
        Environment::Production => PRODUCTION_AUTH_URL.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Save-time validation

/// The secrets a save changes; `None` = keep the stored one.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct SecretUpdates {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub webhook_secret: Option<String>,
}

// Secret values never print, not even in a debug log line: only which ones change.
impl std::fmt::Debug for SecretUpdates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = |s: &Option<String>| if s.is_some() { "<new value>" } else { "<keep>" };
        f.debug_struct("SecretUpdates")
            .field("api_key", &state(&self.api_key))
            .field("client_secret", &state(&self.client_secret))
            .field("webhook_secret", &state(&self.webhook_secret))
            .finish()
    }
}

/// `{ ok: true, settings, secretUpdates } | { ok: false, errors }`.
// One value per save, serialised straight away: boxing the settings would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum SettingsDecision {
    Accepted {
        ok: True,
        settings: Settings,
        secret_updates: SecretUpdates,
    },
    Rejected {
        ok: False,
        errors: Vec<FieldError>,
    },
}

/// Merges `input` (what the admin page submitted) over `current` and validates the result.
///
/// `flags` says which secrets are already stored. A setting may be saved before the secrets are
/// entered (`public_settings` reports what is missing), but a kept webhook secret that fails
/// the strength rule must be replaced: every mode authenticates deliveries with it.
pub fn validate_settings(
    current: &Settings,
    input: &Value,
    flags: SecretFlags,
) -> SettingsDecision {
    validate_settings_on_site(current, input, flags, &SiteFacts::default())
}

/// [`validate_settings`], and the names the settings refer to checked against the site: each
/// agent group must exist there (and is saved with the site's spelling), and the person field
/// must be the reporter or one of the site's user-picker fields. What `site` leaves out (`None`)
/// is not checked.
pub fn validate_settings_on_site(
    current: &Settings,
    input: &Value,
    flags: SecretFlags,
    site: &SiteFacts,
) -> SettingsDecision {
    let Some(input) = input.as_object() else {
        return SettingsDecision::Rejected {
            ok: False,
            errors: vec![FieldError::new(
                "",
                "invalid_type",
                "The settings must be a JSON object.",
            )],
        };
    };
    let mut check = Check::default();
    let mut settings = current.clone();
    merge(&mut check, &mut settings, input);
    normalise_templates(&mut settings);
    check_settings(&mut check, &settings);
    check_site(&mut check, &mut settings, site);
    let secret_updates = read_secrets(&mut check, input);
    if secret_updates.webhook_secret.is_none()
        && flags.weak_webhook_secret
        && !check.errors.iter().any(|e| e.field == "webhookSecret")
    {
        check.fail("webhookSecret", "weak_secret", weak_secret_message(true));
    }
    // Report in the order the admin page shows the fields, whatever phase found each problem.
    check.errors.sort_by_key(|e| field_rank(&e.field));
    if check.errors.is_empty() {
        settings.template_code = template::template_code(&settings.templates);
        SettingsDecision::Accepted {
            ok: True,
            settings,
            secret_updates,
        }
    } else {
        SettingsDecision::Rejected {
            ok: False,
            errors: check.errors,
        }
    }
}

/// Collects at most one error per field, in the order found.
#[derive(Default)]
struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn fail(&mut self, field: &str, code: &str, message: impl Into<String>) {
        if !self.has(field) {
            self.errors.push(FieldError::new(field, code, message));
        }
    }

    fn push(&mut self, error: FieldError) {
        if !self.has(&error.field) {
            self.errors.push(error);
        }
    }

    fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// A text field: trimmed; `null` clears it. Anything else is an `invalid_type` error.
    fn text(&mut self, field: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Null => Some(String::new()),
            _ => {
                self.fail(
                    field,
                    "invalid_type",
                    format!("{} must be text.", label(field)),
                );
                None
            }
        }
    }

    /// One of a fixed set of words.
    fn choice<T: Copy>(&mut self, field: &str, value: &Value, options: &[(&str, T)]) -> Option<T> {
        let text = match value {
            Value::String(s) => s.trim(),
            _ => "",
        };
        let found = options
            .iter()
            .find(|(word, _)| *word == text)
            .map(|(_, v)| *v);
        if found.is_none() {
            let words: Vec<String> = options.iter().map(|(w, _)| format!("\"{w}\"")).collect();
            self.fail(
                field,
                "invalid_value",
                format!("{} must be one of {}.", label(field), words.join(", ")),
            );
        }
        found
    }

    /// A whole number that fits a `u32` (range rules are checked on the merged settings).
    fn number(&mut self, field: &str, value: &Value) -> Option<u32> {
        let whole = match value {
            // Large integers saturate (and then fail the range check); `as` saturates floats.
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_u64().map(|_| i64::MAX))
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite() && f.fract() == 0.0)
                        .map(|f| f as i64)
                }),
            _ => None,
        };
        match whole {
            None => {
                self.fail(
                    field,
                    "invalid_type",
                    format!("{} must be a whole number.", label(field)),
                );
                None
            }
            Some(n) => match u32::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    let (min, max) = range_of(field);
                    self.fail(field, "out_of_range", range_message(field, min, max));
                    None
                }
            },
        }
    }

    fn boolean(&mut self, field: &str, value: &Value) -> Option<bool> {
        let b = value.as_bool();
        if b.is_none() {
            self.fail(
                field,
                "invalid_type",
                format!("{} must be true or false.", label(field)),
            );
        }
        b
    }

    fn object<'v>(&mut self, field: &str, value: &'v Value) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.fail(
                field,
                "invalid_type",
                format!("{} must be an object.", label(field)),
            );
        }
        object
    }
}

/// Applies each field present in `input` over `settings` (types checked here, rules later).
fn merge(check: &mut Check, settings: &mut Settings, input: &Map<String, Value>) {
    let s = settings;
    if let Some(v) = input.get("environment") {
        let options = [
            ("demo", Environment::Demo),
            ("production", Environment::Production),
        ];
        if let Some(e) = check.choice("environment", v, &options) {
            s.environment = e;
        }
    }
    for (field, slot) in [
        ("baseUrlOverride", &mut s.base_url_override),
        ("clientId", &mut s.client_id),
        ("integrationReference", &mut s.integration_reference),
        ("configurationId", &mut s.configuration_id),
        ("personField", &mut s.person_field),
    ] {
        if let Some(v) = input.get(field) {
            if let Some(t) = check.text(field, v) {
                *slot = t;
            }
        }
    }
    s.base_url_override = normalise_url(&s.base_url_override);
    if let Some(v) = input.get("linkExpiryMinutes") {
        if let Some(n) = check.number("linkExpiryMinutes", v) {
            s.link_expiry_minutes = n;
        }
    }
    if let Some(v) = input.get("auditRetentionDays") {
        if let Some(n) = check.number("auditRetentionDays", v) {
            s.audit_retention_days = n;
        }
    }
    if let Some(v) = input.get("defaultDelivery") {
        let options = [("SMS", Delivery::Sms), ("EMAIL", Delivery::Email)];
        if let Some(d) = check.choice("defaultDelivery", v, &options) {
            s.default_delivery = d;
        }
    }
    if let Some(v) = input.get("transitions") {
        if let Some(object) = check.object("transitions", v) {
            for outcome in Outcome::ALL {
                let field = format!("transitions.{}", outcome.key());
                if let Some(v) = object.get(outcome.key()) {
                    if let Some(t) = check.text(&field, v) {
                        *per_outcome_mut(&mut s.transitions, outcome) = t;
                    }
                }
            }
        }
    }
    if let Some(v) = input.get("templates") {
        if let Some(object) = check.object("templates", v) {
            for outcome in Outcome::ALL {
                let field = format!("templates.{}", outcome.key());
                match object.get(outcome.key()) {
                    // Templates keep their whitespace: it is part of the layout.
                    Some(Value::String(t)) => {
                        *per_outcome_mut(&mut s.templates, outcome) = t.clone();
                    }
                    Some(Value::Null) => {
                        *per_outcome_mut(&mut s.templates, outcome) = String::new();
                    }
                    Some(_) => check.fail(
                        &field,
                        "invalid_type",
                        format!("{} must be text.", label(&field)),
                    ),
                    None => {}
                }
            }
        }
    }
    if let Some(v) = input.get("commentVisibility") {
        let options = [
            ("internal", CommentVisibility::Internal),
            ("public", CommentVisibility::Public),
        ];
        if let Some(c) = check.choice("commentVisibility", v, &options) {
            s.comment_visibility = c;
        }
    }
    if let Some(v) = input.get("webhookAuth") {
        if let Some(object) = check.object("webhookAuth", v) {
            merge_webhook_auth(check, &mut s.webhook_auth, object);
        }
    }
    if let Some(v) = input.get("agentGroups") {
        if let Some(groups) = read_groups(check, v) {
            s.agent_groups = groups;
        }
    }
    if let Some(v) = input.get("limits") {
        if let Some(object) = check.object("limits", v) {
            if let Some(v) = object.get("perTicketPerHour") {
                if let Some(n) = check.number("limits.perTicketPerHour", v) {
                    s.limits.per_ticket_per_hour = n;
                }
            }
            if let Some(v) = object.get("perAgentPerHour") {
                if let Some(n) = check.number("limits.perAgentPerHour", v) {
                    s.limits.per_agent_per_hour = n;
                }
            }
        }
    }
    if let Some(v) = input.get("portalEnabled") {
        if let Some(b) = check.boolean("portalEnabled", v) {
            s.portal_enabled = b;
        }
    }
}

fn per_outcome_mut<T>(values: &mut PerOutcome<T>, outcome: Outcome) -> &mut T {
    match outcome {
        Outcome::Passed => &mut values.passed,
        Outcome::Failed => &mut values.failed,
        Outcome::ManualReview => &mut values.manual_review,
    }
}

/// A mode change starts from that mode's defaults; the fields given then apply over it.
fn merge_webhook_auth(check: &mut Check, auth: &mut WebhookAuth, input: &Map<String, Value>) {
    let mode = match input.get("mode") {
        None => AuthMode::of(auth),
        Some(v) => {
            let parsed = v.as_str().map(str::trim).and_then(AuthMode::parse);
            match parsed {
                Some(mode) => mode,
                None => {
                    check.fail(
                        "webhookAuth.mode",
                        "invalid_value",
                        "Webhook authentication must be \"hmac\", \"sharedSecret\" or \"oauth\".",
                    );
                    return;
                }
            }
        }
    };
    let mut merged = if mode == AuthMode::of(auth) {
        auth.clone()
    } else {
        default_webhook_auth(mode)
    };
    match &mut merged {
        WebhookAuth::Hmac {
            header,
            encoding,
            timestamp_header,
            tolerance_seconds,
        } => {
            if let Some(v) = input.get("header") {
                if let Some(t) = check.text("webhookAuth.header", v) {
                    *header = t.to_ascii_lowercase();
                }
            }
            if let Some(v) = input.get("encoding") {
                let options = [
                    ("hex", SignatureEncoding::Hex),
                    ("base64", SignatureEncoding::Base64),
                ];
                if let Some(e) = check.choice("webhookAuth.encoding", v, &options) {
                    *encoding = e;
                }
            }
            if let Some(v) = input.get("timestampHeader") {
                if let Some(t) = check.text("webhookAuth.timestampHeader", v) {
                    *timestamp_header = t.to_ascii_lowercase();
                }
            }
            if let Some(v) = input.get("toleranceSeconds") {
                if let Some(n) = check.number("webhookAuth.toleranceSeconds", v) {
                    *tolerance_seconds = n;
                }
            }
        }
        WebhookAuth::SharedSecret { header } => {
            if let Some(v) = input.get("header") {
                if let Some(t) = check.text("webhookAuth.header", v) {
                    *header = t.to_ascii_lowercase();
                }
            }
        }
        WebhookAuth::OAuth {
            client_id,
            token_ttl_seconds,
        } => {
            if let Some(v) = input.get("clientId") {
                if let Some(t) = check.text("webhookAuth.clientId", v) {
                    *client_id = t;
                }
            }
            if let Some(v) = input.get("tokenTtlSeconds") {
                if let Some(n) = check.number("webhookAuth.tokenTtlSeconds", v) {
                    *token_ttl_seconds = n;
                }
            }
        }
    }
    *auth = merged;
}

/// Group names: trimmed, non-empty, duplicates (ignoring case) removed, at most 50.
fn read_groups(check: &mut Check, value: &Value) -> Option<Vec<String>> {
    const FIELD: &str = "agentGroups";
    let Some(items) = value.as_array() else {
        check.fail(
            FIELD,
            "invalid_type",
            "Agent groups must be a list of group names.",
        );
        return None;
    };
    let mut groups: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let number = index + 1;
        let Some(name) = item.as_str().map(str::trim) else {
            check.fail(
                FIELD,
                "invalid_type",
                format!("Agent group {number} must be text."),
            );
            return None;
        };
        if name.is_empty() {
            check.fail(
                FIELD,
                "required",
                format!("Agent group {number} is empty; enter a group name or remove the entry."),
            );
            return None;
        }
        if !groups.iter().any(|g| crate::caseless::eq(g, name)) {
            groups.push(name.to_owned());
        }
    }
    Some(groups)
}

/// Blank templates mean the default, which is stored so the admin page shows what is used.
fn normalise_templates(settings: &mut Settings) {
    for outcome in Outcome::ALL {
        let slot = per_outcome_mut(&mut settings.templates, outcome);
        if slot.trim().is_empty() {
            *slot = template::default_template(outcome).to_owned();
        }
    }
}

/// Checks every rule on the merged settings.
fn check_settings(check: &mut Check, s: &Settings) {
    if let Err(message) = check_base_url(&s.base_url_override) {
        check.fail("baseUrlOverride", "invalid_url", message);
    }
    check_plain(check, "clientId", &s.client_id, MAX_ID_CHARS);
    check_plain(
        check,
        "integrationReference",
        &s.integration_reference,
        MAX_ID_CHARS,
    );
    check_plain(check, "configurationId", &s.configuration_id, MAX_ID_CHARS);
    check_range(check, "linkExpiryMinutes", s.link_expiry_minutes);
    check_range(check, "auditRetentionDays", s.audit_retention_days);
    for outcome in Outcome::ALL {
        let field = format!("transitions.{}", outcome.key());
        check_plain(
            check,
            &field,
            s.transitions.get(outcome),
            MAX_TRANSITION_CHARS,
        );
    }
    for outcome in Outcome::ALL {
        let field = format!("templates.{}", outcome.key());
        if let Some(error) = template::validate_template(s.templates.get(outcome))
            .into_iter()
            .next()
        {
            check.push(FieldError { field, ..error });
        }
    }
    match &s.webhook_auth {
        WebhookAuth::Hmac {
            header,
            timestamp_header,
            tolerance_seconds,
            ..
        } => {
            check_header(check, "webhookAuth.header", header);
            if !timestamp_header.is_empty() {
                check_header(check, "webhookAuth.timestampHeader", timestamp_header);
                if timestamp_header == header {
                    check.fail(
                        "webhookAuth.timestampHeader",
                        "invalid_value",
                        "The timestamp header must differ from the signature header.",
                    );
                }
            }
            check_range(check, "webhookAuth.toleranceSeconds", *tolerance_seconds);
        }
        WebhookAuth::SharedSecret { header } => check_header(check, "webhookAuth.header", header),
        WebhookAuth::OAuth {
            client_id,
            token_ttl_seconds,
        } => {
            let field = "webhookAuth.clientId";
            if client_id.is_empty() {
                check.fail(
                    field,
                    "required",
                    "Enter the client ID Incode will use to get webhook tokens.",
                );
            } else if client_id.chars().count() > MAX_ID_CHARS {
                check.fail(
                    field,
                    "too_long",
                    format!("The OAuth client ID may be at most {MAX_ID_CHARS} characters."),
                );
            } else if !client_id.chars().all(|c| c.is_ascii_graphic() && c != ':') {
                check.fail(
                    field,
                    "invalid_value",
                    "The OAuth client ID may only hold visible ASCII characters other than \":\" (it travels in HTTP Basic authentication).",
                );
            }
            check_range(check, "webhookAuth.tokenTtlSeconds", *token_ttl_seconds);
        }
    }
    check_groups(check, &s.agent_groups);
    if !valid_person_field(&s.person_field) {
        check.fail(
            "personField",
            "invalid_value",
            "The person field must be \"reporter\" or a user picker field ID such as customfield_10010.",
        );
    }
    check_range(
        check,
        "limits.perTicketPerHour",
        s.limits.per_ticket_per_hour,
    );
    check_range(check, "limits.perAgentPerHour", s.limits.per_agent_per_hour);
}

/// The site's half of the rules, on fields that passed the others.
fn check_site(check: &mut Check, settings: &mut Settings, site: &SiteFacts) {
    if let Some(groups) = &site.groups {
        if !check.has("agentGroups") {
            match site::check_groups(&settings.agent_groups, groups) {
                Ok(spelled) => settings.agent_groups = spelled,
                Err(error) => check.push(error),
            }
        }
    }
    if let Some(fields) = &site.fields {
        if !check.has("personField") {
            if let Err(error) = site::check_person_field(&settings.person_field, fields) {
                check.push(error);
            }
        }
    }
}

/// Printable text (no control characters) of at most `max` characters; may be empty.
fn check_plain(check: &mut Check, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        check.fail(
            field,
            "too_long",
            format!("{} may be at most {max} characters.", label(field)),
        );
    } else if value.chars().any(char::is_control) {
        check.fail(
            field,
            "invalid_character",
            format!("{} contains a control character; retype it.", label(field)),
        );
    }
}

fn check_range(check: &mut Check, field: &str, value: u32) {
    let (min, max) = range_of(field);
    if value < min || value > max {
        check.fail(field, "out_of_range", range_message(field, min, max));
    }
}

pub(crate) fn range_of(field: &str) -> (u32, u32) {
    match field {
        "linkExpiryMinutes" => (5, 60),
        "auditRetentionDays" => (30, 3650),
        "webhookAuth.toleranceSeconds" => (30, 3600),
        "webhookAuth.tokenTtlSeconds" => (60, 86_400),
        _ => (1, 100),
    }
}

pub(crate) fn range_message(field: &str, min: u32, max: u32) -> String {
    match field {
        "linkExpiryMinutes" => {
            format!("The link expiry must be a whole number of minutes from {min} to {max}.")
        }
        "auditRetentionDays" => format!(
            "The audit trail's retention must be a whole number of days from {min} to {max}."
        ),
        "webhookAuth.toleranceSeconds" => {
            format!("The timestamp tolerance must be from {min} to {max} seconds.")
        }
        "webhookAuth.tokenTtlSeconds" => {
            format!("The token lifetime must be from {min} to {max} seconds.")
        }
        "limits.perTicketPerHour" => {
            format!("Links per ticket per hour must be from {min} to {max}.")
        }
        "limits.perAgentPerHour" => {
            format!("Links per agent per hour must be from {min} to {max}.")
        }
        _ => format!("{} must be from {min} to {max}.", label(field)),
    }
}

/// An HTTP header name (RFC 9110 token characters), 1..64 characters, not a standard header.
fn check_header(check: &mut Check, field: &str, name: &str) {
    if name.is_empty() {
        check.fail(field, "required", format!("{} is required.", label(field)));
    } else if name.len() > MAX_HEADER_CHARS {
        check.fail(
            field,
            "too_long",
            format!(
                "{} may be at most {MAX_HEADER_CHARS} characters.",
                label(field)
            ),
        );
    } else if !name.bytes().all(is_token_byte) {
        check.fail(
            field,
            "invalid_value",
            format!("{} must be an HTTP header name: letters, digits and - _ . ! # $ % & ' * + ^ ` | ~ only.", label(field)),
        );
    } else if RESERVED_HEADERS.contains(&name) {
        check.fail(
            field,
            "reserved_header",
            format!("\"{name}\" is a standard HTTP header; choose a custom one such as {DEFAULT_HMAC_HEADER}."),
        );
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_groups(check: &mut Check, groups: &[String]) {
    const FIELD: &str = "agentGroups";
    if groups.len() > MAX_GROUPS {
        check.fail(
            FIELD,
            "too_many",
            format!(
                "At most {MAX_GROUPS} agent groups may be listed (found {}).",
                groups.len()
            ),
        );
        return;
    }
    for (index, group) in groups.iter().enumerate() {
        let number = index + 1;
        if group.trim().is_empty() {
            check.fail(
                FIELD,
                "required",
                format!("Agent group {number} is empty; enter a group name or remove the entry."),
            );
        } else if group.chars().count() > MAX_GROUP_CHARS {
            check.fail(
                FIELD,
                "too_long",
                format!("Agent group {number} is longer than {MAX_GROUP_CHARS} characters."),
            );
        } else if group.chars().any(char::is_control) {
            check.fail(
                FIELD,
                "invalid_character",
                format!("Agent group {number} contains a control character."),
            );
        }
    }
}

fn valid_person_field(field: &str) -> bool {
    if field == "reporter" {
        return true;
    }
    field.strip_prefix("customfield_").is_some_and(|digits| {
        (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// An https URL as the `url` crate writes it (scheme and host in lower case), without a trailing
/// slash. Text the parser would rewrite otherwise is left as typed, for `check_base_url` to refuse.
fn normalise_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) if url.scheme() == "https" && written_plainly(&url, text) => {
            url.as_str().trim_end_matches('/').to_owned()
        }
        _ => text.to_owned(),
    }
}

fn dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether the parser kept the text as it was, but for the case of scheme and host and a trailing
/// slash: it resolves dot segments and escapes spaces, which a plain base URL does not need.
fn written_plainly(url: &Url, text: &str) -> bool {
    url.as_str()
        .trim_end_matches('/')
        .eq_ignore_ascii_case(text.trim_end_matches('/'))
}

/// "" or `https://<host>[/path]` on an Incode domain, with no user name, port, query or fragment.
fn check_base_url(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let url = Url::parse(text).map_err(|_| "The base URL is not a valid URL.".to_owned())?;
    if url.scheme() != "https" {
        return Err("The base URL must start with https://.".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
        return Err("The base URL must not include a user name or a port.".to_owned());
    }
    // WHATWG URLs allow host labels that DNS names may not have (RFC 1123: letters, digits and
    // inner hyphens, at most 63 characters).
    let host = match url.host() {
        Some(Host::Domain(host)) if host.split('.').all(dns_label) => host,
        _ => {
            let shown = url.host_str().unwrap_or("");
            return Err(format!("\"{shown}\" is not a valid host name."));
        }
    };
    let on_incode = ALLOWED_HOST_SUFFIXES
        .iter()
        .any(|suffix| host.len() > suffix.len() && host.ends_with(suffix));
    if !on_incode {
        return Err(
            "The base URL must be on an Incode host (*.incodesmile.com or *.incode.com): those are the only hosts the app is allowed to call."
                .to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() || !written_plainly(&url, text) {
        return Err("The base URL may only hold a simple path, with no query, fragment, spaces or dot segments.".to_owned());
    }
    Ok(())
}

/// New secret values in the input. Absent, `null`, "" or blank keep the stored secret.
fn read_secrets(check: &mut Check, input: &Map<String, Value>) -> SecretUpdates {
    let mut updates = SecretUpdates::default();
    for (field, slot) in [
        ("apiKey", &mut updates.api_key),
        ("clientSecret", &mut updates.client_secret),
        ("webhookSecret", &mut updates.webhook_secret),
    ] {
        let value = match input.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.trim(),
            Some(_) => {
                check.fail(
                    field,
                    "invalid_type",
                    format!("{} must be text.", label(field)),
                );
                continue;
            }
        };
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > MAX_SECRET_CHARS {
            check.fail(
                field,
                "too_long",
                format!(
                    "{} may be at most {MAX_SECRET_CHARS} characters.",
                    label(field)
                ),
            );
        } else if value.chars().any(char::is_control) {
            check.fail(
                field,
                "invalid_character",
                format!(
                    "{} contains a control character; paste it again.",
                    label(field)
                ),
            );
        } else if field == "webhookSecret" && !webhook::is_strong_secret(value) {
            check.fail(field, "weak_secret", weak_secret_message(false));
        } else {
            *slot = Some(value.to_owned());
        }
    }
    updates
}

fn weak_secret_message(kept: bool) -> String {
    let rule = format!(
        "The webhook secret must be at least {} visible ASCII characters (letters, digits, punctuation; no spaces), not a repetition: every authentication mode compares deliveries with it.",
        webhook::MIN_SECRET_CHARS
    );
    if kept {
        format!("The stored webhook secret is too weak, so deliveries are refused. Enter a new one. {rule}")
    } else {
        rule
    }
}

/// A field of the settings page: its path, its label on the page, and how messages name it.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PageField {
    pub field: &'static str,
    pub label: &'static str,
    #[serde(skip)]
    pub subject: &'static str,
}

const fn page_field(field: &'static str, label: &'static str, subject: &'static str) -> PageField {
    PageField {
        field,
        label,
        subject,
    }
}

/// Every field of the settings page, in page order: the page draws them in this order and
/// places errors on them; a save reports its errors in this order.
pub const PAGE_FIELDS: &[PageField] = &[
    page_field("environment", "Environment", "The environment"),
    page_field("baseUrlOverride", "Base URL override", "The base URL"),
    page_field("apiKey", "API key", "The API key"),
    page_field("clientId", "Client ID", "The client ID"),
    page_field("clientSecret", "Client secret", "The client secret"),
    page_field(
        "integrationReference",
        "Integration reference",
        "The integration reference",
    ),
    page_field(
        "configurationId",
        "Configuration ID",
        "The configuration ID",
    ),
    page_field("linkExpiryMinutes", "Link expiry", "The link expiry"),
    page_field(
        "auditRetentionDays",
        "Audit retention",
        "The audit retention",
    ),
    page_field(
        "defaultDelivery",
        "Default delivery method",
        "The default delivery method",
    ),
    page_field("agentGroups", "Agent groups", "Agent groups"),
    page_field("personField", "Person to verify", "The person field"),
    page_field(
        "limits.perTicketPerHour",
        "Links per ticket per hour",
        "Links per ticket per hour",
    ),
    page_field(
        "limits.perAgentPerHour",
        "Links per agent per hour",
        "Links per agent per hour",
    ),
    page_field(
        "transitions.passed",
        "Transition when verification passes",
        "The passed transition",
    ),
    page_field(
        "transitions.failed",
        "Transition when verification fails",
        "The failed transition",
    ),
    page_field(
        "transitions.manualReview",
        "Transition when manual review is required",
        "The manual review transition",
    ),
    page_field(
        "templates.passed",
        "Comment when verification passes",
        "The passed template",
    ),
    page_field(
        "templates.failed",
        "Comment when verification fails",
        "The failed template",
    ),
    page_field(
        "templates.manualReview",
        "Comment when manual review is required",
        "The manual review template",
    ),
    page_field(
        "commentVisibility",
        "Comment visibility",
        "Comment visibility",
    ),
    page_field(
        "webhookAuth.mode",
        "Webhook authentication",
        "Webhook authentication",
    ),
    page_field("webhookAuth.header", "Webhook header", "The webhook header"),
    page_field(
        "webhookAuth.encoding",
        "Signature encoding",
        "The signature encoding",
    ),
    page_field(
        "webhookAuth.timestampHeader",
        "Timestamp header",
        "The timestamp header",
    ),
    page_field(
        "webhookAuth.toleranceSeconds",
        "Timestamp tolerance",
        "The timestamp tolerance",
    ),
    page_field(
        "webhookAuth.clientId",
        "Webhook client ID",
        "The OAuth client ID",
    ),
    page_field(
        "webhookAuth.tokenTtlSeconds",
        "Token lifetime",
        "The token lifetime",
    ),
    page_field("webhookSecret", "Webhook secret", "The webhook secret"),
    page_field("portalEnabled", "Customer portal", "The portal setting"),
];

/// Where an error on `field` comes in page order: a field's own place; a group (`limits`) or
/// a part of a field (`agentGroups.2`) at the field it belongs to; the whole form first.
fn field_rank(field: &str) -> usize {
    let within = |group: &str, path: &str| {
        path.strip_prefix(group)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    if field.is_empty() {
        return 0;
    }
    PAGE_FIELDS
        .iter()
        .position(|f| within(field, f.field) || within(f.field, field))
        .map_or(PAGE_FIELDS.len() + 1, |at| at + 1)
}

/// A field's name in messages.
fn label(field: &str) -> String {
    let group = match field {
        "transitions" => "Transitions",
        "templates" => "Templates",
        "webhookAuth" => "Webhook authentication",
        "limits" => "Limits",
        _ => "",
    };
    if !group.is_empty() {
        return group.to_owned();
    }
    if let Some(known) = PAGE_FIELDS.iter().find(|f| f.field == field) {
        return known.subject.to_owned();
    }
    if let Some(outcome) = field.strip_prefix("transitions.") {
        return format!("The {} transition", outcome_words(outcome));
    }
    if let Some(outcome) = field.strip_prefix("templates.") {
        return format!("The {} template", outcome_words(outcome));
    }
    format!("\"{field}\"")
}

fn outcome_words(key: &str) -> &str {
    match Outcome::ALL.into_iter().find(|o| o.key() == key) {
        Some(outcome) => outcome.words(),
        None => key,
    }
}

// ---------------------------------------------------------------------------------------------
// The browser-safe view

/// Whether a secret is stored; its value never leaves the backend.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SecretState {
    #[serde(rename = "set")]
    Set,
    #[serde(rename = "not set")]
    NotSet,
}

impl From<bool> for SecretState {
    fn from(set: bool) -> Self {
        if set {
            SecretState::Set
        } else {
            SecretState::NotSet
        }
    }
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SecretStates {
    pub api_key: SecretState,
    pub client_secret: SecretState,
    pub webhook_secret: SecretState,
}

/// Settings as the browser may see them: no secret, not even masked.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PublicSettings {
    pub settings: Settings,
    pub secrets: SecretStates,
    /// True when a verification can be sent (credentials and integration reference present).
    pub ready: bool,
    /// Dotted names of what is missing before `ready`.
    pub missing: Vec<String>,
    /// The resolved Incode hosts.
    pub api_base_url: String,
    pub auth_base_url: String,
    /// What is saved but cannot work yet (no webhook secret: no result can be authenticated).
    pub warnings: Vec<FieldError>,
}

/// The admin page's view: the settings (which hold no secret), whether each secret is set, and
/// whether a verification can be sent yet.
pub fn public_settings(settings: &Settings, flags: SecretFlags) -> PublicSettings {
    let mut missing = Vec::new();
    if settings.client_id.trim().is_empty() {
        missing.push("clientId".to_owned());
    }
    if settings.integration_reference.trim().is_empty() {
        missing.push("integrationReference".to_owned());
    }
    if !flags.api_key {
        missing.push("apiKey".to_owned());
    }
    if !flags.client_secret {
        missing.push("clientSecret".to_owned());
    }
    PublicSettings {
        // The compiled templates are for the webhook, not the admin page.
        settings: Settings {
            template_code: PerOutcome::default(),
            ..settings.clone()
        },
        secrets: SecretStates {
            api_key: flags.api_key.into(),
            client_secret: flags.client_secret.into(),
            webhook_secret: flags.webhook_secret.into(),
        },
        ready: missing.is_empty(),
        missing,
        warnings: warnings(flags),
        api_base_url: api_base_url(settings),
        auth_base_url: auth_base_url(settings),
    }
}

/// What `missing` (of [`PublicSettings`]) names, in words: "the client ID and the API key".
pub fn missing_words(missing: &[String]) -> String {
    let words: Vec<String> = missing
        .iter()
        .map(|field| {
            let name = label(field);
            match name.strip_prefix("The ") {
                Some(rest) => format!("the {rest}"),
                None => name,
            }
        })
        .collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn warnings(flags: SecretFlags) -> Vec<FieldError> {
    let mut warnings = Vec::new();
    if !flags.webhook_secret {
        warnings.push(FieldError::new(
            "webhookSecret",
            "webhook_secret_missing",
            "No webhook secret is saved, so no result from Incode can be authenticated: verifications will never complete. Enter the webhook secret you set in the Incode dashboard and save.",
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_flags() -> SecretFlags {
        SecretFlags::default()
    }

    fn accept(current: &Settings, input: Value) -> (Settings, SecretUpdates) {
        match validate_settings(current, &input, no_flags()) {
            SettingsDecision::Accepted {
                settings,
                secret_updates,
                ..
            } => (settings, secret_updates),
            SettingsDecision::Rejected { errors, .. } => panic!("rejected {input}: {errors:?}"),
        }
    }

    fn reject(input: Value) -> Vec<(String, String)> {
        match validate_settings(&default_settings(), &input, no_flags()) {
            SettingsDecision::Accepted { .. } => panic!("accepted {input}"),
            SettingsDecision::Rejected { errors, .. } => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
        }
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let defaults = default_settings();
        let (merged, updates) = accept(&defaults, json!({}));
        assert_eq!(merged, defaults);
        assert_eq!(updates, SecretUpdates::default());
        let value = serde_json::to_value(&defaults).unwrap();
        assert_eq!(value["webhookAuth"]["mode"], "hmac");
        assert_eq!(value["webhookAuth"]["header"], "x-incode-signature");
        assert_eq!(value["limits"]["perAgentPerHour"], 20);
        let back: Settings = serde_json::from_value(value).unwrap();
        assert_eq!(back, defaults);
    }

    #[test]
    fn merges_field_by_field_and_trims() {
        let input = json!({
            "environment": "production",
            "clientId": "  client-1 ",
            "integrationReference": "ref",
            "linkExpiryMinutes": 15.0,
            "transitions": { "failed": " Escalate " },
            "limits": { "perAgentPerHour": 7 },
            "agentGroups": [" Help desk ", "help DESK", "Tier 2"],
            "unknownKey": { "anything": true }
        });
        let (s, _) = accept(&default_settings(), input);
        assert_eq!(s.environment, Environment::Production);
        assert_eq!(s.client_id, "client-1");
        assert_eq!(s.link_expiry_minutes, 15);
        assert_eq!(s.transitions.failed, "Escalate");
        assert_eq!(s.transitions.passed, "");
        assert_eq!(s.limits.per_agent_per_hour, 7);
        assert_eq!(s.limits.per_ticket_per_hour, 5);
        assert_eq!(
            s.agent_groups,
            vec!["Help desk".to_owned(), "Tier 2".to_owned()]
        );
    }

    #[test]
    fn a_non_object_is_one_error() {
        for input in [json!(null), json!([]), json!("x"), json!(3)] {
            assert_eq!(reject(input), vec![pair("", "invalid_type")]);
        }
    }

    #[test]
    fn errors_rank_by_the_page_field_they_belong_to() {
        let rank = |f| field_rank(f);
        assert_eq!(rank(""), 0);
        assert!(rank("environment") < rank("apiKey"));
        assert!(rank("apiKey") < rank("clientId"));
        assert_eq!(rank("agentGroups.2"), rank("agentGroups"));
        assert_eq!(rank("limits"), rank("limits.perTicketPerHour"));
        assert_eq!(rank("webhookAuth"), rank("webhookAuth.mode"));
        assert!(rank("portalEnabled") < rank("revision"));
        assert_eq!(label("apiKey"), "The API key");
        assert_eq!(label("limits"), "Limits");
        assert_eq!(label("transitions.elsewhere"), "The elsewhere transition");
    }

    #[test]
    fn wrong_types_are_field_errors() {
        let errors = reject(json!({
            "environment": 1,
            "clientId": 5,
            "linkExpiryMinutes": "10",
            "transitions": [],
            "templates": { "passed": 3 },
            "webhookAuth": "hmac",
            "agentGroups": "admins",
            "limits": { "perTicketPerHour": true },
            "portalEnabled": "yes",
            "apiKey": 12
        }));
        assert_eq!(
            errors,
            vec![
                pair("environment", "invalid_value"),
                pair("apiKey", "invalid_type"),
                pair("clientId", "invalid_type"),
                pair("linkExpiryMinutes", "invalid_type"),
                pair("agentGroups", "invalid_type"),
                pair("limits.perTicketPerHour", "invalid_type"),
                pair("transitions", "invalid_type"),
                pair("templates.passed", "invalid_type"),
                pair("webhookAuth", "invalid_type"),
                pair("portalEnabled", "invalid_type"),
            ]
        );
    }

    #[test]
    fn the_audit_retention_is_checked_and_older_settings_read_as_400_days() {
        for bad in [json!(29), json!(3651), json!(400.5)] {
            let errors = reject(json!({ "auditRetentionDays": bad }));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].0, "auditRetentionDays");
        }
        accept(&default_settings(), json!({"auditRetentionDays": 30}));
        accept(&default_settings(), json!({"auditRetentionDays": 3650}));
        let older: Settings = serde_json::from_value(json!({ "clientId": "c" }))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(older.audit_retention_days, 400);
    }

    #[test]
    fn numeric_ranges() {
        assert_eq!(
            reject(json!({"linkExpiryMinutes": 4})),
            vec![pair("linkExpiryMinutes", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"linkExpiryMinutes": 61})),
            vec![pair("linkExpiryMinutes", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"linkExpiryMinutes": -5})),
            vec![pair("linkExpiryMinutes", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"linkExpiryMinutes": 1e20})),
            vec![pair("linkExpiryMinutes", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"linkExpiryMinutes": u64::MAX})),
            vec![pair("linkExpiryMinutes", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"linkExpiryMinutes": 7.5})),
            vec![pair("linkExpiryMinutes", "invalid_type")]
        );
        accept(&default_settings(), json!({"linkExpiryMinutes": 5}));
        accept(&default_settings(), json!({"linkExpiryMinutes": 60}));
        assert_eq!(
            reject(json!({"limits": {"perTicketPerHour": 0}})),
            vec![pair("limits.perTicketPerHour", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"limits": {"perAgentPerHour": 101}})),
            vec![pair("limits.perAgentPerHour", "out_of_range")]
        );
    }

    #[test]
    fn base_url_override() {
        for ok in [
            "",
            "https://eu-api.incodesmile.com",
            "https://api.incode.com/v2/",
            "HTTPS://Demo-API.IncodeSmile.com",
        ] {
            accept(&default_settings(), json!({ "baseUrlOverride": ok }));
        }
        for bad in [
            "http://demo-api.incodesmile.com",
            "https://incodesmile.com",
            "https://evil.com",
            "https://demo-api.incodesmile.com.evil.com",
            "https://evilincode.com",
            "https://user@demo-api.incodesmile.com",
            "https://demo-api.incodesmile.com:8443",
            "https://demo-api.incodesmile.com/a?b=c",
            "https://demo-api.incodesmile.com/../x",
            "https://-x.incode.com",
            "demo-api.incodesmile.com",
        ] {
            assert_eq!(
                reject(json!({ "baseUrlOverride": bad })),
                vec![pair("baseUrlOverride", "invalid_url")],
                "{bad}"
            );
        }
        let message = match validate_settings(
            &default_settings(),
            &json!({"baseUrlOverride": "https://evil.com"}),
            no_flags(),
        ) {
            SettingsDecision::Rejected { errors, .. } => errors[0].message.clone(),
            SettingsDecision::Accepted { .. } => String::new(),
        };
        assert!(
            message.contains("only hosts the app is allowed to call"),
            "{message}"
        );
    }

    #[test]
    fn templates_blank_means_default_and_errors_are_repathed() {
        let (s, _) = accept(
            &default_settings(),
            json!({"templates": {"passed": "  ", "failed": "Failed: {{name}}"}}),
        );
        assert_eq!(
            s.templates.passed,
            template::default_template(Outcome::Passed)
        );
        assert_eq!(s.templates.failed, "Failed: {{name}}");
        let decision = validate_settings(
            &default_settings(),
            &json!({"templates": {"manualReview": "ok\n  {{nope}}"}}),
            no_flags(),
        );
        let SettingsDecision::Rejected { errors, .. } = decision else {
            panic!("accepted");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "templates.manualReview");
        assert_eq!(errors[0].code, "unknown_variable");
        assert_eq!((errors[0].line, errors[0].column), (Some(2), Some(3)));
    }

    #[test]
    fn saving_compiles_custom_templates_for_the_webhook_and_the_browser_never_sees_them() {
        let (s, _) = accept(
            &default_settings(),
            json!({"templates": {"failed": "Failed: {{name}}"}}),
        );
        assert_eq!(s.template_code, template::template_code(&s.templates));
        assert!(s.template_code.failed.is_some());
        assert!(s.template_code.passed.is_none() && s.template_code.manual_review.is_none());
        // Stored and read back, the settings keep their code.
        let stored = serde_json::to_value(&s).unwrap();
        assert!(stored["templateCode"]["failed"]["nodes"].is_array());
        assert_eq!(serde_json::from_value::<Settings>(stored).unwrap(), s);
        // Settings without custom templates carry none, and older settings read without it.
        let defaults = serde_json::to_value(default_settings()).unwrap();
        assert!(defaults.get("templateCode").is_none());
        assert_eq!(
            serde_json::from_value::<Settings>(defaults).unwrap(),
            default_settings()
        );
        let public = serde_json::to_value(public_settings(&s, no_flags())).unwrap();
        assert!(public["settings"].get("templateCode").is_none());
        assert_eq!(
            public["settings"]["templates"]["failed"],
            "Failed: {{name}}"
        );
    }

    #[test]
    fn webhook_auth_modes() {
        let (s, _) = accept(
            &default_settings(),
            json!({"webhookAuth": {"mode": "sharedSecret"}}),
        );
        assert_eq!(
            s.webhook_auth,
            WebhookAuth::SharedSecret {
                header: "x-incode-secret".into()
            }
        );
        let (s, _) = accept(
            &default_settings(),
            json!({"webhookAuth": {"mode": "oauth", "tokenTtlSeconds": 600}}),
        );
        assert_eq!(
            s.webhook_auth,
            WebhookAuth::OAuth {
                client_id: "incode-webhooks".into(),
                token_ttl_seconds: 600
            }
        );
        // Same mode: fields merge over the current ones.
        let (s, _) = accept(
            &default_settings(),
            json!({"webhookAuth": {"encoding": "base64", "timestampHeader": " X-Incode-Timestamp "}}),
        );
        assert_eq!(
            s.webhook_auth,
            WebhookAuth::Hmac {
                header: "x-incode-signature".into(),
                encoding: SignatureEncoding::Base64,
                timestamp_header: "x-incode-timestamp".into(),
                tolerance_seconds: 300,
            }
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"mode": "basic"}})),
            vec![pair("webhookAuth.mode", "invalid_value")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"header": "Authorization"}})),
            vec![pair("webhookAuth.header", "reserved_header")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"header": "x sig"}})),
            vec![pair("webhookAuth.header", "invalid_value")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"header": ""}})),
            vec![pair("webhookAuth.header", "required")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"header": "x".repeat(65)}})),
            vec![pair("webhookAuth.header", "too_long")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"timestampHeader": "x-incode-signature"}})),
            vec![pair("webhookAuth.timestampHeader", "invalid_value")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"toleranceSeconds": 29}})),
            vec![pair("webhookAuth.toleranceSeconds", "out_of_range")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"encoding": "HEX"}})),
            vec![pair("webhookAuth.encoding", "invalid_value")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"mode": "oauth", "clientId": "a:b"}})),
            vec![pair("webhookAuth.clientId", "invalid_value")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"mode": "oauth", "clientId": ""}})),
            vec![pair("webhookAuth.clientId", "required")]
        );
        assert_eq!(
            reject(json!({"webhookAuth": {"mode": "oauth", "tokenTtlSeconds": 59}})),
            vec![pair("webhookAuth.tokenTtlSeconds", "out_of_range")]
        );
    }

    #[test]
    fn agent_groups_and_person_field() {
        let many: Vec<String> = (0..51).map(|i| format!("group {i}")).collect();
        assert_eq!(
            reject(json!({"agentGroups": many})),
            vec![pair("agentGroups", "too_many")]
        );
        assert_eq!(
            reject(json!({"agentGroups": ["a", " "]})),
            vec![pair("agentGroups", "required")]
        );
        assert_eq!(
            reject(json!({"agentGroups": ["x".repeat(256)]})),
            vec![pair("agentGroups", "too_long")]
        );
        accept(
            &default_settings(),
            json!({"personField": "customfield_10010"}),
        );
        for bad in ["Reporter", "customfield_", "customfield_12a", "assignee"] {
            assert_eq!(
                reject(json!({"personField": bad})),
                vec![pair("personField", "invalid_value")],
                "{bad}"
            );
        }
    }

    #[test]
    fn secrets() {
        let (_, updates) = accept(
            &default_settings(),
            json!({"apiKey": "  key-1 ", "clientSecret": "", "webhookSecret": null}),
        );
        assert_eq!(updates.api_key.as_deref(), Some("key-1"));
        assert_eq!(updates.client_secret, None);
        assert_eq!(updates.webhook_secret, None);
        assert_eq!(
            serde_json::to_value(&updates).unwrap(),
            json!({"apiKey": "key-1"})
        );
        let printed = format!("{updates:?}");
        assert!(!printed.contains("key-1"), "{printed}");
        assert_eq!(
            reject(json!({"apiKey": "x".repeat(4097)})),
            vec![pair("apiKey", "too_long")]
        );
        assert_eq!(
            reject(json!({"clientSecret": "a\u{7}b"})),
            vec![pair("clientSecret", "invalid_character")]
        );
        // A secret the app compares itself must be long enough to resist guessing.
        assert_eq!(
            reject(json!({"webhookAuth": {"mode": "sharedSecret"}, "webhookSecret": "short"})),
            vec![pair("webhookSecret", "weak_secret")]
        );
        // In every mode: HMAC compares deliveries with the secret too.
        assert_eq!(
            reject(json!({"webhookSecret": "short"})),
            vec![pair("webhookSecret", "weak_secret")]
        );
        assert_eq!(
            reject(json!({"webhookSecret": "abababababababababab"})),
            vec![pair("webhookSecret", "weak_secret")]
        );
        accept(
            &default_settings(),
            json!({"webhookAuth": {"mode": "oauth"}, "webhookSecret": "0123456789abcdef"}),
        );
    }

    #[test]
    fn a_kept_weak_secret_must_be_replaced_in_every_mode() {
        let weak = SecretFlags::of(&crate::model::Secrets {
            webhook_secret: "abc".into(),
            ..Default::default()
        });
        assert!(weak.weak_webhook_secret);
        for input in [
            json!({"webhookAuth": {"mode": "sharedSecret"}}),
            json!({"webhookAuth": {"mode": "hmac"}}),
            json!({"linkExpiryMinutes": 15}),
        ] {
            let errors = match validate_settings(&default_settings(), &input, weak) {
                SettingsDecision::Rejected { errors, .. } => errors,
                SettingsDecision::Accepted { .. } => panic!("a kept weak secret passed: {input}"),
            };
            assert_eq!(
                errors
                    .iter()
                    .map(|e| (e.field.as_str(), e.code.as_str()))
                    .collect::<Vec<_>>(),
                vec![("webhookSecret", "weak_secret")],
                "{input}"
            );
        }
        // A strong new secret replaces it.
        let input = json!({"webhookAuth": {"mode": "sharedSecret"}, "webhookSecret": "n3w-Str0ng-secret-42"});
        assert!(matches!(
            validate_settings(&default_settings(), &input, weak),
            SettingsDecision::Accepted { .. }
        ));
        let strong = SecretFlags::of(&crate::model::Secrets {
            webhook_secret: "n3w-Str0ng-secret-42".into(),
            ..Default::default()
        });
        assert!(strong.webhook_secret && !strong.weak_webhook_secret);
    }

    #[test]
    fn public_view_has_no_secret_and_reports_readiness() {
        let mut s = default_settings();
        let view = public_settings(&s, no_flags());
        assert!(!view.ready);
        assert_eq!(
            view.missing,
            vec!["clientId", "integrationReference", "apiKey", "clientSecret"]
        );
        assert_eq!(view.api_base_url, DEMO_API_URL);
        assert_eq!(view.auth_base_url, DEMO_AUTH_URL);
        s.client_id = "c".into();
        s.integration_reference = "r".into();
        s.environment = Environment::Production;
        s.base_url_override = "https://eu.incodesmile.com/".into();
        let flags = SecretFlags {
            api_key: true,
            client_secret: true,
            webhook_secret: false,
            weak_webhook_secret: false,
        };
        let view = serde_json::to_value(public_settings(&s, flags)).unwrap();
        assert_eq!(view["ready"], true);
        assert_eq!(view["missing"], json!([]));
        assert_eq!(
            view["secrets"],
            json!({"apiKey": "set", "clientSecret": "set", "webhookSecret": "not set"})
        );
        assert_eq!(view["apiBaseUrl"], "https://eu.incodesmile.com");
        assert_eq!(view["authBaseUrl"], PRODUCTION_AUTH_URL);
    }

    #[test]
    fn what_is_missing_in_words() {
        let view = public_settings(&default_settings(), no_flags());
        assert_eq!(
            missing_words(&view.missing),
            "the client ID, the integration reference, the API key and the client secret"
        );
        assert_eq!(missing_words(&["apiKey".to_owned()]), "the API key");
        assert_eq!(missing_words(&[]), "");
    }

    #[test]
    fn a_missing_webhook_secret_is_a_warning_until_one_is_saved() {
        let s = default_settings();
        let mut flags = SecretFlags {
            api_key: true,
            client_secret: true,
            webhook_secret: false,
            weak_webhook_secret: false,
        };
        let warned = public_settings(&s, flags).warnings;
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].field, "webhookSecret");
        assert_eq!(warned[0].code, "webhook_secret_missing");
        flags.webhook_secret = true;
        assert_eq!(public_settings(&s, flags).warnings, vec![]);
    }

    #[test]
    fn on_a_site_groups_and_the_person_field_must_exist() {
        let site = SiteFacts {
            groups: Some(vec![crate::site::SiteGroup {
                name: "helpdesk-agents".into(),
                group_id: "g-1".into(),
            }]),
            fields: Some(
                json!([{ "id": "customfield_10050", "name": "Affected employee", "custom": true, "schema": { "type": "user" } }]),
            ),
        };
        let decide = |input: Value| {
            validate_settings_on_site(&default_settings(), &input, no_flags(), &site)
        };
        match decide(
            json!({ "agentGroups": ["helpdesk-agentz"], "personField": "customfield_10042" }),
        ) {
            SettingsDecision::Rejected { errors, .. } => assert_eq!(
                errors
                    .iter()
                    .map(|e| (e.field.as_str(), e.code.as_str()))
                    .collect::<Vec<_>>(),
                [
                    ("agentGroups", "unknown_group"),
                    ("personField", "unknown_field")
                ]
            ),
            SettingsDecision::Accepted { .. } => panic!("a misspelt group was accepted"),
        }
        match decide(
            json!({ "agentGroups": ["HelpDesk-Agents"], "personField": "customfield_10050" }),
        ) {
            SettingsDecision::Accepted { settings, .. } => {
                assert_eq!(settings.agent_groups, ["helpdesk-agents"]);
                assert_eq!(settings.person_field, "customfield_10050");
            }
            SettingsDecision::Rejected { errors, .. } => panic!("{errors:?}"),
        }
    }
}
