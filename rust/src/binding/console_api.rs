//! The console module's API: settings, templates and the Incode client, for the agent's panel
//! and the admin page. Values cross with serde-wasm-bindgen.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::core_api::crossing;
use super::{coded_error, JsResult};
use crate::model::{
    CommentVisibility, HttpAnswer, Parsed, SecretFlags, Secrets, Settings, Verification,
    VerificationStatus,
};
use crate::plan::Results;
use crate::site::SiteFacts;
use crate::{actions, admin, gate, incode, jira, panel, rules, settings, site, state, template};

// NOTE: the JSON-compatible serializer turns maps into plain objects (not `Map`) and 64-bit
// integers into numbers, which is what the shims and the declarations (`types.d.ts`) expect.
const SERIALIZER: serde_wasm_bindgen::Serializer =
    serde_wasm_bindgen::Serializer::json_compatible();

fn to_js<T: Serialize>(value: &T) -> JsResult {
    value
        .serialize(&SERIALIZER)
        .map_err(|e| coded_error("internal", &format!("could not encode the answer: {e}")))
}

fn from_js<T: DeserializeOwned>(what: &str, value: JsValue) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| coded_error("bad_input", &format!("{what} has the wrong shape: {e}")))
}

#[wasm_bindgen(js_name = validateSettings, unchecked_return_type = "SettingsDecision")]
pub fn validate_settings(
    #[wasm_bindgen(unchecked_param_type = "Settings")] current: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SettingsInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SecretFlags")] flags: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SiteFacts | undefined")] site: JsValue,
) -> JsResult {
    let current: Settings = from_js("current settings", current)?;
    let input: serde_json::Value = from_js("settings input", input)?;
    let flags: SecretFlags = from_js("secret flags", flags)?;
    let site: SiteFacts = if site.is_undefined() {
        SiteFacts::default()
    } else {
        from_js("site facts", site)?
    };
    to_js(&settings::validate_settings_on_site(
        &current, &input, flags, &site,
    ))
}

/// What `PublicSettings.missing` names, in words for a message.
#[wasm_bindgen(js_name = missingWords)]
pub fn missing_words(missing: Vec<String>) -> String {
    settings::missing_words(&missing)
}

/// The constants and number rules the admin page shows and checks (`AdminRules`).
#[wasm_bindgen(js_name = adminRules, unchecked_return_type = "AdminRules")]
pub fn admin_rules() -> JsResult {
    to_js(&rules::admin_rules())
}

/// The groups in a groups picker answer (`FoundGroups`).
#[wasm_bindgen(js_name = foundGroups, unchecked_return_type = "SiteGroup[]")]
pub fn found_groups(answer: JsValue) -> JsResult {
    let answer: serde_json::Value = from_js("groups picker answer", answer)?;
    to_js(&site::found_groups(&answer))
}

/// The choices for the person to verify, from the site's fields (`GET /rest/api/3/field`).
#[wasm_bindgen(js_name = personFieldOptions, unchecked_return_type = "PersonFieldOption[]")]
pub fn person_field_options(fields: JsValue) -> JsResult {
    let fields: serde_json::Value = from_js("fields", fields)?;
    to_js(&site::person_field_options(&fields))
}

#[wasm_bindgen(js_name = validateTemplate, unchecked_return_type = "FieldError[]")]
pub fn validate_template(source: &str) -> JsResult {
    to_js(&template::validate_template(source))
}

/// The settings with their custom templates compiled for the core module (`templateCode`), as
/// saving them does (`validateSettings`); the tests and the benchmark give settings in their
/// saved form with it.
#[wasm_bindgen(js_name = compileTemplates, unchecked_return_type = "Settings")]
pub fn compile_templates(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
) -> JsResult {
    let mut settings_value: Settings = from_js("settings", settings_value)?;
    settings_value.template_code = template::template_code(&settings_value.templates);
    to_js(&settings_value)
}

#[wasm_bindgen(js_name = renderTemplate, unchecked_return_type = "Parsed<AdfDoc>")]
pub fn render_template(
    source: &str,
    #[wasm_bindgen(unchecked_param_type = "TemplateVars")] vars: JsValue,
) -> JsResult {
    let vars: template::TemplateVars = from_js("template variables", vars)?;
    to_js(&Parsed::from(template::render_template(source, &vars)))
}

