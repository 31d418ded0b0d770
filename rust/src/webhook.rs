//! Webhook deliveries from Incode: authentication first, then tolerant parsing.
//!
//! A delivery is authenticated over its exact raw body before a single byte of it is parsed,
//! and every comparison against the secret runs in constant time. Only an authenticated body is
//! read, and it is read tolerantly: Incode's payloads are not fully documented, so the event
//! name, session id and result are looked up under every spelling seen in the field.
//!
//! The module also issues the short-lived bearer tokens of the OAuth mode (RFC 6749 client
//! credentials). Tokens are stateless: `v1.<exp>.<mac>`, where the MAC binds the client id and
//! the expiry to the webhook secret, so checking one needs no storage.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::model::{IncodeEvent, IncodeEventType, SignatureEncoding, WebhookAuth};

type HmacSha256 = Hmac<Sha256>;

/// Larger bodies are refused after authentication; Incode's events are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Session, identity and other ids are cut to this many characters.
pub const MAX_ID_CHARS: usize = 200;
/// A login hint is an email address (at most 254 characters) with some room to spare.
const MAX_HINT_CHARS: usize = 320;
/// An event name as sent is kept for the delivery log, cut to this many characters.
const MAX_RAW_TYPE_CHARS: usize = 100;
/// At most this many signatures are tried from one delivery, so a header cannot make the
/// receiver compute an unbounded number of comparisons.
const MAX_SIGNATURE_CANDIDATES: usize = 16;
/// Bounds of the timestamp tolerance window, whatever the settings say.
const MIN_TOLERANCE_SECONDS: u32 = 30;
const MAX_TOLERANCE_SECONDS: u32 = 3600;
/// Bounds of an issued token's lifetime, whatever the settings say.
const MIN_TOKEN_TTL_SECONDS: u32 = 60;
const MAX_TOKEN_TTL_SECONDS: u32 = 86_400;
/// A token whose expiry lies further ahead than the longest lifetime (plus clock slack) was
/// not issued by this app, whatever its MAC says.
const TOKEN_FUTURE_SLACK_SECONDS: i64 = 300;
const TOKEN_VERSION: &str = "v1";
const TOKEN_CONTEXT: &str = "incode-webhook-token";
/// Timestamps above this are milliseconds, below it seconds (10^12 ms is September 2001).
const MS_THRESHOLD: i64 = 1_000_000_000_000;

/// One header value, or several when the header was repeated (Forge sends arrays).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum HeaderValue {
    One(String),
    Many(Vec<String>),
}

impl HeaderValue {
    fn values(&self) -> &[String] {
        match self {
            HeaderValue::One(value) => std::slice::from_ref(value),
            HeaderValue::Many(values) => values,
        }
    }
}

/// One delivery as the webtrigger received it, with the configured authentication.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInput {
    pub auth: WebhookAuth,
    /// The webhook secret ("" = not set).
    pub secret: String,
    pub headers: BTreeMap<String, HeaderValue>,
    /// The raw body, exactly as received.
    pub body: String,
    pub now_ms: i64,
}

// The secret never prints, not even in a debug log line.
impl std::fmt::Debug for WebhookInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookInput")
            .field("auth", &self.auth)
            .field("secret", &"..")
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("now_ms", &self.now_ms)
            .finish()
    }
}

/// The verdict on one delivery.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum WebhookReceipt {
    /// Not authenticated (401). Nothing of the body was read.
    Rejected {
        status: u16,
        reason: String,
        message: String,
    },
    /// Authenticated, but not a body this app can act on (400).
    Invalid {
        status: u16,
        reason: String,
        message: String,
    },
    /// Authenticated and well formed, but not an event this app acts on (202).
    Ignored {
        status: u16,
        reason: String,
        message: String,
        raw_type: String,
    },
    Event {
        event: IncodeEvent,
    },
}

impl WebhookReceipt {
    fn rejected(reason: &str, message: impl Into<String>) -> Self {
        WebhookReceipt::Rejected {
            status: 401,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    fn invalid(reason: &str, message: impl Into<String>) -> Self {
        WebhookReceipt::Invalid {
            status: 400,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    fn ignored(reason: &str, message: impl Into<String>, raw_type: String) -> Self {
        WebhookReceipt::Ignored {
            status: 202,
            reason: reason.to_owned(),
            message: message.into(),
            raw_type,
        }
    }
}

/// Authenticates one delivery over its exact raw body, then (only then) parses it.
pub fn receive_webhook(input: &WebhookInput) -> WebhookReceipt {
    match authenticate(input) {
        Ok(()) => parse_event(&input.body),
        Err(rejection) => WebhookReceipt::rejected(rejection.reason, rejection.message),
    }
}

/// Why a delivery was not authenticated. Messages name headers and settings, never the secret
/// or the signature that was expected.
struct Rejection {
    reason: &'static str,
    message: String,
}

fn reject<T>(reason: &'static str, message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection {
        reason,
        message: message.into(),
    })
}

fn authenticate(input: &WebhookInput) -> Result<(), Rejection> {
    if input.secret.is_empty() {
        return reject(
            "not_configured",
            "No webhook secret is configured, so no delivery can be authenticated. Set the \
             webhook secret on the app's settings page.",
        );
    }
    match &input.auth {
        WebhookAuth::Hmac {
            header,
            encoding,
            timestamp_header,
            tolerance_seconds,
        } => check_hmac(
            input,
            header,
            *encoding,
            timestamp_header,
            *tolerance_seconds,
        ),
        WebhookAuth::SharedSecret { header } => check_shared_secret(input, header),
        WebhookAuth::OAuth { client_id, .. } => check_bearer_token(input, client_id),
    }
}

/// Every non-empty value of a header, whatever the case of its name, trimmed of the optional
/// whitespace HTTP allows around values.
fn header_values<'a>(headers: &'a BTreeMap<String, HeaderValue>, name: &str) -> Vec<&'a str> {
    let name = name.trim();
    headers
        .iter()
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.values().iter())
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .collect()
}

