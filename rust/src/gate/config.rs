//! The "Identity verified" rule's configuration, as a Jira admin sets it on a transition (Jira
//! stores it as the JSON the module's configuration page submits): how recent the passed
//! verification must be, whether it must be of the person on the ticket, and whether one
//! verification may open one gated transition only.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::FieldError;

/// How recent a passed verification must be, in minutes, unless the admin says otherwise.
pub const WITHIN_MINUTES_DEFAULT: u32 = 30;
pub const WITHIN_MINUTES_MIN: u32 = 1;
/// A day: a verification older than that says nothing about who is on the phone now.
pub const WITHIN_MINUTES_MAX: u32 = 1_440;

/// A rule's configuration, every field with its default filled in.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateConfig {
    /// The passed verification is at most this many minutes old.
    pub within_minutes: u32,
    /// The person verified is the person on the ticket (the panel's person field).
    pub same_person: bool,
    /// A verification opens one gated transition (of the rules that say so) only.
    pub once: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            within_minutes: WITHIN_MINUTES_DEFAULT,
            same_person: true,
            once: false,
        }
    }
}

/// What the configuration page (and the gate) make of a stored configuration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateConfigCheck {
    /// The configuration, defaults filled in; absent when it has errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub config: Option<GateConfig>,
    pub errors: Vec<FieldError>,
}

/// Reads a configuration: absent fields take their defaults; a field of the wrong kind or out
/// of range is an error placed at that field (the gate refuses to pass on such a rule).
pub fn check(value: &Value) -> GateConfigCheck {
    let empty = Map::new();
    // Jira keeps a rule's configuration as JSON text; a caller may hand it over still as text.
    if let Value::String(text) = value {
        return match serde_json::from_str::<Value>(text) {
            Ok(parsed) if !parsed.is_string() => check(&parsed),
            _ => refused(vec![FieldError::new(
                "configuration",
                "invalid",
                "The rule's configuration must be an object.",
            )]),
        };
    }
    let fields = match value {
        Value::Null => &empty,
        Value::Object(fields) => fields,
        _ => {
            return refused(vec![FieldError::new(
                "configuration",
                "invalid",
                "The rule's configuration must be an object.",
            )])
        }
    };
    let mut config = GateConfig::default();
    let mut errors = Vec::new();
    if let Some(v) = fields.get("withinMinutes") {
        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if (WITHIN_MINUTES_MIN..=WITHIN_MINUTES_MAX).contains(&n) => {
                config.within_minutes = n;
            }
            _ => errors.push(FieldError::new(
                "withinMinutes",
                "out_of_range",
                super::page::minutes_message(),
            )),
        }
    }
    for (name, slot) in [
        ("samePerson", &mut config.same_person),
        ("once", &mut config.once),
    ] {
        match fields.get(name) {
            None => {}
            Some(Value::Bool(b)) => *slot = *b,
            Some(_) => errors.push(FieldError::new(name, "invalid", "Choose on or off.")),
        }
    }
    if errors.is_empty() {
        GateConfigCheck {
            config: Some(config),
            errors,
        }
    } else {
        refused(errors)
    }
}

fn refused(errors: Vec<FieldError>) -> GateConfigCheck {
    GateConfigCheck {
        config: None,
        errors,
    }
}

/// "30 minutes", "1 minute".
pub fn minutes_words(n: u32) -> String {
    if n == 1 {
        "1 minute".to_owned()
    } else {
        format!("{n} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_fields_take_the_defaults() {
        let check = check(&json!({}));
        assert_eq!(check.config, Some(GateConfig::default()));
        assert_eq!(
            super::check(&Value::Null).config,
            Some(GateConfig::default())
        );
        // As Jira stores it: JSON text.
        let text = super::check(&json!("{\"withinMinutes\":10}")).config;
        assert_eq!(text.map(|c| c.within_minutes), Some(10));
        let set = super::check(&json!({ "withinMinutes": 5, "samePerson": false, "once": true }));
        assert_eq!(
            set.config,
            Some(GateConfig {
                within_minutes: 5,
                same_person: false,
                once: true
            })
        );
    }

    #[test]
    fn a_wrong_field_is_named_and_nothing_is_taken() {
        for bad in [json!(0), json!(1441), json!(2.5), json!("30"), json!(-1)] {
            let check = check(&json!({ "withinMinutes": bad }));
            assert_eq!(check.config, None, "{bad}");
            assert_eq!(check.errors[0].field, "withinMinutes");
        }
        let check = super::check(&json!({ "samePerson": "yes", "once": 1 }));
        let fields: Vec<_> = check.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["samePerson", "once"]);
        assert_eq!(super::check(&json!([1])).errors[0].field, "configuration");
        assert_eq!(
            super::check(&json!("\"{}\"")).errors[0].field,
            "configuration"
        );
    }
}
