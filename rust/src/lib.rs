//! The decision core of the Incode Identity Verification Forge app.
//!
//! Every module but `binding` is plain Rust with no I/O, no clock and no randomness: it takes
//! values and returns decisions and request descriptions. `binding` exposes them to JavaScript.

pub mod actions;
pub mod admin;
pub mod audit;
pub mod caseless;
pub mod delivery;
pub mod effects;
pub mod gate;
pub mod incode;
pub mod jira;
pub mod lock;
pub mod model;
pub mod panel;
pub mod plan;
pub mod rules;
pub mod settings;
pub mod site;
pub mod state;
pub mod stored;
pub mod template;
pub mod throttle;
pub mod transitions;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod binding;

#[cfg(test)]
mod typescript;
