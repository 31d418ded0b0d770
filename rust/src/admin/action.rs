//! The admin actions by name: the resolver's `start(input)` and `next(state, results)`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answer::Reply;
use super::credentials::{self, TestState};
use super::page::{self, WebhookUrls};
use super::save::{self, SaveState};
use super::send_test::{self, SendState};
use super::{deliveries, gate_rule, lookups, preview};
use crate::actions::agent::get;
use crate::actions::{caller_of, jira_json, CallerContext, Refusal};
use crate::effects::Effect;
use crate::plan::{Results, Step};

const NOT_AN_ADMIN: &str = "Only Jira admins can change these settings.";

/// The resolvers of the admin page.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum AdminAction {
    GetSettings,
    SaveSettings,
    TestCredentials,
    SendTest,
    ClearTokenCache,
    ListTransitions,
    SearchGroups,
    ListPersonFields,
    PreviewComment,
    GetDeliveries,
    Report,
    /// The "Identity verified" rule's configuration pages (create, edit, view).
    GateRule,
}

/// What the resolver hands over: the action, the page's payload, the clock, and (for the
/// settings page) the webtriggers' URLs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AdminInput {
    pub action: AdminAction,
    /// Who is calling, from the invocation context Forge signs.
    pub caller: CallerContext,
    #[serde(default)]
    #[cfg_attr(test, ts(type = "unknown"))]
    pub payload: Value,
    pub now_ms: i64,
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub urls: Option<WebhookUrls>,
    /// This invocation's id, drawn by the executor: names a change in the audit trail beside
    /// its time or revision, so two at once keep an entry each.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<String>", optional))]
    pub invocation: String,
}

/// The admin who acts, for the audit trail: their account, the name Jira shows for them (asked
/// beside the permission check), and the invocation's id.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Actor {
    pub account_id: String,
    pub name: String,
    pub invocation: String,
}

impl Actor {
    /// An audit key: `base` (the change's time or revision) and this invocation.
    pub fn key(&self, base: String) -> String {
        if self.invocation.is_empty() {
            base
        } else {
            format!("{base}:{}", self.invocation)
        }
    }
}

