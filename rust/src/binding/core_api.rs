//! The core module's API: the webhook delivery's planner (`deliveryStart`, `deliveryNext`) and
//! the effects adapter its executor runs (`effectBegin`, `effectAdvance`, on effects kept here). Nothing else: this is
//! all the webhook function loads, and it has a 150 KiB gzipped budget. The console module adds
//! `shared_api.rs` and `console_api.rs` on top of it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{coded_error, JsResult};
use crate::{delivery, effects, plan};

// Values cross as JSON text. serde-wasm-bindgen crosses a value field by field, a few calls into
// the engine per field: about 10 us for a stored verification and 20 us for a decision, more than
// the decision itself. JSON text crosses each way in one step: an argument is written by
// the engine's own `JSON.stringify` and read here by serde_json; an answer is written by
// serde_json and read by `JSON.parse`. The JS-facing values are the same plain objects
// `types.d.ts` declares; the raw webhook body, the largest value, is copied into wasm memory once,
// as a string. (Measured with `node bench/run.mjs`; see bench/README.md.)

/// An answer as a plain JS value: serialised here as JSON text, parsed by the engine.
pub(super) fn to_js_text<T: Serialize>(value: &T) -> JsResult {
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
pub(super) fn from_js_text<T: DeserializeOwned>(what: &str, value: &JsValue) -> Result<T, JsValue> {
    let text = json_text(what, value)?;
    serde_json::from_str(&text).map_err(|e| wrong_shape(what, &e.to_string()))
}

/// `JSON.stringify(value)` as a Rust string. `undefined` (and what JSON cannot hold, such as a
/// function) reads as `null`, which no boundary type accepts where a value is required.
pub(super) fn json_text(what: &str, value: &JsValue) -> Result<String, JsValue> {
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
pub(super) fn rust_string(text: &js_sys::JsString) -> String {
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

/// A request's raw body as UTF-8, written by the engine's encoder straight into wasm memory
/// (wasm-bindgen's own string copy walks an ASCII body one character at a time in JavaScript).
pub(super) fn body_text(body: &js_sys::JsString) -> Result<String, JsValue> {
    if !JsValue::from(body).is_string() {
        return Err(wrong_shape("body", "expected a string"));
    }
    Ok(rust_string(body))
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

pub(super) fn wrong_shape(what: &str, reason: &str) -> JsValue {
    coded_error(
        "bad_input",
        &format!("{what} has the wrong shape: {reason}"),
    )
}

/// The effects of the steps that crossed, kept in the module like a plan's state: a step
/// crosses with one handle per effect (`running`, beside `effects`), the executor begins each by
/// its handle and hands back each call's answer. An effect is never read back from JavaScript,
/// so its reading code is not in the module (about 14 KiB gzipped of the core module with the
/// running state's; bench/README.md).
enum Kept {
    Planned(effects::Effect),
    Running(effects::Running),
}

/// A step performs a handful of effects; the oldest are dropped past this many (an abandoned
/// invocation's, or those of a step whose effects the caller did not run).
const EFFECTS_KEPT: usize = 256;

thread_local! {
    static EFFECTS: std::cell::RefCell<Held<Kept>> =
        const { std::cell::RefCell::new(Held::new(EFFECTS_KEPT)) };
}

/// A step as it crosses: its operations, and the handle of each of its effects, kept here.
#[derive(Serialize)]
pub(super) struct Crossing<S, R> {
    #[serde(flatten)]
    step: plan::Step<S, R>,
    running: Vec<u32>,
}

/// Keeps a step's effects in the module for the executor to run by handle.
pub(super) fn crossing<S, R>(step: plan::Step<S, R>) -> Crossing<S, R> {
    let running = EFFECTS.with(|held| {
        let mut held = held.borrow_mut();
        let effects = step.effects.iter().cloned();
        effects.map(|e| held.keep(Kept::Planned(e))).collect()
    });
    Crossing { step, running }
}

/// An effect's next call (with the handle it goes on under) or its end.
#[derive(Serialize)]
#[serde(tag = "next", rename_all = "camelCase")]
enum Crossed {
    Call { call: effects::Call, running: u32 },
    Ended { result: effects::EffectResult },
}

fn progress(progress: effects::Progress) -> JsResult {
    let crossed = match progress {
        effects::Progress::Call { call, running } => Crossed::Call {
            call,
            running: EFFECTS.with(|held| held.borrow_mut().keep(Kept::Running(running))),
        },
        effects::Progress::Ended { result } => Crossed::Ended { result },
    };
    to_js_text(&crossed)
}

/// The effect kept under `handle`, when it is one that has (`running`) or has not begun.
fn kept_effect(handle: u32, running: bool) -> Result<Kept, JsValue> {
    let begun = |kept: &Kept| matches!(kept, Kept::Running(_)) == running;
    EFFECTS.with(|held| held.borrow_mut().take_if(handle, begun))
}

/// The first call of a step's effect, by its handle (`src/run.js` makes it).
#[wasm_bindgen(js_name = effectBegin, unchecked_return_type = "EffectProgress")]
pub fn effect_begin(effect: u32, now_ms: f64) -> JsResult {
    match kept_effect(effect, false)? {
        Kept::Planned(effect) => progress(effects::begin(effect, now_ms as i64)),
        Kept::Running(_) => Err(coded_error("internal", "an effect under way was begun")),
    }
}

/// An effect's next call, given the answer to its last one.
#[wasm_bindgen(js_name = effectAdvance, unchecked_return_type = "EffectProgress")]
pub fn effect_advance(
    running: u32,
    #[wasm_bindgen(unchecked_param_type = "HttpAnswer")] answer: JsValue,
) -> JsResult {
    let answer: crate::model::HttpAnswer = from_js_text("answer", &answer)?;
    match kept_effect(running, true)? {
        Kept::Running(running) => progress(effects::advance(running, &answer)),
        Kept::Planned(_) => Err(coded_error("internal", "an effect not begun was advanced")),
    }
}

/// The states of the plans under way in this instance, by handle. A plan's state stays in the
/// module between its steps (the executor holds only the handle), so it is neither written out
/// nor read back, and no (de)serialising code for it is in the module. A plan abandoned half-way
/// (its invocation failed) is dropped once `PLANS_KEPT` newer ones are under way.
pub(super) struct Held<S> {
    next: u32,
    kept: usize,
    plans: std::collections::VecDeque<(u32, S)>,
}

pub(super) const PLANS_KEPT: usize = 64;

impl<S> Held<S> {
    pub(super) const fn new(kept: usize) -> Self {
        Held {
            next: 0,
            kept,
            plans: std::collections::VecDeque::new(),
        }
    }
    pub(super) fn keep(&mut self, state: S) -> u32 {
        self.next = self.next.wrapping_add(1);
        if self.plans.len() >= self.kept {
            self.plans.pop_front();
        }
        self.plans.push_back((self.next, state));
        self.next
    }
    pub(super) fn take(&mut self, handle: u32) -> Result<S, JsValue> {
        self.take_if(handle, |_| true)
    }
    /// What is kept under `handle`, when `wanted` accepts it (else it stays).
    pub(super) fn take_if(
        &mut self,
        handle: u32,
        wanted: impl Fn(&S) -> bool,
    ) -> Result<S, JsValue> {
        let at = self
            .plans
            .iter()
            .position(|(h, kept)| *h == handle && wanted(kept));
        at.and_then(|at| self.plans.remove(at))
            .map(|(_, state)| state)
            .ok_or_else(|| coded_error("bad_input", "nothing is under way with this handle"))
    }
}

thread_local! {
    static DELIVERIES: std::cell::RefCell<Held<(String, delivery::DeliveryState)>> =
        const { std::cell::RefCell::new(Held::new(PLANS_KEPT)) };
}

/// What a delivery's executor hands over besides the body (`DeliveryRequest` without the
/// memory, which stays in the module).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryArgs {
    #[serde(default)]
    method: String,
    #[serde(default)]
    headers: serde_json::Value,
    now_ms: i64,
    owner: String,
    nonce: String,
}

/// What this instance remembers per installation (`delivery::Memory`: the kept settings, the
/// failed authentications, the log budget), for the newest `MEMORIES_KEPT` installations.
pub(super) struct Memories(std::collections::VecDeque<(String, delivery::Memory)>);

const MEMORIES_KEPT: usize = 32;

impl Memories {
    pub(super) const fn new() -> Self {
        Memories(std::collections::VecDeque::new())
    }
    pub(super) fn recall(&mut self, installation: &str) -> Option<delivery::Memory> {
        let at = self.0.iter().position(|(id, _)| id == installation)?;
        self.0.remove(at).map(|(_, memory)| memory)
    }
    pub(super) fn remember(&mut self, installation: String, memory: delivery::Memory) {
        if self.0.len() >= MEMORIES_KEPT {
            self.0.pop_front();
        }
        self.0.push_back((installation, memory));
    }
}

thread_local! {
    // Kept in the module, never written out for JavaScript and read back: the memory holds the
    // settings, whose reading code is most of what a crossing costs the module.
    static MEMORIES: std::cell::RefCell<Memories> = const { std::cell::RefCell::new(Memories::new()) };
}

/// A delivery's step for the executor: its state kept here (a handle crosses), and, on the last
/// step, the memory kept for the installation and only the response answered.
fn delivery_step(installation: String, step: delivery::Planned) -> JsResult {
    let step = DELIVERIES.with(|held| {
        let installation = installation.clone();
        step.held(|s| held.borrow_mut().keep((installation, s)))
    });
    let step = step.map_reply(|answer| {
        MEMORIES.with(|m| m.borrow_mut().remember(installation, answer.memory));
        answer.response
    });
    to_js_text(&crossing(step))
}

/// The first step of a webhook delivery (`src/webhook.js` runs the plan). The raw body crosses
/// on its own, copied once as a string rather than escaped into the input's JSON text.
#[wasm_bindgen(js_name = deliveryStart, unchecked_return_type = "Step<number, WebtriggerResponse>")]
pub fn delivery_start(
    #[wasm_bindgen(unchecked_param_type = "string")] body: js_sys::JsString,
    installation: String,
    #[wasm_bindgen(unchecked_param_type = "Omit<DeliveryRequest, \"body\" | \"memory\">")]
    input: JsValue,
) -> JsResult {
    let args: DeliveryArgs = from_js_text("delivery input", &input)?;
    let memory = MEMORIES.with(|m| m.borrow_mut().recall(&installation));
    let input = delivery::DeliveryRequest {
        method: args.method,
        body: body_text(&body)?,
        headers: args.headers,
        now_ms: args.now_ms,
        owner: args.owner,
        nonce: args.nonce,
        memory,
    };
    delivery_step(installation, delivery::start(input))
}

/// A delivery's next step, given what its last one found.
#[wasm_bindgen(js_name = deliveryNext, unchecked_return_type = "Step<number, WebtriggerResponse>")]
pub fn delivery_next(
    handle: u32,
    #[wasm_bindgen(unchecked_param_type = "Results")] results: JsValue,
) -> JsResult {
    let results: plan::Results = from_js_text("results", &results)?;
    let (installation, state) = DELIVERIES.with(|held| held.borrow_mut().take(handle))?;
    delivery_step(installation, delivery::next(state, results))
}
