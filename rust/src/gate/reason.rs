//! Why the gate refused a transition, and what the agent reads in Jira: what is missing and
//! what to do about it.

use super::config::minutes_words;
use super::GateConfig;
use crate::actions::agent::Person;
use crate::jira::format_utc;
use crate::model::VerificationStatus;

const SEND_ONE: &str = "send one from the Identity verification panel";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The rule's stored configuration is unreadable (the fields named).
    Misconfigured(String),
    /// The app's storage did not answer (or a transaction failed): nothing can be checked.
    Storage,
    /// Jira did not answer the issue (or the person) look-up.
    Jira,
    /// The rule wants the person on the ticket and the ticket names nobody.
    NoPerson,
    /// The person's email cannot be read, so no verification can be matched to them.
    PersonEmail,
    /// The transition's screen changes the person on the request (or its project): a
    /// verification of the person it named before cannot count for the one it names after.
    PersonChanging,
    /// No passed verification at all (of the person, when the rule says so).
    NonePassed,
    /// Passed verifications exist, but of someone else.
    OtherPerson,
    /// The newest verification of the person has not passed (its status): a newer check that
    /// failed, is still open or was abandoned withdraws every earlier pass.
    NotPassed(VerificationStatus),
    /// The newest verification of the person passed, but its check was completed at this time,
    /// too long ago.
    TooOld(i64),
    /// The newest verification of the person already opened a gated transition.
    Used,
    /// Another transition claimed the same verification at the same time.
    UsedMeanwhile,
}

impl Reason {
    /// The code in the audit trail and the log.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Misconfigured(_) => "misconfigured",
            Reason::Storage => "storage_unavailable",
            Reason::Jira => "jira_unavailable",
            Reason::NoPerson => "no_person",
            Reason::PersonEmail => "person_email_unknown",
            Reason::PersonChanging => "person_changing",
            Reason::NonePassed => "none_passed",
            Reason::OtherPerson => "other_person",
            Reason::NotPassed(_) => "newest_not_passed",
            Reason::TooOld(_) => "too_old",
            Reason::Used => "used",
            Reason::UsedMeanwhile => "used_meanwhile",
        }
    }

    /// The message Jira shows the agent.
    pub fn message(&self, person: Option<&Person>, config: &GateConfig) -> String {
        let window = minutes_words(config.within_minutes);
        let who = match person {
            Some(p) if config.same_person && !p.name.is_empty() => p.name.clone(),
            Some(p) if config.same_person && !p.email.is_empty() => p.email.clone(),
            _ if config.same_person => "the person on this request".to_owned(),
            _ => "anyone on this request".to_owned(),
        };
        match self {
            Reason::Misconfigured(fields) => format!(
                "The \"Identity verified\" rule of this transition is misconfigured ({fields}): ask your Jira admin to edit the rule in the workflow."
            ),
            Reason::Storage => "The identity verification could not be checked: the app's storage did not answer. Try the transition again in a moment.".to_owned(),
            Reason::Jira => "The identity verification could not be checked: Jira did not answer the app. Try the transition again in a moment.".to_owned(),
            Reason::NoPerson => "No identity verification can count for this transition: the request names no person to verify. Set the person on the request, then send a verification from the Identity verification panel.".to_owned(),
            Reason::PersonEmail => format!(
                "The identity verification of {who} cannot be checked: Jira does not show the app their email address. Ask your Jira admin to check the app's access to user emails."
            ),
            Reason::PersonChanging => "This transition changes the person on the request (or its project), so no identity verification can count for it: change the person first, verify them from the Identity verification panel, then take the transition without changing them.".to_owned(),
            Reason::NonePassed => format!(
                "No passed identity verification of {who} in the last {window}: {SEND_ONE}."
            ),
            Reason::OtherPerson => format!(
                "No passed identity verification of {who} in the last {window} (the verification that passed on this request was of someone else): {SEND_ONE} to {who}."
            ),
            Reason::NotPassed(status) => {
                let (what, then) = match status {
                    VerificationStatus::Failed => ("failed", SEND_ONE),
                    VerificationStatus::Requested | VerificationStatus::InProgress => {
                        ("is still open", "wait for its result, or send a new one from the Identity verification panel")
                    }
                    VerificationStatus::ManualReview => ("is waiting for a manual review", "wait for the reviewer's decision"),
                    VerificationStatus::Expired => ("expired before it was completed", SEND_ONE),
                    VerificationStatus::Cancelled => ("was cancelled", SEND_ONE),
                    VerificationStatus::Passed => ("passed", SEND_ONE),
                };
                let of = if config.same_person { format!(" of {who}") } else { String::new() };
                format!(
                    "The newest identity verification{of} on this request {what}, and only the newest one can count: {then}."
                )
            }
            Reason::TooOld(at_ms) => format!(
                "No passed identity verification of {who} in the last {window} (the last check was completed at {} UTC): {SEND_ONE}.",
                format_utc(*at_ms)
            ),
            Reason::Used => format!(
                "The passed identity verification of {who} was already used for another transition: {SEND_ONE}."
            ),
            Reason::UsedMeanwhile => format!(
                "The passed identity verification of {who} was used for another transition at the same moment: {SEND_ONE}."
            ),
        }
    }
}
