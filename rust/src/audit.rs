//! The audit trail: one append-only entry for each thing that happened to a verification or to
//! the app's configuration, kept in the custom entity `audit` (manifest `app.storage.entities`)
//! so it can be queried by time, project, agent and person. An entry is written in the same
//! transaction as the change it records, under a key that names that change, so a retried
//! delivery or action writes the same entry again instead of a second one.

use serde::{Deserialize, Serialize};

use crate::plan::Write;
use crate::stored::SCHEMA_VERSION;

/// The custom entity that holds the trail.
pub const ENTITY: &str = "audit";

/// What an entry records.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// An agent sent a verification link.
    #[default]
    Sent,
    Resent,
    Cancelled,
    /// The link expired before a result.
    Expired,
    /// Incode's result was applied (passed, failed, manual review, review decided).
    Outcome,
    /// A result that arrived after a cancel or an expiry: kept, not applied.
    LateResult,
    /// A delivery that was authenticated but not applied (unknown session, wrong person, ...).
    IgnoredResult,
    /// A gated transition went through.
    GatePassed,
    /// A gated transition was refused.
    GateRefused,
    CredentialsTested,
    SettingsChanged,
}

/// One entry. Empty strings stand for "not known" (custom entity indexes skip absent values, and
/// a partitioned index needs its partition attribute on every entry).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct Entry {
    pub schema_version: u32,
    pub action: Action,
    /// When it happened (epoch ms; a `float` attribute, as Forge's integers are 32-bit).
    pub at_ms: f64,
    /// The account that acted (the agent or the admin); empty for Incode and the app itself.
    pub actor_account_id: String,
    pub actor_name: String,
    pub issue_id: String,
    pub issue_key: String,
    pub project_key: String,
    /// The person verified, as the admin sees them.
    pub person_account_id: String,
    pub person_email: String,
    pub person_name: String,
    /// "EMAIL" or "SMS".
    pub channel: String,
    pub session_id: String,
    pub identity_id: String,
    /// The verification's status after this entry (`model::VerificationStatus`), if any.
    pub outcome: String,
    /// Why, in a sentence (a refusal's reason, the fields a save changed, ...).
    pub detail: String,
    /// Set when the person's account was closed and their personal data removed.
    pub erased: bool,
}

impl Entry {
    /// The write that appends this entry under `key` (a name of the change it records, so that
    /// writing it twice leaves one entry).
    pub fn write(mut self, key: impl Into<String>) -> Write {
        self.schema_version = SCHEMA_VERSION;
        Write {
            key: key.into(),
            value: serde_json::to_value(&self).unwrap_or_default(),
            ttl: None,
            secret: false,
            entity: Some(ENTITY.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_written_to_the_audit_entity_stamped_with_the_schema_version() {
        let w = Entry {
            action: Action::GateRefused,
            at_ms: 1_765_000_000_000.0,
            issue_key: "HD-1".into(),
            ..Entry::default()
        }
        .write("gate:HD-1:1");
        assert_eq!(w.entity.as_deref(), Some(ENTITY));
        assert_eq!(w.key, "gate:HD-1:1");
        assert_eq!(w.value["action"], "gateRefused");
        assert_eq!(w.value["schemaVersion"], SCHEMA_VERSION);
        assert_eq!(w.value["issueKey"], "HD-1");
        assert_eq!(w.value["personEmail"], "");
    }
}