#[wasm_bindgen(js_name = tokenRequest, unchecked_return_type = "HttpRequest")]
pub fn token_request(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
) -> JsResult {
    let settings_value: Settings = from_js("settings", settings_value)?;
    let secrets: Secrets = from_js("secrets", secrets)?;
    to_js(&incode::token_request(&settings_value, &secrets))
}

#[wasm_bindgen(js_name = parseToken, unchecked_return_type = "Parsed<IncodeToken>")]
pub fn parse_token(
    #[wasm_bindgen(unchecked_param_type = "HttpAnswer")] answer: JsValue,
    now_ms: f64,
) -> JsResult {
    let answer: HttpAnswer = from_js("answer", answer)?;
    to_js(&Parsed::from(incode::parse_token(&answer, now_ms as i64)))
}

#[wasm_bindgen(js_name = startRequest, unchecked_return_type = "Parsed<HttpRequest>")]
pub fn start_request(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
    access_token: &str,
    #[wasm_bindgen(unchecked_param_type = "StartVerificationInput")] input: JsValue,
) -> JsResult {
    let settings_value: Settings = from_js("settings", settings_value)?;
    let secrets: Secrets = from_js("secrets", secrets)?;
    let input: incode::StartVerificationInput = from_js("start input", input)?;
    to_js(&Parsed::from(incode::start_request(
        &settings_value,
        &secrets,
        access_token,
        &input,
    )))
}

#[wasm_bindgen(js_name = parseStart, unchecked_return_type = "Parsed<StartedSession>")]
pub fn parse_start(
    #[wasm_bindgen(unchecked_param_type = "HttpAnswer")] answer: JsValue,
) -> JsResult {
    let answer: HttpAnswer = from_js("answer", answer)?;
    to_js(&Parsed::from(incode::parse_start(&answer)))
}

#[wasm_bindgen(js_name = newVerification, unchecked_return_type = "Verification")]
pub fn new_verification(
    #[wasm_bindgen(unchecked_param_type = "NewVerificationInput")] input: JsValue,
) -> JsResult {
    let input: state::NewVerificationInput = from_js("new verification", input)?;
    to_js(&state::new_verification(&input))
}

#[wasm_bindgen(js_name = cancelVerification, unchecked_return_type = "Parsed<Verification>")]
pub fn cancel_verification(
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
    now_ms: f64,
    by: &str,
) -> JsResult {
    let verification: Verification = from_js("verification", verification)?;
    to_js(&Parsed::from(state::cancel_verification(
        &verification,
        now_ms as i64,
        by,
    )))
}

#[wasm_bindgen(js_name = replaceVerification, unchecked_return_type = "Parsed<Verification>")]
pub fn replace_verification(
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
    now_ms: f64,
) -> JsResult {
    let verification: Verification = from_js("verification", verification)?;
    to_js(&Parsed::from(state::replace_verification(
        &verification,
        now_ms as i64,
    )))
}

#[wasm_bindgen(js_name = statusText)]
pub fn status_text(
    #[wasm_bindgen(unchecked_param_type = "VerificationStatus")] status: JsValue,
    at_ms: f64,
) -> Result<String, JsValue> {
    let status: VerificationStatus = from_js("status", status)?;
    Ok(state::status_text(status, at_ms as i64))
}

#[wasm_bindgen(js_name = commentRequest, unchecked_return_type = "HttpRequest")]
pub fn comment_request(
    issue_key: &str,
    #[wasm_bindgen(unchecked_param_type = "AdfDoc")] adf: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CommentVisibility")] visibility: JsValue,
) -> JsResult {
    let adf: template::AdfDoc = from_js("comment body", adf)?;
    let visibility: CommentVisibility = from_js("visibility", visibility)?;
    to_js(&jira::comment_request(issue_key, &adf, visibility))
}

