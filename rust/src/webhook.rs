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
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// The largest token request read; a client-credentials form is a few hundred bytes.
pub const MAX_TOKEN_REQUEST_BYTES: usize = 8 * 1024;

/// Which webtrigger a request reached.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Webtrigger {
    Webhook,
    Token,
}

/// A request refused before anything is read or authenticated.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RequestRefusal {
    pub status: u16,
    pub reason: String,
    /// The `Allow` header of a 405.
    pub allow: Option<String>,
}

/// Refuses, before any work, what neither webtrigger serves: another method than POST (405)
/// and a body over the endpoint's cap (413), so no one can make the app hash or store
/// megabytes. `body_bytes` is the body's UTF-8 length.
pub fn check_request(
    endpoint: Webtrigger,
    method: &str,
    body_bytes: usize,
) -> Option<RequestRefusal> {
    if !method.trim().eq_ignore_ascii_case("POST") {
        return Some(RequestRefusal {
            status: 405,
            reason: "method_not_allowed".to_owned(),
            allow: Some("POST".to_owned()),
        });
    }
    let cap = match endpoint {
        Webtrigger::Webhook => MAX_BODY_BYTES,
        Webtrigger::Token => MAX_TOKEN_REQUEST_BYTES,
    };
    (body_bytes > cap).then(|| RequestRefusal {
        status: 413,
        reason: "too_large".to_owned(),
        allow: None,
    })
}

/// The strength rule for the webhook secret, in every authentication mode (each compares a
/// delivery against it, and anyone can post guesses to the public URL): at least this many
/// visible ASCII characters (letters, digits, punctuation; no spaces), of which at least
/// `MIN_SECRET_DISTINCT_CHARS` differ. Saving refuses a weaker secret, new or kept, and a weaker
/// stored one authenticates nothing.
pub const MIN_SECRET_CHARS: usize = 16;
const MIN_SECRET_DISTINCT_CHARS: usize = 8;

/// Whether `secret` meets the strength rule (see `MIN_SECRET_CHARS`).
pub fn is_strong_secret(secret: &str) -> bool {
    let mut seen = [false; 128];
    let mut distinct = 0;
    for b in secret.bytes() {
        if !b.is_ascii_graphic() {
            return false;
        }
        if let Some(slot) = seen.get_mut(usize::from(b)) {
            if !*slot {
                *slot = true;
                distinct += 1;
            }
        }
    }
    secret.len() >= MIN_SECRET_CHARS && distinct >= MIN_SECRET_DISTINCT_CHARS
}