fn check_hmac(
    input: &WebhookInput,
    header: &str,
    encoding: SignatureEncoding,
    timestamp_header: &str,
    tolerance_seconds: u32,
) -> Result<(), Rejection> {
    let header = header.trim();
    if header.is_empty() {
        return reject(
            "not_configured",
            "No signature header is configured. Set the signature header on the app's settings \
             page.",
        );
    }
    let signatures = header_values(&input.headers, header);
    if signatures.is_empty() {
        return reject(
            "missing_signature",
            format!("The delivery carried no {header} header, so it cannot be authenticated."),
        );
    }

    let timestamp_header = timestamp_header.trim();
    let timestamp = if timestamp_header.is_empty() {
        None
    } else {
        match header_values(&input.headers, timestamp_header).first() {
            Some(raw) if is_ascii_number(raw) => Some(*raw),
            Some(_) => {
                return reject(
                    "missing_timestamp",
                    format!(
                        "The {timestamp_header} header does not hold a Unix time in seconds or \
                         milliseconds."
                    ),
                )
            }
            None => {
                return reject(
                    "missing_timestamp",
                    format!(
                        "The delivery carried no {timestamp_header} header, which the signature \
                         settings require."
                    ),
                )
            }
        }
    };

    let candidates = signature_candidates(&signatures, encoding);
    if candidates.is_empty() {
        let form = match encoding {
            SignatureEncoding::Hex => "64 hexadecimal digits",
            SignatureEncoding::Base64 => "base64 of 32 bytes",
        };
        return reject(
            "malformed_signature",
            format!(
                "The {header} header does not hold an HMAC-SHA256 signature written as {form}. \
                 Check the signature encoding on the app's settings page."
            ),
        );
    }

    let Ok(mut mac) = HmacSha256::new_from_slice(input.secret.as_bytes()) else {
        return reject(
            "not_configured",
            "The webhook secret cannot be used as a key.",
        );
    };
    if let Some(raw) = timestamp {
        mac.update(raw.as_bytes());
        mac.update(b".");
    }
    mac.update(input.body.as_bytes());
    // Every candidate is compared, in constant time, whatever the earlier ones gave.
    let mut matched = false;
    for candidate in &candidates {
        matched |= mac.clone().verify_slice(candidate).is_ok();
    }
    if !matched {
        return reject(
            "bad_signature",
            format!(
                "The {header} signature does not match the body. Check that the webhook secret \
                 is the signing secret of this webhook in the Incode dashboard."
            ),
        );
    }

    if let Some(raw) = timestamp {
        let tolerance = tolerance_seconds.clamp(MIN_TOLERANCE_SECONDS, MAX_TOLERANCE_SECONDS);
        let fresh = timestamp_ms(raw).is_some_and(|at_ms| {
            at_ms.abs_diff(input.now_ms) <= u64::from(tolerance).saturating_mul(1000)
        });
        if !fresh {
            return reject(
                "stale_timestamp",
                format!(
                    "The {timestamp_header} time is more than {tolerance} seconds away from now: \
                     an old delivery replayed, or a clock out of step."
                ),
            );
        }
    }
    Ok(())
}

fn is_ascii_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A Unix time in seconds or milliseconds, as milliseconds; None when absurdly large.
fn timestamp_ms(digits: &str) -> Option<i64> {
    let value: i64 = digits.parse().ok()?;
    if value > MS_THRESHOLD {
        Some(value)
    } else {
        value.checked_mul(1000)
    }
}

/// The decodable 32-byte signatures among a header's values: each value may hold several
/// signatures separated by commas, each optionally prefixed by `sha256=`.
fn signature_candidates(values: &[&str], encoding: SignatureEncoding) -> Vec<Vec<u8>> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .take(MAX_SIGNATURE_CANDIDATES)
        .filter_map(|part| {
            let digest = strip_prefix_ignore_case(part, "sha256=")
                .unwrap_or(part)
                .trim();
            match encoding {
                SignatureEncoding::Hex => decode_hex(digest),
                SignatureEncoding::Base64 => decode_base64_any(digest),
            }
        })
        .filter(|bytes| bytes.len() == 32)
        .collect()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Hexadecimal in either case (or mixed); None unless every character is a hex digit and the
/// length is even.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let digits: Option<Vec<u8>> = text
        .chars()
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect();
    Some(
        digits?
            .chunks_exact(2)
            .map(|pair| pair.iter().fold(0u8, |acc, d| (acc << 4) | d))
            .collect(),
    )
}

/// Base64 in the standard or URL-safe alphabet, padded or not.
fn decode_base64_any(text: &str) -> Option<Vec<u8>> {
    let unpadded = text.trim_end_matches('=');
    if text.len() - unpadded.len() > 2 {
        return None;
    }
    let url_safe = unpadded.contains(['-', '_']);
    let standard = unpadded.contains(['+', '/']);
    if url_safe && standard {
        return None;
    }
    let engine = if url_safe {
        &URL_SAFE_NO_PAD
    } else {
        &STANDARD_NO_PAD
    };
    engine.decode(unpadded).ok()
}

fn check_shared_secret(input: &WebhookInput, header: &str) -> Result<(), Rejection> {
    let header = header.trim();
    if header.is_empty() {
        return reject(
            "not_configured",
            "No secret header is configured. Set the secret header on the app's settings page.",
        );
    }
    let values = header_values(&input.headers, header);
    if values.is_empty() {
        return reject(
            "missing_secret_header",
            format!("The delivery carried no {header} header, so it cannot be authenticated."),
        );
    }
    // Digests of equal length are compared, so neither the secret's length nor its content
    // shows in the time taken.
    let expected = Sha256::digest(input.secret.as_bytes());
    let mut matched = Choice::from(0);
    for value in values.iter().take(MAX_SIGNATURE_CANDIDATES) {
        matched |= Sha256::digest(value.as_bytes()).ct_eq(&expected);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        reject(
            "bad_secret",
            format!(
                "The {header} header does not hold the webhook secret. Check that the same secret \
                 is set here and in the Incode dashboard."
            ),
        )
    }
}

fn check_bearer_token(input: &WebhookInput, client_id: &str) -> Result<(), Rejection> {
    if client_id.trim().is_empty() {
        return reject(
            "not_configured",
            "No OAuth client id is configured. Set it on the app's settings page.",
        );
    }
    let token = header_values(&input.headers, "authorization")
        .into_iter()
        .find_map(|value| strip_prefix_ignore_case(value, "bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return reject(
            "missing_token",
            "The delivery carried no Authorization: Bearer token. Incode must first obtain a \
             token from the app's token URL.",
        );
    };
    match verify_token(&input.secret, client_id.trim(), token, input.now_ms) {
        TokenCheck::Valid => Ok(()),
        TokenCheck::Expired => reject(
            "token_expired",
            "The bearer token has expired. Incode should request a new one from the app's token \
             URL.",
        ),
        TokenCheck::Bad => reject(
            "bad_token",
            "The bearer token was not issued by this app for the configured client id.",
        ),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum TokenCheck {
    Valid,
    Expired,
    Bad,
}

fn token_mac(secret: &str, client_id: &str, exp: i64) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("{TOKEN_CONTEXT}|{TOKEN_VERSION}|{client_id}|{exp}").as_bytes());
    Some(mac)
}

