//! What the agent's issue panel shows and offers: one name per state of a verification, the
//! actions each state allows the caller, and what an agent outside the configured agent groups
//! may do (see the verification, send nothing).

use serde::{Deserialize, Serialize};

use crate::model::{HistoryEntry, VerificationStatus};

/// The history cause of a link that a newer link replaced.
pub const REPLACED_CAUSE: &str = "replaced by a new link";
/// The same cause as earlier versions wrote it; their records still read as replaced.
const EARLIER_REPLACED_CAUSE: &str = "cancelled by a newer link";

/// A verification's state as agents see it: its status, with a replaced link told apart from
/// one an agent cancelled.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum ShownState {
    Requested,
    InProgress,
    Passed,
    Failed,
    ManualReview,
    Expired,
    Cancelled,
    Replaced,
}

impl ShownState {
    pub const ALL: [ShownState; 8] = [
        ShownState::Requested,
        ShownState::InProgress,
        ShownState::Passed,
        ShownState::Failed,
        ShownState::ManualReview,
        ShownState::Expired,
        ShownState::Cancelled,
        ShownState::Replaced,
    ];

    /// The one name of the state, wherever it is shown (lozenges, history, the issue property,
    /// announcements).
    pub fn name(self) -> &'static str {
        match self {
            ShownState::Requested => "Link sent",
            ShownState::InProgress => "In progress",
            ShownState::Passed => "Passed",
            ShownState::Failed => "Failed",
            ShownState::ManualReview => "Pending review",
            ShownState::Expired => "Expired",
            ShownState::Cancelled => "Cancelled",
            ShownState::Replaced => "Replaced by a new link",
        }
    }

    /// Whether the employee may still complete the check with this link.
    pub fn active(self) -> bool {
        matches!(self, ShownState::Requested | ShownState::InProgress)
    }
}

/// The state of a verification with this status and history.
pub fn shown_state(status: VerificationStatus, history: &[HistoryEntry]) -> ShownState {
    match status {
        VerificationStatus::Requested => ShownState::Requested,
        VerificationStatus::InProgress => ShownState::InProgress,
        VerificationStatus::Passed => ShownState::Passed,
        VerificationStatus::Failed => ShownState::Failed,
        VerificationStatus::ManualReview => ShownState::ManualReview,
        VerificationStatus::Expired => ShownState::Expired,
        VerificationStatus::Cancelled => {
            let replaced = history.last().is_some_and(|entry| {
                entry.status == VerificationStatus::Cancelled
                    && (entry.cause == REPLACED_CAUSE || entry.cause == EARLIER_REPLACED_CAUSE)
            });
            if replaced {
                ShownState::Replaced
            } else {
                ShownState::Cancelled
            }
        }
    }
}

/// The name of a status where no history is at hand (the issue property, the comment).
pub fn status_name(status: VerificationStatus) -> &'static str {
    shown_state(status, &[]).name()
}

/// What the caller may do with one verification in the panel.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PanelActions {
    /// A fresh link to the same person and contact, replacing the live one.
    pub resend: bool,
    pub cancel: bool,
    /// The send form, filled in from this verification: one way to verify again once a link
    /// has ended, whatever the reason (cancelled, expired, replaced, or a result).
    pub new_verification: bool,
}

/// The actions a state allows an agent who may (or may not) send links now.
pub fn actions(state: ShownState, may_send: bool, may_change: bool) -> PanelActions {
    if state.active() {
        PanelActions {
            resend: may_send,
            cancel: may_change,
            new_verification: false,
        }
    } else {
        PanelActions {
            resend: false,
            cancel: false,
            new_verification: may_send,
        }
    }
}

/// How one verification is shown to the caller.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PanelShown {
    pub state: ShownState,
    pub state_name: String,
    pub actions: PanelActions,
}

/// What the panel reads of a verification to show it.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ShownInput {
    pub status: VerificationStatus,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

/// How each verification is shown to a caller with this access.
pub fn shown(verifications: &[ShownInput], access: &AgentAccess) -> Vec<PanelShown> {
    verifications
        .iter()
        .map(|v| {
            let state = shown_state(v.status, &v.history);
            PanelShown {
                state,
                state_name: state.name().to_owned(),
                actions: actions(state, access.may_send, access.may_change),
            }
        })
        .collect()
}

/// What an agent of the issue may do with the app, from the agent groups the admin chose.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AgentAccess {
    /// May send, resend and cancel (rate limits and setup aside).
    pub may_send: bool,
    /// May cancel a live link.
    pub may_change: bool,
    /// Why not, in words for the panel's notice; None when allowed.
    pub reason: Option<String>,
}

