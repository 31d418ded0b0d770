//! What every earlier release stored (`tests/vectors/stored/<release>/*/kvs.json`, captured by
//! `tests/vectors/gen/stored.mjs`) reads into this release's types, in the current version, and
//! loses nothing on the way.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use incode_verify_core::model::{Settings, Verification};
use incode_verify_core::stored::{current, settings_record, Kind, SCHEMA_VERSION};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn stores() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/stored");
    let mut found = Vec::new();
    for release in std::fs::read_dir(&root).unwrap() {
        let release = release.unwrap().path();
        if !release.is_dir() {
            continue;
        }
        for store in std::fs::read_dir(&release).unwrap() {
            let file = store.unwrap().path().join("kvs.json");
            if file.is_file() {
                found.push(file);
            }
        }
    }
    found.sort();
    found
}

/// Every `[key, value]` of a store file, secrets included.
fn entries(file: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(file).unwrap();
    let store: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        store["version"],
        1,
        "{}: the host's file format",
        file.display()
    );
    let mut out = Vec::new();
    for part in ["data", "secrets"] {
        for entry in store[part].as_array().unwrap() {
            let key = entry[0].as_str().unwrap().to_owned();
            out.push((key, entry[1]["value"].clone()));
        }
    }
    out
}

/// The custom entities' values of a store (from the third release): (entity, key, value).
fn entity_entries(file: &Path) -> Vec<(String, String, Value)> {
    let text = std::fs::read_to_string(file).unwrap();
    let store: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for table in store["entities"].as_array().into_iter().flatten() {
        let entity = table[0].as_str().unwrap().to_owned();
        for entry in table[1].as_array().unwrap() {
            let key = entry[0].as_str().unwrap().to_owned();
            out.push((entity.clone(), key, entry[1]["value"].clone()));
        }
    }
    out
}

fn without_version(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(fields) = &mut value {
        fields.remove("schemaVersion");
    }
    value
}

/// Whether `now` holds everything `was` held: every member of an object (recursively) with the
/// same value; arrays and scalars equal.
fn keeps(now: &Value, was: &Value) -> bool {
    match (now, was) {
        (Value::Object(now), Value::Object(was)) => was
            .iter()
            .all(|(k, v)| now.get(k).is_some_and(|n| keeps(n, v))),
        (Value::Array(now), Value::Array(was)) => {
            now.len() == was.len() && now.iter().zip(was).all(|(n, w)| keeps(n, w))
        }
        // JSON has one number type (the store is JavaScript's): 1.0 and 1 are the same value.
        (Value::Number(now), Value::Number(was)) => now.as_f64() == was.as_f64(),
        _ => now == was,
    }
}

#[test]
fn keeping_allows_added_fields_only() {
    let was = serde_json::json!({ "a": 1, "b": { "c": [1, { "d": 2 }] } });
    assert!(keeps(
        &serde_json::json!({ "a": 1, "b": { "c": [1, { "d": 2, "e": 3 }] }, "f": 0 }),
        &was
    ));
    assert!(!keeps(
        &serde_json::json!({ "a": 1, "b": { "c": [1, { "d": 3 }] } }),
        &was
    ));
    assert!(!keeps(
        &serde_json::json!({ "b": { "c": [1, { "d": 2 }] } }),
        &was
    ));
    assert!(!keeps(
        &serde_json::json!({ "a": 1, "b": { "c": [1] } }),
        &was
    ));
}

#[test]
fn there_are_fixtures_of_the_first_release() {
    let stores = stores();
    assert!(
        stores
            .iter()
            .any(|f| f.to_string_lossy().contains("/stored/v1/")),
        "{stores:?}"
    );
}

#[test]
fn there_are_fixtures_of_this_release() {
    let stores = stores();
    let release = format!("/stored/v{SCHEMA_VERSION}/");
    assert!(
        stores
            .iter()
            .any(|f| f.to_string_lossy().contains(&release)),
        "{stores:?}"
    );
}

/// The release a store was captured from (`.../stored/v2/hmac/kvs.json`: 2).
fn release_of(file: &Path) -> u64 {
    let dir = file
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name);
    let name = dir.and_then(|d| d.to_str()).unwrap_or_default();
    name.trim_start_matches('v').parse().unwrap()
}