/// `v1.<exp>.<base64url-nopad(HMAC-SHA256(secret, "incode-webhook-token|v1|<clientId>|<exp>"))>`
fn sign_token(secret: &str, client_id: &str, exp: i64) -> Option<String> {
    let tag = token_mac(secret, client_id, exp)?.finalize().into_bytes();
    Some(format!(
        "{TOKEN_VERSION}.{exp}.{}",
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

fn verify_token(secret: &str, client_id: &str, token: &str, now_ms: i64) -> TokenCheck {
    let mut parts = token.splitn(3, '.');
    let (Some(version), Some(exp_text), Some(tag_text)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return TokenCheck::Bad;
    };
    if version != TOKEN_VERSION || !is_ascii_number(exp_text) || exp_text.len() > 12 {
        return TokenCheck::Bad;
    }
    let Ok(exp) = exp_text.parse::<i64>() else {
        return TokenCheck::Bad;
    };
    // Only the canonical spelling was ever signed (no leading zeros).
    if exp.to_string() != exp_text {
        return TokenCheck::Bad;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag_text) else {
        return TokenCheck::Bad;
    };
    let Some(mac) = token_mac(secret, client_id, exp) else {
        return TokenCheck::Bad;
    };
    if mac.verify_slice(&tag).is_err() {
        return TokenCheck::Bad;
    }
    let now_s = now_ms.div_euclid(1000);
    if exp > now_s.saturating_add(i64::from(MAX_TOKEN_TTL_SECONDS) + TOKEN_FUTURE_SLACK_SECONDS) {
        return TokenCheck::Bad;
    }
    if now_s >= exp {
        return TokenCheck::Expired;
    }
    TokenCheck::Valid
}

/// The token webtrigger's answer: status and JSON body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TokenAnswer {
    pub status: u16,
    pub body: String,
}

fn token_error(status: u16, error: &str, description: &str) -> TokenAnswer {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        error: &'a str,
        error_description: &'a str,
    }
    TokenAnswer {
        status,
        body: to_json(&ErrorBody {
            error,
            error_description: description,
        }),
    }
}

/// Serialises a struct of strings and numbers, which cannot fail; should it ever, the answer is
/// still valid JSON.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| r#"{"error":"server_error"}"#.to_owned())
}

/// Answers Incode's client-credentials token request (RFC 6749 section 4.4). The client
/// authenticates with HTTP Basic or with `client_id`/`client_secret` form fields; the client
/// secret is the webhook secret.
pub fn issue_webhook_token(
    auth: &WebhookAuth,
    secret: &str,
    authorization: &str,
    body: &str,
    now_ms: i64,
) -> TokenAnswer {
    let WebhookAuth::OAuth {
        client_id,
        token_ttl_seconds,
    } = auth
    else {
        return token_error(
            400,
            "unsupported",
            "Token issuance is off: the webhook authentication mode is not OAuth.",
        );
    };
    if secret.is_empty() || client_id.trim().is_empty() {
        return token_error(
            400,
            "unsupported",
            "Token issuance is off: the OAuth client id or secret is not configured.",
        );
    }

    let params = match parse_token_params(body) {
        Ok(params) => params,
        Err(description) => return token_error(400, "invalid_request", &description),
    };

    let basic = match basic_credentials(authorization) {
        Ok(basic) => basic,
        Err(()) => {
            return token_error(
                401,
                "invalid_client",
                "The Authorization header is not valid HTTP Basic client authentication.",
            )
        }
    };
    let form_client = params.get("client_id").cloned();
    let form_secret = params.get("client_secret").cloned();
    let presented: Vec<(String, String)> =
        match (basic, form_client, form_secret) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => return token_error(
                400,
                "invalid_request",
                "The client authenticated in the Authorization header and in the body; use one.",
            ),
            (Some(candidates), None, None) => candidates,
            (None, Some(id), Some(client_secret)) => vec![(id, client_secret)],
            (None, _, _) => {
                return token_error(
                    401,
                    "invalid_client",
                    "Client authentication is required: HTTP Basic or client_id and client_secret.",
                )
            }
        };
    // Digests of equal length are compared, both halves always, so the time taken shows
    // neither how much of the id or secret was right nor their lengths.
    let expected_id = Sha256::digest(client_id.trim().as_bytes());
    let expected_secret = Sha256::digest(secret.as_bytes());
    let mut authenticated = Choice::from(0);
    for (id, client_secret) in &presented {
        let id_ok = Sha256::digest(id.as_bytes()).ct_eq(&expected_id);
        let secret_ok = Sha256::digest(client_secret.as_bytes()).ct_eq(&expected_secret);
        authenticated |= id_ok & secret_ok;
    }
    if !bool::from(authenticated) {
        return token_error(401, "invalid_client", "Client authentication failed.");
    }

    match params.get("grant_type").map(String::as_str) {
        None | Some("") => {
            return token_error(
                400,
                "invalid_request",
                "The grant_type parameter is missing.",
            )
        }
        Some("client_credentials") => {}
        Some(_) => {
            return token_error(
                400,
                "unsupported_grant_type",
                "Only the client_credentials grant is supported.",
            )
        }
    }

    let ttl = (*token_ttl_seconds).clamp(MIN_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS);
    let exp = now_ms.div_euclid(1000).saturating_add(i64::from(ttl));
    let Some(token) = sign_token(secret, client_id.trim(), exp) else {
        return token_error(
            400,
            "unsupported",
            "The webhook secret cannot be used as a key.",
        );
    };
    #[derive(Serialize)]
    struct TokenBody<'a> {
        access_token: &'a str,
        token_type: &'a str,
        expires_in: u32,
    }
    TokenAnswer {
        status: 200,
        body: to_json(&TokenBody {
            access_token: &token,
            token_type: "Bearer",
            expires_in: ttl,
        }),
    }
}

/// The token request's parameters: a form-urlencoded body as RFC 6749 requires, or (tolerated)
/// a JSON object of strings. A parameter sent twice is an error (RFC 6749 section 3.2).
fn parse_token_params(body: &str) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    let trimmed = body.trim();
    if trimmed.starts_with('{') {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(trimmed) else {
            return Err("The request body is neither a form nor a JSON object.".to_owned());
        };
        for (key, value) in object {
            if let Value::String(text) = value {
                params.insert(key, text);
            }
        }
        return Ok(params);
    }
    for pair in trimmed.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key).ok_or("The request body is not valid form encoding.")?;
        let value = form_decode(value).ok_or("The request body is not valid form encoding.")?;
        if params.contains_key(&key) {
            return Err(format!("The {} parameter is repeated.", clean(&key, 40)));
        }
        params.insert(key, value);
    }
    Ok(params)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte, UTF-8 result.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut iter = text.bytes();
    while let Some(byte) = iter.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = char::from(iter.next()?).to_digit(16)?;
                let low = char::from(iter.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// HTTP Basic credentials: Ok(None) when the header holds none, Err when it is malformed.
/// RFC 6749 (section 2.3.1) has the client form-encode the id and secret inside the base64,
/// but many clients send them raw; both readings are returned (the decoded one only when it
/// differs), and either may authenticate.
fn basic_credentials(authorization: &str) -> Result<Option<Vec<(String, String)>>, ()> {
    let authorization = authorization.trim();
    let Some(encoded) = strip_prefix_ignore_case(authorization, "basic ") else {
        return Ok(None);
    };
    let decoded = decode_base64_any(encoded.trim()).ok_or(())?;
    let text = String::from_utf8(decoded).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    let mut candidates = vec![(id.to_owned(), secret.to_owned())];
    if let (Some(id), Some(secret)) = (form_decode(id), form_decode(secret)) {
        if candidates.first() != Some(&(id.clone(), secret.clone())) {
            candidates.push((id, secret));
        }
    }
    Ok(Some(candidates))
}

// ---------------------------------------------------------------------------------------------
// Parsing an authenticated body.

const EVENT_KEYS: [&str; 6] = [
    "eventType",
    "event_type",
    "event",
    "type",
    "eventName",
    "name",
];
const SESSION_KEYS: [&str; 6] = [
    "interviewId",
    "interview_id",
    "sessionId",
    "session_id",
    "onboardingId",
    "id",
];
const IDENTITY_KEYS: [&str; 3] = ["identityId", "identity_id", "customerId"];
const HINT_KEYS: [&str; 3] = ["loginHint", "login_hint", "email"];
const TIME_KEYS: [&str; 4] = ["timestamp", "createdAt", "eventTime", "occurredAt"];
const RESULT_KEYS: [&str; 6] = [
    "onboardingResult",
    "result",
    "status",
    "success",
    "onboardingStatus",
    "overallStatus",
];
const LEGACY_STATUS_KEY: &str = "onboardingStatus";

/// What an event name means once normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventName {
    Known(IncodeEventType),
    /// SESSION_COMPLETED / ONBOARDING_FINISHED: the outcome comes from the onboarding result.
    Completed,
}

