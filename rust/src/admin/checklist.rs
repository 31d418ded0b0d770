//! The setup checklist (`checklist`): what really happened, shown as four steps on the page.

use serde::Serialize;
use serde_json::Value;

use super::answer::{internal, Refusal};
use crate::model::{Outcome, SecretFlags, Settings};
use crate::plan::{Read, Write};
use crate::stored::{Checklist, SCHEMA_VERSION};

pub const CHECKLIST_KEY: &str = "checklist";

pub fn checklist_read() -> Read {
    Read {
        key: CHECKLIST_KEY.to_owned(),
        secret: false,
    }
}

/// The stored checklist (absent or unreadable: nothing done yet; it is only a hint).
pub fn read_checklist(value: &Value) -> Checklist {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The stored checklist with one change, stamped; fields a later release added are kept.
pub fn checklist_write(
    stored: &Value,
    change: impl FnOnce(&mut Checklist),
) -> Result<Write, Refusal> {
    let mut checklist = read_checklist(stored);
    change(&mut checklist);
    checklist.schema_version = SCHEMA_VERSION;
    let mut value = serde_json::to_value(&checklist).map_err(|_| internal())?;
    if let (Value::Object(out), Value::Object(fields)) = (&mut value, stored) {
        for (key, field) in fields {
            if !out.contains_key(key) {
                out.insert(key.clone(), field.clone());
            }
        }
    }
    Ok(Write {
        key: CHECKLIST_KEY.to_owned(),
        value,
        ttl: None,
        secret: false,
        entity: None,
        only_if: None,
    })
}

/// One step of the checklist. `atMs` is shown after `detail`, in the viewer's time zone.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ChecklistItem {
    pub id: &'static str,
    pub done: bool,
    pub label: &'static str,
    pub detail: String,
    pub at_ms: Option<i64>,
}

pub fn items(settings: &Settings, checklist: &Checklist, flags: SecretFlags) -> Vec<ChecklistItem> {
    let chosen: Vec<&str> = Outcome::ALL
        .iter()
        .filter(|o| !settings.transitions.get(**o).is_empty())
        .map(|o| o.words())
        .collect();
    let tested = checklist.credentials_tested_at_ms;
    let received = checklist.webhook_received_at_ms;
    let first = checklist.first_verification_at_ms;
    let webhook = if flags.weak_webhook_secret {
        ChecklistItem {
            id: "webhook",
            done: false,
            label: "Receive a webhook from Incode",
            detail: "The stored webhook secret is too weak, so every delivery is refused: enter a new one of at least 16 characters, here and in the Incode dashboard.".into(),
            at_ms: None,
        }
    } else {
        ChecklistItem {
            id: "webhook",
            done: received.is_some(),
            label: "Receive a webhook from Incode",
            detail: if received.is_some() {
                "First authenticated delivery received"
            } else {
                "Register the webhook URL in the Incode dashboard, then send a test verification."
            }
            .into(),
            at_ms: received,
        }
    };
    vec![
        ChecklistItem {
            id: "credentials",
            done: tested.is_some(),
            label: "Test the Incode credentials",
            detail: if tested.is_some() {
                "Connected on"
            } else {
                "Save your credentials, then use Test credentials."
            }
            .into(),
            at_ms: tested,
        },
        webhook,
        ChecklistItem {
            id: "transitions",
            done: !chosen.is_empty(),
            label: "Choose status transitions",
            detail: if chosen.is_empty() {
                "Optional: map outcomes to transitions of your workflow.".into()
            } else {
                format!("Set for {}", chosen.join(", "))
            },
            at_ms: None,
        },
        ChecklistItem {
            id: "firstVerification",
            done: first.is_some(),
            label: "Send the first verification",
            detail: if first.is_some() {
                "First sent"
            } else {
                "Open a request and send a verification link from the issue panel."
            }
            .into(),
            at_ms: first,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::default_settings;
    use serde_json::json;

    #[test]
    fn items_say_what_happened() {
        let mut settings = default_settings();
        settings.transitions.passed = "Resolve".into();
        settings.transitions.manual_review = "Review".into();
        let checklist =
            read_checklist(&json!({ "credentialsTestedAtMs": 5, "webhookReceivedAtMs": null }));
        let list = items(&settings, &checklist, SecretFlags::default());
        let done: Vec<(&str, bool)> = list.iter().map(|i| (i.id, i.done)).collect();
        assert_eq!(
            done,
            [
                ("credentials", true),
                ("webhook", false),
                ("transitions", true),
                ("firstVerification", false)
            ]
        );
        assert_eq!(list[0].at_ms, Some(5));
        assert_eq!(list[2].detail, "Set for passed, manual review");
        let weak = SecretFlags {
            webhook_secret: true,
            weak_webhook_secret: true,
            ..SecretFlags::default()
        };
        let received = read_checklist(&json!({ "webhookReceivedAtMs": 9 }));
        let list = items(&settings, &received, weak);
        assert!(!list[1].done && list[1].detail.contains("too weak"));
    }

    #[test]
    fn a_change_is_stamped_and_keeps_the_rest() {
        let stored = json!({ "webhookReceivedAtMs": 9, "later": true });
        let write = checklist_write(&stored, |c| c.credentials_tested_at_ms = Some(3))
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(
            write.value,
            json!({ "schemaVersion": SCHEMA_VERSION, "credentialsTestedAtMs": 3, "webhookReceivedAtMs": 9, "firstVerificationAtMs": null, "later": true })
        );
        let fresh = checklist_write(&Value::Null, |c| c.first_verification_at_ms = Some(1))
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(fresh.value["schemaVersion"], json!(SCHEMA_VERSION));
    }
}
