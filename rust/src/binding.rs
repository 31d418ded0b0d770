//! The one module that knows about wasm-bindgen: it turns JS values into the core's boundary
//! types, calls one domain function, and turns the answer back. Expected failures are values
//! (`Parsed`, `WebhookReceipt`, ...); a value of the wrong shape is a programming error in the
//! shim and crosses as a JS `Error` with `code = "bad_input"` and the path of the bad field.
//!
//! The crate is built into two wasm modules (`dev/build-core.sh`), each with its own API:
//! - the **core** module (default features, `core_api`): what a webhook needs, and what the
//!   functions share with it. Its values cross as JSON text. It has no template parser: custom
//!   comment templates reach it compiled, in the settings saved by the console module.
//! - the **console** module (`--features console`, `console_api`, `shared_api`): all of the core
//!   module and the planners of every other function (the panel, the portal, the admin page,
//!   the token webtrigger, the gate, the scheduled runs), with the template parser they need.
//!   Its values cross with serde-wasm-bindgen, the portal's and the token's as JSON text.
//!
//! A function loads only the modules it imports, so the webhook never loads the console's code.

use wasm_bindgen::prelude::*;

// The boundary types' declarations, generated from the Rust types (`typescript.rs`), and the few
// composed from them by hand; the signatures below name them.
#[wasm_bindgen(typescript_custom_section)]
const BOUNDARY_TYPES: &str = include_str!("types.d.ts");
#[wasm_bindgen(typescript_custom_section)]
const API_TYPES: &str = include_str!("api.d.ts");

type JsResult = Result<JsValue, JsValue>;

/// A JS `Error` whose `code` property the shims branch on.
fn coded_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

mod core_api;

#[cfg(feature = "console")]
mod shared_api;

#[cfg(feature = "console")]
mod console_api;
