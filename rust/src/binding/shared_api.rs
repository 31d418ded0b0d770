//! What the console module adds on top of `core_api.rs` with the same JSON-text crossing: the
//! event decision on its own (`new Core`, `Core#decideEvent`, `receiveWebhook`: the vectors, the
//! transport tests and the plain-JS baseline hold it), the token webtrigger's and the portal's
//! planners, and the small calls the tests and shims share. None of it is in the webhook's module.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::core_api::{
    body_text, crossing, from_js_text, json_text, rust_string, to_js_text, wrong_shape, Held,
    Memories, PLANS_KEPT,
};
use super::JsResult;
use crate::model::{
    EventRecord, Outcome, SecretFlags, Secrets, Settings, Verification, WebhookAuth,
};
use crate::{delivery, jira, plan, settings, state, template, transitions, webhook};

thread_local! {
    static TOKENS: std::cell::RefCell<Held<(String, delivery::token::TokenState)>> =
        const { std::cell::RefCell::new(Held::new(PLANS_KEPT)) };
    static TOKEN_MEMORIES: std::cell::RefCell<Memories> =
        const { std::cell::RefCell::new(Memories::new()) };
}

thread_local! {
    /// The webhook input's property names as JS strings, made once rather than per delivery.
    static KEYS: [(&'static str, JsValue); 5] =
        ["auth", "secret", "headers", "body", "nowMs"].map(|name| (name, JsValue::from_str(name)));
}

/// The webhook input, field by field: the body (up to hundreds of kilobytes) is copied once as
/// a string rather than escaped into JSON text and read back. `auth` given (a `Core`'s), the
/// input carries no `auth` and only the headers cross as JSON text.
fn webhook_input_from_js(
    input: &JsValue,
    auth: Option<&WebhookAuth>,
) -> Result<webhook::WebhookInput, JsValue> {
    const WHAT: &str = "webhook input";
    if !input.is_object() {
        return Err(wrong_shape(WHAT, "expected an object"));
    }
    let field = |name: &str| {
        KEYS.with(|keys| {
            let key = keys
                .iter()
                .find(|(known, _)| *known == name)
                .map_or_else(|| JsValue::from_str(name), |(_, key)| key.clone());
            js_sys::Reflect::get(input, &key)
        })
        .map_err(|_| wrong_shape(WHAT, &format!("{name} cannot be read")))
    };
    let text = |name: &str| {
        field(name)?
            .dyn_into::<js_sys::JsString>()
            .map(|text| rust_string(&text))
            .map_err(|_| wrong_shape(WHAT, &format!("{name}: expected a string")))
    };
    let auth: WebhookAuth = match auth {
        Some(auth) => auth.clone(),
        None => from_js_text("webhook input auth", &field("auth")?)?,
    };
    // Only the headers the configured authentication reads are kept.
    const HEADERS: &str = "webhook input headers";
    let headers = webhook::read_headers(&json_text(HEADERS, &field("headers")?)?, &auth)
        .map_err(|e| wrong_shape(HEADERS, &e.to_string()))?;
    let now_ms = field("nowMs")?
        .as_f64()
        .and_then(safe_integer)
        .ok_or_else(|| wrong_shape(WHAT, "nowMs: expected an integer"))?;
    Ok(webhook::WebhookInput {
        auth,
        secret: text("secret")?,
        headers,
        body: text("body")?,
        now_ms,
    })
}

/// Settings with their comment templates ready to render. The shims keep one `Core` per settings
/// revision, so a warm function reads them once.
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
        let settings_value: Settings = from_js_text("settings", &settings_value)?;
        // Custom templates arrive compiled (`template_code`): this module has no parser.
        let templates = template::CompiledTemplates::saved(
            &settings_value.templates,
            &settings_value.template_code,
        );
        Ok(Core {
            settings: settings_value,
            templates,
        })
    }

    /// The event decision for `applyEvent` (`src/core.js`), which puts the new record together:
    /// it reads only the record's `EventRecord` fields and answers `DecidedEvent`, the change to
    /// the record (`state::decide_event`) with the three JSON texts of its effects (the
    /// comment's and the property's request bodies, the live update's payload) handed over
    /// beside it as strings. Escaped inside the decision's JSON, they were written twice here
    /// and unescaped again by the engine.
    #[wasm_bindgen(js_name = decideEvent, unchecked_return_type = "DecidedEvent")]
    pub fn decide_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EventRecord")] record: JsValue,
        #[wasm_bindgen(unchecked_param_type = "IncodeEvent")] event: JsValue,
        now_ms: f64,
    ) -> JsResult {
        let record: EventRecord = from_js_text("verification", &record)?;
        let event = from_js_text("event", &event)?;
        let mut decided = state::decide_event(
            &record,
            &event,
            &self.settings,
            &self.templates,
            now_ms as i64,
        );
        let mut texts = [None, None, None];
        if let state::EventChange::Applied { actions, .. } = &mut decided {
            texts = [
                actions
                    .comment
                    .as_mut()
                    .and_then(|comment| comment.body.take()),
                actions.property.body.take(),
                Some(std::mem::take(&mut actions.realtime.payload)),
            ];
        }
        let [comment, property, payload] =
            texts.map(|text| text.map_or(JsValue::NULL, |text| JsValue::from_str(&text)));
        Ok(js_sys::Array::of4(&to_js_text(&decided)?, &comment, &property, &payload).into())
    }

    /// `receiveWebhook` with these settings' authentication: the input carries no `auth`, and
    /// its headers may be only those named by `webhookHeaders` (any others are dropped here).
    #[wasm_bindgen(js_name = receiveWebhook, unchecked_return_type = "WebhookReceipt")]
    pub fn receive_webhook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeliveryInput")] input: JsValue,
    ) -> JsResult {
        let input = webhook_input_from_js(&input, Some(&self.settings.webhook_auth))?;
        to_js_text(&webhook::receive_webhook(&input))
    }

    /// The names (trimmed, in ASCII lowercase) of the headers these settings' authentication
    /// reads: a shim passes only the delivery's headers that may match one of them
    /// (`receiveDelivery` in `src/core.js`), so the dozen others a Forge delivery carries never
    /// cross into wasm.
    #[wasm_bindgen(getter, js_name = webhookHeaders)]
    pub fn webhook_headers(&self) -> Vec<String> {
        webhook::wanted_header_names(&self.settings.webhook_auth)
    }
}

