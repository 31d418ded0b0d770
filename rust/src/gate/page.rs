//! What the rule's configuration pages (create, edit, view in Jira's workflow editor) show: the
//! fields with their labels, help and ranges, the defaults, and the one-line summary of a saved
//! configuration. The page reads these from here (`admin.gateRule`) and keeps no copy.

use serde::Serialize;

use super::config::{
    minutes_words, GateConfig, WITHIN_MINUTES_DEFAULT, WITHIN_MINUTES_MAX, WITHIN_MINUTES_MIN,
};

/// How a field is entered.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum GateFieldKind {
    /// A whole number of minutes within `min..=max`.
    Minutes,
    /// On or off.
    Toggle,
}

/// One field of the configuration page, in page order.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateField {
    /// The configuration's key the field saves to.
    pub field: &'static str,
    pub kind: GateFieldKind,
    pub label: &'static str,
    pub help: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub max: Option<u32>,
    /// What the page says when the value is outside the range (the gate's own message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub message: Option<String>,
}

/// `GateRules`: everything the configuration page needs to draw and check the form.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateRules {
    pub fields: Vec<GateField>,
    pub defaults: GateConfig,
}

/// The message for minutes out of range; the same words `config::check` places at the field.
pub fn minutes_message() -> String {
    format!("Enter a whole number of minutes from {WITHIN_MINUTES_MIN} to {WITHIN_MINUTES_MAX}.")
}

pub fn rules() -> GateRules {
    GateRules {
        fields: vec![
            GateField {
                field: "withinMinutes",
                kind: GateFieldKind::Minutes,
                label: "Verification passed within (minutes)",
                help: format!(
                    "The newest verification must have passed, its check completed at most this many minutes ago: {WITHIN_MINUTES_MIN} to {WITHIN_MINUTES_MAX} (a day). Default: {WITHIN_MINUTES_DEFAULT}."
                ),
                min: Some(WITHIN_MINUTES_MIN),
                max: Some(WITHIN_MINUTES_MAX),
                message: Some(minutes_message()),
            },
            GateField {
                field: "samePerson",
                kind: GateFieldKind::Toggle,
                label: "Only a verification of the person on the ticket",
                help: "On: the verification must be of the person the ticket names (the person to verify on the settings page). Off: a passed verification of anyone on the ticket counts.".to_owned(),
                min: None,
                max: None,
                message: None,
            },
            GateField {
                field: "once",
                kind: GateFieldKind::Toggle,
                label: "One transition per verification",
                help: "On: a verification opens one transition with such a rule only; the next one needs a new verification. Off: it opens any number while it is recent enough.".to_owned(),
                min: None,
                max: None,
                message: None,
            },
        ],
        defaults: GateConfig::default(),
    }
}

/// The one line shown on the transition: "Passed verification of the person on the ticket
/// within the last 30 minutes; one transition per verification".
pub fn summary(config: &GateConfig) -> String {
    let who = if config.same_person {
        "the person on the ticket"
    } else {
        "anyone on the ticket"
    };
    let uses = if config.once {
        "one transition per verification"
    } else {
        "any number of transitions per verification"
    };
    format!(
        "Passed verification of {who} within the last {}; {uses}",
        minutes_words(config.within_minutes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::config::check;
    use serde_json::json;

    #[test]
    fn the_page_fields_are_the_configuration_keys_check_reads() {
        let rules = rules();
        let keys: Vec<_> = rules.fields.iter().map(|f| f.field).collect();
        assert_eq!(keys, ["withinMinutes", "samePerson", "once"]);
        // The range the page offers is the one the gate accepts, at both ends.
        let minutes = &rules.fields[0];
        for (n, ok) in [
            (minutes.min.unwrap_or(0), true),
            (minutes.max.unwrap_or(0), true),
            (minutes.min.unwrap_or(0) - 1, false),
            (minutes.max.unwrap_or(0) + 1, false),
        ] {
            let checked = check(&json!({ "withinMinutes": n }));
            assert_eq!(checked.config.is_some(), ok, "{n}");
            if !ok {
                assert_eq!(Some(&checked.errors[0].message), minutes.message.as_ref());
            }
        }
        assert_eq!(check(&json!({})).config, Some(rules.defaults));
    }

    #[test]
    fn the_summary_says_what_the_rule_asks() {
        assert_eq!(
            summary(&GateConfig {
                within_minutes: 30,
                same_person: true,
                once: true
            }),
            "Passed verification of the person on the ticket within the last 30 minutes; one transition per verification"
        );
        assert_eq!(
            summary(&GateConfig {
                within_minutes: 1,
                same_person: false,
                once: false
            }),
            "Passed verification of anyone on the ticket within the last 1 minute; any number of transitions per verification"
        );
    }
}
