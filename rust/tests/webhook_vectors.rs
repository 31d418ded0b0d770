//! Runs the shared test vectors of the webhook, incode and state modules natively:
//! `tests/vectors/{webhook,incode,state}.json`, the same files the Node tests run against the
//! built wasm package. Each case's arguments are those of the exported JS function; the answer
//! is serialised as the binding serialises it and must contain `expect` (see `matches`).

// A test that cannot proceed fails loudly: panics here are failures, not crashes on input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use incode_verify_core::model::{
    HttpAnswer, Parsed, Secrets, Settings, Verification, VerificationStatus, WebhookAuth,
};
use incode_verify_core::{incode, state, template, webhook};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn vector_file(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "vectors", name]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn arg<T: DeserializeOwned>(args: &[Value], index: usize) -> T {
    let value = args
        .get(index)
        .unwrap_or_else(|| panic!("argument {index} is missing"))
        .clone();
    serde_json::from_value(value).unwrap_or_else(|e| panic!("argument {index}: {e}"))
}

fn str_arg(args: &[Value], index: usize) -> String {
    arg::<String>(args, index)
}

/// JS numbers cross as f64 and the binding casts them to i64.
fn ms_arg(args: &[Value], index: usize) -> i64 {
    let value = args
        .get(index)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("argument {index} is not a number"));
    value as i64
}

fn json<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).expect("answers serialise")
}

/// Calls the Rust function behind an exported JS function name.
fn call(function: &str, args: &[Value]) -> Value {
    match function {
        "receiveWebhook" => {
            let input: webhook::WebhookInput = arg(args, 0);
            json(webhook::receive_webhook(&input))
        }
        "issueWebhookToken" => {
            let auth: WebhookAuth = arg(args, 0);
            json(webhook::issue_webhook_token(
                &auth,
                &str_arg(args, 1),
                &str_arg(args, 2),
                &str_arg(args, 3),
                ms_arg(args, 4),
            ))
        }
        "tokenRequest" => {
            let settings: Settings = arg(args, 0);
            let secrets: Secrets = arg(args, 1);
            json(incode::token_request(&settings, &secrets))
        }
        "parseToken" => {
            let answer: HttpAnswer = arg(args, 0);
            json(Parsed::from(incode::parse_token(&answer, ms_arg(args, 1))))
        }
        "startRequest" => {
            let settings: Settings = arg(args, 0);
            let secrets: Secrets = arg(args, 1);
            let input: incode::StartVerificationInput = arg(args, 3);
            json(Parsed::from(incode::start_request(
                &settings,
                &secrets,
                &str_arg(args, 2),
                &input,
            )))
        }
        "parseStart" => {
            let answer: HttpAnswer = arg(args, 0);
            json(Parsed::from(incode::parse_start(&answer)))
        }
        "newVerification" => {
            let input: state::NewVerificationInput = arg(args, 0);
            json(state::new_verification(&input))
        }
        "statusText" => {
            let status: VerificationStatus = arg(args, 0);
            json(state::status_text(status, ms_arg(args, 1)))
        }
        "expireIfDue" => {
            let verification: Verification = arg(args, 0);
            json(state::expire_if_due(&verification, ms_arg(args, 1)))
        }
        "cancelVerification" => {
            let verification: Verification = arg(args, 0);
            json(Parsed::from(state::cancel_verification(
                &verification,
                ms_arg(args, 1),
                &str_arg(args, 2),
            )))
        }
        "Core#applyEvent" => {
            let settings: Settings = arg(args, 0);
            // As the webhook's module reads them: saved, custom templates compiled on saving.
            let code = template::template_code(&settings.templates);
            let templates = template::CompiledTemplates::saved(&settings.templates, &code);
            let verification: Verification = arg(args, 1);
            let event = arg(args, 2);
            json(state::apply_event(
                &verification,
                &event,
                &settings,
                &templates,
                ms_arg(args, 3),
            ))
        }
        other => panic!("no function {other} in these vectors"),
    }
}

/// `expect` matched as a subset of `actual`: every key of an expected object must be present
/// and match, arrays match element by element with the same length, scalars are equal
/// (numbers by value). Returns the path and description of the first difference.
fn mismatch(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => want.iter().find_map(|(key, value)| {
            let here = format!("{path}.{key}");
            match got.get(key) {
                Some(found) => mismatch(value, found, &here),
                None => Some(format!("{here}: missing, expected {value}")),
            }
        }),
        (Value::Array(want), Value::Array(got)) => {
            if want.len() != got.len() {
                return Some(format!(
                    "{path}: {} elements, expected {}: {actual}",
                    got.len(),
                    want.len()
                ));
            }
            want.iter()
                .zip(got)
                .enumerate()
                .find_map(|(i, (w, g))| mismatch(w, g, &format!("{path}[{i}]")))
        }
        (Value::Number(want), Value::Number(got)) => {
            let same = match (want.as_i64(), got.as_i64()) {
                (Some(w), Some(g)) => w == g,
                _ => want.as_f64() == got.as_f64(),
            };
            (!same).then(|| format!("{path}: {got}, expected {want}"))
        }
        _ => (expected != actual).then(|| format!("{path}: {actual}, expected {expected}")),
    }
}

fn run(file: &str, functions: &[&str]) {
    let vectors = vector_file(file);
    let groups = vectors["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no groups"));
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut seen = Vec::new();
    for group in groups {
        let function = group["function"].as_str().expect("group function");
        seen.push(function.to_owned());
        let cases = group["cases"].as_array().expect("group cases");
        assert!(!cases.is_empty(), "{file}: {function} has no cases");
        for case in cases {
            let name = case["name"].as_str().expect("case name");
            let args = case["args"].as_array().expect("case args");
            let actual = call(function, args);
            ran += 1;
            if let Some(difference) = mismatch(&case["expect"], &actual, "$") {
                failures.push(format!("{file} {function} / {name}: {difference}"));
            }
        }
    }
    for function in functions {
        assert!(
            seen.iter().any(|s| s == function),
            "{file}: no vectors for {function}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn webhook_vectors() {
    run("webhook.json", &["receiveWebhook", "issueWebhookToken"]);
}

#[test]
fn incode_vectors() {
    run(
        "incode.json",
        &["tokenRequest", "parseToken", "startRequest", "parseStart"],
    );
}

#[test]
fn state_vectors() {
    run(
        "state.json",
        &[
            "statusText",
            "newVerification",
            "Core#applyEvent",
            "expireIfDue",
            "cancelVerification",
        ],
    );
}

#[test]
fn the_matcher_is_strict_where_it_must_be() {
    let actual = serde_json::json!({"a": 1, "b": [1, {"c": "x", "d": null}], "e": null});
    assert_eq!(mismatch(&serde_json::json!({"a": 1}), &actual, "$"), None);
    assert_eq!(
        mismatch(&serde_json::json!({"b": [1, {"c": "x"}]}), &actual, "$"),
        None
    );
    assert_eq!(
        mismatch(&serde_json::json!({"e": null}), &actual, "$"),
        None
    );
    assert!(mismatch(&serde_json::json!({"a": 2}), &actual, "$").is_some());
    assert!(mismatch(&serde_json::json!({"z": null}), &actual, "$").is_some());
    assert!(mismatch(&serde_json::json!({"b": [1]}), &actual, "$").is_some());
    assert!(mismatch(&serde_json::json!({"b": [1, {"d": 0}]}), &actual, "$").is_some());
    assert!(mismatch(&serde_json::json!({"a": "1"}), &actual, "$").is_some());
    assert!(mismatch(&serde_json::json!(null), &actual, "$").is_some());
}
