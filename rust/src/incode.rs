//! Incode API requests and the answers to them: the OAuth2 client-credentials token and the B2B
//! "request new onboarding" call that starts a verification.
//!
//! Requests are descriptions the shim performs; answers come back here to be read. Incode's
//! answers are only partly documented, so they are read tolerantly, and every failure becomes a
//! stable error code with a message an admin or agent can act on. Messages never contain a
//! secret or a token.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::model::{CoreError, Delivery, HttpAnswer, HttpRequest, Method, Secrets, Settings};
use crate::settings;

/// A token is cached at most this long, whatever `expires_in` says.
const MAX_TOKEN_LIFETIME_SECONDS: i64 = 86_400;
/// Used when the token answer carries no `expires_in`.
const DEFAULT_TOKEN_LIFETIME_SECONDS: i64 = 3600;
/// A token is refreshed this long (or 10% of its lifetime, whichever is larger) before expiry.
const TOKEN_MARGIN_MS: i64 = 60_000;
/// ... but is used for at least this long (or its whole lifetime when that is shorter).
const MIN_TOKEN_USE_MS: i64 = 5_000;
/// Longest access token accepted; it travels in a header.
const MAX_TOKEN_CHARS: usize = 8192;
/// Incode's own messages are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 300;
/// Session ids are cut to this many characters.
const MAX_ID_CHARS: usize = 200;
/// Longest link accepted.
const MAX_URL_CHARS: usize = 2048;
/// Link validity bounds, in minutes.
const MIN_LINK_MINUTES: u32 = 5;
const MAX_LINK_MINUTES: u32 = 60;
/// The Incode status code for "login hint not in the employee directory".
const EMPLOYEE_NOT_FOUND_CODE: i64 = 4301;

/// What the agent asked for: who, and how the link travels.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StartVerificationInput {
    pub email: String,
    pub delivery: Delivery,
    /// E.164 phone for SMS; "" = the phone in the Incode directory.
    #[serde(default)]
    pub phone: String,
    /// Alternate address for EMAIL; "" = the corporate email.
    #[serde(default)]
    pub alternate_email: String,
}

/// An Incode access token and when to stop using it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct IncodeToken {
    pub access_token: String,
    /// Epoch ms after which a new token must be fetched (already shortened by a margin).
    pub refresh_at_ms: i64,
}

// The token never prints, not even in a debug log line.
impl std::fmt::Debug for IncodeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncodeToken")
            .field("access_token", &"..")
            .field("refresh_at_ms", &self.refresh_at_ms)
            .finish()
    }
}

/// A started verification: Incode's session (interview) id and the link it sent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StartedSession {
    pub session_id: String,
    pub url: String,
}

// ---------------------------------------------------------------------------------------------
// OAuth2 token

/// `POST {auth}/oauth2/token` with the client credentials, form encoded.
pub fn token_request(settings: &Settings, secrets: &Secrets) -> HttpRequest {
    let url = format!(
        "{}/oauth2/token",
        settings::auth_base_url(settings).trim_end_matches('/')
    );
    let body = form_encode(&[
        ("grant_type", "client_credentials"),
        ("client_id", settings.client_id.trim()),
        ("client_secret", &secrets.client_secret),
        ("scope", "openid"),
    ]);
    let mut headers = BTreeMap::new();
    headers.insert(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    );
    headers.insert("Accept".to_owned(), "application/json".to_owned());
    HttpRequest {
        method: Method::Post,
        url: Some(url),
        path: None,
        headers,
        body: Some(body),
    }
}

