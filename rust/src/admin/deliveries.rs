//! `admin.getDeliveries`: the newest webhook deliveries (the log's keys sort newest first).

use serde::Serialize;
use serde_json::Value;

use super::answer::{storage_unavailable, Refusal, Reply};
use crate::plan::{Query, Results, Step};

const DELIVERY_PREFIX: &str = "delivery:";
/// How many deliveries the page lists.
const DELIVERY_PAGE: u32 = 50;

#[derive(Serialize)]
struct Deliveries {
    deliveries: Vec<Value>,
}

pub fn start() -> Step<(), Reply> {
    Step {
        queries: vec![Query {
            prefix: DELIVERY_PREFIX.to_owned(),
            limit: Some(DELIVERY_PAGE),
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
                .map(|e| e.value.clone())
                .collect(),
        }),
        _ => Err(storage_unavailable()),
    };
    Step::reply(Reply::of(listed))
}