/// What an agent of the issue may do, from the admin's agent groups and the caller's groups.
#[wasm_bindgen(js_name = agentAccess, unchecked_return_type = "AgentAccess")]
pub fn agent_access(
    #[wasm_bindgen(unchecked_param_type = "string[]")] agent_groups: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] member_of: JsValue,
) -> JsResult {
    let agent_groups: Vec<String> = from_js("agent groups", agent_groups)?;
    let member_of: Vec<String> = from_js("groups", member_of)?;
    to_js(&panel::agent_access(&agent_groups, &member_of))
}

/// How the panel shows each verification to a caller with `access`: state, its name, actions.
#[wasm_bindgen(js_name = panelShown, unchecked_return_type = "PanelShown[]")]
pub fn panel_shown(
    #[wasm_bindgen(unchecked_param_type = "ShownInput[]")] verifications: JsValue,
    #[wasm_bindgen(unchecked_param_type = "AgentAccess")] access: JsValue,
) -> JsResult {
    let verifications: Vec<panel::ShownInput> = from_js("verifications", verifications)?;
    let access: panel::AgentAccess = from_js("access", access)?;
    to_js(&panel::shown(&verifications, &access))
}

/// What the admin page and the panel may see of the settings.
#[wasm_bindgen(js_name = publicSettings, unchecked_return_type = "PublicSettings")]
pub fn public_settings(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SecretFlags")] flags: JsValue,
) -> JsResult {
    let settings_value: Settings = from_js("settings", settings_value)?;
    let flags: SecretFlags = from_js("secret flags", flags)?;
    to_js(&settings::public_settings(&settings_value, flags))
}

/// The first step of an admin action (`rust/src/admin/`), for `run` (`src/run.js`).
#[wasm_bindgen(js_name = adminStart, unchecked_return_type = "Step<AdminState, Reply>")]
pub fn admin_start(
    #[wasm_bindgen(unchecked_param_type = "AdminInput")] input: JsValue,
) -> JsResult {
    let input: admin::AdminInput = from_js("admin input", input)?;
    to_js(&crossing(admin::start(input)))
}

/// The next step of an admin action, from the last one's state and results.
#[wasm_bindgen(js_name = adminNext, unchecked_return_type = "Step<AdminState, Reply>")]
pub fn admin_next(
    #[wasm_bindgen(unchecked_param_type = "AdminState")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: admin::AdminState = from_js("admin state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(admin::next(state, &results)))
}

/// The first step of the weekly personal-data report (`rust/src/admin/privacy.rs`).
#[wasm_bindgen(js_name = privacyStart, unchecked_return_type = "Step<unknown, Reply>")]
pub fn privacy_start(
    #[wasm_bindgen(unchecked_param_type = "PrivacyInput")] input: JsValue,
) -> JsResult {
    let input: admin::privacy::PrivacyInput = from_js("privacy input", input)?;
    to_js(&crossing(admin::privacy::start(input)))
}

/// The report's next step.
#[wasm_bindgen(js_name = privacyNext, unchecked_return_type = "Step<unknown, Reply>")]
pub fn privacy_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: admin::privacy::PrivacyState = from_js("privacy state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(admin::privacy::next(state, &results)))
}

/// The first step of the audit trail's daily retention run (`rust/src/admin/retention.rs`).
#[wasm_bindgen(js_name = retentionStart, unchecked_return_type = "Step<unknown, Reply>")]
pub fn retention_start(
    #[wasm_bindgen(unchecked_param_type = "RetentionInput")] input: JsValue,
) -> JsResult {
    let input: admin::retention::RetentionInput = from_js("retention input", input)?;
    to_js(&crossing(admin::retention::start(input)))
}

/// The retention run's next step.
#[wasm_bindgen(js_name = retentionNext, unchecked_return_type = "Step<unknown, Reply>")]
pub fn retention_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: admin::retention::RetentionState = from_js("retention state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(admin::retention::next(state, &results)))
}

/// The first step of the hourly expiry run (`rust/src/actions/sweep.rs`).
#[wasm_bindgen(js_name = sweepStart, unchecked_return_type = "Step<unknown, Answer<Swept>>")]
pub fn sweep_start(
    #[wasm_bindgen(unchecked_param_type = "SweepInput")] input: JsValue,
) -> JsResult {
    let input: actions::sweep::SweepInput = from_js("sweep input", input)?;
    to_js(&crossing(actions::sweep::start(input)))
}