/// `application/x-www-form-urlencoded`: letters, digits and `*-._` stay, a space is `+`, every
/// other byte of the UTF-8 text is `%XX`.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Reads the token answer. The token is refreshed a margin before it expires: 60 s or 10% of
/// its lifetime, whichever is larger, but it is always used for at least 5 s (or its whole
/// lifetime, when that is shorter).
pub fn parse_token(answer: &HttpAnswer, now_ms: i64) -> Result<IncodeToken, CoreError> {
    let body = parse_object(&answer.body);
    match answer.status {
        200..=299 => {}
        400 | 401 | 403 => {
            return Err(CoreError::new(
                "bad_credentials",
                format!(
                    "Incode did not accept the client ID and client secret{}. Check them on the \
                     settings page (and that the environment matches your account), then use \
                     Test credentials.",
                    detail_suffix(body.as_ref())
                ),
                false,
            ))
        }
        404 => return Err(not_found_error(answer.status)),
        _ => return Err(status_error(answer.status, body.as_ref())),
    }
    let Some(body) = body else {
        return Err(bad_response("the token answer is not a JSON object"));
    };
    let access_token = match body.get("access_token") {
        Some(Value::String(token)) => token.trim(),
        _ => return Err(bad_response("the token answer has no access_token")),
    };
    if access_token.is_empty()
        || access_token.len() > MAX_TOKEN_CHARS
        || !access_token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad_response("the access_token is not a usable token"));
    }
    let lifetime_s = body
        .get("expires_in")
        .and_then(seconds_value)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECONDS)
        .clamp(0, MAX_TOKEN_LIFETIME_SECONDS);
    let lifetime_ms = lifetime_s * 1000;
    let margin_ms = TOKEN_MARGIN_MS.max(lifetime_ms / 10);
    let use_ms = (lifetime_ms - margin_ms).max(MIN_TOKEN_USE_MS.min(lifetime_ms));
    Ok(IncodeToken {
        access_token: access_token.to_owned(),
        refresh_at_ms: now_ms.saturating_add(use_ms),
    })
}

/// A non-negative whole number of seconds, written as a number or a numeric string.
fn seconds_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|seconds| *seconds >= 0)
}

// ---------------------------------------------------------------------------------------------
// Starting a verification

