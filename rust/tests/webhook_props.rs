//! Properties of webhook authentication that must hold for every input, not just the vectors:
//! no input makes the receiver panic, no forged or altered delivery is accepted, and every
//! correctly signed JSON object gets past authentication.

// A test that cannot proceed fails loudly: panics here are failures, not crashes on input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use incode_verify_core::model::{SignatureEncoding, WebhookAuth};
use incode_verify_core::webhook::{
    is_strong_secret, issue_webhook_token, receive_webhook, HeaderValue, WebhookInput,
    WebhookReceipt,
};
use proptest::prelude::*;
use serde_json::Value;
use sha2::Sha256;

const NOW_MS: i64 = 1_795_341_605_000;
const SIGNATURE_HEADER: &str = "x-incode-signature";
const TIMESTAMP_HEADER: &str = "x-incode-timestamp";

fn tag(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ways a sender may write one signature.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    Hex,
    HexUpper,
    PrefixedHex,
    Base64,
    Base64UrlNoPad,
    PrefixedBase64,
}

impl Spelling {
    fn encoding(self) -> SignatureEncoding {
        match self {
            Spelling::Hex | Spelling::HexUpper | Spelling::PrefixedHex => SignatureEncoding::Hex,
            _ => SignatureEncoding::Base64,
        }
    }

    fn write(self, tag: &[u8]) -> String {
        match self {
            Spelling::Hex => hex(tag),
            Spelling::HexUpper => hex(tag).to_uppercase(),
            Spelling::PrefixedHex => format!("sha256={}", hex(tag)),
            Spelling::Base64 => STANDARD.encode(tag),
            Spelling::Base64UrlNoPad => URL_SAFE_NO_PAD.encode(tag),
            Spelling::PrefixedBase64 => format!("sha256={}", STANDARD.encode(tag)),
        }
    }
}

/// Secrets that meet the strength rule (a weaker one authenticates nothing).
fn strong_secret() -> impl Strategy<Value = String> {
    "[!-~]{16,40}".prop_filter("a strong secret", |s| is_strong_secret(s))
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        Just(Spelling::Hex),
        Just(Spelling::HexUpper),
        Just(Spelling::PrefixedHex),
        Just(Spelling::Base64),
        Just(Spelling::Base64UrlNoPad),
        Just(Spelling::PrefixedBase64),
    ]
}

fn hmac_auth(encoding: SignatureEncoding, with_timestamp: bool) -> WebhookAuth {
    WebhookAuth::Hmac {
        header: SIGNATURE_HEADER.to_owned(),
        encoding,
        timestamp_header: if with_timestamp {
            TIMESTAMP_HEADER.to_owned()
        } else {
            String::new()
        },
        tolerance_seconds: 300,
    }
}

/// A signed delivery: the signature covers `{timestamp}.{body}` when a timestamp is given.
fn signed(
    key: &str,
    secret: &str,
    body: &str,
    spelling: Spelling,
    timestamp: Option<i64>,
) -> WebhookInput {
    let message = match timestamp {
        Some(ts) => format!("{ts}.{body}"),
        None => body.to_owned(),
    };
    let mut headers = BTreeMap::new();
    headers.insert(
        SIGNATURE_HEADER.to_owned(),
        HeaderValue::One(spelling.write(&tag(key.as_bytes(), message.as_bytes()))),
    );
    if let Some(ts) = timestamp {
        headers.insert(
            TIMESTAMP_HEADER.to_owned(),
            HeaderValue::One(ts.to_string()),
        );
    }
    WebhookInput {
        auth: hmac_auth(spelling.encoding(), timestamp.is_some()),
        secret: secret.to_owned(),
        headers,
        body: body.to_owned(),
        now_ms: NOW_MS,
    }
}

fn is_rejected(receipt: &WebhookReceipt) -> bool {
    matches!(receipt, WebhookReceipt::Rejected { .. })
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("SESSION_SUCCEEDED"),
            Just("Session Failed"),
            Just("SESSION_COMPLETED"),
            Just("ONBOARDING_FINISHED"),
            Just("OK"),
            Just("MANUAL_REVIEW"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names, biased towards the ones the parser looks for.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("eventType"),
            Just("event_type"),
            Just("type"),
            Just("name"),
            Just("interviewId"),
            Just("id"),
            Just("identityId"),
            Just("loginHint"),
            Just("timestamp"),
            Just("data"),
            Just("payload"),
            Just("onboardingStatus"),
            Just("result"),
            Just("success"),
        ]
        .prop_map(str::to_owned),
        "[a-zA-Z_]{1,12}",
    ]
}