/// The access of an agent who belongs to `member_of` (Jira group names), when the admin chose
/// `agent_groups` (none: every agent of the issue). Group names compare without case, as Jira
/// treats them. An agent outside the groups still sees the verifications: whether the caller
/// was verified is what the ticket is about.
pub fn agent_access(agent_groups: &[String], member_of: &[String]) -> AgentAccess {
    let wanted: Vec<String> = agent_groups
        .iter()
        .map(|g| g.trim().to_lowercase())
        .filter(|g| !g.is_empty())
        .collect();
    let member = wanted.is_empty()
        || member_of
            .iter()
            .any(|g| wanted.contains(&g.trim().to_lowercase()));
    if member {
        return AgentAccess {
            may_send: true,
            may_change: true,
            reason: None,
        };
    }
    let names: Vec<&str> = agent_groups
        .iter()
        .map(|g| g.trim())
        .filter(|g| !g.is_empty())
        .collect();
    AgentAccess {
        may_send: false,
        may_change: false,
        reason: Some(format!(
            "Only members of {} can send verification links. Ask your Jira admin if you need to.",
            either_of(&names)
        )),
    }
}

/// "a", "a or b", "a, b or c".
fn either_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: VerificationStatus, cause: &str) -> HistoryEntry {
        HistoryEntry {
            status,
            at_ms: 1,
            cause: cause.to_owned(),
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn every_state_has_one_distinct_name() {
        let names: Vec<&str> = ShownState::ALL.iter().map(|s| s.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            status_name(VerificationStatus::ManualReview),
            "Pending review"
        );
    }

    #[test]
    fn a_link_replaced_by_a_new_one_is_not_called_cancelled() {
        let sent = entry(VerificationStatus::Requested, "sent");
        for cause in [REPLACED_CAUSE, EARLIER_REPLACED_CAUSE] {
            let history = [sent.clone(), entry(VerificationStatus::Cancelled, cause)];
            assert_eq!(
                shown_state(VerificationStatus::Cancelled, &history),
                ShownState::Replaced
            );
        }
        let by_agent = [
            sent,
            entry(VerificationStatus::Cancelled, "cancelled by Ada"),
        ];
        assert_eq!(
            shown_state(VerificationStatus::Cancelled, &by_agent),
            ShownState::Cancelled
        );
        assert_eq!(ShownState::Replaced.name(), "Replaced by a new link");
    }

    #[test]
    fn an_ended_link_offers_one_way_to_verify_again() {
        for state in ShownState::ALL {
            let a = actions(state, true, true);
            if state.active() {
                assert_eq!(
                    a,
                    PanelActions {
                        resend: true,
                        cancel: true,
                        new_verification: false
                    }
                );
            } else {
                assert_eq!(
                    a,
                    PanelActions {
                        resend: false,
                        cancel: false,
                        new_verification: true
                    },
                    "{state:?}"
                );
            }
        }
    }

    #[test]
    fn an_agent_outside_the_groups_sees_but_cannot_act() {
        let access = agent_access(&groups(&["Tier 1", "tier-2"]), &groups(&["jira-users"]));
        assert!(!access.may_send && !access.may_change);
        assert_eq!(
            access.reason.as_deref(),
            Some("Only members of Tier 1 or tier-2 can send verification links. Ask your Jira admin if you need to.")
        );
        for state in ShownState::ALL {
            assert_eq!(actions(state, false, false), PanelActions::default());
        }
        let three = agent_access(&groups(&["a", "b", "c"]), &[]);
        assert!(three
            .reason
            .unwrap_or_default()
            .starts_with("Only members of a, b or c "));
    }

    #[test]
    fn members_and_open_settings_may_act() {
        assert!(agent_access(&groups(&["Tier 1"]), &groups(&["TIER 1"])).may_send);
        assert!(agent_access(&[], &[]).may_send);
        assert!(agent_access(&groups(&["  "]), &[]).may_send);
        let member = agent_access(&groups(&["Tier 1"]), &groups(&["x", "tier 1"]));
        assert_eq!(member.reason, None);
        assert!(member.may_change);
    }

    #[test]
    fn shown_reads_each_verification() {
        let access = agent_access(&[], &[]);
        let input = [
            ShownInput {
                status: VerificationStatus::Cancelled,
                history: vec![entry(VerificationStatus::Cancelled, REPLACED_CAUSE)],
            },
            ShownInput {
                status: VerificationStatus::Requested,
                history: vec![],
            },
        ];
        let out = shown(&input, &access);
        assert_eq!(out[0].state, ShownState::Replaced);
        assert_eq!(out[0].state_name, "Replaced by a new link");
        assert!(out[0].actions.new_verification);
        assert!(out[1].actions.resend && out[1].actions.cancel);
    }
}