/// `POST {api}/omni/b2b/onboarding/request-new` for one employee. The employee is matched by
/// corporate email (`loginHint`); the link goes by SMS (to the given phone, or the one in the
/// directory) or by email (to the alternate address, or the corporate one).
pub fn start_request(
    settings: &Settings,
    secrets: &Secrets,
    access_token: &str,
    input: &StartVerificationInput,
) -> Result<HttpRequest, CoreError> {
    let api_key = secrets.api_key.trim();
    let access_token = access_token.trim();
    let integration_reference = settings.integration_reference.trim();
    if api_key.is_empty() || integration_reference.is_empty() {
        return Err(CoreError::new(
            "not_configured",
            "The Incode API key and integration reference must be set on the app's settings \
             page before a verification can be sent.",
            false,
        ));
    }
    if access_token.is_empty() || !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CoreError::new(
            "not_configured",
            "No usable Incode access token: fetch a token before starting a verification.",
            false,
        ));
    }
    if !api_key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CoreError::new(
            "not_configured",
            "The Incode API key contains spaces or control characters; enter it again on the \
             settings page.",
            false,
        ));
    }

    let Some(login_hint) = normalize_email(&input.email) else {
        return Err(CoreError::new(
            "invalid_email",
            "Enter the employee's corporate email address, such as jane.doe@example.com.",
            false,
        ));
    };
    let notification = match input.delivery {
        Delivery::Sms => {
            let phone = if input.phone.trim().is_empty() {
                None
            } else {
                Some(normalize_phone(&input.phone).ok_or_else(|| {
                    CoreError::new(
                        "invalid_phone",
                        "Enter the phone number in international format, such as \
                         +1 415 555 0100, or leave it blank to use the phone in the Incode \
                         directory.",
                        false,
                    )
                })?)
            };
            Notification::Sms { phone }
        }
        Delivery::Email => {
            let email = if input.alternate_email.trim().is_empty() {
                login_hint.clone()
            } else {
                normalize_email(&input.alternate_email).ok_or_else(|| {
                    CoreError::new(
                        "invalid_alternate_email",
                        "The alternate email address is not valid. Correct it, or leave it blank \
                         to send the link to the corporate email.",
                        false,
                    )
                })?
            };
            Notification::Email { email }
        }
    };

    let configuration_id = settings.configuration_id.trim();
    let body = StartBody {
        integration_reference,
        login_hint: &login_hint,
        link_validity_in_minutes: settings
            .link_expiry_minutes
            .clamp(MIN_LINK_MINUTES, MAX_LINK_MINUTES),
        notification,
        configuration_id: (!configuration_id.is_empty()).then_some(configuration_id),
    };
    let body = serde_json::to_string(&body).map_err(|error| {
        CoreError::new(
            "internal",
            format!("The start request could not be written: {error}"),
            false,
        )
    })?;

    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_owned(), format!("Bearer {access_token}"));
    headers.insert("x-api-key".to_owned(), api_key.to_owned());
    headers.insert("api-version".to_owned(), "1.0".to_owned());
    headers.insert("Content-Type".to_owned(), "application/json".to_owned());
    headers.insert("Accept".to_owned(), "application/json".to_owned());
    Ok(HttpRequest {
        method: Method::Post,
        url: Some(format!(
            "{}/omni/b2b/onboarding/request-new",
            settings::api_base_url(settings).trim_end_matches('/')
        )),
        path: None,
        headers,
        body: Some(body),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartBody<'a> {
    integration_reference: &'a str,
    login_hint: &'a str,
    link_validity_in_minutes: u32,
    notification: Notification,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Notification {
    #[serde(rename = "SMS")]
    Sms {
        #[serde(skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    #[serde(rename = "EMAIL")]
    Email { email: String },
}

/// An email address trimmed, with its domain in lowercase, or None when it is not a plausible
/// mailbox: `local@domain`, at most 254 characters, a dot-atom local part of at most 64
/// characters, and a domain of at least two DNS labels whose last is not numeric. Quoted local
/// parts and non-ASCII addresses (which Incode's directory does not hold) are refused.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim();
    if email.is_empty() || email.len() > 254 {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.is_empty() || domain.len() > 253 {
        return None;
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    if !local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext))
    {
        return None;
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let top_ok = labels
        .last()
        .is_some_and(|top| top.len() >= 2 && !top.chars().all(|c| c.is_ascii_digit()));
    if labels.len() < 2 || !labels.iter().all(label_ok) || !top_ok {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// An E.164 phone number (`+` and 7 to 15 digits, the first not 0) once spaces, dashes, dots
/// and parentheses are removed, or None.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{a0}'))
        .collect();
    let digits = compact.strip_prefix('+')?;
    let valid = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then_some(compact)
}

/// Reads the start answer: the session id and link on success, otherwise an error code the
/// panel can explain.
pub fn parse_start(answer: &HttpAnswer) -> Result<StartedSession, CoreError> {
    let body = parse_object(&answer.body);
    if (200..=299).contains(&answer.status) {
        if let Some(session) = body.as_ref().and_then(started_session) {
            return Ok(session);
        }
    }
    // The code is unambiguous whatever the HTTP status. A message alone counts only where a
    // directory miss can be the answer: not on 401/403 (an unknown API client may also be
    // "user not found"), 429 or 5xx.
    let coded = body.as_ref().is_some_and(has_employee_not_found_code);
    let worded = matches!(answer.status, 200..=299 | 400..=499)
        && !matches!(answer.status, 401 | 403 | 429)
        && body.as_ref().is_some_and(says_employee_not_found);
    if coded || worded {
        return Err(CoreError::new(
            "employee_not_found",
            "This email is not in your Incode employee directory. Check the address, or ask an \
             Incode administrator to add the employee to the directory.",
            false,
        ));
    }
    match answer.status {
        200..=299 => Err(bad_response(
            "the answer has no interview id and verification link",
        )),
        401 | 403 => Err(CoreError::new(
            "bad_credentials",
            format!(
                "Incode did not accept the app's credentials (HTTP {}). Check the API key, client \
                 ID and client secret on the settings page, then use Test credentials.",
                answer.status
            ),
            false,
        )),
        404 => Err(not_found_error(answer.status)),
        _ => Err(status_error(answer.status, body.as_ref())),
    }
}

fn started_session(body: &Map<String, Value>) -> Option<StartedSession> {
    let session_id = ["interviewId", "sessionId", "id"]
        .iter()
        .filter_map(|key| body.get(*key))
        .filter_map(|value| match value {
            Value::String(text) => Some(clean(text, MAX_ID_CHARS)),
            Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
            _ => None,
        })
        .find(|id| !id.is_empty())?;
    let url = ["url", "link", "onboardingUrl"]
        .iter()
        .filter_map(|key| body.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .find(|url| is_web_link(url))?;
    Some(StartedSession {
        session_id,
        url: url.to_owned(),
    })
}

/// An absolute http(s) link with a host, written without whitespace or control characters (it is
/// shown to agents as a link, so no `javascript:` and the like).
fn is_web_link(text: &str) -> bool {
    text.len() <= MAX_URL_CHARS
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && Url::parse(text)
            .is_ok_and(|url| matches!(url.scheme(), "https" | "http") && url.has_host())
}

/// Incode's code 4301: the login hint is not in the employee directory.
fn has_employee_not_found_code(body: &Map<String, Value>) -> bool {
    ["status", "code", "errorCode"]
        .iter()
        .filter_map(|key| body.get(*key))
        .any(|value| match value {
            Value::Number(number) => number.as_i64() == Some(EMPLOYEE_NOT_FOUND_CODE),
            Value::String(text) => text.trim() == EMPLOYEE_NOT_FOUND_CODE.to_string(),
            _ => false,
        })
}

/// A message saying that the employee (user, login hint) is not found or not in the directory.
fn says_employee_not_found(body: &Map<String, Value>) -> bool {
    let text = message_fields(body).join(" ").to_lowercase();
    let missing = [
        "not found",
        "not exist",
        "doesn't exist",
        "not registered",
        "no employee",
    ]
    .iter()
    .any(|phrase| text.contains(phrase));
    let who = ["directory", "employee", "login hint", "loginhint", "user"]
        .iter()
        .any(|noun| text.contains(noun));
    missing && who
}

/// The human-readable parts of an error body, in the order they are worth showing.
fn message_fields(body: &Map<String, Value>) -> Vec<&str> {
    ["message", "error_description", "detail", "error"]
        .iter()
        .filter_map(|key| body.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .collect()
}

fn parse_object(body: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// Control characters dropped, whitespace runs collapsed, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    let collapsed = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut out: String = collapsed.chars().take(max).collect();
    if collapsed.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

/// Incode's own message about a failure, cleaned, for an admin to read.
fn incode_message(body: Option<&Map<String, Value>>) -> Option<String> {
    let body = body?;
    let fields = message_fields(body);
    let text = match fields.as_slice() {
        [] => return None,
        [only] => (*only).to_owned(),
        [first, rest @ ..] => {
            // `error` is often just the reason phrase ("Bad Request"); show it only when it says
            // something the message does not.
            let extra: Vec<&str> = rest
                .iter()
                .copied()
                .filter(|part| !first.to_lowercase().contains(&part.to_lowercase()))
                .collect();
            if extra.is_empty() {
                (*first).to_owned()
            } else {
                format!("{first} ({})", extra.join("; "))
            }
        }
    };
    let text = clean(&text, MAX_MESSAGE_CHARS);
    (!text.is_empty()).then_some(text)
}

fn detail_suffix(body: Option<&Map<String, Value>>) -> String {
    incode_message(body)
        .map(|message| format!(" (Incode said: {message})"))
        .unwrap_or_default()
}

fn bad_response(what: &str) -> CoreError {
    CoreError::new(
        "bad_response",
        format!("Incode's answer could not be read: {what}."),
        false,
    )
}

fn not_found_error(status: u16) -> CoreError {
    CoreError::new(
        "incode_not_found",
        format!(
            "Incode answered HTTP {status} Not Found. Check the environment (Demo or Production) \
             and the base URL on the settings page."
        ),
        false,
    )
}

/// Errors by HTTP status once the specific cases are handled.
fn status_error(status: u16, body: Option<&Map<String, Value>>) -> CoreError {
    match status {
        429 => CoreError::new(
            "rate_limited",
            "Incode is limiting the rate of requests. Wait a minute, then try again.",
            true,
        ),
        500..=599 => CoreError::new(
            "incode_unavailable",
            format!("Incode is unavailable at the moment (HTTP {status}). Try again shortly."),
            true,
        ),
        400..=499 => CoreError::new(
            "incode_rejected",
            match incode_message(body) {
                Some(message) => format!("Incode refused the request (HTTP {status}): {message}"),
                None => format!("Incode refused the request (HTTP {status})."),
            },
            false,
        ),
        _ => bad_response(&format!("unexpected HTTP status {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WebhookAuth;
    use serde_json::json;

    /// The defaults with the fields these tests read.
    fn settings() -> Settings {
        Settings {
            client_id: "client-1".into(),
            integration_reference: "int-ref".into(),
            default_delivery: Delivery::Sms,
            webhook_auth: WebhookAuth::SharedSecret {
                header: "x-incode-secret".into(),
            },
            ..crate::settings::default_settings()
        }
    }

    fn secrets() -> Secrets {
        Secrets {
            api_key: "api-key-1".into(),
            client_secret: "s3cr&t =+/".into(),
            webhook_secret: String::new(),
        }
    }

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            body: body.into(),
        }
    }

    fn start(input: StartVerificationInput) -> Result<Value, CoreError> {
        start_request(&settings(), &secrets(), "tok", &input)
            .map(|request| serde_json::from_str(&request.body.unwrap_or_default()).unwrap())
    }

    fn sms(email: &str, phone: &str) -> StartVerificationInput {
        StartVerificationInput {
            email: email.into(),
            delivery: Delivery::Sms,
            phone: phone.into(),
            alternate_email: String::new(),
        }
    }

    #[test]
    fn token_request_is_form_encoded() {
        let request = token_request(&settings(), &secrets());
        assert_eq!(request.method, Method::Post);
        assert!(request.url.as_deref().unwrap().ends_with("/oauth2/token"));
        assert_eq!(
            request.body.as_deref(),
            Some(
                "grant_type=client_credentials&client_id=client-1&client_secret=s3cr%26t+%3D%2B%2F\
                 &scope=openid"
            )
        );
        assert_eq!(
            request.headers.get("Content-Type").map(String::as_str),
            Some("application/x-www-form-urlencoded")
        );
    }

    #[test]
    fn token_lifetimes_and_margins() {
        let now = 1_000_000;
        let refresh = |body: &str| parse_token(&answer(200, body), now).unwrap().refresh_at_ms;
        // 3600 s: margin 360 s (10%).
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":3600}"#),
            now + 3_240_000
        );
        // Default lifetime when absent or unreadable.
        assert_eq!(refresh(r#"{"access_token":"t"}"#), now + 3_240_000);
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":"soon"}"#),
            now + 3_240_000
        );
        // 300 s: margin 60 s.
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":"300"}"#),
            now + 240_000
        );
        // 30 s: margin larger than the lifetime; used for 5 s.
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":30}"#),
            now + 5_000
        );
        // 2 s: never beyond its own lifetime.
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":2}"#),
            now + 2_000
        );
        // Capped at one day.
        assert_eq!(
            refresh(r#"{"access_token":"t","expires_in":99999999}"#),
            now + 77_760_000
        );
        let token = parse_token(&answer(200, r#"{"access_token":" abc "}"#), now).unwrap();
        assert_eq!(token.access_token, "abc");
        assert!(!format!("{token:?}").contains("abc"));
    }

    #[test]
    fn token_errors() {
        let code = |status, body: &str| parse_token(&answer(status, body), 0).unwrap_err().code;
        assert_eq!(code(200, "{}"), "bad_response");
        assert_eq!(code(200, "<html>"), "bad_response");
        assert_eq!(code(200, r#"{"access_token":""}"#), "bad_response");
        assert_eq!(code(200, r#"{"access_token":"a b"}"#), "bad_response");
        assert_eq!(
            code(400, r#"{"error":"invalid_client"}"#),
            "bad_credentials"
        );
        assert_eq!(code(401, ""), "bad_credentials");
        assert_eq!(code(404, ""), "incode_not_found");
        assert_eq!(code(429, ""), "rate_limited");
        assert_eq!(code(502, ""), "incode_unavailable");
        let error = parse_token(&answer(503, ""), 0).unwrap_err();
        assert!(error.retryable);
    }

    #[test]
    fn start_body_for_each_delivery() {
        let body = start(sms(" Jane.Doe@Example.COM ", "+1 (415) 555-0100")).unwrap();
        assert_eq!(
            body,
            json!({"integrationReference":"int-ref","loginHint":"Jane.Doe@example.com",
                   "linkValidityInMinutes":10,"notification":{"type":"SMS","phone":"+14155550100"}})
        );
        let body = start(sms("jane@example.com", "")).unwrap();
        assert_eq!(body["notification"], json!({"type":"SMS"}));
        let mut email = sms("jane@example.com", "not used");
        email.delivery = Delivery::Email;
        assert_eq!(
            start(email.clone()).unwrap()["notification"],
            json!({"type":"EMAIL","email":"jane@example.com"})
        );
        email.alternate_email = "jane.home@Mail.Example.org".into();
        assert_eq!(
            start(email).unwrap()["notification"],
            json!({"type":"EMAIL","email":"jane.home@mail.example.org"})
        );
        let mut with_config = settings();
        with_config.configuration_id = " cfg-9 ".into();
        with_config.link_expiry_minutes = 500;
        let request = start_request(&with_config, &secrets(), "tok", &sms("a@b.co", "")).unwrap();
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["configurationId"], "cfg-9");
        assert_eq!(body["linkValidityInMinutes"], 60);
        assert_eq!(
            request.headers.get("Authorization").map(String::as_str),
            Some("Bearer tok")
        );
        assert_eq!(
            request.headers.get("x-api-key").map(String::as_str),
            Some("api-key-1")
        );
        assert_eq!(
            request.headers.get("api-version").map(String::as_str),
            Some("1.0")
        );
    }

    #[test]
    fn start_validation() {
        let code = |input| start(input).unwrap_err().code;
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@@example.com",
            "jane..doe@example.com",
            ".jane@example.com",
            "jane doe@example.com",
            "jane@exa_mple.com",
            "jane@-example.com",
            "jane@example.123",
            "jäne@example.com",
        ] {
            assert_eq!(code(sms(bad, "")), "invalid_email", "{bad}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(code(sms(&long_local, "")), "invalid_email");
        for bad in [
            "4155550100",
            "+0415555",
            "+1 415 555 0100 ext 2",
            "+123456",
            "+1234567890123456",
        ] {
            assert_eq!(code(sms("a@b.co", bad)), "invalid_phone", "{bad}");
        }
        let mut email = sms("a@b.co", "");
        email.delivery = Delivery::Email;
        email.alternate_email = "nope".into();
        assert_eq!(code(email), "invalid_alternate_email");
        let mut no_key = secrets();
        no_key.api_key = " ".into();
        assert_eq!(
            start_request(&settings(), &no_key, "tok", &sms("a@b.co", ""))
                .unwrap_err()
                .code,
            "not_configured"
        );
        assert_eq!(
            start_request(&settings(), &secrets(), "", &sms("a@b.co", ""))
                .unwrap_err()
                .code,
            "not_configured"
        );
        let mut no_ref = settings();
        no_ref.integration_reference = String::new();
        assert_eq!(
            start_request(&no_ref, &secrets(), "tok", &sms("a@b.co", ""))
                .unwrap_err()
                .code,
            "not_configured"
        );
    }

    #[test]
    fn start_answers() {
        let ok = parse_start(&answer(
            200,
            r#"{"interviewId":"65a1","url":"https://demo.incode.com/x/65a1"}"#,
        ))
        .unwrap();
        assert_eq!(ok.session_id, "65a1");
        let ok = parse_start(&answer(
            201,
            r#"{"sessionId":42,"link":"https://l.example/a"}"#,
        ))
        .unwrap();
        assert_eq!(ok.session_id, "42");
        let code = |status, body: &str| parse_start(&answer(status, body)).unwrap_err();
        assert_eq!(
            code(400, r#"{"status":4301,"message":"x"}"#).code,
            "employee_not_found"
        );
        assert_eq!(code(200, r#"{"status":"4301"}"#).code, "employee_not_found");
        assert_eq!(
            code(404, r#"{"message":"User not found in directory"}"#).code,
            "employee_not_found"
        );
        assert_eq!(
            code(
                404,
                r#"{"status":404,"error":"Not Found","path":"/omni/x"}"#
            )
            .code,
            "incode_not_found"
        );
        assert_eq!(code(401, "").code, "bad_credentials");
        // An unknown API client is not an unknown employee.
        assert_eq!(
            code(401, r#"{"message":"User not found"}"#).code,
            "bad_credentials"
        );
        assert_eq!(
            code(503, r#"{"message":"User directory not found"}"#).code,
            "incode_unavailable"
        );
        assert_eq!(code(403, r#"{"status":4301}"#).code, "employee_not_found");
        assert_eq!(code(403, "{}").code, "bad_credentials");
        let limited = code(429, "");
        assert!(limited.retryable && limited.code == "rate_limited");
        let down = code(500, "<html>");
        assert!(down.retryable && down.code == "incode_unavailable");
        let rejected = code(
            400,
            r#"{"status":400,"error":"Bad Request","message":"Invalid\nintegration reference"}"#,
        );
        assert_eq!(rejected.code, "incode_rejected");
        assert_eq!(
            rejected.message,
            "Incode refused the request (HTTP 400): Invalid integration reference (Bad Request)"
        );
        let long = code(422, &json!({ "message": "x".repeat(1000) }).to_string());
        assert!(long.message.chars().count() < 400);
        assert_eq!(code(200, "garbage").code, "bad_response");
        assert_eq!(
            code(200, r#"{"interviewId":"a","url":"javascript:alert(1)"}"#).code,
            "bad_response"
        );
        assert_eq!(
            code(200, r#"{"url":"https://x.example"}"#).code,
            "bad_response"
        );
        assert_eq!(code(302, "").code, "bad_response");
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(
            normalize_email("o'brien+it@Sub.Example.CO.uk").as_deref(),
            Some("o'brien+it@sub.example.co.uk")
        );
        assert_eq!(
            normalize_email("a@xn--bcher-kva.example").as_deref(),
            Some("a@xn--bcher-kva.example")
        );
        assert_eq!(
            normalize_phone("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalize_phone("+1.415.555.0100").as_deref(),
            Some("+14155550100")
        );
    }
}