#[wasm_bindgen(js_name = receiveWebhook, unchecked_return_type = "WebhookReceipt")]
pub fn receive_webhook(
    #[wasm_bindgen(unchecked_param_type = "WebhookInput")] input: JsValue,
) -> JsResult {
    let input = webhook_input_from_js(&input, None)?;
    to_js_text(&webhook::receive_webhook(&input))
}

#[wasm_bindgen(js_name = defaultSettings, unchecked_return_type = "Settings")]
pub fn default_settings() -> JsResult {
    to_js_text(&settings::default_settings())
}

/// Which secrets are stored and whether the webhook secret is too weak to use.
#[wasm_bindgen(js_name = secretFlags, unchecked_return_type = "SecretFlags")]
pub fn secret_flags(
    #[wasm_bindgen(unchecked_param_type = "Secrets")] secrets: JsValue,
) -> JsResult {
    let secrets: Secrets = from_js_text("secrets", &secrets)?;
    to_js_text(&SecretFlags::of(&secrets))
}

#[wasm_bindgen(js_name = expireIfDue, unchecked_return_type = "Verification | null")]
pub fn expire_if_due(
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
    now_ms: f64,
) -> JsResult {
    let verification: Verification = from_js_text("verification", &verification)?;
    to_js_text(&state::expire_if_due(&verification, now_ms as i64))
}