/// Where an action stands between two steps (opaque to the executor).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum AdminState {
    Page(#[cfg_attr(test, ts(type = "unknown"))] WebhookUrls),
    Save(#[cfg_attr(test, ts(type = "unknown"))] SaveState),
    Test(#[cfg_attr(test, ts(type = "unknown"))] TestState),
    Send(#[cfg_attr(test, ts(type = "unknown"))] SendState),
    Workflows(#[cfg_attr(test, ts(type = "unknown"))] super::workflows::Listing),
    Report(#[cfg_attr(test, ts(type = "unknown"))] super::report::ReportState),
    /// A one-step action waiting for its results.
    Asked(AdminAction),
    /// The action, waiting for the caller's permission.
    Admitting(#[cfg_attr(test, ts(type = "unknown"))] Box<AdminInput>),
}

pub type AdminStep = Step<AdminState, Reply>;

/// Carries a step over to the admin state.
fn wrap<S>(step: Step<S, Reply>, state: impl FnOnce(S) -> AdminState) -> AdminStep {
    step.held(state)
}

/// Every admin action starts by asking Jira, as the caller, whether they hold the global
/// Administer Jira permission: nothing is read or done for a caller who does not. Who they are
/// (`myself`: the name the audit trail shows) is asked in the same round trip.
pub fn start(input: AdminInput) -> AdminStep {
    if let Err(refusal) = caller_of(&input.caller) {
        return Step::reply(Reply::refused(refusal));
    }
    Step {
        effects: vec![
            Effect::AskJira {
                request: get("/rest/api/3/mypermissions?permissions=ADMINISTER".to_owned()),
                as_user: true,
            },
            Effect::AskJira {
                request: get("/rest/api/3/myself".to_owned()),
                as_user: true,
            },
        ],
        ..Step::then(AdminState::Admitting(Box::new(input)))
    }
}

/// The caller's display name from `myself` (empty when Jira did not say: the permission alone
/// admits, the name is only shown).
fn name_of(results: &Results) -> String {
    jira_json(results.effects.get(1), None)
        .ok()
        .and_then(|me| {
            me.get("displayName")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Whether the permission answer admits the caller.
fn admitted(results: &Results) -> Result<(), Refusal> {
    let answer = jira_json(results.effects.first(), None)?;
    let granted = answer
        .pointer("/permissions/ADMINISTER/havePermission")
        .and_then(serde_json::Value::as_bool);
    match granted {
        Some(true) => Ok(()),
        _ => Err(Refusal::forbidden(NOT_AN_ADMIN)),
    }
}

/// The admitted caller's action (`name`: theirs, as Jira shows it).
fn begin(input: AdminInput, name: String) -> AdminStep {
    let asked = |action| move |()| AdminState::Asked(action);
    // The admitted caller, for the audit trail.
    let actor = Actor {
        account_id: input
            .caller
            .account_id
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        name,
        invocation: input.invocation.clone(),
    };
    match input.action {
        AdminAction::GetSettings => wrap(
            page::start(input.urls.unwrap_or_default()),
            AdminState::Page,
        ),
        AdminAction::SaveSettings => wrap(save::start(input.payload, actor), AdminState::Save),
        AdminAction::TestCredentials => wrap(credentials::start_test(actor), AdminState::Test),
        AdminAction::SendTest => wrap(send_test::start(input.payload, actor), AdminState::Send),
        AdminAction::ClearTokenCache => wrap(credentials::start_clear(), asked(input.action)),
        AdminAction::ListTransitions => wrap(super::workflows::start(), AdminState::Workflows),
        AdminAction::SearchGroups => {
            wrap(lookups::search_groups(&input.payload), asked(input.action))
        }
        AdminAction::ListPersonFields => wrap(lookups::list_person_fields(), asked(input.action)),
        AdminAction::PreviewComment => wrap(
            preview::preview_comment(&input.payload, input.now_ms),
            asked(input.action),
        ),
        AdminAction::GetDeliveries => wrap(deliveries::start(), asked(input.action)),
        AdminAction::GateRule => wrap(gate_rule::describe(&input.payload), asked(input.action)),
        AdminAction::Report => wrap(
            super::report::start(&input.payload, input.now_ms),
            AdminState::Report,
        ),
    }
}

pub fn next(state: AdminState, results: &Results) -> AdminStep {
    let asked = |action| move |()| AdminState::Asked(action);
    match state {
        AdminState::Admitting(input) => match admitted(results) {
            Ok(()) => begin(*input, name_of(results)),
            Err(refusal) => Step::reply(Reply::refused(refusal)),
        },
        AdminState::Page(urls) => wrap(page::next(urls, results), AdminState::Page),
        AdminState::Save(state) => wrap(save::next(state, results), AdminState::Save),
        AdminState::Test(state) => wrap(credentials::next_test(state, results), AdminState::Test),
        AdminState::Send(state) => wrap(send_test::next(state, results), AdminState::Send),
        AdminState::Workflows(listing) => wrap(
            super::workflows::next(listing, results),
            AdminState::Workflows,
        ),
        AdminState::Report(state) => wrap(super::report::next(state, results), AdminState::Report),
        AdminState::Asked(action) => {
            let step = match action {
                AdminAction::ClearTokenCache => credentials::cleared(results),
                AdminAction::SearchGroups => lookups::groups_found(results),
                AdminAction::ListPersonFields => lookups::person_fields_found(results),
                AdminAction::GetDeliveries => deliveries::listed(results),
                _ => Step::reply(Reply::refused(super::answer::internal())),
            };
            wrap(step, asked(action))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Actor;

    #[test]
    fn an_actor_names_its_invocation_in_the_audit_key() {
        let mut actor = Actor {
            account_id: "a".into(),
            name: "Avery".into(),
            invocation: "inv-1".into(),
        };
        assert_eq!(actor.key("settings:4".into()), "settings:4:inv-1");
        actor.invocation.clear();
        assert_eq!(actor.key("settings:4".into()), "settings:4", "as before");
    }
}
