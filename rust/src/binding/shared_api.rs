//! What the console module adds on top of `core_api.rs` with the same JSON-text crossing: the
//! token webtrigger's and the portal's planners. None of it is in the webhook's module.

use wasm_bindgen::prelude::*;

use super::core_api::{body_text, crossing, from_js_text, to_js_text, Held, Memories, PLANS_KEPT};
use super::JsResult;
use crate::{delivery, plan};

thread_local! {
    static TOKENS: std::cell::RefCell<Held<(String, delivery::token::TokenState)>> =
        const { std::cell::RefCell::new(Held::new(PLANS_KEPT)) };
    static TOKEN_MEMORIES: std::cell::RefCell<Memories> =
        const { std::cell::RefCell::new(Memories::new()) };
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
