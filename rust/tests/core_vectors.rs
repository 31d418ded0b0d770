//! Runs the shared test vectors of settings, templates, transitions and Jira requests against the
//! native core, and checks every Jira request built against Atlassian's REST specification.
//!
//! A vector file is `{ groups: [{ function, cases: [{ name, args, expect }] }] }`; `args` are the
//! exported JavaScript function's arguments and `expect` is matched as a subset (see `subset`).
//! The Node tests run the same files against the built wasm package.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/subset.rs"]
mod common;

use incode_verify_core::admin;
use incode_verify_core::delivery::{self, token};
use incode_verify_core::jira;
use incode_verify_core::model::{
    CommentVisibility, HttpRequest, Outcome, Parsed, SecretFlags, Settings, Verification,
};
use incode_verify_core::plan::{Results, Step};
use incode_verify_core::settings;
use incode_verify_core::template::{self, AdfDoc, CompiledTemplates, TemplateVars};
use incode_verify_core::transitions::{self, TransitionChoice};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn arg<T: DeserializeOwned>(args: &[Value], index: usize, case: &str) -> T {
    let value = args
        .get(index)
        .unwrap_or_else(|| panic!("{case}: argument {index} is missing"));
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{case}: argument {index} does not deserialise: {e}"))
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Calls the Rust function behind an exported JavaScript function. Returns the serialised result
/// and the Jira requests it built (for the contract check).
fn call(function: &str, args: &[Value], case: &str) -> (Value, Vec<HttpRequest>) {
    let arity = |n: usize| assert_eq!(args.len(), n, "{case}: {function} takes {n} arguments");
    match function {
        "adminStart" => {
            arity(1);
            planned(json(&admin::start(arg(args, 0, case))))
        }
        "adminNext" => {
            arity(2);
            let results: Results = arg(args, 1, case);
            planned(json(&admin::next(arg(args, 0, case), &results)))
        }
        "privacyStart" => {
            arity(1);
            planned(json(&admin::privacy::start(arg(args, 0, case))))
        }
        "privacyNext" => {
            arity(2);
            let results: Results = arg(args, 1, case);
            planned(json(&admin::privacy::next(arg(args, 0, case), &results)))
        }
        "defaultSettings" => {
            arity(0);
            (json(&settings::default_settings()), vec![])
        }
        "validateSettings" => {
            arity(3);
            let current: Settings = arg(args, 0, case);
            let flags: SecretFlags = arg(args, 2, case);
            (
                json(&settings::validate_settings(&current, &args[1], flags)),
                vec![],
            )
        }
        "publicSettings" => {
            arity(2);
            let s: Settings = arg(args, 0, case);
            let flags: SecretFlags = arg(args, 1, case);
            (json(&settings::public_settings(&s, flags)), vec![])
        }
        "validateTemplate" => {
            arity(1);
            let source: String = arg(args, 0, case);
            (json(&template::validate_template(&source)), vec![])
        }
        "renderTemplate" => {
            arity(2);
            let source: String = arg(args, 0, case);
            let vars: TemplateVars = arg(args, 1, case);
            let parsed: Parsed<AdfDoc> = template::render_template(&source, &vars).into();
            (json(&parsed), vec![])
        }
        "Core#renderComment" => {
            arity(3);
            let s: Settings = arg(args, 0, case);
            let outcome: Outcome = arg(args, 1, case);
            let vars: TemplateVars = arg(args, 2, case);
            // As the webhook's module reads them: saved, custom templates compiled on saving.
            let code = template::template_code(&s.templates);
            let parsed: Parsed<AdfDoc> = CompiledTemplates::saved(&s.templates, &code)
                .render(outcome, &vars)
                .into();
            (json(&parsed), vec![])
        }
        "chooseTransition" => {
            arity(4);
            let outcome: Outcome = arg(args, 0, case);
            let s: Settings = arg(args, 1, case);
            let key: String = arg(args, 2, case);
            let choice = transitions::choose_transition(outcome, &s, &key, &args[3]);
            let requests = match &choice {
                TransitionChoice::Transition { request, .. } => vec![request.clone()],
                TransitionChoice::NoTransition { .. } => vec![],
            };
            (json(&choice), requests)
        }
        "commentRequest" => {
            arity(3);
            let key: String = arg(args, 0, case);
            let adf: AdfDoc = arg(args, 1, case);
            let visibility: CommentVisibility = arg(args, 2, case);
            let request = jira::comment_request(&key, &adf, visibility);
            (json(&request), vec![request])
        }
        "transitionsRequest" => {
            arity(1);
            let key: String = arg(args, 0, case);
            let request = jira::transitions_request(&key);
            (json(&request), vec![request])
        }
        "propertyRequest" => {
            arity(2);
            let key: String = arg(args, 0, case);
            let verification: Verification = arg(args, 1, case);
            let request = jira::property_request(&key, &verification.shown());
            (json(&request), vec![request])
        }
        "delivery" => (plan(args, case, delivery::start, delivery::next), vec![]),
        "token" => (plan(args, case, token::start, token::next), vec![]),
        other => panic!("{case}: no Rust function for {other}"),
    }
}

/// A planner's step, with the Jira requests it asks (their query strings left out: the contract
/// check matches paths).
fn planned(step: Value) -> (Value, Vec<HttpRequest>) {
    let requests = step["effects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("askJira"))
        .map(|e| {
            let mut request: HttpRequest = serde_json::from_value(e["request"].clone()).unwrap();
            request.path = request
                .path
                .map(|p| p.split('?').next().unwrap_or_default().to_owned());
            request
        })
        .collect();
    (step, requests)
}

/// A planner run on its vectors: `args` are the first step's input, then the results handed to
/// each next step; answers every step, in order.
fn plan<I: DeserializeOwned, S, R: serde::Serialize>(
    args: &[Value],
    case: &str,
    start: impl Fn(I) -> Step<S, R>,
    next: impl Fn(S, Results) -> Step<S, R>,
) -> Value {
    // The state stays with the planner (the binding keeps it in the module; JavaScript sees a
    // handle), so a step is shown without it.
    let mut step = start(arg(args, 0, case));
    let mut steps = Vec::new();
    for index in 1..args.len() {
        let mut state = None;
        steps.push(json(&step.held(|s| state = Some(s))));
        let state =
            state.unwrap_or_else(|| panic!("{case}: the plan ended before results {index}"));
        step = next(state, arg(args, index, case));
    }
    steps.push(json(&step.held(|_| ())));
    Value::Array(steps)
}

/// The vectors' subset match (`common/subset.rs`).
fn subset(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    common::subset(expected, actual, at, common::Absent::Fails)
}

fn run_file(file: &str) -> usize {
    let path = root().join("tests/vectors").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let groups = vectors["groups"].as_array().expect("groups");
    assert!(!groups.is_empty(), "{file}: no groups");
    let mut failures = Vec::new();
    let mut count = 0;
    for group in groups {
        let function = group["function"].as_str().expect("function");
        let cases = group["cases"].as_array().expect("cases");
        assert!(!cases.is_empty(), "{file}: {function} has no cases");
        for case in cases {
            let name = format!(
                "{file} {function}: {}",
                case["name"].as_str().expect("name")
            );
            let args = case["args"].as_array().expect("args");
            let (actual, requests) = call(function, args, &name);
            if let Err(problem) = subset(&case["expect"], &actual, "$") {
                failures.push(format!("{name}\n    {problem}"));
            }
            for request in &requests {
                if let Err(problem) = check_contract(request) {
                    failures.push(format!("{name}\n    contract: {problem}"));
                }
            }
            count += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn settings_vectors() {
    assert!(run_file("settings.json") >= 80);
}

#[test]
fn template_vectors() {
    assert!(run_file("templates.json") >= 40);
}

#[test]
fn transition_vectors() {
    assert!(run_file("transitions.json") >= 10);
}

#[test]
fn admin_vectors() {
    assert!(run_file("admin.json") >= 30);
}

#[test]
fn jira_vectors() {
    assert!(run_file("jira.json") >= 8);
}

#[test]
fn delivery_vectors() {
    assert!(run_file("delivery.json") >= 20);
}

#[test]
fn the_matcher_fails_when_it_should() {
    use serde_json::json;
    assert!(subset(&json!({"a": 1}), &json!({"a": 1, "b": 2}), "$").is_ok());
    assert!(subset(&json!({"a": 1}), &json!({"a": 2}), "$").is_err());
    assert!(subset(&json!({"a": 1}), &json!({"b": 1}), "$").is_err());
    assert!(subset(&json!([1, 2]), &json!([1, 2, 3]), "$").is_err());
    assert!(subset(&json!([{"a": 1}]), &json!([{"a": 1, "b": 0}]), "$").is_ok());
    assert!(subset(&json!([{"a": 1}]), &json!([{"a": 0}]), "$").is_err());
    assert!(subset(&json!("1"), &json!(1), "$").is_err());
    assert!(subset(&json!(null), &json!(false), "$").is_err());
    assert!(subset(&json!(1), &json!(1.0), "$").is_ok());
    assert!(subset(&json!({}), &json!([]), "$").is_err());
}

// ---------------------------------------------------------------------------------------------
// Contract check against Atlassian's Jira platform REST specification

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = root().join("dev/host/jira/jira-platform.v3.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    })
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            let target = spec
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolved $ref {reference}"));
            resolve(spec, target)
        }
        None => schema,
    }
}

/// The properties a schema declares, following `$ref` and `allOf`; `None` = no constraint.
fn properties<'a>(spec: &'a Value, schema: &'a Value) -> Option<serde_json::Map<String, Value>> {
    let schema = resolve(spec, schema);
    let mut found: Option<serde_json::Map<String, Value>> =
        schema.get("properties").and_then(Value::as_object).cloned();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(more) = properties(spec, part) {
            found.get_or_insert_with(serde_json::Map::new).extend(more);
        }
    }
    found
}

/// Every key of `value` must be a declared property, recursively through objects and arrays.
fn check_value(spec: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(spec, schema);
    match value {
        Value::Object(object) => {
            if let Some(declared) = properties(spec, schema) {
                for (key, inner) in object {
                    let Some(inner_schema) = declared.get(key) else {
                        return Err(format!("{at}.{key} is not a property of the request body"));
                    };
                    check_value(spec, inner_schema, inner, &format!("{at}.{key}"))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check_value(spec, item_schema, item, &format!("{at}[{index}]"))?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The scopes `manifest.yml` asks for (`permissions.scopes`).
fn manifest_scopes() -> &'static Vec<String> {
    static SCOPES: OnceLock<Vec<String>> = OnceLock::new();
    SCOPES.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("manifest.yml")).unwrap();
        let mut scopes = Vec::new();
        let mut inside = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed == "scopes:" {
                inside = true;
            } else if inside && trimmed.starts_with("- ") {
                scopes.push(trimmed.trim_start_matches("- ").to_owned());
            } else if inside && !trimmed.starts_with('#') && !trimmed.is_empty() {
                inside = false;
            }
        }
        scopes
    })
}

/// Whether the app's scopes cover one of the operation's scope sets (classic or granular): the
/// core builds the paths, so `forge lint` cannot see them and this is the check.
fn scopes_cover(operation: &Value) -> bool {
    let have = manifest_scopes();
    operation["x-atlassian-oauth2-scopes"]
        .as_array()
        .is_none_or(|sets| {
            sets.iter().any(|set| {
                set["scopes"].as_array().is_some_and(|needed| {
                    needed
                        .iter()
                        .all(|s| have.iter().any(|h| Some(h.as_str()) == s.as_str()))
                })
            })
        })
}

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

fn check_contract(request: &HttpRequest) -> Result<(), String> {
    let spec = spec();
    let path = request
        .path
        .as_deref()
        .ok_or("a Jira request needs a path")?;
    if request.url.is_some() {
        return Err("a Jira request must not carry an absolute url".into());
    }
    if path.contains('?') || path.contains('#') || path.contains("/../") || path.contains("//") {
        return Err(format!("{path}: the path escapes its template"));
    }
    let method = serde_json::to_value(request.method)
        .unwrap()
        .as_str()
        .unwrap()
        .to_lowercase();
    let paths = spec["paths"].as_object().ok_or("spec has no paths")?;
    let operation = paths
        .iter()
        .filter(|(template, _)| path_matches(template, path))
        .find_map(|(_, item)| item.get(&method))
        .ok_or_else(|| {
            format!(
                "{} {path} is not an operation of the Jira REST API",
                method.to_uppercase()
            )
        })?;
    if !scopes_cover(operation) {
        return Err(format!(
            "{} {path}: the manifest's scopes do not cover it",
            method.to_uppercase()
        ));
    }
    if request.headers.get("Accept").map(String::as_str) != Some("application/json") {
        return Err("Accept: application/json is missing".into());
    }
    let Some(body) = &request.body else {
        return match operation.pointer("/requestBody/required") {
            Some(Value::Bool(true)) => Err("the operation requires a body".into()),
            _ => Ok(()),
        };
    };
    if request.headers.get("Content-Type").map(String::as_str) != Some("application/json") {
        return Err("Content-Type: application/json is missing".into());
    }
    let schema = operation
        .pointer("/requestBody/content/application~1json/schema")
        .ok_or("the operation takes no JSON body")?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    if !value.is_object() {
        return Err("the body is not a JSON object".into());
    }
    // Issue property values are limited to 32 KB (per the operation's description).
    if path.contains("/properties/") && body.len() > 32_768 {
        return Err(format!(
            "property value of {} bytes exceeds 32768",
            body.len()
        ));
    }
    check_value(spec, schema, &value, "body")
}

#[test]
fn the_scope_check_needs_one_whole_scope_set() {
    let operation = |sets: Value| serde_json::json!({ "x-atlassian-oauth2-scopes": sets });
    assert!(scopes_cover(&operation(serde_json::json!([
        { "scopes": ["manage:jira-configuration"] },
        { "scopes": ["read:workflow:jira"] }
    ]))));
    assert!(!scopes_cover(&operation(serde_json::json!([
        { "scopes": ["manage:jira-configuration"] },
        { "scopes": ["read:workflow:jira", "read:nothing:jira"] }
    ]))));
    assert!(manifest_scopes().contains(&"read:jira-work".to_owned()));
}

#[test]
fn the_contract_check_rejects_what_jira_does_not_offer() {
    use incode_verify_core::model::Method;
    use std::collections::BTreeMap;
    let headers: BTreeMap<String, String> = [
        ("Accept".to_owned(), "application/json".to_owned()),
        ("Content-Type".to_owned(), "application/json".to_owned()),
    ]
    .into();
    let request = |method, path: &str, body: &str| HttpRequest {
        method,
        url: None,
        path: Some(path.to_owned()),
        headers: headers.clone(),
        body: Some(body.to_owned()),
    };
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/comment",
        r#"{"body":{}}"#
    ))
    .is_ok());
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/comment",
        r#"{"bodyy":{}}"#
    ))
    .is_err());
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/comment",
        r#"{"properties":[{"key":"k","value":1,"extra":2}]}"#
    ))
    .is_err());
    assert!(check_contract(&request(
        Method::Put,
        "/rest/api/3/issue/A-1/comment",
        r#"{"body":{}}"#
    ))
    .is_err());
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/comments",
        r#"{"body":{}}"#
    ))
    .is_err());
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/transitions",
        r#"{"transition":{"id":"1","bogus":1}}"#
    ))
    .is_err());
    assert!(check_contract(&request(
        Method::Post,
        "/rest/api/3/issue/A-1/transitions",
        r#"{"transition":{"id":"1"}}"#
    ))
    .is_ok());
}

