//! `admin.getDeliveries`: the newest webhook deliveries (the log's keys sort newest first).

use serde::Serialize;
use serde_json::Value;

use super::answer::{storage_unavailable, Refusal, Reply};
use super::words;
use crate::model::VerificationStatus;
use crate::panel::status_name;
use crate::plan::{Query, Results, Step};

const DELIVERY_PREFIX: &str = "delivery:";
/// How many deliveries the page lists.
const DELIVERY_PAGE: u32 = 50;

#[derive(Serialize)]
struct Deliveries {
    deliveries: Vec<Value>,
}

/// A delivery as the page shows it: with the core's name of its status (`stateName`, "" without
/// a status), its verdict as shown (`shownVerdict`: "test" for a test verification) and in a word
/// (`verdictText`), and its reason in words (`reasonText`), so that the page keeps no copy of
/// them; without the storage's bookkeeping.
fn named(mut delivery: Value) -> Value {
    let name = delivery
        .get("status")
        .and_then(|s| serde_json::from_value::<VerificationStatus>(s.clone()).ok())
        .map_or("", status_name);
    let text = |field: &str| delivery.get(field).and_then(Value::as_str).unwrap_or("");
    let reason = words::delivery_reason(text("verdict"), text("reason"));
    let shown = words::shown_verdict(text("verdict"), text("reason")).to_owned();
    let verdict = words::delivery_verdict(&shown);
    if let Value::Object(fields) = &mut delivery {
        fields.remove("schemaVersion");
        fields.insert("stateName".to_owned(), name.into());
        fields.insert("shownVerdict".to_owned(), shown.into());
        fields.insert("verdictText".to_owned(), verdict.into());
        fields.insert("reasonText".to_owned(), reason.into());
    }
    delivery
}

pub fn start() -> Step<(), Reply> {
    Step {
        queries: vec![Query {
            prefix: DELIVERY_PREFIX.to_owned(),
            limit: Some(DELIVERY_PAGE),
            cursor: None,
        }],
        ..Step::then(())
    }
}

pub fn listed(results: &Results) -> Step<(), Reply> {
    let listed: Result<Deliveries, Refusal> = match results.queries.first() {
        Some(listing) if listing.failed.is_none() => Ok(Deliveries {
            deliveries: listing
                .entries
                .iter()
                .take(DELIVERY_PAGE as usize)
                .map(|e| named(e.value.clone()))
                .collect(),
        }),
        _ => Err(storage_unavailable()),
    };
    Step::reply(Reply::of(listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Entry, Listed};
    use serde_json::json;

    #[test]
    fn each_delivery_carries_the_name_of_its_status_and_its_reason_in_words() {
        let results = Results {
            queries: vec![Listed {
                entries: vec![
                    Entry {
                        key: "delivery:1".into(),
                        value: json!({ "status": "manualReview", "verdict": "accepted", "reason": "pendingReview", "schemaVersion": 2 }),
                    },
                    Entry {
                        key: "delivery:2".into(),
                        value: json!({ "status": "", "verdict": "rejected", "reason": "bad_signature" }),
                    },
                    Entry {
                        key: "delivery:3".into(),
                        value: json!({ "verdict": "ignored", "reason": "test_session" }),
                    },
                ],
                failed: None,
                cursor: None,
            }],
            ..Results::default()
        };
        let data = listed(&results)
            .reply
            .and_then(|r| r.data)
            .unwrap_or_default();
        assert_eq!(data["deliveries"][0]["stateName"], "Pending review");
        assert_eq!(data["deliveries"][0].get("schemaVersion"), None);
        assert_eq!(data["deliveries"][1]["stateName"], "");
        assert_eq!(data["deliveries"][1]["verdict"], "rejected");
        assert_eq!(data["deliveries"][0]["shownVerdict"], "accepted");
        assert_eq!(data["deliveries"][0]["verdictText"], "Accepted");
        assert_eq!(data["deliveries"][1]["verdictText"], "Rejected");
        assert_eq!(data["deliveries"][2]["shownVerdict"], "test");
        assert_eq!(data["deliveries"][2]["verdictText"], "Test");
        assert_eq!(data["deliveries"][0]["reasonText"], "Sent to manual review");
        assert_eq!(
            data["deliveries"][1]["reasonText"],
            "The signature does not match the webhook secret"
        );
    }
}