/// Uppercase, with spaces, hyphens, dots and camelCase boundaries turned into single
/// underscores: "Session Succeeded", "session-succeeded", "sessionSucceeded" all give
/// SESSION_SUCCEEDED.
fn normalize_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    let mut previous_lower = false;
    for c in raw.trim().chars() {
        if matches!(c, ' ' | '-' | '.' | '_') || c.is_whitespace() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !out.ends_with('_') {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_uppercase());
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

fn classify_event(normalized: &str) -> Option<EventName> {
    use IncodeEventType as T;
    Some(match normalized {
        "SESSION_STARTED" => EventName::Known(T::Started),
        "SESSION_PROGRESS" => EventName::Known(T::Progress),
        "SESSION_SUCCEEDED" => EventName::Known(T::Succeeded),
        "SESSION_FAILED" => EventName::Known(T::Failed),
        "SESSION_PENDING_REVIEW" | "MANUAL_REVIEW" | "MANUAL_REVIEW_REQUIRED" => {
            EventName::Known(T::PendingReview)
        }
        "IDENTITY_ENROLLED" => EventName::Known(T::IdentityEnrolled),
        "MANUAL_REVIEW_APPROVED" => EventName::Known(T::ReviewApproved),
        "MANUAL_REVIEW_REJECTED" => EventName::Known(T::ReviewRejected),
        "SESSION_COMPLETED" | "ONBOARDING_FINISHED" => EventName::Completed,
        _ => return None,
    })
}

/// An onboarding result read from one field.
fn classify_result(value: &Value) -> Option<IncodeEventType> {
    use IncodeEventType as T;
    match value {
        Value::Bool(true) => Some(T::Succeeded),
        Value::Bool(false) => Some(T::Failed),
        Value::String(text) => match normalize_name(text).as_str() {
            "OK" | "PASS" | "PASSED" | "SUCCEEDED" | "SUCCESS" | "APPROVED" | "TRUE" => {
                Some(T::Succeeded)
            }
            "FAIL" | "FAILED" | "FAILURE" | "REJECTED" | "FALSE" => Some(T::Failed),
            "MANUAL_REVIEW"
            | "PENDING"
            | "REVIEW"
            | "PENDING_REVIEW"
            | "MANUAL_REVIEW_REQUIRED" => Some(T::PendingReview),
            _ => None,
        },
        // `{ "overallStatus": { "status": "OK" } }`, as in Incode's score answers.
        Value::Object(inner) => inner
            .get("status")
            .filter(|inner_value| inner_value.is_string())
            .and_then(classify_result),
        _ => None,
    }
}

/// Where fields are looked up: the body itself, then a nested `data` or `payload` object.
fn scopes(root: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let mut scopes = vec![root];
    for key in ["data", "payload"] {
        if let Some(Value::Object(inner)) = root.get(key) {
            scopes.push(inner);
        }
    }
    scopes
}

/// Drops control and bidirectional-formatting characters (which could disguise text in a
/// comment), trims, and cuts to `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect::<String>()
        .trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A string, or an integer written as a number, as text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

/// The first non-empty value under any of `keys`, in scope order, cleaned and capped.
fn first_text(scopes: &[&Map<String, Value>], keys: &[&str], max: usize) -> Option<String> {
    scopes
        .iter()
        .flat_map(|scope| keys.iter().filter_map(|key| scope.get(*key)))
        .filter_map(scalar_text)
        .map(|text| clean(&text, max))
        .find(|text| !text.is_empty())
}

fn parse_event(body: &str) -> WebhookReceipt {
    if body.len() > MAX_BODY_BYTES {
        return WebhookReceipt::invalid(
            "too_large",
            format!(
                "The body is {} bytes; at most {MAX_BODY_BYTES} are accepted.",
                body.len()
            ),
        );
    }
    let root = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(root)) => root,
        _ => {
            return WebhookReceipt::invalid("malformed_json", "The body is not a JSON object.");
        }
    };
    let scopes = scopes(&root);

    // Event names as sent, in priority order. A recognised name anywhere wins over an
    // unrecognised one earlier (a top-level `name` may be a person's name).
    let names: Vec<String> = scopes
        .iter()
        .flat_map(|scope| EVENT_KEYS.iter().filter_map(|key| scope.get(*key)))
        .filter_map(|value| value.as_str())
        .map(|text| clean(text, MAX_RAW_TYPE_CHARS))
        .filter(|text| !text.is_empty())
        .collect();
    let recognised = names
        .iter()
        .find_map(|raw| classify_event(&normalize_name(raw)).map(|name| (raw.clone(), name)));

    let (raw_type, kind) = match recognised {
        Some((raw, EventName::Known(kind))) => (raw, kind),
        Some((raw, EventName::Completed)) => match resolve_result(&scopes, &raw) {
            Ok(kind) => (raw, kind),
            Err(receipt) => return receipt,
        },
        None => match legacy_event(&scopes) {
            Some(Ok(found)) => found,
            Some(Err(receipt)) => return receipt,
            None => {
                return match names.first() {
                    Some(raw) => WebhookReceipt::ignored(
                        "unknown_event",
                        format!("{raw} is not an event this app acts on."),
                        raw.clone(),
                    ),
                    None => WebhookReceipt::ignored(
                        "missing_event",
                        "The body names no event type.",
                        String::new(),
                    ),
                }
            }
        },
    };

    let Some(session_id) = first_text(&scopes, &SESSION_KEYS, MAX_ID_CHARS) else {
        return WebhookReceipt::invalid(
            "missing_session",
            format!("The {raw_type} event carries no interview or session id."),
        );
    };
    WebhookReceipt::Event {
        event: IncodeEvent {
            kind,
            session_id,
            identity_id: first_text(&scopes, &IDENTITY_KEYS, MAX_ID_CHARS).unwrap_or_default(),
            login_hint: first_text(&scopes, &HINT_KEYS, MAX_HINT_CHARS).unwrap_or_default(),
            raw_type,
            occurred_at_ms: occurred_at_ms(&scopes),
        },
    }
}

