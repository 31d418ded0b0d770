//! The core module's API: the webhook decision (`receiveWebhook`, `new Core`,
//! `Core#decideEvent`) and the calls every function shares with it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{coded_error, JsResult};
use crate::model::{
    EventRecord, Outcome, SecretFlags, Secrets, Settings, Verification, WebhookAuth,
};
use crate::{delivery, effects, jira, plan, settings, state, template, transitions, webhook};

// Values cross as JSON text. serde-wasm-bindgen crosses a value field by field, a few calls into
// the engine per field: about 10 us for a stored verification and 20 us for a decision, more than
// the decision itself. JSON text crosses each way in one step: an argument is written by
// the engine's own `JSON.stringify` and read here by serde_json; an answer is written by
// serde_json and read by `JSON.parse`. The JS-facing values are the same plain objects
// `types.d.ts` declares; the raw webhook body, the largest value, is copied into wasm memory once,
// as a string. (Measured with `node bench/run.mjs`; see bench/README.md.)

/// An answer as a plain JS value: serialised here as JSON text, parsed by the engine.
fn to_js_text<T: Serialize>(value: &T) -> JsResult {
    let mut text = Vec::with_capacity(4096);
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut text, AsciiJson,
        ))
        .map_err(|e| coded_error("internal", &format!("could not encode the answer: {e}")))?;
    // AsciiJson writes only ASCII, so the bytes are UTF-8.
    let text = String::from_utf8(text).unwrap_or_default();
    js_sys::JSON::parse(&text)
        .map_err(|_| coded_error("internal", "could not encode the answer as JSON"))
}

/// JSON with every non-ASCII character written as a `\uXXXX` escape. The engine decodes ASCII
/// text from wasm memory in one copy and parses a one-byte string about twice as fast as a
/// two-byte one (any accent, bullet or emoji in a name or comment would make it two-byte).
struct AsciiJson;

impl serde_json::ser::Formatter for AsciiJson {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if fragment.is_ascii() {
            return writer.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(fragment.get(start..index).unwrap_or("").as_bytes())?;
            for unit in ch.encode_utf16(&mut units).iter() {
                writer.write_all(&unicode_escape(*unit))?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(fragment.get(start..).unwrap_or("").as_bytes())
    }
}

/// `\uXXXX` for one UTF-16 unit.
fn unicode_escape(unit: u16) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digit = |shift: u16| {
        HEX.get(usize::from((unit >> shift) & 0xf))
            .copied()
            .unwrap_or(b'0')
    };
    [b'\\', b'u', digit(12), digit(8), digit(4), digit(0)]
}

/// An argument of a boundary type, read from its JSON text.
fn from_js_text<T: DeserializeOwned>(what: &str, value: &JsValue) -> Result<T, JsValue> {
    let text = json_text(what, value)?;
    serde_json::from_str(&text).map_err(|e| wrong_shape(what, &e.to_string()))
}

/// `JSON.stringify(value)` as a Rust string. `undefined` (and what JSON cannot hold, such as a
/// function) reads as `null`, which no boundary type accepts where a value is required.
fn json_text(what: &str, value: &JsValue) -> Result<String, JsValue> {
    if value.is_undefined() {
        return Ok("null".to_owned());
    }
    let text = js_sys::JSON::stringify(value)
        .map_err(|_| wrong_shape(what, "it cannot be written as JSON"))?;
    if !JsValue::from(&text).is_string() {
        return Ok("null".to_owned());
    }
    Ok(replace_lone_surrogate_escapes(rust_string(&text)))
}

#[wasm_bindgen]
extern "C" {
    /// The engine's UTF-8 encoder, which writes straight into wasm memory.
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(
        this: &TextEncoder,
        source: &js_sys::JsString,
        destination: &mut [u8],
    ) -> EncodeIntoResult;

    type EncodeIntoResult;
    #[wasm_bindgen(method, getter)]
    fn read(this: &EncodeIntoResult) -> u32;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeIntoResult) -> u32;
}

thread_local! {
    static ENCODER: TextEncoder = TextEncoder::new();
}

