//! `admin.gateRule`: what the "Identity verified" rule's configuration pages draw: the fields
//! and defaults, the saved configuration as the gate reads it (or what is wrong with it), and
//! its one-line summary.

use serde::Serialize;
use serde_json::Value;

use super::answer::Reply;
use crate::gate::config::{check, GateConfigCheck};
use crate::gate::page::{rules, summary, GateRules};
use crate::plan::Step;

#[derive(Serialize, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GateRuleAnswer {
    pub rules: GateRules,
    /// The saved configuration (`payload.configuration`, absent on the create page) as the gate
    /// reads it.
    pub check: GateConfigCheck,
    /// The summary of the checked configuration; absent when it has errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub summary: Option<String>,
}

pub fn describe(payload: &Value) -> Step<(), Reply> {
    let checked = check(payload.get("configuration").unwrap_or(&Value::Null));
    let answer = GateRuleAnswer {
        rules: rules(),
        summary: checked.config.as_ref().map(summary),
        check: checked,
    };
    Step::reply(Reply::data(&answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(payload: Value) -> Value {
        match describe(&payload).reply {
            Some(reply) => serde_json::to_value(reply).unwrap_or_default(),
            None => Value::Null,
        }
    }

    #[test]
    fn a_saved_configuration_is_read_as_the_gate_reads_it() {
        let saved = answer(json!({ "configuration": "{\"withinMinutes\":10,\"once\":true}" }));
        assert_eq!(saved["data"]["check"]["config"]["withinMinutes"], 10);
        assert_eq!(
            saved["data"]["summary"],
            "Passed verification of the person on the ticket within the last 10 minutes; one transition per verification"
        );
        let fresh = answer(json!({}));
        assert_eq!(fresh["data"]["check"]["config"]["withinMinutes"], 30);
        assert_eq!(
            fresh["data"]["rules"]["fields"][0]["field"],
            "withinMinutes"
        );
        let broken = answer(json!({ "configuration": { "withinMinutes": 0 } }));
        assert_eq!(
            broken["data"]["check"]["errors"][0]["field"],
            "withinMinutes"
        );
        assert!(broken["data"].get("summary").is_none());
    }
}
