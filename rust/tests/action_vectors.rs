//! Runs the planners' vectors (`tests/vectors/actions/*.json`) natively. A file is
//! `{ planner, cases: [{ name, start, steps: [{ results?, expect }] }] }`: the first step is
//! `start(start)`, each later one `next(state, results)` with the state the step before
//! answered (carried as JSON, as it crosses to the executor and back); `expect` is matched as a
//! subset (objects by key, arrays element by element with the same length).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/subset.rs"]
mod common;

use incode_verify_core::actions::{cancel, open, portal, send, sweep};
use incode_verify_core::gate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

fn typed<T: DeserializeOwned>(value: &Value, what: &str) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn start(planner: &str, input: &Value) -> Value {
    match planner {
        "send" => json(&send::start(typed(input, "send input"))),
        "open" => json(&open::start(typed(input, "open input"))),
        "cancel" => json(&cancel::start(typed(input, "cancel input"))),
        "portal" => json(&portal::start(typed(input, "portal input"))),
        "gate" => json(&gate::start(typed(input, "gate input"))),
        "sweep" => json(&sweep::start(typed(input, "sweep input"))),
        other => panic!("no planner {other}"),
    }
}

fn next(planner: &str, state: &Value, results: &Value) -> Value {
    let results = typed(results, "results");
    match planner {
        "send" => json(&send::next(typed(state, "send state"), results)),
        "open" => json(&open::next(typed(state, "open state"), results)),
        "cancel" => json(&cancel::next(typed(state, "cancel state"), results)),
        "portal" => json(&portal::next(typed(state, "portal state"), results)),
        "gate" => json(&gate::next(typed(state, "gate state"), results)),
        "sweep" => json(&sweep::next(typed(state, "sweep state"), &results)),
        other => panic!("no planner {other}"),
    }
}

/// The vectors' subset match (`common/subset.rs`).
fn subset(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    common::subset(expected, actual, at, common::Absent::MatchesNull)
}

fn run_file(path: &PathBuf) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let planner = file["planner"].as_str().expect("planner");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let steps = case["steps"].as_array().expect("steps");
        let mut step = start(planner, &case["start"]);
        for (index, expected) in steps.iter().enumerate() {
            if index > 0 {
                let state = step.get("state").cloned().unwrap_or(Value::Null);
                assert!(!state.is_null(), "{name}: step {index} follows a last step");
                step = next(planner, &state, &expected["results"]);
            }
            if let Err(problem) = subset(&expected["expect"], &step, "$") {
                failures.push(format!("{planner} \"{name}\" step {index}: {problem}"));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    cases.len()
}

#[test]
fn every_planner_vector_holds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/actions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let count: usize = files.iter().map(run_file).sum();
    assert!(count >= 14, "{count} planner vectors");
}

#[test]
fn the_subset_match_can_fail() {
    use serde_json::json;
    assert!(subset(&json!({"a": 1}), &json!({"a": 1, "b": 2}), "$").is_ok());
    assert!(subset(&json!({"a": 1}), &json!({"a": 2}), "$").is_err());
    assert!(subset(&json!([1]), &json!([1, 2]), "$").is_err());
}