#[test]
fn every_jira_request_builder_meets_the_contract() {
    let adf = template::render_template(
        "",
        &TemplateVars {
            outcome: "passed".into(),
            ..TemplateVars::default()
        },
    )
    .unwrap();
    let verification: Verification = serde_json::from_value(serde_json::json!({
        "id": "v", "sessionId": "s", "issueKey": "A-1", "issueId": "1", "email": "e@x.io", "name": "N",
        "delivery": "SMS", "destination": "+1***", "requestedBy": "a", "requestedByName": "A",
        "requestedAtMs": 0, "expiresAtMs": 1, "status": "failed", "statusText": "Failed - 1970-01-01 00:00:00",
        "updatedAtMs": 0, "identityId": "", "history": [], "appliedEvents": []
    }))
    .unwrap();
    for key in ["HD-1", "10001", "../x", "a/b?c#d", ""] {
        for request in [
            jira::comment_request(key, &adf, CommentVisibility::Internal),
            jira::comment_request(key, &adf, CommentVisibility::Public),
            jira::transitions_request(key),
            jira::transition_request(key, "31"),
            jira::property_request(key, &verification.shown()),
        ] {
            check_contract(&request).unwrap_or_else(|e| panic!("{key}: {e}: {request:?}"));
        }
    }
}
