//! The constants and number rules the admin page shows and checks before saving, built here so
//! the page reads them from the core (`admin.getSettings` answers them as `rules`) instead of
//! keeping copies that drift.

use crate::model::{Settings, WebhookAuth};
use crate::panel::ShownState;
use crate::settings::{
    self, AuthMode, DEMO_API_URL, DEMO_AUTH_URL, PRODUCTION_API_URL, PRODUCTION_AUTH_URL,
};
use crate::template;
use serde::Serialize;

/// The Incode events the webhook must be subscribed to in the Incode dashboard: the session
/// results, and the manual review's verdict, which settles a verification that went to review.
pub const WEBHOOK_EVENTS: [&str; 6] = [
    "SESSION_STARTED",
    "SESSION_SUCCEEDED",
    "SESSION_FAILED",
    "SESSION_PENDING_REVIEW",
    "MANUAL_REVIEW_APPROVED",
    "MANUAL_REVIEW_REJECTED",
];

/// The whole-number fields and their ranges, in page order.
pub const NUMBER_FIELDS: [&str; 6] = [
    "linkExpiryMinutes",
    "auditRetentionDays",
    "limits.perTicketPerHour",
    "limits.perAgentPerHour",
    "webhookAuth.toleranceSeconds",
    "webhookAuth.tokenTtlSeconds",
];

/// One whole-number field: its range and the message when a value is outside it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct NumberRule {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
    pub message: String,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Hosts {
    pub api: &'static str,
    pub auth: &'static str,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EnvironmentHosts {
    pub demo: Hosts,
    pub production: Hosts,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AuthDefaults {
    pub hmac: WebhookAuth,
    pub shared_secret: WebhookAuth,
    pub oauth: WebhookAuth,
}

/// A verification state as the pages show it: its one name, and whether its link is live.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StateRule {
    pub state: ShownState,
    pub name: &'static str,
    pub active: bool,
}

/// `AdminRules` in `api.d.ts`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AdminRules {
    pub numbers: Vec<NumberRule>,
    pub hosts: EnvironmentHosts,
    pub webhook_auth_defaults: AuthDefaults,
    pub webhook_events: Vec<&'static str>,
    /// The variables a comment template may use, in the order the page lists them.
    pub template_variables: Vec<&'static str>,
    /// The settings of a fresh install (the page names the default link expiry, for one).
    pub defaults: Settings,
    /// Every state a verification is shown in, in order.
    pub states: Vec<StateRule>,
    /// The page's fields in page order, with their labels.
    pub fields: Vec<settings::PageField>,
}

/// The rules, from the same constants and functions the save-time validation uses.
pub fn admin_rules() -> AdminRules {
    AdminRules {
        numbers: NUMBER_FIELDS
            .iter()
            .map(|field| {
                let (min, max) = settings::range_of(field);
                NumberRule {
                    field,
                    min,
                    max,
                    message: settings::range_message(field, min, max),
                }
            })
            .collect(),
        hosts: EnvironmentHosts {
            demo: Hosts {
                api: DEMO_API_URL,
                auth: DEMO_AUTH_URL,
            },
            production: Hosts {
                api: PRODUCTION_API_URL,
                auth: PRODUCTION_AUTH_URL,
            },
        },
        webhook_auth_defaults: AuthDefaults {
            hmac: settings::default_webhook_auth(AuthMode::Hmac),
            shared_secret: settings::default_webhook_auth(AuthMode::SharedSecret),
            oauth: settings::default_webhook_auth(AuthMode::OAuth),
        },
        webhook_events: WEBHOOK_EVENTS.to_vec(),
        template_variables: template::VARIABLES.to_vec(),
        defaults: settings::default_settings(),
        fields: settings::PAGE_FIELDS.to_vec(),
        states: ShownState::ALL
            .iter()
            .map(|state| StateRule {
                state: *state,
                name: state.name(),
                active: state.active(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SecretFlags;
    use crate::settings::{validate_settings, SettingsDecision};
    use serde_json::{json, Value};

    #[test]
    fn the_number_rules_are_the_ones_saving_applies() {
        let rules = admin_rules();
        assert_eq!(rules.numbers.len(), NUMBER_FIELDS.len());
        for rule in &rules.numbers {
            for (value, ok) in [
                (rule.min - 1, false),
                (rule.min, true),
                (rule.max, true),
                (rule.max + 1, false),
            ] {
                let mut input = json!({});
                let mut slot = &mut input;
                for part in rule.field.split('.') {
                    slot = &mut slot[part];
                }
                *slot = Value::from(value);
                if rule.field == "webhookAuth.tokenTtlSeconds" {
                    input["webhookAuth"]["mode"] = json!("oauth");
                }
                let decision = validate_settings(
                    &settings::default_settings(),
                    &input,
                    SecretFlags::default(),
                );
                match decision {
                    SettingsDecision::Accepted { .. } => assert!(ok, "{} {value}", rule.field),
                    SettingsDecision::Rejected { errors, .. } => {
                        assert!(!ok, "{} {value}: {errors:?}", rule.field);
                        assert_eq!(errors[0].message, rule.message);
                    }
                }
            }
        }
    }

    #[test]
    fn events_include_the_manual_review_verdicts_and_defaults_match_the_settings() {
        let rules = admin_rules();
        assert!(rules.webhook_events.contains(&"MANUAL_REVIEW_APPROVED"));
        assert!(rules.webhook_events.contains(&"MANUAL_REVIEW_REJECTED"));
        let json = serde_json::to_value(&rules).unwrap_or_default();
        assert_eq!(
            json["webhookAuthDefaults"]["oauth"]["clientId"],
            "incode-webhooks"
        );
        assert_eq!(
            json["webhookAuthDefaults"]["sharedSecret"]["mode"],
            "sharedSecret"
        );
        assert_eq!(json["hosts"]["demo"]["api"], DEMO_API_URL);
        assert_eq!(json["defaults"]["linkExpiryMinutes"], 10);
        assert_eq!(json["templateVariables"][0], "name");
        assert_eq!(
            json["states"][4],
            serde_json::json!({ "state": "manualReview", "name": "Pending review", "active": false })
        );
        assert_eq!(json["states"][1]["active"], true);
    }
}