#[wasm_bindgen(js_name = chooseTransition, unchecked_return_type = "TransitionChoice")]
pub fn choose_transition(
    #[wasm_bindgen(unchecked_param_type = "Outcome")] outcome: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Settings")] settings_value: JsValue,
    issue_key: &str,
    #[wasm_bindgen(unchecked_param_type = "TransitionsAnswer")] answer: JsValue,
) -> JsResult {
    let outcome: Outcome = from_js_text("outcome", &outcome)?;
    let settings_value: Settings = from_js_text("settings", &settings_value)?;
    let answer: serde_json::Value = from_js_text("transitions answer", &answer)?;
    to_js_text(&transitions::choose_transition(
        outcome,
        &settings_value,
        issue_key,
        &answer,
    ))
}

#[wasm_bindgen(js_name = transitionsRequest, unchecked_return_type = "HttpRequest")]
pub fn transitions_request(issue_key: &str) -> JsResult {
    to_js_text(&jira::transitions_request(issue_key))
}

#[wasm_bindgen(js_name = propertyRequest, unchecked_return_type = "HttpRequest")]
pub fn property_request(
    issue_key: &str,
    #[wasm_bindgen(unchecked_param_type = "Verification")] verification: JsValue,
) -> JsResult {
    let verification: Verification = from_js_text("verification", &verification)?;
    to_js_text(&jira::property_request(issue_key, &verification.shown()))
}

/// The customer portal's panel (`portal.getState`): round trip 1.
#[wasm_bindgen(js_name = portalStart, unchecked_return_type = "Step<unknown, Answer<PortalView>>")]
pub fn portal_start(
    #[wasm_bindgen(unchecked_param_type = "PortalInput")] input: JsValue,
) -> JsResult {
    let input: crate::actions::portal::PortalInput = from_js_text("portal input", &input)?;
    to_js_text(&crossing(crate::actions::portal::start(input)))
}

#[wasm_bindgen(js_name = portalNext, unchecked_return_type = "Step<unknown, Answer<PortalView>>")]
pub fn portal_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: crate::actions::portal::PortalState = from_js_text("portal state", &state)?;
    let results: crate::plan::Results = from_js_text("results", &results)?;
    to_js_text(&crossing(crate::actions::portal::next(state, results)))
}

/// What the token webtrigger's executor hands over besides the body (the memory stays here).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenArgs {
    #[serde(default)]
    method: String,
    #[serde(default)]
    headers: serde_json::Value,
    now_ms: i64,
}

fn token_step(installation: String, step: delivery::token::Planned) -> JsResult {
    let step = TOKENS.with(|held| {
        let installation = installation.clone();
        step.held(|s| held.borrow_mut().keep((installation, s)))
    });
    let step = step.map_reply(|answer| {
        TOKEN_MEMORIES.with(|m| m.borrow_mut().remember(installation, answer.memory));
        answer.response
    });
    to_js_text(&crossing(step))
}

/// The first step of a request to the token webtrigger (`src/token.js`).
#[wasm_bindgen(js_name = tokenStart, unchecked_return_type = "Step<number, WebtriggerResponse>")]
pub fn token_start(
    #[wasm_bindgen(unchecked_param_type = "string")] body: js_sys::JsString,
    installation: String,
    #[wasm_bindgen(unchecked_param_type = "Omit<TokenInput, \"body\" | \"memory\">")]
    input: JsValue,
) -> JsResult {
    let args: TokenArgs = from_js_text("token input", &input)?;
    let memory = TOKEN_MEMORIES.with(|m| m.borrow_mut().recall(&installation));
    let input = delivery::token::TokenInput {
        method: args.method,
        body: body_text(&body)?,
        headers: args.headers,
        now_ms: args.now_ms,
        memory,
    };
    token_step(installation, delivery::token::start(input))
}

/// The token request's answer, once the configuration is read.
#[wasm_bindgen(js_name = tokenNext, unchecked_return_type = "Step<number, WebtriggerResponse>")]
pub fn token_next(
    handle: u32,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let results: plan::Results = from_js_text("results", &results)?;
    let (installation, state) = TOKENS.with(|held| held.borrow_mut().take(handle))?;
    token_step(installation, delivery::token::next(state, results))
}

/// A JS number that is an integer JS can represent exactly.
fn safe_integer(number: f64) -> Option<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    (number.fract() == 0.0 && number.abs() <= MAX_SAFE).then_some(number as i64)
}