/// One header value, or several when the header was repeated (Forge sends arrays).
// NOTE: Deserialize is written out below rather than derived `untagged`: the derived form
// buffers each value, tries a string first and, for Forge's arrays, builds and drops an error
// message before trying an array, on every header of every delivery.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(untagged)]
pub enum HeaderValue {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> serde::de::Visitor<'de> for OneOrMany {
            type Value = HeaderValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E>(self, value: &str) -> Result<HeaderValue, E> {
                Ok(HeaderValue::One(value.to_owned()))
            }
            fn visit_string<E>(self, value: String) -> Result<HeaderValue, E> {
                Ok(HeaderValue::One(value))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<HeaderValue, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(HeaderValue::Many(values))
            }
        }
        d.deserialize_any(OneOrMany)
    }
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
#[cfg_attr(test, derive(ts_rs::TS))]
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
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum WebhookReceipt {
    /// Not authenticated (401). Nothing of the body was read.
    Rejected {
        #[cfg_attr(test, ts(type = "401"))]
        status: u16,
        reason: String,
        message: String,
    },
    /// Authenticated, but not a body this app can act on (400).
    Invalid {
        #[cfg_attr(test, ts(type = "400"))]
        status: u16,
        reason: String,
        message: String,
    },
    /// Authenticated and well formed, but not an event this app acts on (202).
    Ignored {
        #[cfg_attr(test, ts(type = "202"))]
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
    // A weak stored secret (saved by an earlier version) fails closed: guessing it over the
    // public URL takes few requests.
    if !is_strong_secret(&input.secret) {
        return reject(
            "weak_secret",
            format!(
                "The stored webhook secret is too weak to authenticate deliveries. Set a new one \
                 of at least {MIN_SECRET_CHARS} visible characters on the app's settings page, \
                 and the same in the Incode dashboard."
            ),
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

/// The names of the headers the configured authentication reads (see `authenticate`).
fn auth_header_names(auth: &WebhookAuth) -> Vec<&str> {
    match auth {
        WebhookAuth::Hmac {
            header,
            timestamp_header,
            ..
        } => vec![header.as_str(), timestamp_header.as_str()],
        WebhookAuth::SharedSecret { header } => vec![header.as_str()],
        WebhookAuth::OAuth { .. } => vec!["authorization"],
    }
}

/// A delivery's headers (an object whose values are strings or arrays of strings), keeping only
/// those the configured authentication reads: the others (a Forge delivery carries a dozen) are
/// checked for shape and dropped without being stored. The receipt is the same as with every
/// header kept.
pub fn wanted_headers<'de, D: serde::Deserializer<'de>>(
    headers: D,
    auth: &WebhookAuth,
) -> Result<BTreeMap<String, HeaderValue>, D::Error> {
    let names = auth_header_names(auth);
    serde::de::DeserializeSeed::deserialize(headers::Wanted { names: &names }, headers)
}

mod headers {
    //! The visitors of [`wanted_headers`](super::wanted_headers).

    use super::HeaderValue;
    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::fmt;

    pub(super) struct Wanted<'a> {
        pub(super) names: &'a [&'a str],
    }

    impl<'de> DeserializeSeed<'de> for Wanted<'_> {
        type Value = BTreeMap<String, HeaderValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Wanted<'_> {
        type Value = BTreeMap<String, HeaderValue>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of header names to strings or arrays of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut kept = BTreeMap::new();
            while let Some(name) = map.next_key_seed(Name { names: self.names })? {
                match name {
                    Some(name) => {
                        let value = map.next_value::<HeaderValue>()?;
                        kept.insert(name, value);
                    }
                    None => {
                        map.next_value::<Shape>()?;
                    }
                }
            }
            Ok(kept)
        }
    }

    /// A header name: kept (owned) when the authentication reads it, else None.
    struct Name<'a> {
        names: &'a [&'a str],
    }

    impl<'de> DeserializeSeed<'de> for Name<'_> {
        type Value = Option<String>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for Name<'_> {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a header name")
        }
        fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
            let wanted = self
                .names
                .iter()
                .any(|name| key.trim().eq_ignore_ascii_case(name.trim()));
            Ok(wanted.then(|| key.to_owned()))
        }
    }

    /// A header value that is not kept: a string or an array of strings, read and dropped.
    struct Shape;

    impl<'de> Deserialize<'de> for Shape {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
            d.deserialize_any(ShapeVisitor { nested: false })
        }
    }

    struct Text;

    impl<'de> Deserialize<'de> for Text {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
            d.deserialize_any(ShapeVisitor { nested: true })
                .map(|_| Text)
        }
    }

    struct ShapeVisitor {
        /// Inside an array, where only strings are allowed.
        nested: bool,
    }

    impl<'de> Visitor<'de> for ShapeVisitor {
        type Value = Shape;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(if self.nested {
                "a string"
            } else {
                "a string or an array of strings"
            })
        }
        fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
            Ok(Shape)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
            if self.nested {
                return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
            }
            while seq.next_element::<Text>()?.is_some() {}
            Ok(Shape)
        }
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
                SignatureEncoding::Hex => hex::decode(digest).ok(),
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
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TokenAnswer {
    pub status: u16,
    pub body: String,
    /// Why issuance is off, for the log only: the caller, not yet authenticated, is told no
    /// more than that its client authentication failed.
    #[serde(skip)]
    #[cfg_attr(test, ts(skip))]
    pub off: &'static str,
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
        off: "",
    }
}

