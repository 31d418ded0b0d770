//! The vectors' matching rule, shared by the native runners: `expected` is matched as a subset of
//! `actual`. Every key of an expected object must be present and match (with `Absent::MatchesNull`,
//! an expected `null` also matches a key left out, as a step leaves out what it does not carry),
//! arrays match element by element with the same length, scalars are equal (numbers by value).

use serde_json::Value;

// Each runner is its own crate and uses one of the two.
#[allow(dead_code)]
#[derive(Clone, Copy)]
pub enum Absent {
    /// A missing key never matches.
    Fails,
    /// An expected `null` matches a missing key.
    MatchesNull,
}

pub fn subset(expected: &Value, actual: &Value, at: &str, absent: Absent) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, value) in want {
                let path = format!("{at}.{key}");
                match (got.get(key), absent) {
                    (Some(found), _) => subset(value, found, &path, absent)?,
                    (None, Absent::MatchesNull) if value.is_null() => {}
                    (None, _) => return Err(format!("{path}: missing (have {actual})")),
                }
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(got)) => {
            if want.len() != got.len() {
                return Err(format!(
                    "{at}: {} elements expected, {} found: {actual}",
                    want.len(),
                    got.len()
                ));
            }
            for (index, (w, g)) in want.iter().zip(got).enumerate() {
                subset(w, g, &format!("{at}[{index}]"), absent)?;
            }
            Ok(())
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => Ok(()),
        _ if expected == actual => Ok(()),
        _ => Err(format!("{at}: expected {expected}, found {actual}")),
    }
}