fn json_object() -> impl Strategy<Value = String> {
    prop::collection::btree_map(field_name(), json_value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect()).to_string())
}

fn any_auth() -> impl Strategy<Value = WebhookAuth> {
    let header = prop_oneof![Just(SIGNATURE_HEADER.to_owned()), ".{0,12}"];
    prop_oneof![
        (
            header.clone(),
            any::<bool>(),
            prop_oneof![
                Just(String::new()),
                Just(TIMESTAMP_HEADER.to_owned()),
                ".{0,8}"
            ],
            any::<u32>()
        )
            .prop_map(|(header, hex, timestamp_header, tolerance_seconds)| {
                WebhookAuth::Hmac {
                    header,
                    encoding: if hex {
                        SignatureEncoding::Hex
                    } else {
                        SignatureEncoding::Base64
                    },
                    timestamp_header,
                    tolerance_seconds,
                }
            }),
        header.prop_map(|header| WebhookAuth::SharedSecret { header }),
        (".{0,12}", any::<u32>()).prop_map(|(client_id, token_ttl_seconds)| WebhookAuth::OAuth {
            client_id,
            token_ttl_seconds
        }),
    ]
}

fn any_headers() -> impl Strategy<Value = BTreeMap<String, HeaderValue>> {
    let name = prop_oneof![
        Just(SIGNATURE_HEADER.to_owned()),
        Just("X-Incode-Signature".to_owned()),
        Just(TIMESTAMP_HEADER.to_owned()),
        Just("x-incode-secret".to_owned()),
        Just("authorization".to_owned()),
        ".{0,16}",
    ];
    let value = prop_oneof![
        ".{0,90}".prop_map(HeaderValue::One),
        "(sha256=)?[0-9a-fA-F]{0,70}".prop_map(HeaderValue::One),
        "(Bearer |bearer )v1\\.[0-9]{0,12}\\.[A-Za-z0-9_-]{0,50}".prop_map(HeaderValue::One),
        "[0-9]{0,20}".prop_map(HeaderValue::One),
        prop::collection::vec(".{0,70}", 0..4).prop_map(HeaderValue::Many),
    ];
    prop::collection::btree_map(name, value, 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_and_answers_consistently(
        auth in any_auth(),
        secret in prop_oneof![Just(String::new()), ".{1,40}"],
        headers in any_headers(),
        body in prop_oneof![".{0,300}", json_object()],
        now_ms in prop_oneof![Just(NOW_MS), any::<i64>()],
    ) {
        let input = WebhookInput { auth, secret: secret.clone(), headers, body, now_ms };
        match receive_webhook(&input) {
            WebhookReceipt::Rejected { status, reason, message } => {
                prop_assert_eq!(status, 401);
                prop_assert!(!reason.is_empty());
                if secret.chars().count() >= 8 {
                    prop_assert!(!message.contains(&secret), "message shows the secret");
                }
            }
            WebhookReceipt::Invalid { status, .. } => prop_assert_eq!(status, 400),
            WebhookReceipt::Ignored { status, .. } => prop_assert_eq!(status, 202),
            WebhookReceipt::Event { event } => {
                prop_assert!(!event.session_id.is_empty());
                prop_assert!(event.session_id.chars().count() <= 200);
                prop_assert!(!event.session_id.chars().any(char::is_control));
            }
        }
    }

    #[test]
    fn the_token_endpoint_never_panics(
        auth in any_auth(),
        secret in ".{0,20}",
        authorization in prop_oneof![".{0,40}", "Basic [A-Za-z0-9+/=%]{0,40}"],
        body in prop_oneof![".{0,80}", "([a-z_]{1,14}=[a-zA-Z0-9%+]{0,12}&?){0,5}"],
        now_ms in any::<i64>(),
    ) {
        let answer = issue_webhook_token(&auth, &secret, &authorization, &body, now_ms);
        prop_assert!(matches!(answer.status, 200 | 400 | 401));
        let parsed: Value = serde_json::from_str(&answer.body).expect("the body is JSON");
        if answer.status == 200 {
            prop_assert!(parsed["access_token"].is_string());
        } else {
            prop_assert!(parsed["error"].is_string());
        }
    }

    #[test]
    fn a_signature_made_with_another_key_is_rejected(
        secret in strong_secret(),
        other in strong_secret(),
        body in prop_oneof![".{0,300}", json_object()],
        spelling in spelling(),
        timestamp in prop::option::of(Just(NOW_MS / 1000)),
    ) {
        prop_assume!(secret != other);
        let receipt = receive_webhook(&signed(&other, &secret, &body, spelling, timestamp));
        prop_assert!(is_rejected(&receipt), "accepted: {:?}", receipt);
    }

    #[test]
    fn an_altered_body_keeps_no_signature(
        secret in strong_secret(),
        body in json_object(),
        spelling in spelling(),
        timestamp in prop::option::of(Just(NOW_MS / 1000)),
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
        how in 0..3u8,
    ) {
        let chars: Vec<char> = body.chars().collect();
        let at = position.index(chars.len().max(1));
        let altered: String = match how {
            // One character replaced.
            0 if !chars.is_empty() => chars
                .iter()
                .enumerate()
                .map(|(i, c)| if i == at { replacement } else { *c })
                .collect(),
            // One character inserted.
            1 => {
                let mut altered = chars.clone();
                altered.insert(at.min(chars.len()), replacement);
                altered.into_iter().collect()
            }
            // Cut short.
            _ => chars.iter().take(at).collect(),
        };
        prop_assume!(altered != body);
        let mut input = signed(&secret, &secret, &body, spelling, timestamp);
        input.body = altered;
        let receipt = receive_webhook(&input);
        prop_assert!(is_rejected(&receipt), "accepted: {:?}", receipt);
    }

    #[test]
    fn a_replayed_timestamp_is_rejected(
        secret in strong_secret(),
        body in json_object(),
        spelling in spelling(),
        skew in 301i64..10_000_000,
        future in any::<bool>(),
    ) {
        let ts = NOW_MS / 1000 + if future { skew } else { -skew };
        let receipt = receive_webhook(&signed(&secret, &secret, &body, spelling, Some(ts)));
        prop_assert!(is_rejected(&receipt), "accepted: {:?}", receipt);
    }

    #[test]
    fn a_correctly_signed_object_is_never_rejected(
        secret in strong_secret(),
        body in json_object(),
        spelling in spelling(),
        timestamp in prop::option::of((-300i64..=300).prop_map(|d| NOW_MS / 1000 + d)),
    ) {
        let receipt = receive_webhook(&signed(&secret, &secret, &body, spelling, timestamp));
        prop_assert!(!is_rejected(&receipt), "rejected: {:?}", receipt);
    }

    #[test]
    fn a_wrong_shared_secret_is_rejected(secret in strong_secret(), presented in ".{0,40}") {
        prop_assume!(presented.trim() != secret);
        let mut headers = BTreeMap::new();
        headers.insert("x-incode-secret".to_owned(), HeaderValue::One(presented));
        let input = WebhookInput {
            auth: WebhookAuth::SharedSecret { header: "x-incode-secret".to_owned() },
            secret,
            headers,
            body: r#"{"eventType":"SESSION_SUCCEEDED","interviewId":"s"}"#.to_owned(),
            now_ms: NOW_MS,
        };
        prop_assert!(is_rejected(&receive_webhook(&input)));
    }

    #[test]
    fn only_tokens_issued_with_the_secret_are_accepted(
        secret in strong_secret(),
        other in strong_secret(),
        ttl in 60u32..=86_400,
        age in 0i64..200_000,
    ) {
        prop_assume!(secret != other);
        let auth = WebhookAuth::OAuth { client_id: "incode".to_owned(), token_ttl_seconds: ttl };
        let token_for = |key: &str| {
            let basic = format!("Basic {}", STANDARD.encode(format!("incode:{key}")));
            let answer =
                issue_webhook_token(&auth, key, &basic, "grant_type=client_credentials", NOW_MS);
            assert_eq!(answer.status, 200, "{}", answer.body);
            let body: Value = serde_json::from_str(&answer.body).expect("json");
            body["access_token"].as_str().expect("token").to_owned()
        };
        let deliver = |token: &str, at_ms: i64| {
            let mut headers = BTreeMap::new();
            headers.insert(
                "Authorization".to_owned(),
                HeaderValue::One(format!("Bearer {token}")),
            );
            receive_webhook(&WebhookInput {
                auth: auth.clone(),
                secret: secret.clone(),
                headers,
                body: r#"{"eventType":"SESSION_STARTED","interviewId":"s"}"#.to_owned(),
                now_ms: at_ms,
            })
        };
        let at_ms = NOW_MS + age * 1000;
        let own = deliver(&token_for(&secret), at_ms);
        prop_assert_eq!(is_rejected(&own), age >= i64::from(ttl), "{:?}", own);
        prop_assert!(is_rejected(&deliver(&token_for(&other), NOW_MS)));
    }
}