/// A JS string as UTF-8, written by `TextEncoder.encodeInto` into a buffer sized for ASCII
/// first (one byte per UTF-16 unit), then, from the first character that did not fit, for the
/// worst case. An unpaired surrogate becomes U+FFFD, as with any JS string passed to wasm.
fn rust_string(text: &js_sys::JsString) -> String {
    let units = text.length();
    let mut bytes = vec![0u8; units as usize];
    ENCODER.with(|encoder| {
        let first = encoder.encode_into(text, &mut bytes);
        let (read, written) = (first.read(), first.written() as usize);
        bytes.truncate(written);
        if read < units {
            let rest = text.slice(read, units);
            bytes.resize(written + 3 * (units - read) as usize, 0);
            if let Some(tail) = bytes.get_mut(written..) {
                let second = encoder.encode_into(&rest, tail);
                bytes.truncate(written + second.written() as usize);
            }
        }
    });
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `JSON.stringify` writes an unpaired UTF-16 surrogate as a `\uDXXX` escape, which serde_json
/// (rightly) refuses. A JS string handed over directly has each one replaced by U+FFFD, so the
/// same is done to the escapes: one invalid character in a stored name must not make a record
/// unreadable. Paired surrogates are never escaped by `JSON.stringify`, so every surrogate escape
/// is an unpaired one.
fn replace_lone_surrogate_escapes(text: String) -> String {
    let is_surrogate_escape = |bytes: &[u8], at: usize| {
        bytes.get(at + 1) == Some(&b'u')
            && matches!(bytes.get(at + 2), Some(b'd' | b'D'))
            && matches!(
                bytes.get(at + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    };
    // Escapes are rare (JSON.stringify writes every other character as it is): find the first
    // surrogate escape before copying anything.
    let first = {
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut found = None;
        while let Some(offset) = bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|b| *b == b'\\'))
        {
            let escape = at + offset;
            if is_surrogate_escape(bytes, escape) {
                found = Some(escape);
                break;
            }
            at = escape + 2;
        }
        found
    };
    let Some(first) = first else {
        return text;
    };
    let mut bytes = text.into_bytes();
    let mut at = first;
    while at < bytes.len() {
        if bytes.get(at) != Some(&b'\\') {
            at += 1;
        } else if is_surrogate_escape(&bytes, at) {
            if let Some(digits) = bytes.get_mut(at + 2..at + 6) {
                digits.copy_from_slice(b"fffd");
            }
            at += 6;
        } else {
            // Any other escape: the backslash and the character after it (the four hex digits
            // of a `\u` escape are plain bytes).
            at += 2;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// A JS number that is an integer JS can represent exactly.
fn safe_integer(number: f64) -> Option<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    (number.fract() == 0.0 && number.abs() <= MAX_SAFE).then_some(number as i64)
}

fn wrong_shape(what: &str, reason: &str) -> JsValue {
    coded_error(
        "bad_input",
        &format!("{what} has the wrong shape: {reason}"),
    )
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

/// The first call of an effect (`src/run.js` makes it).
#[wasm_bindgen(js_name = effectBegin, unchecked_return_type = "Progress")]
pub fn effect_begin(
    #[wasm_bindgen(unchecked_param_type = "Effect")] effect: JsValue,
    now_ms: f64,
) -> JsResult {
    let effect: effects::Effect = from_js_text("effect", &effect)?;
    to_js_text(&effects::begin(effect, now_ms as i64))
}

/// An effect's next call, given the answer to its last one.
#[wasm_bindgen(js_name = effectAdvance, unchecked_return_type = "Progress")]
pub fn effect_advance(
    #[wasm_bindgen(unchecked_param_type = "Running")] running: JsValue,
    #[wasm_bindgen(unchecked_param_type = "HttpAnswer")] answer: JsValue,
) -> JsResult {
    let running: effects::Running = from_js_text("running", &running)?;
    let answer: crate::model::HttpAnswer = from_js_text("answer", &answer)?;
    to_js_text(&effects::advance(running, &answer))
}

/// The customer portal's panel (`portal.getState`): round trip 1.
#[wasm_bindgen(js_name = portalStart, unchecked_return_type = "Step<unknown, Answer<PortalView>>")]
pub fn portal_start(
    #[wasm_bindgen(unchecked_param_type = "PortalInput")] input: JsValue,
) -> JsResult {
    let input: crate::actions::portal::PortalInput = from_js_text("portal input", &input)?;
    to_js_text(&crate::actions::portal::start(input))
}

#[wasm_bindgen(js_name = portalNext, unchecked_return_type = "Step<unknown, Answer<PortalView>>")]
pub fn portal_next(
    #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let state: crate::actions::portal::PortalState = from_js_text("portal state", &state)?;
    let results: crate::plan::Results = from_js_text("results", &results)?;
    to_js_text(&crate::actions::portal::next(state, results))
}

/// The states of the plans under way in this instance, by handle. A plan's state stays in the
/// module between its steps (the executor holds only the handle), so it is neither written out
/// nor read back, and no (de)serialising code for it is in the module. A plan abandoned half-way
/// (its invocation failed) is dropped once `PLANS_KEPT` newer ones are under way.
struct Held<S> {
    next: u32,
    plans: std::collections::VecDeque<(u32, S)>,
}

const PLANS_KEPT: usize = 64;

impl<S> Held<S> {
    const fn new() -> Self {
        Held {
            next: 0,
            plans: std::collections::VecDeque::new(),
        }
    }
    fn keep(&mut self, state: S) -> u32 {
        self.next = self.next.wrapping_add(1);
        if self.plans.len() >= PLANS_KEPT {
            self.plans.pop_front();
        }
        self.plans.push_back((self.next, state));
        self.next
    }
    fn take(&mut self, handle: u32) -> Result<S, JsValue> {
        let at = self.plans.iter().position(|(h, _)| *h == handle);
        at.and_then(|at| self.plans.remove(at))
            .map(|(_, state)| state)
            .ok_or_else(|| coded_error("bad_input", "no plan is under way with this handle"))
    }
}

thread_local! {
    static DELIVERIES: std::cell::RefCell<Held<delivery::DeliveryState>> =
        const { std::cell::RefCell::new(Held::new()) };
    static TOKENS: std::cell::RefCell<Held<delivery::token::TokenState>> =
        const { std::cell::RefCell::new(Held::new()) };
}

/// The first step of a webhook delivery (`src/webhook.js` runs the plan). The raw body crosses
/// on its own, copied once as a string rather than escaped into the input's JSON text.
#[wasm_bindgen(js_name = deliveryStart, unchecked_return_type = "Step<number, Answer>")]
pub fn delivery_start(
    body: String,
    #[wasm_bindgen(unchecked_param_type = "Omit<DeliveryRequest, \"body\">")] input: JsValue,
) -> JsResult {
    let mut input: delivery::DeliveryRequest = from_js_text("delivery input", &input)?;
    input.body = body;
    let step = delivery::start(input);
    to_js_text(&DELIVERIES.with(|held| step.held(|s| held.borrow_mut().keep(s))))
}

/// A delivery's next step, given what its last one found.
#[wasm_bindgen(js_name = deliveryNext, unchecked_return_type = "Step<number, Answer>")]
pub fn delivery_next(
    handle: u32,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let results: plan::Results = from_js_text("results", &results)?;
    let state = DELIVERIES.with(|held| held.borrow_mut().take(handle))?;
    let step = delivery::next(state, results);
    to_js_text(&DELIVERIES.with(|held| step.held(|s| held.borrow_mut().keep(s))))
}

/// The first step of a request to the token webtrigger.
#[wasm_bindgen(js_name = tokenStart, unchecked_return_type = "Step<number, Answer>")]
pub fn token_start(
    body: String,
    #[wasm_bindgen(unchecked_param_type = "Omit<TokenInput, \"body\">")] input: JsValue,
) -> JsResult {
    let mut input: delivery::token::TokenInput = from_js_text("token input", &input)?;
    input.body = body;
    let step = delivery::token::start(input);
    to_js_text(&TOKENS.with(|held| step.held(|s| held.borrow_mut().keep(s))))
}

/// The token request's answer, once the configuration is read.
#[wasm_bindgen(js_name = tokenNext, unchecked_return_type = "Step<number, Answer>")]
pub fn token_next(
    handle: u32,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let results: plan::Results = from_js_text("results", &results)?;
    let state = TOKENS.with(|held| held.borrow_mut().take(handle))?;
    let step = delivery::token::next(state, results);
    to_js_text(&TOKENS.with(|held| step.held(|s| held.borrow_mut().keep(s))))
}
