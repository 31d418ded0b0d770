//! The audit trail: one append-only entry for each thing that happened to a verification or to
//! the app's configuration, kept in the custom entity `audit` (manifest `app.storage.entities`)
//! so it can be queried by time, project, agent and person. An entry is written in the same
//! transaction as the change it records, under a key that names that change, so a retried
//! delivery or action writes the same entry again instead of a second one.

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::plan::Write;
use crate::stored::SCHEMA_VERSION;

/// The custom entity that holds the trail.
pub const ENTITY: &str = "audit";
/// What an entry says of an actor whose account was closed.
const FORMER_USER: &str = "Former user";
/// The largest time an index range reaches (a float attribute stays below 1e126).
pub const END_OF_TIME_MS: f64 = 1e15;

/// One page of the entries that name `account_id`, as the person verified or as the actor.
pub fn naming(account_id: &str, limit: u32) -> Vec<crate::plan::EntityQuery> {
    ["by-person", "by-actor"]
        .iter()
        .map(|index| crate::plan::EntityQuery {
            entity: ENTITY.to_owned(),
            index: (*index).to_owned(),
            partition: vec![account_id.to_owned()],
            range: [0.0, END_OF_TIME_MS],
            filters: Vec::new(),
            descending: false,
            cursor: None,
            limit,
        })
        .collect()
}

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
    /// An admin sent a test verification link from the settings page.
    TestSent,
}

/// One entry. Empty strings stand for "not known" (custom entity indexes skip absent values, and
/// a partitioned index needs its partition attribute on every entry).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "AuditEntry"))]
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
    /// For a result: the time from the link's send to it (ms); 0 otherwise.
    pub duration_ms: f64,
}

impl Action {
    /// The action in the report's words.
    pub fn name(self) -> &'static str {
        match self {
            Action::Sent => "Link sent",
            Action::Resent => "Link resent",
            Action::Cancelled => "Cancelled",
            Action::Expired => "Link expired",
            Action::Outcome => "Result",
            Action::LateResult => "Late result (kept, not applied)",
            Action::IgnoredResult => "Result not applied",
            Action::GatePassed => "Gated transition allowed",
            Action::GateRefused => "Gated transition refused",
            Action::CredentialsTested => "Credentials tested",
            Action::SettingsChanged => "Settings changed",
            Action::TestSent => "Test link sent",
        }
    }
}

impl Entry {
    /// An entry about the verification `record` (its stored value), at `at_ms`. Its actor is
    /// the agent who sent the link: results, expiries and late results are counted against the
    /// agent whose verification they close.
    pub fn of_record(action: Action, record: &Value, at_ms: i64) -> Entry {
        let text = |field: &str| {
            record
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let issue_key = text("issueKey");
        let sent_at = record.get("requestedAtMs").and_then(Value::as_i64);
        let duration_ms = match (action, sent_at) {
            (Action::Outcome, Some(sent)) if sent > 0 => (at_ms - sent).max(0) as f64,
            _ => 0.0,
        };
        Entry {
            action,
            at_ms: at_ms as f64,
            actor_account_id: text("requestedBy"),
            actor_name: text("requestedByName"),
            issue_id: text("issueId"),
            project_key: project_of(&issue_key).to_owned(),
            issue_key,
            person_account_id: text("personAccountId"),
            person_email: text("email"),
            person_name: text("name"),
            channel: text("delivery"),
            session_id: text("sessionId"),
            identity_id: text("identityId"),
            outcome: text("status"),
            duration_ms,
            ..Entry::default()
        }
    }

    /// The same entry with what it held of a closed account removed: as the person verified,
    /// their account id, email, name and Incode identity; as the actor, their account id and
    /// name. The fact stays (action, time, outcome, ticket, channel).
    /// What the entry's detail repeats of them (a refusal names the person, a cancel its agent)
    /// goes too.
    pub fn erased(mut self, account_id: &str) -> Entry {
        if !account_id.is_empty() && self.person_account_id == account_id {
            scrub(
                &mut self.detail,
                &[&self.person_email, &self.person_name],
                "the person",
            );
            self.person_account_id.clear();
            self.person_email.clear();
            self.person_name.clear();
            self.identity_id.clear();
            self.erased = true;
        }
        if !account_id.is_empty() && self.actor_account_id == account_id {
            scrub(&mut self.detail, &[&self.actor_name], FORMER_USER);
            self.actor_account_id.clear();
            self.actor_name = FORMER_USER.to_owned();
            self.erased = true;
        }
        self
    }

    /// The same entry with `detail` set.
    pub fn because(mut self, detail: impl Into<String>) -> Entry {
        self.detail = detail.into();
        self
    }

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
            only_if: None,
        }
    }
}

/// `text` with every mention of `said` (longest first, blanks skipped) replaced by `instead`.
fn scrub(text: &mut String, said: &[&String], instead: &str) {
    let mut said: Vec<&str> = said
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    said.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in said {
        *text = text.replace(s, instead);
    }
}

/// The project key of an issue key (`HD-12` -> `HD`).
pub fn project_of(issue_key: &str) -> &str {
    issue_key
        .rsplit_once('-')
        .map_or("", |(project, _)| project)
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

    #[test]
    fn an_erased_account_leaves_no_mention_in_the_detail() {
        let refusal = Entry {
            action: Action::GateRefused,
            actor_account_id: "kim".into(),
            actor_name: "Kim Canceller".into(),
            person_account_id: "robin".into(),
            person_name: "Robin Leaver".into(),
            person_email: "robin@example.test".into(),
            detail: "No passed identity verification of Robin Leaver (robin@example.test) in the last 30 minutes".into(),
            ..Entry::default()
        };
        let person = refusal.clone().erased("robin");
        assert_eq!(
            person.detail,
            "No passed identity verification of the person (the person) in the last 30 minutes"
        );
        assert_eq!((person.person_name.as_str(), person.erased), ("", true));
        assert_eq!(
            person.actor_name, "Kim Canceller",
            "the actor's account is open"
        );
        let cancel = Entry {
            action: Action::Cancelled,
            detail: "Kim Canceller".into(),
            ..refusal
        }
        .erased("kim");
        assert_eq!(
            (cancel.detail.as_str(), cancel.actor_name.as_str()),
            ("Former user", "Former user")
        );
        assert_eq!(cancel.person_name, "Robin Leaver");
    }
}
