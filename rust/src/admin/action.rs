//! The admin actions by name: the resolver's `start(input)` and `next(state, results)`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answer::Reply;
use super::credentials::{self, TestState};
use super::page::{self, WebhookUrls};
use super::save::{self, SaveState};
use super::send_test::{self, SendState};
use super::{deliveries, lookups, preview};
use crate::plan::{Results, Step};

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
}

/// What the resolver hands over: the action, the page's payload, the clock, and (for the
/// settings page) the webtriggers' URLs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AdminInput {
    pub action: AdminAction,
    #[serde(default)]
    #[cfg_attr(test, ts(type = "unknown"))]
    pub payload: Value,
    pub now_ms: i64,
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub urls: Option<WebhookUrls>,
    /// The admin calling (from the invocation context), for the audit trail.
    #[serde(default)]
    pub actor_account_id: String,
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
}

pub type AdminStep = Step<AdminState, Reply>;

/// Carries a step over to the admin state.
fn wrap<S>(step: Step<S, Reply>, state: impl FnOnce(S) -> AdminState) -> AdminStep {
    step.held(state)
}

pub fn start(input: AdminInput) -> AdminStep {
    let asked = |action| move |()| AdminState::Asked(action);
    match input.action {
        AdminAction::GetSettings => wrap(
            page::start(input.urls.unwrap_or_default()),
            AdminState::Page,
        ),
        AdminAction::SaveSettings => wrap(
            save::start(input.payload, input.actor_account_id),
            AdminState::Save,
        ),
        AdminAction::TestCredentials => wrap(
            credentials::start_test(input.actor_account_id),
            AdminState::Test,
        ),
        AdminAction::SendTest => wrap(send_test::start(input.payload), AdminState::Send),
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
        AdminAction::Report => wrap(
            super::report::start(&input.payload, input.now_ms),
            AdminState::Report,
        ),
    }
}

pub fn next(state: AdminState, results: &Results) -> AdminStep {
    let asked = |action| move |()| AdminState::Asked(action);
    match state {
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