/// A legacy callback that names no event but carries `onboardingStatus`: the status is either
/// an event name (MANUAL_REVIEW_APPROVED), a completion (ONBOARDING_FINISHED, resolved by the
/// result fields), a result itself, or an intermediate step this app ignores.
fn legacy_event(
    scopes: &[&Map<String, Value>],
) -> Option<Result<(String, IncodeEventType), WebhookReceipt>> {
    let raw = first_text(scopes, &[LEGACY_STATUS_KEY], MAX_RAW_TYPE_CHARS)?;
    let normalized = normalize_name(&raw);
    Some(match classify_event(&normalized) {
        Some(EventName::Known(kind)) => Ok((raw, kind)),
        Some(EventName::Completed) => resolve_result(scopes, &raw).map(|kind| (raw, kind)),
        None => match classify_result(&Value::String(raw.clone())) {
            Some(kind) => Ok((raw, kind)),
            None => Err(WebhookReceipt::ignored(
                "unknown_event",
                format!("Onboarding status {raw} is not one this app acts on."),
                raw,
            )),
        },
    })
}

/// The outcome of a completed session from its result fields. Every field that reads as a
/// result must agree: a body that says both OK and FAIL decides nothing.
fn resolve_result(
    scopes: &[&Map<String, Value>],
    raw_type: &str,
) -> Result<IncodeEventType, WebhookReceipt> {
    let results: Vec<IncodeEventType> = scopes
        .iter()
        .flat_map(|scope| RESULT_KEYS.iter().filter_map(|key| scope.get(*key)))
        .filter_map(classify_result)
        .collect();
    match results.split_first() {
        Some((first, rest)) if rest.iter().all(|other| other == first) => Ok(*first),
        Some(_) => Err(WebhookReceipt::invalid(
            "unresolved_result",
            format!("The {raw_type} event carries conflicting onboarding results."),
        )),
        None => Err(WebhookReceipt::invalid(
            "unresolved_result",
            format!(
                "The {raw_type} event carries no onboarding result this app understands \
                 (onboardingResult, result, status, success, onboardingStatus or overallStatus)."
            ),
        )),
    }
}

/// When Incode says the event happened, in epoch ms; 0 when not given or not readable.
fn occurred_at_ms(scopes: &[&Map<String, Value>]) -> i64 {
    scopes
        .iter()
        .flat_map(|scope| TIME_KEYS.iter().filter_map(|key| scope.get(*key)))
        .find_map(time_value_ms)
        .unwrap_or(0)
}

fn time_value_ms(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|f| f.trunc() as i64))
            .and_then(epoch_number_ms),
        Value::String(text) => {
            let text = text.trim();
            if is_ascii_number(text) && text.len() <= 15 {
                text.parse::<i64>().ok().and_then(epoch_number_ms)
            } else {
                parse_iso8601_ms(text)
            }
        }
        _ => None,
    }
}

