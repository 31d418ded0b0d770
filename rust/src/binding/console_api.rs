//! The console module's API: the planners of the agent's panel, the admin page, the workflow
//! gate and the scheduled runs, and the rules the admin page shows. Values cross with
//! serde-wasm-bindgen. A Forge function or the benchmark calls each export; what only tests would
//! call is tested natively (`cargo test`) instead.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::core_api::crossing;
use super::{coded_error, JsResult};
use crate::model::Settings;
use crate::plan::Results;
use crate::{actions, admin, gate, rules, template};

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

/// The constants and number rules the admin page shows and checks (`AdminRules`).
#[wasm_bindgen(js_name = adminRules, unchecked_return_type = "AdminRules")]
pub fn admin_rules() -> JsResult {
    to_js(&rules::admin_rules())
}

/// The settings with their custom templates compiled for the core module (`templateCode`), as
/// saving them does; the benchmark gives its corpus's settings in their saved form with it.
#[wasm_bindgen(js_name = compileTemplates, unchecked_return_type = "Settings")]
pub fn compile_templates(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
) -> JsResult {
    let mut settings_value: Settings = from_js("settings", settings_value)?;
    settings_value.template_code = template::template_code(&settings_value.templates);
    to_js(&settings_value)
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