/// Issuance is off (`reason`, logged): answered as a failed client authentication, so the
/// configuration is told to no one who has not authenticated.
fn token_off(reason: &'static str) -> TokenAnswer {
    TokenAnswer {
        off: reason,
        ..token_error(401, "invalid_client", "Client authentication failed.")
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
        return token_off("not_oauth");
    };
    if secret.is_empty() || client_id.trim().is_empty() {
        return token_off("not_configured");
    }
    if !is_strong_secret(secret) {
        return token_off("weak_secret");
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
        off: "",
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
    if !valid_form_encoding(trimmed) {
        return Err("The request body is not valid form encoding.".to_owned());
    }
    for (key, value) in form_urlencoded::parse(trimmed.as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        if params.contains_key(&key) {
            return Err(format!("The {} parameter is repeated.", clean(&key, 40)));
        }
        params.insert(key, value);
    }
    Ok(params)
}

/// Whether every `%` starts an escape of two hex digits and the escapes decode to UTF-8:
/// `form_urlencoded` reads anything, so a malformed form would otherwise pass as literal text.
fn valid_form_encoding(text: &str) -> bool {
    let escapes_ok = text.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit))
    });
    escapes_ok
        && percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .is_ok()
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(text: &str) -> Option<String> {
    if !valid_form_encoding(text) {
        return None;
    }
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
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
//
// The body is read in one pass by serde_json, exactly as strictly as a `serde_json::Value` (the
// same syntax, string escapes, number range and nesting limit), but nothing is built for the
// members no rule looks at: only the known keys of the body and of its `data` and `payload`
// objects are kept, and for an object under a known key only its `status` string. Where a key is
// repeated, the last value counts, as in a JSON object.

/// The keys any rule reads, in one table; the lists below are indexes into it.
const KEYS: [&str; 28] = [
    "eventType",
    "event_type",
    "event",
    "type",
    "eventName",
    "name",
    "interviewId",
    "interview_id",
    "sessionId",
    "session_id",
    "onboardingId",
    "id",
    "identityId",
    "identity_id",
    "customerId",
    "loginHint",
    "login_hint",
    "email",
    "timestamp",
    "createdAt",
    "eventTime",
    "occurredAt",
    "onboardingResult",
    "result",
    "status",
    "success",
    "onboardingStatus",
    "overallStatus",
];
type KeyList = &'static [usize];
/// Dedicated event-name keys; `type` and `name` are read only without them (see `parse_event`).
const EVENT_KEYS: KeyList = &[0, 1, 2, 4];
const TYPE_KEY: KeyList = &[3];
const NAME_KEY: KeyList = &[5];
/// Dedicated session keys; a generic `id` is read only without them.
const SESSION_KEYS: KeyList = &[6, 7, 8, 9, 10];
const GENERIC_ID_KEY: KeyList = &[11];
const IDENTITY_KEYS: KeyList = &[12, 13, 14];
const HINT_KEYS: KeyList = &[15, 16, 17];
const TIME_KEYS: KeyList = &[18, 19, 20, 21];
const RESULT_KEYS: KeyList = &[22, 23, 24, 25, 26, 27];
const LEGACY_STATUS_KEY: KeyList = &[26];

/// A value under a known key, kept only as far as a rule can use it.
#[derive(Clone, Debug, PartialEq)]
enum Field {
    Text(String),
    Bool(bool),
    /// A non-negative integer (serde_json's `PosInt`).
    PosInt(u64),
    /// A negative integer (serde_json's `NegInt`).
    NegInt(i64),
    Float(f64),
    /// An object: its `status` member, when that is a string.
    Object {
        status: Option<String>,
    },
    /// `null` or an array: no rule reads them.
    Other,
}

/// The known keys of one object.
#[derive(Clone, Debug, Default, PartialEq)]
struct Scope {
    fields: [Option<Field>; KEYS.len()],
}

impl Scope {
    fn get(&self, key: usize) -> Option<&Field> {
        self.fields.get(key).and_then(Option::as_ref)
    }
}

/// An authenticated body: the object itself and its nested `data` and `payload` objects.
#[derive(Debug, Default, PartialEq)]
struct Body {
    root: Scope,
    data: Option<Scope>,
    payload: Option<Scope>,
}

impl Body {
    /// Where fields are looked up: the body itself, then `data`, then `payload`.
    fn scopes(&self) -> Vec<&Scope> {
        let mut scopes = vec![&self.root];
        scopes.extend(self.data.as_ref());
        scopes.extend(self.payload.as_ref());
        scopes
    }
}

mod read {
    //! serde visitors for [`Body`]. Every value is read with `deserialize_any`, never skipped
    //! unread, so a body is refused for exactly the reasons a `serde_json::Value` would be.

    use super::{Body, Field, Scope, KEYS};
    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use std::fmt;

    /// What a member's key means in the object being read.
    enum Key {
        Known(usize),
        Data,
        Payload,
        Other,
    }

    struct KeySeed {
        /// Only the body itself has `data` and `payload` scopes.
        root: bool,
    }

    impl<'de> DeserializeSeed<'de> for KeySeed {
        type Value = Key;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for KeySeed {
        type Value = Key;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a member name")
        }
        fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
            Ok(match key {
                "data" if self.root => Key::Data,
                "payload" if self.root => Key::Payload,
                _ => KEYS
                    .iter()
                    .position(|known| *known == key)
                    .map_or(Key::Other, Key::Known),
            })
        }
    }

    /// Any JSON value, read in full and dropped.
    // NOTE: not serde's `IgnoredAny`: serde_json skips those without checking that a `\u` escape
    // is a valid code point or that a number fits a double, and a body must be refused exactly
    // where a `serde_json::Value` would refuse it.
    pub(super) struct Skip;

    impl<'de> Deserialize<'de> for Skip {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
            d.deserialize_any(SkipVisitor)
        }
    }

    struct SkipVisitor;

    impl<'de> Visitor<'de> for SkipVisitor {
        type Value = Skip;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_unit<E>(self) -> Result<Skip, E> {
            Ok(Skip)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
            while seq.next_element::<Skip>()?.is_some() {}
            Ok(Skip)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
            while map.next_key::<Skip>()?.is_some() {
                map.next_value::<Skip>()?;
            }
            Ok(Skip)
        }
    }

    impl<'de> Deserialize<'de> for Field {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
            d.deserialize_any(FieldVisitor)
        }
    }

    struct FieldVisitor;

    impl<'de> Visitor<'de> for FieldVisitor {
        type Value = Field;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Field, E> {
            Ok(Field::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
            Ok(match u64::try_from(v) {
                Ok(positive) => Field::PosInt(positive),
                Err(_) => Field::NegInt(v),
            })
        }
        fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
            Ok(Field::PosInt(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
            Ok(Field::Float(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Field, E> {
            Ok(Field::Text(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Field, E> {
            Ok(Field::Text(v))
        }
        fn visit_unit<E>(self) -> Result<Field, E> {
            Ok(Field::Other)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
            while seq.next_element::<Skip>()?.is_some() {}
            Ok(Field::Other)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
            let mut status = None;
            while let Some(key) = map.next_key_seed(KeySeed { root: false })? {
                match key {
                    Key::Known(index) if KEYS.get(index) == Some(&"status") => {
                        status = match map.next_value::<Field>()? {
                            Field::Text(text) => Some(text),
                            _ => None,
                        };
                    }
                    _ => {
                        map.next_value::<Skip>()?;
                    }
                }
            }
            Ok(Field::Object { status })
        }
    }

    /// A `data` or `payload` member: a scope when it is an object.
    struct MaybeScope(Option<Scope>);

    impl<'de> Deserialize<'de> for MaybeScope {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaybeScope, D::Error> {
            d.deserialize_any(ScopeVisitor { root: false })
                .map(|(scope, _)| MaybeScope(scope))
        }
    }

    struct ScopeVisitor {
        root: bool,
    }

    type ScopeRead = (Option<Scope>, Option<(Option<Scope>, Option<Scope>)>);

    impl<'de> Visitor<'de> for ScopeVisitor {
        /// The scope (None when the value is not an object) and, for the body, `data` and
        /// `payload`.
        type Value = ScopeRead;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_i64<E>(self, _: i64) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_u64<E>(self, _: u64) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_f64<E>(self, _: f64) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_str<E>(self, _: &str) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_unit<E>(self) -> Result<ScopeRead, E> {
            Ok((None, None))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ScopeRead, A::Error> {
            while seq.next_element::<Skip>()?.is_some() {}
            Ok((None, None))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScopeRead, A::Error> {
            let mut scope = Scope::default();
            let mut data = None;
            let mut payload = None;
            while let Some(key) = map.next_key_seed(KeySeed { root: self.root })? {
                match key {
                    Key::Known(index) => {
                        let value = map.next_value::<Field>()?;
                        if let Some(slot) = scope.fields.get_mut(index) {
                            *slot = Some(value);
                        }
                    }
                    Key::Data => data = map.next_value::<MaybeScope>()?.0,
                    Key::Payload => payload = map.next_value::<MaybeScope>()?.0,
                    Key::Other => {
                        map.next_value::<Skip>()?;
                    }
                }
            }
            Ok((Some(scope), Some((data, payload))))
        }
    }

    /// The body when it is a JSON object; None when it is valid JSON of another kind.
    pub(super) fn body(text: &str) -> Result<Option<Body>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let (root, nested) = deserializer.deserialize_any(ScopeVisitor { root: true })?;
        deserializer.end()?;
        Ok(root.map(|root| {
            let (data, payload) = nested.unwrap_or_default();
            Body {
                root,
                data,
                payload,
            }
        }))
    }
}

/// What an event name means once normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventName {
    Known(IncodeEventType),
    /// SESSION_COMPLETED / ONBOARDING_FINISHED: the outcome comes from the onboarding result.
    Completed,
}

/// Uppercase, with spaces, hyphens, dots and camelCase boundaries turned into single
/// underscores: "Session Succeeded", "session-succeeded", "sessionSucceeded" all give
/// SESSION_SUCCEEDED. Only ASCII letters change case: every known name is ASCII, and a
/// character such as U+017F (long s, uppercase "S") must not turn a name into a known one.
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
        if c.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
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

/// An onboarding result read from one text.
fn classify_result_text(text: &str) -> Option<IncodeEventType> {
    use IncodeEventType as T;
    match normalize_name(text).as_str() {
        "OK" | "PASS" | "PASSED" | "SUCCEEDED" | "SUCCESS" | "APPROVED" | "TRUE" => {
            Some(T::Succeeded)
        }
        "FAIL" | "FAILED" | "FAILURE" | "REJECTED" | "FALSE" => Some(T::Failed),
        "MANUAL_REVIEW" | "PENDING" | "REVIEW" | "PENDING_REVIEW" | "MANUAL_REVIEW_REQUIRED" => {
            Some(T::PendingReview)
        }
        _ => None,
    }
}

/// An onboarding result read from one field.
fn classify_result(value: &Field) -> Option<IncodeEventType> {
    match value {
        Field::Bool(true) => Some(IncodeEventType::Succeeded),
        Field::Bool(false) => Some(IncodeEventType::Failed),
        Field::Text(text) => classify_result_text(text),
        // `{ "overallStatus": { "status": "OK" } }`, as in Incode's score answers.
        Field::Object { status } => status.as_deref().and_then(classify_result_text),
        _ => None,
    }
}

/// The values under `keys`, in scope order, then key order.
fn values<'a>(scopes: &'a [&'a Scope], keys: KeyList) -> impl Iterator<Item = &'a Field> + 'a {
    scopes
        .iter()
        .flat_map(move |scope| keys.iter().filter_map(move |key| scope.get(*key)))
}

/// Drops control and bidirectional-formatting characters (which could disguise text in a
/// comment), trims, and cuts to `max` characters.
fn clean(text: &str, max: usize) -> String {
    // Printable ASCII (nearly every real value) has nothing to drop and one byte per character.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let trimmed = text.trim();
        return match trimmed.get(..max) {
            Some(head) if trimmed.len() > max => head.trim_end().to_owned(),
            _ => trimmed.to_owned(),
        };
    }
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
fn scalar_text(value: &Field) -> Option<String> {
    match value {
        Field::Text(text) => Some(text.clone()),
        Field::PosInt(number) => Some(number.to_string()),
        Field::NegInt(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The first non-empty value under any of `keys`, in scope order, cleaned and capped.
fn first_text(scopes: &[&Scope], keys: KeyList, max: usize) -> Option<String> {
    values(scopes, keys)
        .filter_map(|value| match value {
            Field::Text(text) => Some(clean(text, max)),
            other => scalar_text(other).map(|text| clean(&text, max)),
        })
        .find(|text| !text.is_empty())
}

/// Reads an authenticated body. Which field counts, in this order (vectors in
/// `tests/vectors/webhook.json`, "precedence ..."):
///
/// 1. The event name is the first non-empty text under a dedicated event key (`eventType`,
///    `event_type`, `event`, `eventName`), looked up in the body, then `data`, then `payload`;
///    only when there is none, `type` (same scopes); then the legacy `onboardingStatus`; last a
///    bare `name` (a top-level `name` is often a person's). The first name found decides: an
///    unknown one is ignored (202) and is never replaced by a recognised name found elsewhere,
///    so an event this app does not know can never become an outcome.
/// 2. A completion (SESSION_COMPLETED, ONBOARDING_FINISHED) takes its outcome from every result
///    field (`onboardingResult`, `result`, `status`, `success`, `onboardingStatus`,
///    `overallStatus`), which must agree. A completion whose result is missing, unreadable or
///    conflicting is never lost and never a pass: it becomes a pending review whose name says
///    why (`SESSION_COMPLETED (no result)`), so the agent checks the session in Incode.
/// 3. The session is the text under a dedicated session key (`interviewId`, `interview_id`,
///    `sessionId`, `session_id`, `onboardingId`), in any scope; a generic `id` counts only when
///    there is none. Dedicated keys naming different sessions make the body invalid.
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
    let Ok(Some(parsed)) = read::body(body) else {
        return WebhookReceipt::invalid("malformed_json", "The body is not a JSON object.");
    };
    let scopes = parsed.scopes();

    let named = first_text(&scopes, EVENT_KEYS, MAX_RAW_TYPE_CHARS)
        .or_else(|| first_text(&scopes, TYPE_KEY, MAX_RAW_TYPE_CHARS));
    let (raw_type, kind) = match named {
        Some(raw) => match classify_event(&normalize_name(&raw)) {
            Some(EventName::Known(kind)) => (raw, kind),
            Some(EventName::Completed) => completion(&scopes, raw),
            None => return unknown_event(raw),
        },
        None => match legacy_event(&scopes) {
            Some(Ok(found)) => found,
            Some(Err(receipt)) => return receipt,
            None => match first_text(&scopes, NAME_KEY, MAX_RAW_TYPE_CHARS) {
                Some(raw) => match classify_event(&normalize_name(&raw)) {
                    Some(EventName::Known(kind)) => (raw, kind),
                    Some(EventName::Completed) => completion(&scopes, raw),
                    None => return unknown_event(raw),
                },
                None => {
                    return WebhookReceipt::ignored(
                        "missing_event",
                        "The body names no event type.",
                        String::new(),
                    )
                }
            },
        },
    };

    let session_id = match session_of(&scopes) {
        Ok(Some(id)) => id,
        Ok(None) => {
            return WebhookReceipt::invalid(
                "missing_session",
                format!("The {raw_type} event carries no interview or session id."),
            )
        }
        Err(()) => {
            return WebhookReceipt::invalid(
                "conflicting_session",
                format!("The {raw_type} event names more than one session."),
            )
        }
    };
    WebhookReceipt::Event {
        event: IncodeEvent {
            kind,
            session_id,
            identity_id: first_text(&scopes, IDENTITY_KEYS, MAX_ID_CHARS).unwrap_or_default(),
            login_hint: first_text(&scopes, HINT_KEYS, MAX_HINT_CHARS).unwrap_or_default(),
            raw_type,
            occurred_at_ms: occurred_at_ms(&scopes),
        },
    }
}

fn unknown_event(raw: String) -> WebhookReceipt {
    WebhookReceipt::ignored(
        "unknown_event",
        format!("{raw} is not an event this app acts on."),
        raw,
    )
}

/// The session a body names: the dedicated keys, which must agree, else a generic `id`.
fn session_of(scopes: &[&Scope]) -> Result<Option<String>, ()> {
    let mut named = values(scopes, SESSION_KEYS)
        .filter_map(scalar_text)
        .map(|text| clean(&text, MAX_ID_CHARS))
        .filter(|text| !text.is_empty());
    match named.next() {
        Some(first) if named.all(|other| other == first) => Ok(Some(first)),
        Some(_) => Err(()),
        None => Ok(first_text(scopes, GENERIC_ID_KEY, MAX_ID_CHARS)),
    }
}

/// A completion's outcome; without one it agrees on, a pending review that says why.
fn completion(scopes: &[&Scope], raw: String) -> (String, IncodeEventType) {
    match resolve_result(scopes) {
        Ok(kind) => (raw, kind),
        Err(why) => (format!("{raw} ({why})"), IncodeEventType::PendingReview),
    }
}

/// A legacy callback that names no event but carries `onboardingStatus`: the status is either
/// an event name (MANUAL_REVIEW_APPROVED), a completion (ONBOARDING_FINISHED, resolved by the
/// result fields), a result itself, or an intermediate step this app ignores.
fn legacy_event(scopes: &[&Scope]) -> Option<Result<(String, IncodeEventType), WebhookReceipt>> {
    let raw = first_text(scopes, LEGACY_STATUS_KEY, MAX_RAW_TYPE_CHARS)?;
    let normalized = normalize_name(&raw);
    Some(match classify_event(&normalized) {
        Some(EventName::Known(kind)) => Ok((raw, kind)),
        Some(EventName::Completed) => Ok(completion(scopes, raw)),
        None => match classify_result_text(&raw) {
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
/// result must agree: a body that says both OK and FAIL decides nothing. Err says why not.
fn resolve_result(scopes: &[&Scope]) -> Result<IncodeEventType, &'static str> {
    let mut results = values(scopes, RESULT_KEYS).filter_map(classify_result);
    match results.next() {
        Some(first) if results.all(|other| other == first) => Ok(first),
        Some(_) => Err("conflicting results"),
        None => Err("no result"),
    }
}

/// When Incode says the event happened, in epoch ms; 0 when not given or not readable.
fn occurred_at_ms(scopes: &[&Scope]) -> i64 {
    values(scopes, TIME_KEYS)
        .find_map(field_time_ms)
        .unwrap_or(0)
}

fn field_time_ms(value: &Field) -> Option<i64> {
    match value {
        Field::NegInt(number) => epoch_number_ms(*number),
        Field::PosInt(number) => {
            // Beyond i64, the number saturates as the float it is read as (and is no time).
            epoch_number_ms(i64::try_from(*number).unwrap_or(i64::MAX))
        }
        Field::Float(number) => epoch_number_ms(number.trunc() as i64),
        Field::Text(text) => {
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

/// The same reading of a `serde_json::Value`.
#[cfg(test)]
fn time_value_ms(value: &Value) -> Option<i64> {
    let field = match value {
        Value::String(text) => Field::Text(text.clone()),
        Value::Bool(flag) => Field::Bool(*flag),
        Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
            (Some(positive), _, _) => Field::PosInt(positive),
            (None, Some(negative), _) => Field::NegInt(negative),
            (None, None, Some(float)) => Field::Float(float),
            _ => Field::Other,
        },
        _ => Field::Other,
    };
    field_time_ms(&field)
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
    fn webtriggers_take_posts_of_a_capped_size_only() {
        for method in ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", ""] {
            let refusal = check_request(Webtrigger::Webhook, method, 10).unwrap();
            assert_eq!(
                (refusal.status, refusal.allow.as_deref()),
                (405, Some("POST"))
            );
        }
        assert_eq!(
            check_request(Webtrigger::Webhook, "post", MAX_BODY_BYTES),
            None
        );
        assert_eq!(
            check_request(Webtrigger::Webhook, "POST", MAX_BODY_BYTES + 1).map(|r| r.status),
            Some(413)
        );
        assert_eq!(
            check_request(Webtrigger::Token, "POST", MAX_TOKEN_REQUEST_BYTES),
            None
        );
        assert_eq!(
            check_request(Webtrigger::Token, "POST", MAX_TOKEN_REQUEST_BYTES + 1).map(|r| r.status),
            Some(413)
        );
    }

    #[test]
    fn the_strength_rule() {
        assert!(!is_strong_secret("abc"));
        assert!(!is_strong_secret("aaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!is_strong_secret("0123456789 abcdef"));
        assert!(!is_strong_secret("0123456789abcdé"));
        assert!(is_strong_secret("0123456789abcdef"));
        assert!(is_strong_secret(SECRET));
    }

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
        let check = |input: &WebhookInput| {
            check_hmac(input, "x-incode-signature", SignatureEncoding::Hex, "", 300)
                .map_err(|r| r.reason)
        };
        assert_eq!(check(&receipt_input), Ok(()));
        // So weak a secret authenticates nothing, whatever the signature.
        assert_eq!(reason(&receive_webhook(&receipt_input)), "weak_secret");
        receipt_input.secret = "Jeff".into();
        assert_eq!(check(&receipt_input), Err("bad_signature"));
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
        // Issuance off: told as a failed client authentication, the reason kept for the log.
        let unset = issue_webhook_token(&auth, "", "", &form_ok, 0);
        assert_eq!(unset.off, "not_configured");
        assert_eq!(error(unset), (401, "invalid_client".into()));
        let hmac = hmac_auth(SignatureEncoding::Hex, "");
        let not_oauth = issue_webhook_token(&hmac, SECRET, "", &form_ok, 0);
        assert_eq!(not_oauth.off, "not_oauth");
        assert_eq!(error(not_oauth), (401, "invalid_client".into()));
        let weak = issue_webhook_token(&auth, "short", "", &form_ok, 0);
        assert_eq!(weak.off, "weak_secret");
        assert_eq!(
            weak.body,
            r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#
        );
        // Form encoding of the credentials inside Basic (RFC 6749 section 2.3.1).
        let encoded =
            base64::engine::general_purpose::STANDARD.encode("incode:a%2Bb%2Fc-0123456789abcdef");
        let answer = issue_webhook_token(
            &auth,
            "a+b/c-0123456789abcdef",
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
            // A completion is never lost and never a pass without a result that says so.
            assert_eq!(event(body).kind, T::PendingReview, "{body}");
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
        assert_eq!(at(json!("2025-11-22T08:26:40+02")), Some(1_763_792_800_000));
        assert_eq!(at(json!("2025-11-22t08:26z")), Some(1_763_799_960_000));
        assert_eq!(at(json!("1969-12-31T23:59:59Z")), None);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_name("Session Succeeded"), "SESSION_SUCCEEDED");
        assert_eq!(normalize_name(" session--failed. "), "SESSION_FAILED");
        assert_eq!(normalize_name("identityEnrolled"), "IDENTITY_ENROLLED");
        assert_eq!(normalize_name("MANUAL_REVIEW"), "MANUAL_REVIEW");
        // Only ASCII letters change case: U+017F (long s) and U+0131 (dotless i) uppercase to
        // ASCII letters, and must not make an unknown name a known one.
        assert_eq!(
            normalize_name("\u{17f}ession_\u{17f}ucceeded"),
            "\u{17f}ESSION_\u{17f}UCCEEDED"
        );
        assert_eq!(
            classify_event(&normalize_name("sess\u{131}on started")),
            None
        );
        assert_eq!(normalize_name("caf\u{e9}Ok"), "CAF\u{e9}OK");
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

    #[test]
    fn header_values_read_as_a_string_or_an_array_of_strings() {
        let read = |json: &str| serde_json::from_str::<HeaderValue>(json);
        assert_eq!(read(r#""a""#).expect("one"), HeaderValue::One("a".into()));
        assert_eq!(
            read(r#"["a","b"]"#).expect("many"),
            HeaderValue::Many(vec!["a".into(), "b".into()])
        );
        assert_eq!(read("[]").expect("none"), HeaderValue::Many(vec![]));
        for bad in ["1", "null", "{}", r#"["a",2]"#, r#"[["a"]]"#] {
            assert!(read(bad).is_err(), "{bad} must be refused");
        }
        let error = read("true").expect_err("bool").to_string();
        assert!(error.contains("a string or an array of strings"), "{error}");
    }

    #[test]
    fn webhook_auth_reads_each_mode_and_names_what_is_missing() {
        for auth in [
            WebhookAuth::Hmac {
                header: "x-sig".into(),
                encoding: SignatureEncoding::Base64,
                timestamp_header: "x-ts".into(),
                tolerance_seconds: 120,
            },
            WebhookAuth::SharedSecret {
                header: "x-secret".into(),
            },
            WebhookAuth::OAuth {
                client_id: "incode".into(),
                token_ttl_seconds: 600,
            },
        ] {
            let json = serde_json::to_string(&auth).expect("json");
            assert_eq!(
                serde_json::from_str::<WebhookAuth>(&json).expect(&json),
                auth
            );
        }
        // Fields of another mode are ignored, as an unknown field is.
        assert_eq!(
            serde_json::from_value::<WebhookAuth>(
                json!({"mode":"sharedSecret","header":"h","clientId":"c","extra":1})
            )
            .expect("shared secret"),
            WebhookAuth::SharedSecret { header: "h".into() }
        );
        let error = |value: Value| {
            serde_json::from_value::<WebhookAuth>(value)
                .expect_err("refused")
                .to_string()
        };
        assert!(
            error(json!({"mode":"hmac","header":"h","encoding":"hex","toleranceSeconds":1}))
                .contains("missing field `timestampHeader`")
        );
        assert!(error(json!({"mode":"oauth","clientId":"c"})).contains("tokenTtlSeconds"));
        assert!(error(json!({"mode":"basic","header":"h"})).contains("unknown variant `basic`"));
        assert!(error(json!({"header":"h"})).contains("missing field `mode`"));
        assert!(error(
            json!({"mode":"hmac","header":"h","encoding":"hex","timestampHeader":"",
                             "toleranceSeconds":-1})
        )
        .contains("invalid value"));
    }

    // ---- the body reader and the header filter against serde_json::Value -----------------

    use proptest::prelude::*;

    /// A field as the rules read it from a `serde_json::Value`.
    fn field_of(value: &Value) -> Field {
        match value {
            Value::String(text) => Field::Text(text.clone()),
            Value::Bool(flag) => Field::Bool(*flag),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(positive), _, _) => Field::PosInt(positive),
                (None, Some(negative), _) => Field::NegInt(negative),
                (None, None, Some(float)) => Field::Float(float),
                _ => Field::Other,
            },
            Value::Object(inner) => Field::Object {
                status: inner
                    .get("status")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Value::Null | Value::Array(_) => Field::Other,
        }
    }

    fn scope_of(object: &serde_json::Map<String, Value>) -> Scope {
        let mut scope = Scope::default();
        for (index, key) in KEYS.iter().enumerate() {
            if let Some(slot) = scope.fields.get_mut(index) {
                *slot = object.get(*key).map(field_of);
            }
        }
        scope
    }

    /// The body as a `serde_json::Value` gives it: None when not a JSON object.
    fn reference_body(text: &str) -> Result<Option<Body>, ()> {
        let value: Value = serde_json::from_str(text).map_err(|_| ())?;
        let Value::Object(root) = value else {
            return Ok(None);
        };
        let nested = |key: &str| match root.get(key) {
            Some(Value::Object(inner)) => Some(scope_of(inner)),
            _ => None,
        };
        Ok(Some(Body {
            root: scope_of(&root),
            data: nested("data"),
            payload: nested("payload"),
        }))
    }

    fn json_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\"eventType\"".to_owned()),
            Just("\"interviewId\"".to_owned()),
            Just("\"identityId\"".to_owned()),
            Just("\"status\"".to_owned()),
            Just("\"overallStatus\"".to_owned()),
            Just("\"timestamp\"".to_owned()),
            Just("\"data\"".to_owned()),
            Just("\"payload\"".to_owned()),
            Just("\"SESSION_SUCCEEDED\"".to_owned()),
            Just("\"OK\"".to_owned()),
            Just("\"a\\ud800\"".to_owned()),
            Just("\"\\ud83d\\ude00\"".to_owned()),
            Just("\"\\u0041\\n\\\"\"".to_owned()),
            Just("\"\u{1}\"".to_owned()),
            Just("\"é✅\"".to_owned()),
            Just("1e400".to_owned()),
            Just("-0".to_owned()),
            Just("01".to_owned()),
            Just("1.5".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("-9223372036854775809".to_owned()),
            Just("1795341600000".to_owned()),
            Just("true".to_owned()),
            Just("null".to_owned()),
            Just("nul".to_owned()),
            "[a-z]{1,6}".prop_map(|s| format!("\"{s}\"")),
            (0i64..100).prop_map(|n| n.to_string()),
        ];
        prop_oneof![
            3 => prop::collection::vec(piece, 0..30).prop_map(|p| p.concat()),
            // Well-formed objects with repeated and nested keys.
            2 => prop::collection::vec(
                (
                    prop::sample::select(&["eventType", "interviewId", "data", "payload", "status", "overallStatus", "x"][..]),
                    prop_oneof![
                        Just("\"SESSION_SUCCEEDED\"".to_owned()),
                        Just("{\"status\": \"OK\", \"status\": 3}".to_owned()),
                        Just("{\"interviewId\": \"s-1\", \"data\": {\"eventType\": \"x\"}}".to_owned()),
                        Just("[1, {\"a\": []}]".to_owned()),
                        Just("12".to_owned()),
                        Just("null".to_owned()),
                    ],
                ),
                0..8,
            )
            .prop_map(|members| {
                let inner: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                format!("{{{}}}", inner.join(", "))
            }),
            1 => (1usize..140).prop_map(|depth| format!("{{\"a\": {}1{}}}", "[".repeat(depth), "]".repeat(depth))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Exactly the bodies a `serde_json::Value` accepts are read, with the same fields.
        #[test]
        fn the_body_reader_agrees_with_serde_json_values(text in json_text()) {
            let ours = read::body(&text).map_err(|_| ());
            prop_assert_eq!(ours, reference_body(&text), "{:?}", text);
        }
    }

    #[test]
    fn repeated_keys_keep_the_last_value_as_a_json_object_does() {
        let body = r#"{"eventType": "SESSION_FAILED", "interviewId": "a", "eventType": "SESSION_SUCCEEDED",
            "data": {"identityId": "x"}, "data": 3, "payload": {"identityId": "y"}}"#;
        let WebhookReceipt::Event { event } = parse_event(body) else {
            panic!("an event");
        };
        assert_eq!(event.kind, IncodeEventType::Succeeded);
        assert_eq!(event.identity_id, "y", "the last `data` is not an object");
    }

    #[test]
    fn only_the_headers_the_authentication_reads_are_kept_and_the_receipt_is_the_same() {
        let vectors: Value =
            serde_json::from_str(include_str!("../../tests/vectors/webhook.json")).unwrap();
        let mut compared = 0;
        for group in vectors["groups"].as_array().unwrap() {
            if group["function"] != "receiveWebhook" {
                continue;
            }
            for case in group["cases"].as_array().unwrap() {
                let full: WebhookInput = serde_json::from_value(case["args"][0].clone()).unwrap();
                let kept = wanted_headers(&case["args"][0]["headers"], &full.auth).unwrap();
                assert!(kept.len() <= full.headers.len());
                let filtered = WebhookInput {
                    headers: kept,
                    ..full.clone()
                };
                assert_eq!(
                    receive_webhook(&filtered),
                    receive_webhook(&full),
                    "{}",
                    case["name"]
                );
                compared += 1;
            }
        }
        assert!(compared > 50);

        let auth = WebhookAuth::SharedSecret {
            header: " X-Secret ".into(),
        };
        let kept = wanted_headers(
            &json!({"x-secret":["a"],"X-SECRET ":"b","x-secrets":"c","host":["h"]}),
            &auth,
        )
        .unwrap();
        assert_eq!(
            kept.keys().collect::<Vec<_>>(),
            vec!["X-SECRET ", "x-secret"]
        );
        // Headers that are not read must still be strings or arrays of strings.
        for bad in [
            r#"{"host": 5}"#,
            r#"{"host": [5]}"#,
            r#"{"host": [["a"]]}"#,
            "[]",
            "null",
        ] {
            let value: Value = serde_json::from_str(bad).unwrap();
            assert!(wanted_headers(&value, &auth).is_err(), "{bad}");
        }
    }
}