/// Seconds or milliseconds since the epoch, as milliseconds; None for values that are not a
/// plausible time (negative, or beyond the year 9999).
fn epoch_number_ms(value: i64) -> Option<i64> {
    const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let ms = if value > MS_THRESHOLD {
        value
    } else {
        value.checked_mul(1000)?
    };
    (value > 0 && ms <= MAX_MS).then_some(ms)
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A fixed-width run of ASCII digits at `at`.
fn digits_at(bytes: &[u8], at: usize, width: usize) -> Option<i64> {
    let run = bytes.get(at..at + width)?;
    run.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// ISO-8601 / RFC 3339 date-times: `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` (or a space
/// instead of `T`), optionally `Z` or an offset `±HH[:MM]`; no zone means UTC.
fn parse_iso8601_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let year = digits_at(bytes, 0, 4)?;
    let month = digits_at(bytes, 5, 2)?;
    let day = digits_at(bytes, 8, 2)?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let mut at = 10;
    if matches!(bytes.get(at), Some(b'T' | b't' | b' ')) {
        let hour = digits_at(bytes, at + 1, 2)?;
        let minute = digits_at(bytes, at + 4, 2)?;
        if bytes.get(at + 3) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        ms += (hour * 3600 + minute * 60) * 1000;
        at += 6;
        if bytes.get(at) == Some(&b':') {
            let second = digits_at(bytes, at + 1, 2)?;
            if second > 60 {
                return None;
            }
            ms += second.min(59) * 1000;
            at += 3;
            if matches!(bytes.get(at), Some(b'.' | b',')) {
                at += 1;
                let start = at;
                let mut fraction = 0i64;
                let mut scale = 100i64;
                while let Some(b) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                    fraction += i64::from(b - b'0') * scale;
                    scale /= 10;
                    at += 1;
                }
                if at == start {
                    return None;
                }
                ms += fraction;
            }
        }
    }
    match bytes.get(at) {
        None => {}
        Some(b'Z' | b'z') if at + 1 == bytes.len() => {}
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits_at(bytes, at + 1, 2)?;
            let rest = bytes.get(at + 3..)?;
            let minutes = match rest {
                [] => 0,
                [b':', _, _] => digits_at(bytes, at + 4, 2)?,
                [_, _] => digits_at(bytes, at + 3, 2)?,
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = (hours * 60 + minutes) * 60_000;
            // Local time = UTC + offset, so UTC = local - offset.
            ms -= if *sign == b'+' { offset } else { -offset };
        }
        _ => return None,
    }
    (ms > 0).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "whsec_test_secret";

    fn hmac_hex(key: &str, message: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("key");
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn hmac_auth(encoding: SignatureEncoding, timestamp_header: &str) -> WebhookAuth {
        WebhookAuth::Hmac {
            header: "x-incode-signature".into(),
            encoding,
            timestamp_header: timestamp_header.into(),
            tolerance_seconds: 300,
        }
    }

    fn input(auth: WebhookAuth, headers: &[(&str, &str)], body: &str) -> WebhookInput {
        WebhookInput {
            auth,
            secret: SECRET.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), HeaderValue::One((*v).to_owned())))
                .collect(),
            body: body.into(),
            now_ms: 1_763_800_000_000,
        }
    }

    fn reason(receipt: &WebhookReceipt) -> &str {
        match receipt {
            WebhookReceipt::Rejected { reason, .. }
            | WebhookReceipt::Invalid { reason, .. }
            | WebhookReceipt::Ignored { reason, .. } => reason,
            WebhookReceipt::Event { .. } => "event",
        }
    }

    fn event(body: &str) -> IncodeEvent {
        match parse_event(body) {
            WebhookReceipt::Event { event } => event,
            other => panic!("expected an event from {body}, got {other:?}"),
        }
    }

    const BODY: &str = r#"{"eventType":"SESSION_SUCCEEDED","interviewId":"abc123"}"#;

    #[test]
    fn rfc4231_case_2_anchors_the_hmac() {
        // Key "Jefe", data "what do ya want for nothing?" (RFC 4231, test case 2).
        let mut receipt_input = input(
            hmac_auth(SignatureEncoding::Hex, ""),
            &[(
                "X-Incode-Signature",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            )],
            "what do ya want for nothing?",
        );
        receipt_input.secret = "Jefe".into();
        // Authenticated (not rejected), then refused as a body that is not JSON.
        assert_eq!(reason(&receive_webhook(&receipt_input)), "malformed_json");
        receipt_input.secret = "Jeff".into();
        assert_eq!(reason(&receive_webhook(&receipt_input)), "bad_signature");
    }

    #[test]
    fn hmac_accepts_hex_in_any_case_with_prefix_and_lists() {
        let sig = hmac_hex(SECRET, BODY);
        for value in [
            sig.clone(),
            sig.to_uppercase(),
            format!("sha256={sig}"),
            format!("SHA256={}", sig.to_uppercase()),
            format!("sha256=deadbeef, sha256={sig}"),
            format!("{},{sig}", "0".repeat(64)),
        ] {
            let receipt = receive_webhook(&input(
                hmac_auth(SignatureEncoding::Hex, ""),
                &[("X-INCODE-SIGNATURE", &value)],
                BODY,
            ));
            assert_eq!(reason(&receipt), "event", "{value}");
        }
    }

    #[test]
    fn hmac_accepts_one_of_several_header_values() {
        let sig = hmac_hex(SECRET, BODY);
        let mut with_values = input(hmac_auth(SignatureEncoding::Hex, ""), &[], BODY);
        with_values.headers.insert(
            "x-incode-signature".into(),
            HeaderValue::Many(vec!["0".repeat(64), sig]),
        );
        assert_eq!(reason(&receive_webhook(&with_values)), "event");
    }

    #[test]
    fn hmac_base64_in_every_alphabet_and_padding() {
        let mut mac = HmacSha256::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(BODY.as_bytes());
        let tag = mac.finalize().into_bytes();
        let standard = base64::engine::general_purpose::STANDARD.encode(tag);
        let url = base64::engine::general_purpose::URL_SAFE.encode(tag);
        for value in [
            standard.clone(),
            standard.trim_end_matches('=').to_owned(),
            url.clone(),
            url.trim_end_matches('=').to_owned(),
            format!("sha256={standard}"),
        ] {
            let receipt = receive_webhook(&input(
                hmac_auth(SignatureEncoding::Base64, ""),
                &[("x-incode-signature", &value)],
                BODY,
            ));
            assert_eq!(reason(&receipt), "event", "{value}");
        }
        // Hex is not accepted when base64 is configured, and vice versa.
        let hex = hmac_hex(SECRET, BODY);
        let receipt = receive_webhook(&input(
            hmac_auth(SignatureEncoding::Base64, ""),
            &[("x-incode-signature", &hex)],
            BODY,
        ));
        assert_eq!(reason(&receipt), "malformed_signature");
        let receipt = receive_webhook(&input(
            hmac_auth(SignatureEncoding::Hex, ""),
            &[("x-incode-signature", &standard)],
            BODY,
        ));
        assert_eq!(reason(&receipt), "malformed_signature");
    }

    #[test]
    fn hmac_rejections() {
        let sig = hmac_hex(SECRET, BODY);
        let auth = hmac_auth(SignatureEncoding::Hex, "");
        let tampered = BODY.replace("abc123", "abc124");
        let cases: Vec<(WebhookInput, &str)> = vec![
            (input(auth.clone(), &[], BODY), "missing_signature"),
            (
                input(auth.clone(), &[("x-incode-signature", "  ")], BODY),
                "missing_signature",
            ),
            (
                input(auth.clone(), &[("x-incode-signature", &sig)], &tampered),
                "bad_signature",
            ),
            (
                input(auth.clone(), &[("x-incode-signature", &sig[..62])], BODY),
                "malformed_signature",
            ),
            (
                input(auth.clone(), &[("x-incode-signature", &sig[..63])], BODY),
                "malformed_signature",
            ),
            (
                input(
                    auth.clone(),
                    &[("x-incode-signature", &hmac_hex("other", BODY))],
                    BODY,
                ),
                "bad_signature",
            ),
            (
                input(auth.clone(), &[("x-other", &sig)], BODY),
                "missing_signature",
            ),
        ];
        for (case, expected) in cases {
            let receipt = receive_webhook(&case);
            assert_eq!(reason(&receipt), expected, "{case:?}");
            let WebhookReceipt::Rejected {
                status, message, ..
            } = &receipt
            else {
                panic!("not rejected: {receipt:?}");
            };
            assert_eq!(*status, 401);
            assert!(!message.contains(SECRET) && !message.contains(&sig));
        }
        let mut unset = input(auth, &[("x-incode-signature", &sig)], BODY);
        unset.secret.clear();
        assert_eq!(reason(&receive_webhook(&unset)), "not_configured");
    }

    #[test]
    fn hmac_with_timestamp() {
        let auth = hmac_auth(SignatureEncoding::Hex, "X-Incode-Timestamp");
        let now_s = 1_763_800_000i64;
        let signed = |ts: &str| hmac_hex(SECRET, &format!("{ts}.{BODY}"));
        let check = |ts: &str, sig: &str| {
            reason(&receive_webhook(&input(
                auth.clone(),
                &[("x-incode-signature", sig), ("x-incode-timestamp", ts)],
                BODY,
            )))
            .to_owned()
        };
        let ts = now_s.to_string();
        assert_eq!(check(&ts, &signed(&ts)), "event");
        let ts_ms = (now_s * 1000 + 250).to_string();
        assert_eq!(check(&ts_ms, &signed(&ts_ms)), "event");
        let edge = (now_s - 300).to_string();
        assert_eq!(check(&edge, &signed(&edge)), "event");
        let old = (now_s - 301).to_string();
        assert_eq!(check(&old, &signed(&old)), "stale_timestamp");
        let future = (now_s + 301).to_string();
        assert_eq!(check(&future, &signed(&future)), "stale_timestamp");
        let huge = "99999999999999999999".to_owned();
        assert_eq!(check(&huge, &signed(&huge)), "stale_timestamp");
        // The body alone is not what is signed when a timestamp header is configured.
        assert_eq!(check(&ts, &hmac_hex(SECRET, BODY)), "bad_signature");
        // A signature for another timestamp does not carry over.
        assert_eq!(check(&ts, &signed(&edge)), "bad_signature");
        assert_eq!(check("soon", &signed("soon")), "missing_timestamp");
        assert_eq!(check("-5", &signed("-5")), "missing_timestamp");
        let missing = receive_webhook(&input(
            auth.clone(),
            &[("x-incode-signature", &signed(&ts))],
            BODY,
        ));
        assert_eq!(reason(&missing), "missing_timestamp");
    }

    #[test]
    fn shared_secret() {
        let auth = WebhookAuth::SharedSecret {
            header: "x-incode-secret".into(),
        };
        let check = |headers: &[(&str, &str)]| {
            reason(&receive_webhook(&input(auth.clone(), headers, BODY))).to_owned()
        };
        assert_eq!(check(&[("X-Incode-Secret", SECRET)]), "event");
        assert_eq!(
            check(&[("x-incode-secret", &format!(" {SECRET} "))]),
            "event"
        );
        assert_eq!(check(&[]), "missing_secret_header");
        assert_eq!(
            check(&[("x-incode-secret", "whsec_test_secre")]),
            "bad_secret"
        );
        assert_eq!(
            check(&[("x-incode-secret", "whsec_test_secret2")]),
            "bad_secret"
        );
        let mut empty = input(auth, &[("x-incode-secret", "")], BODY);
        empty.secret.clear();
        assert_eq!(reason(&receive_webhook(&empty)), "not_configured");
    }

    #[test]
    fn oauth_token_round_trip() {
        let auth = WebhookAuth::OAuth {
            client_id: "incode".into(),
            token_ttl_seconds: 3600,
        };
        let now_ms = 1_763_800_000_000;
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("incode:{SECRET}"))
        );
        let answer = issue_webhook_token(
            &auth,
            SECRET,
            &basic,
            "grant_type=client_credentials",
            now_ms,
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).expect("json");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().expect("token").to_owned();
        assert!(token.starts_with("v1.1763803600."), "{token}");

        let deliver = |token: &str, at_ms: i64| {
            let mut delivery = input(
                auth.clone(),
                &[("Authorization", &format!("Bearer {token}"))],
                BODY,
            );
            delivery.now_ms = at_ms;
            reason(&receive_webhook(&delivery)).to_owned()
        };
        assert_eq!(deliver(&token, now_ms), "event");
        assert_eq!(deliver(&token, now_ms + 3_599_999), "event");
        assert_eq!(deliver(&token, now_ms + 3_600_000), "token_expired");
        // Changing the expiry invalidates the MAC.
        assert_eq!(
            deliver(&token.replace("1763803600", "1763809999"), now_ms),
            "bad_token"
        );
        // Another client id or secret does not verify.
        assert_eq!(
            verify_token("other", "incode", &token, now_ms),
            TokenCheck::Bad
        );
        assert_eq!(
            verify_token(SECRET, "incode2", &token, now_ms),
            TokenCheck::Bad
        );
        assert_eq!(deliver("v1.abc.def", now_ms), "bad_token");
        assert_eq!(deliver("garbage", now_ms), "bad_token");
        let mut no_token = input(auth.clone(), &[], BODY);
        no_token.now_ms = now_ms;
        assert_eq!(reason(&receive_webhook(&no_token)), "missing_token");
        let basic_header = input(auth, &[("authorization", &basic)], BODY);
        assert_eq!(reason(&receive_webhook(&basic_header)), "missing_token");
    }

    #[test]
    fn client_id_whitespace_is_ignored_on_both_sides() {
        let auth = WebhookAuth::OAuth {
            client_id: " incode ".into(),
            token_ttl_seconds: 600,
        };
        let form = format!("grant_type=client_credentials&client_id=incode&client_secret={SECRET}");
        let answer = issue_webhook_token(&auth, SECRET, "", &form, 1_763_800_000_000);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body: Value = serde_json::from_str(&answer.body).expect("json");
        let token = body["access_token"].as_str().expect("token");
        let delivery = input(auth, &[("authorization", &format!("Bearer {token}"))], BODY);
        assert_eq!(reason(&receive_webhook(&delivery)), "event");
    }

    #[test]
    fn token_endpoint_errors() {
        let auth = WebhookAuth::OAuth {
            client_id: "incode".into(),
            token_ttl_seconds: 600,
        };
        let error = |answer: TokenAnswer| {
            let body: Value = serde_json::from_str(&answer.body).expect("json");
            (
                answer.status,
                body["error"].as_str().unwrap_or("").to_owned(),
            )
        };
        let form_ok = format!(
            "grant_type=client_credentials&client_id=incode&client_secret={}",
            SECRET
        );
        assert_eq!(
            issue_webhook_token(&auth, SECRET, "", &form_ok, 0).status,
            200
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "",
                "grant_type=client_credentials",
                0
            )),
            (401, "invalid_client".into())
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "",
                "grant_type=client_credentials&client_id=incode&client_secret=nope",
                0
            )),
            (401, "invalid_client".into())
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "",
                &format!("grant_type=password&client_id=incode&client_secret={SECRET}"),
                0
            )),
            (400, "unsupported_grant_type".into())
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "",
                &format!("client_id=incode&client_secret={SECRET}"),
                0
            )),
            (400, "invalid_request".into())
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "",
                &format!("{form_ok}&grant_type=client_credentials"),
                0
            )),
            (400, "invalid_request".into())
        );
        assert_eq!(
            error(issue_webhook_token(
                &auth,
                SECRET,
                "Basic !!!",
                "grant_type=client_credentials",
                0
            )),
            (401, "invalid_client".into())
        );
        assert_eq!(
            error(issue_webhook_token(&auth, "", "", &form_ok, 0)),
            (400, "unsupported".into())
        );
        let hmac = hmac_auth(SignatureEncoding::Hex, "");
        assert_eq!(
            error(issue_webhook_token(&hmac, SECRET, "", &form_ok, 0)),
            (400, "unsupported".into())
        );
        // Form encoding of the credentials inside Basic (RFC 6749 section 2.3.1).
        let encoded = base64::engine::general_purpose::STANDARD.encode("incode:a%2Bb+c");
        let answer = issue_webhook_token(
            &auth,
            "a+b c",
            &format!("basic {encoded}"),
            "grant_type=client_credentials&scope=webhooks",
            0,
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    #[test]
    fn event_names_in_every_spelling() {
        use IncodeEventType as T;
        let cases = [
            (
                r#"{"eventType":"SESSION_STARTED","interviewId":"s"}"#,
                T::Started,
            ),
            (
                r#"{"event_type":"session_progress","interviewId":"s"}"#,
                T::Progress,
            ),
            (
                r#"{"event":"Session Succeeded","interviewId":"s"}"#,
                T::Succeeded,
            ),
            (r#"{"type":"session-failed","interviewId":"s"}"#, T::Failed),
            (
                r#"{"eventName":"sessionPendingReview","interviewId":"s"}"#,
                T::PendingReview,
            ),
            (
                r#"{"name":"MANUAL_REVIEW","interviewId":"s"}"#,
                T::PendingReview,
            ),
            (
                r#"{"name":"manual.review.required","interviewId":"s"}"#,
                T::PendingReview,
            ),
            (
                r#"{"data":{"eventType":"IDENTITY_ENROLLED","interviewId":"s"}}"#,
                T::IdentityEnrolled,
            ),
            (
                r#"{"payload":{"eventType":"MANUAL_REVIEW_APPROVED"},"interviewId":"s"}"#,
                T::ReviewApproved,
            ),
            (
                r#"{"eventType":"Manual Review Rejected","interviewId":"s"}"#,
                T::ReviewRejected,
            ),
            (
                r#"{"name":"Jane Doe","data":{"eventType":"SESSION_SUCCEEDED"},"interviewId":"s"}"#,
                T::Succeeded,
            ),
        ];
        for (body, kind) in cases {
            assert_eq!(event(body).kind, kind, "{body}");
        }
        assert_eq!(event(cases[2].0).raw_type, "Session Succeeded");
    }

    #[test]
    fn completed_sessions_resolve_by_result() {
        use IncodeEventType as T;
        let cases = [
            (
                r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","onboardingResult":"OK"}"#,
                T::Succeeded,
            ),
            (
                r#"{"eventType":"ONBOARDING_FINISHED","interviewId":"s","result":"fail"}"#,
                T::Failed,
            ),
            (
                r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","success":true}"#,
                T::Succeeded,
            ),
            (
                r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","success":false}"#,
                T::Failed,
            ),
            (
                r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","status":"MANUAL_REVIEW"}"#,
                T::PendingReview,
            ),
            (
                r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","data":{"overallStatus":{"status":"OK"}}}"#,
                T::Succeeded,
            ),
            (
                r#"{"interviewId":"s","onboardingStatus":"ONBOARDING_FINISHED","overallStatus":"FAIL"}"#,
                T::Failed,
            ),
            (
                r#"{"interviewId":"s","onboardingStatus":"MANUAL_REVIEW_APPROVED"}"#,
                T::ReviewApproved,
            ),
            (
                r#"{"interviewId":"s","onboardingStatus":"SUCCESS"}"#,
                T::Succeeded,
            ),
        ];
        for (body, kind) in cases {
            assert_eq!(event(body).kind, kind, "{body}");
        }
        for body in [
            r#"{"eventType":"SESSION_COMPLETED","interviewId":"s"}"#,
            r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","result":"WARN"}"#,
            r#"{"eventType":"SESSION_COMPLETED","interviewId":"s","result":"OK","success":false}"#,
            r#"{"interviewId":"s","onboardingStatus":"ONBOARDING_FINISHED"}"#,
        ] {
            assert_eq!(reason(&parse_event(body)), "unresolved_result", "{body}");
        }
        assert_eq!(
            parse_event(r#"{"interviewId":"s","onboardingStatus":"ID_VALIDATION_FINISHED"}"#),
            WebhookReceipt::Ignored {
                status: 202,
                reason: "unknown_event".into(),
                message: "Onboarding status ID_VALIDATION_FINISHED is not one this app acts on."
                    .into(),
                raw_type: "ID_VALIDATION_FINISHED".into(),
            }
        );
    }

    #[test]
    fn fields_are_found_cleaned_and_capped() {
        let e = event(
            r#"{"eventType":"SESSION_SUCCEEDED","data":{"session_id":12345,
                "customerId":"id\u0000ent\u202Eity","login_hint":" a@b.co "},
                "createdAt":"2025-11-22T08:26:40Z"}"#,
        );
        assert_eq!(e.session_id, "12345");
        assert_eq!(e.identity_id, "identity");
        assert_eq!(e.login_hint, "a@b.co");
        assert_eq!(e.occurred_at_ms, 1_763_800_000_000);
        let long = "x".repeat(500);
        let e = event(&format!(
            r#"{{"eventType":"SESSION_STARTED","interviewId":"{long}"}}"#
        ));
        assert_eq!(e.session_id.chars().count(), MAX_ID_CHARS);
        assert_eq!(e.occurred_at_ms, 0);
        assert_eq!(
            reason(&parse_event(
                r#"{"eventType":"SESSION_STARTED","interviewId":""}"#
            )),
            "missing_session"
        );
        assert_eq!(
            reason(&parse_event(r#"{"eventType":"SESSION_STARTED"}"#)),
            "missing_session"
        );
        assert_eq!(reason(&parse_event("[1,2]")), "malformed_json");
        assert_eq!(reason(&parse_event("{")), "malformed_json");
        assert_eq!(
            reason(&parse_event(r#"{"eventType":"FOO"}"#)),
            "unknown_event"
        );
        assert_eq!(
            reason(&parse_event(r#"{"hello":"world"}"#)),
            "missing_event"
        );
        let big = format!(
            r#"{{"eventType":"SESSION_STARTED","pad":"{}"}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        assert_eq!(reason(&parse_event(&big)), "too_large");
    }

    #[test]
    fn times_in_seconds_milliseconds_and_iso() {
        let at = |value: Value| time_value_ms(&value);
        assert_eq!(at(json!(1_763_800_000)), Some(1_763_800_000_000));
        assert_eq!(at(json!(1_763_800_000_123i64)), Some(1_763_800_000_123));
        assert_eq!(at(json!(1_763_800_000.9)), Some(1_763_800_000_000));
        assert_eq!(at(json!("1763800000")), Some(1_763_800_000_000));
        assert_eq!(at(json!("2025-11-22T08:26:40.5Z")), Some(1_763_800_000_500));
        assert_eq!(
            at(json!("2025-11-22T10:26:40+02:00")),
            Some(1_763_800_000_000)
        );
        assert_eq!(
            at(json!("2025-11-22T03:26:40-0500")),
            Some(1_763_800_000_000)
        );
        assert_eq!(at(json!("2025-11-22 08:26:40")), Some(1_763_800_000_000));
        assert_eq!(at(json!("2025-11-22")), Some(1_763_769_600_000));
        assert_eq!(at(json!("2024-02-29T00:00:00Z")), Some(1_709_164_800_000));
        assert_eq!(at(json!("2025-02-29T00:00:00Z")), None);
        assert_eq!(at(json!("2025-11-22T25:00:00Z")), None);
        assert_eq!(at(json!("2025-11-22T08:26:40Zjunk")), None);
        assert_eq!(at(json!("yesterday")), None);
        assert_eq!(at(json!(-5)), None);
        assert_eq!(at(json!(true)), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_name("Session Succeeded"), "SESSION_SUCCEEDED");
        assert_eq!(normalize_name(" session--failed. "), "SESSION_FAILED");
        assert_eq!(normalize_name("identityEnrolled"), "IDENTITY_ENROLLED");
        assert_eq!(normalize_name("MANUAL_REVIEW"), "MANUAL_REVIEW");
    }

    #[test]
    fn receipts_serialise_as_the_contract() {
        let receipt = parse_event(r#"{"eventType":"NEW_THING","interviewId":"s"}"#);
        assert_eq!(
            serde_json::to_value(&receipt).expect("json"),
            json!({"kind":"ignored","status":202,"reason":"unknown_event",
                   "message":"NEW_THING is not an event this app acts on.","rawType":"NEW_THING"})
        );
        let receipt = parse_event(
            r#"{"eventType":"SESSION_STARTED","interviewId":"s","loginHint":"a@b.co","timestamp":1763800000}"#,
        );
        assert_eq!(
            serde_json::to_value(&receipt).expect("json"),
            json!({"kind":"event","event":{"type":"started","sessionId":"s","identityId":"",
                   "loginHint":"a@b.co","rawType":"SESSION_STARTED","occurredAtMs":1763800000000i64}})
        );
        let parsed: WebhookInput = serde_json::from_value(json!({
            "auth": {"mode":"sharedSecret","header":"x-incode-secret"},
            "secret": "s", "headers": {"a": "1", "b": ["2", "3"]}, "body": "{}", "nowMs": 5
        }))
        .expect("input");
        assert_eq!(
            parsed.headers.get("b"),
            Some(&HeaderValue::Many(vec!["2".into(), "3".into()]))
        );
        assert!(!format!("{parsed:?}").contains("secret: \"s\""));
    }
}