/// The expiry run's next step.
#[wasm_bindgen(js_name = sweepNext, unchecked_return_type = "Step<unknown, Answer<Swept>>")]
pub fn sweep_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: actions::sweep::SweepState = from_js("sweep state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(actions::sweep::next(state, &results)))
}

// The agent panel's actions, as planners (`rust/src/actions/`): `src/run.js` performs each step
// and hands the results to the `…Next` function until a step carries the answer.

/// Opening the panel (`panel.getState`): round trip 1.
#[wasm_bindgen(js_name = openStart, unchecked_return_type = "Step<unknown, Answer<PanelState>>")]
pub fn open_start(#[wasm_bindgen(unchecked_param_type = "OpenInput")] input: JsValue) -> JsResult {
    let input: actions::open::OpenInput = from_js("open input", input)?;
    to_js(&crossing(actions::open::start(input)))
}

#[wasm_bindgen(js_name = openNext, unchecked_return_type = "Step<unknown, Answer<PanelState>>")]
pub fn open_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: actions::open::OpenState = from_js("open state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(actions::open::next(state, results)))
}

/// Sending (or resending) a link: round trip 1.
#[wasm_bindgen(js_name = sendStart, unchecked_return_type = "Step<unknown, Answer<Sent>>")]
pub fn send_start(#[wasm_bindgen(unchecked_param_type = "SendInput")] input: JsValue) -> JsResult {
    let input: actions::send::SendInput = from_js("send input", input)?;
    to_js(&crossing(actions::send::start(input)))
}

#[wasm_bindgen(js_name = sendNext, unchecked_return_type = "Step<unknown, Answer<Sent>>")]
pub fn send_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: actions::send::SendState = from_js("send state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(actions::send::next(state, results)))
}

/// Cancelling a link: round trip 1.
#[wasm_bindgen(js_name = cancelStart, unchecked_return_type = "Step<unknown, Answer<Sent>>")]
pub fn cancel_start(
    #[wasm_bindgen(unchecked_param_type = "CancelInput")] input: JsValue,
) -> JsResult {
    let input: actions::cancel::CancelInput = from_js("cancel input", input)?;
    to_js(&crossing(actions::cancel::start(input)))
}

#[wasm_bindgen(js_name = cancelNext, unchecked_return_type = "Step<unknown, Answer<Sent>>")]
pub fn cancel_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: actions::cancel::CancelState = from_js("cancel state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(actions::cancel::next(state, results)))
}

/// The workflow gate "Identity verified": round trip 1 (`rust/src/gate/`).
#[wasm_bindgen(js_name = gateStart, unchecked_return_type = "Step<unknown, GateVerdict>")]
pub fn gate_start(#[wasm_bindgen(unchecked_param_type = "GateInput")] input: JsValue) -> JsResult {
    let input: gate::GateInput = from_js("gate input", input)?;
    to_js(&crossing(gate::start(input)))
}

#[wasm_bindgen(js_name = gateNext, unchecked_return_type = "Step<unknown, GateVerdict>")]
pub fn gate_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: gate::GateState = from_js("gate state", state)?;
    let results: Results = from_js("results", results)?;
    to_js(&crossing(gate::next(state, results)))
}

/// A gate rule's configuration as its configuration page shows it: defaults filled in, or the
/// errors at their fields.
#[wasm_bindgen(js_name = gateConfigCheck, unchecked_return_type = "GateConfigCheck")]
pub fn gate_config_check(
    #[wasm_bindgen(unchecked_param_type = "unknown")] configuration: JsValue,
) -> JsResult {
    let configuration: serde_json::Value = from_js("gate configuration", configuration)?;
    to_js(&gate::config::check(&configuration))
}

/// What the gate rule's configuration pages draw (`GateRules`): fields, ranges, defaults.
#[wasm_bindgen(js_name = gateRules, unchecked_return_type = "GateRules")]
pub fn gate_rules() -> JsResult {
    to_js(&gate::page::rules())
}