#[test]
fn from_the_second_release_the_admin_pages_writes_are_stamped() {
    let mut seen = std::collections::BTreeSet::new();
    for file in stores().iter().filter(|f| release_of(f) >= 2) {
        for (key, value) in entries(file) {
            if key == "settings" || key == "secrets" || key.starts_with("test:") {
                assert_eq!(
                    value["schemaVersion"],
                    release_of(file),
                    "{}: {key}",
                    file.display()
                );
                seen.insert(key.split(':').next().unwrap().to_owned());
            }
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["secrets", "settings", "test"]
    );
}

#[test]
fn every_stored_value_reads_in_the_current_version_and_loses_nothing() {
    let mut kinds = std::collections::BTreeSet::new();
    for file in stores() {
        for (key, value) in entries(&file) {
            let kind =
                Kind::of_key(&key).unwrap_or_else(|| panic!("{key}: a key of no known kind"));
            kinds.insert(format!("{kind:?}"));
            let now = current(kind, value.clone())
                .unwrap_or_else(|e| panic!("{}: {key}: {e:?}", file.display()));
            if kind == Kind::Rate {
                assert_eq!(now, value, "{key}");
            } else {
                assert_eq!(now["schemaVersion"], SCHEMA_VERSION, "{key}");
                // Nothing an earlier release stored is lost or changed; the current release may
                // add fields with their defaults, and stamps its own `schemaVersion`.
                assert!(
                    keeps(&without_version(&now), &without_version(&value)),
                    "{}: {key}\n now: {now}\n was: {value}",
                    file.display()
                );
            }
            let again = current(kind, now.clone()).unwrap();
            assert_eq!(
                again, now,
                "{key}: reading the current form again changes nothing"
            );
        }
    }
    for kind in [
        "Settings",
        "Secrets",
        "Token",
        "Checklist",
        "Verification",
        "IssueIndex",
        "Person",
        "Account",
        "Rate",
        "TestSession",
        "Lock",
        "Delivery",
    ] {
        assert!(
            kinds.contains(kind),
            "the fixtures hold a {kind}: {kinds:?}"
        );
    }
}

#[test]
fn stored_settings_and_records_are_what_the_core_works_with() {
    let mut modes = std::collections::BTreeSet::new();
    for file in stores() {
        for (key, value) in entries(&file) {
            if key == "settings" {
                let record = settings_record(value.clone()).unwrap();
                let settings: Settings = serde_json::from_value(value["settings"].clone()).unwrap();
                assert_eq!(record.settings, settings, "{}", file.display());
                modes.insert(
                    value["settings"]["webhookAuth"]["mode"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            if key.starts_with("v:") {
                let _: Verification = serde_json::from_value(value)
                    .unwrap_or_else(|e| panic!("{key}: the core reads the record: {e}"));
            }
        }
    }
    assert_eq!(
        modes.into_iter().collect::<Vec<_>>(),
        ["hmac", "oauth", "sharedSecret"]
    );
}

#[test]
fn every_custom_entity_value_reads_in_the_current_version_and_loses_nothing() {
    let mut entities = std::collections::BTreeSet::new();
    for file in stores() {
        for (entity, key, value) in entity_entries(&file) {
            let kind = Kind::of_entity(&entity)
                .unwrap_or_else(|| panic!("{entity}/{key}: an entity of no known kind"));
            entities.insert(entity.clone());
            let now = current(kind, value.clone())
                .unwrap_or_else(|e| panic!("{}: {entity}/{key}: {e:?}", file.display()));
            assert_eq!(now["schemaVersion"], SCHEMA_VERSION, "{entity}/{key}");
            assert!(
                keeps(&without_version(&now), &without_version(&value)),
                "{}: {entity}/{key}\n now: {now}\n was: {value}",
                file.display()
            );
        }
    }
    assert_eq!(
        entities.into_iter().collect::<Vec<_>>(),
        ["audit", "lock", "open-verification"],
        "every entity the stores hold"
    );
}
