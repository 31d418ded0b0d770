//! The one module that knows about wasm-bindgen: it turns JS values into the core's boundary
//! types, calls one domain function, and turns the answer back. Expected failures are values
//! (`Parsed`, `WebhookReceipt`, ...); a value of the wrong shape is a programming error in the
//! shim and crosses as a JS `Error` with `code = "bad_input"` and the path of the bad field.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::model::{
    CommentVisibility, HttpAnswer, Outcome, Parsed, SecretFlags, Secrets, Settings, Verification,
    VerificationStatus, WebhookAuth,
};
use crate::{incode, jira, settings, state, template, transitions, webhook};

#[wasm_bindgen(typescript_custom_section)]
const API_TYPES: &str = include_str!("api.d.ts");

type JsResult = Result<JsValue, JsValue>;

// NOTE: the JSON-compatible serializer turns maps into plain objects (not `Map`) and 64-bit
// integers into numbers, which is what the shims and `api.d.ts` expect.
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

/// A JS `Error` whose `code` property the shims branch on.
fn coded_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

#[wasm_bindgen(js_name = defaultSettings, unchecked_return_type = "Settings")]
pub fn default_settings() -> JsResult {
    to_js(&settings::default_settings())
}

#[wasm_bindgen(js_name = validateSettings, unchecked_return_type = "SettingsDecision")]
pub fn validate_settings(
    #[wasm_bindgen(unchecked_param_type = "Settings")] current: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SettingsInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SecretFlags")] flags: JsValue,
) -> JsResult {
    let current: Settings = from_js("current settings", current)?;
    let input: serde_json::Value = from_js("settings input", input)?;
    let flags: SecretFlags = from_js("secret flags", flags)?;
    to_js(&settings::validate_settings(&current, &input, flags))
}

#[wasm_bindgen(js_name = publicSettings, unchecked_return_type = "PublicSettings")]
pub fn public_settings(
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SecretFlags")] flags: JsValue,
) -> JsResult {
    let settings_value: Settings = from_js("settings", settings_value)?;
    let flags: SecretFlags = from_js("secret flags", flags)?;
    to_js(&settings::public_settings(&settings_value, flags))
}

#[wasm_bindgen(js_name = validateTemplate, unchecked_return_type = "FieldError[]")]
pub fn validate_template(source: &str) -> JsResult {
    to_js(&template::validate_template(source))
}

#[wasm_bindgen(js_name = renderTemplate, unchecked_return_type = "Parsed<AdfDoc>")]
pub fn render_template(
    source: &str,
    #[wasm_bindgen(unchecked_param_type = "TemplateVars")] vars: JsValue,
) -> JsResult {
    let vars: template::TemplateVars = from_js("template variables", vars)?;
    to_js(&Parsed::from(template::render_template(source, &vars)))
}

/// Settings with their comment templates compiled once. The shims keep one `Core` per settings
/// revision, so a warm function renders without re-parsing templates.
#[wasm_bindgen]
pub struct Core {
    settings: Settings,
    templates: template::CompiledTemplates,
}

#[wasm_bindgen]
impl Core {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    ) -> Result<Core, JsValue> {
        let settings_value: Settings = from_js("settings", settings_value)?;
        let templates = template::CompiledTemplates::new(&settings_value.templates);
        Ok(Core {
            settings: settings_value,
            templates,
        })
    }

    #[wasm_bindgen(js_name = applyEvent, unchecked_return_type = "EventDecision")]
    pub fn apply_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
        #[wasm_bindgen(unchecked_param_type = "IncodeEvent")] event: JsValue,
        now_ms: f64,
    ) -> JsResult {
        let verification: Verification = from_js("verification", verification)?;
        let event = from_js("event", event)?;
        to_js(&state::apply_event(
            &verification,
            &event,
            &self.settings,
            &self.templates,
            now_ms as i64,
        ))
    }

    #[wasm_bindgen(js_name = renderComment, unchecked_return_type = "Parsed<AdfDoc>")]
    pub fn render_comment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Outcome")] outcome: JsValue,
        #[wasm_bindgen(unchecked_param_type = "TemplateVars")] vars: JsValue,
    ) -> JsResult {
        let outcome: Outcome = from_js("outcome", outcome)?;
        let vars: template::TemplateVars = from_js("template variables", vars)?;
        to_js(&Parsed::from(self.templates.render(outcome, &vars)))
    }
}

#[wasm_bindgen(js_name = receiveWebhook, unchecked_return_type = "WebhookReceipt")]
pub fn receive_webhook(
    #[wasm_bindgen(unchecked_param_type = "WebhookInput")] input: JsValue,
) -> JsResult {
    let input: webhook::WebhookInput = from_js("webhook input", input)?;
    to_js(&webhook::receive_webhook(&input))
}

#[wasm_bindgen(js_name = issueWebhookToken, unchecked_return_type = "TokenAnswer")]
pub fn issue_webhook_token(
    #[wasm_bindgen(unchecked_param_type = "WebhookAuth")] auth: JsValue,
    secret: &str,
    authorization: &str,
    body: &str,
    now_ms: f64,
) -> JsResult {
    let auth: WebhookAuth = from_js("webhook auth", auth)?;
    to_js(&webhook::issue_webhook_token(
        &auth,
        secret,
        authorization,
        body,
        now_ms as i64,
    ))
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

#[wasm_bindgen(js_name = expireIfDue, unchecked_return_type = "Verification | null")]
pub fn expire_if_due(
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
    now_ms: f64,
) -> JsResult {
    let verification: Verification = from_js("verification", verification)?;
    to_js(&state::expire_if_due(&verification, now_ms as i64))
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

#[wasm_bindgen(js_name = statusText)]
pub fn status_text(
    #[wasm_bindgen(unchecked_param_type = "VerificationStatus")] status: JsValue,
    at_ms: f64,
) -> Result<String, JsValue> {
    let status: VerificationStatus = from_js("status", status)?;
    Ok(state::status_text(status, at_ms as i64))
}

#[wasm_bindgen(js_name = chooseTransition, unchecked_return_type = "TransitionChoice")]
pub fn choose_transition(
    #[wasm_bindgen(unchecked_param_type = "Outcome")] outcome: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    issue_key: &str,
    #[wasm_bindgen(unchecked_param_type = "TransitionsAnswer")] answer: JsValue,
) -> JsResult {
    let outcome: Outcome = from_js("outcome", outcome)?;
    let settings_value: Settings = from_js("settings", settings_value)?;
    let answer: serde_json::Value = from_js("transitions answer", answer)?;
    to_js(&transitions::choose_transition(
        outcome,
        &settings_value,
        issue_key,
        &answer,
    ))
}

#[wasm_bindgen(js_name = transitionsRequest, unchecked_return_type = "HttpRequest")]
pub fn transitions_request(issue_key: &str) -> JsResult {
    to_js(&jira::transitions_request(issue_key))
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

#[wasm_bindgen(js_name = propertyRequest, unchecked_return_type = "HttpRequest")]
pub fn property_request(
    issue_key: &str,
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
) -> JsResult {
    let verification: Verification = from_js("verification", verification)?;
    to_js(&jira::property_request(issue_key, &verification))
}
