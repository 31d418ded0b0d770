//! The admin page's actions as planners (`plan.rs`): the settings page, saving, the credential
//! test, a test link, the token cache, the site look-ups, comment previews and the delivery log.
//! The resolver (`src/admin.js`) checks that the caller is a Jira admin, then runs the action's
//! steps with `src/run.js`; every decision is made here.

pub mod action;
pub mod answer;
pub mod checklist;
pub mod config;
pub mod credentials;
pub mod deliveries;
pub mod gate_rule;
pub mod lookups;
pub mod page;
pub mod preview;
pub mod privacy;
pub mod report;
pub mod retention;
pub mod save;
pub mod send_test;
pub mod words;
pub mod workflows;

pub use action::{next, start, AdminInput, AdminState, AdminStep};
pub use answer::{Refusal, Reply};
