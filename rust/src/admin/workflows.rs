//! `admin.listTransitions`: every workflow's transition names, the workflows of service projects
//! first. A workflow whose statuses all belong to a service project's is (most likely) that
//! project's: Jira names a project's workflow only to the workflow-scheme API, which needs a
//! wider scope. The workflow pages and the service projects' statuses are asked side by side.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answer::{jira_json, Refusal, Reply};
use super::lookups::jira_get;
use crate::effects::Effect;
use crate::jira::encode_segment;
use crate::plan::{Results, Step};

/// Workflows are read 50 a page, at most 20 pages.
const WORKFLOW_PAGE: u32 = 50;
const WORKFLOW_PAGES_MAX: u32 = 20;
/// The service projects looked at.
const SERVICE_PROJECTS_MAX: u32 = 20;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    name: String,
    status_ids: Vec<String>,
    transitions: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Asked {
    Page { start_at: u32 },
    Projects,
    Statuses,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    workflows: Vec<Workflow>,
    /// Each service project's status ids.
    services: Vec<Vec<String>>,
    pages: u32,
    /// What the last step asked, in the order of its effects.
    asked: Vec<(Asked, String)>,
}

#[derive(Serialize)]
struct Ranked<'a> {
    name: &'a str,
    service: bool,
    transitions: &'a [String],
}

#[derive(Serialize)]
struct Workflows<'a> {
    workflows: Vec<Ranked<'a>>,
}

fn ask(asked: &Asked, key: &str) -> Effect {
    let path = match asked {
        Asked::Page { start_at } => format!(
            "/rest/api/3/workflows/search?expand=values.transitions&startAt={start_at}&maxResults={WORKFLOW_PAGE}"
        ),
        Asked::Projects => format!(
            "/rest/api/3/project/search?typeKey=service_desk&maxResults={SERVICE_PROJECTS_MAX}"
        ),
        Asked::Statuses => format!("/rest/api/3/project/{}/statuses", encode_segment(key)),
    };
    Effect::AskJira {
        request: jira_get(path),
        as_user: true,
    }
}

fn asking(mut listing: Listing, asked: Vec<(Asked, String)>) -> Step<Listing, Reply> {
    let effects = asked.iter().map(|(a, key)| ask(a, key)).collect();
    listing.asked = asked;
    Step {
        effects,
        ..Step::then(listing)
    }
}

pub fn start() -> Step<Listing, Reply> {
    let listing = Listing {
        pages: 1,
        ..Listing::default()
    };
    asking(
        listing,
        vec![
            (Asked::Page { start_at: 0 }, String::new()),
            (Asked::Projects, String::new()),
        ],
    )
}

pub fn next(listing: Listing, results: &Results) -> Step<Listing, Reply> {
    match read(listing, results) {
        Ok((listing, asked)) if asked.is_empty() => Step::reply(Reply::data(&ranked(&listing))),
        Ok((listing, asked)) => asking(listing, asked),
        Err(refusal) => Step::reply(Reply::refused(refusal)),
    }
}

type Read = (Listing, Vec<(Asked, String)>);

fn read(mut listing: Listing, results: &Results) -> Result<Read, Refusal> {
    let mut more = Vec::new();
    let asked = std::mem::take(&mut listing.asked);
    for (index, (what, _)) in asked.iter().enumerate() {
        let answer = jira_json(results.effects.get(index))?;
        match what {
            Asked::Page { start_at } => {
                let count = read_page(&mut listing.workflows, &answer);
                let last = answer.get("isLast") != Some(&Value::Bool(false)) || count == 0;
                if !last && listing.pages < WORKFLOW_PAGES_MAX {
                    listing.pages += 1;
                    more.push((
                        Asked::Page {
                            start_at: start_at + count,
                        },
                        String::new(),
                    ));
                }
            }
            Asked::Projects => {
                let keys = answer.get("values").and_then(Value::as_array);
                for key in keys
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("key")?.as_str())
                {
                    more.push((Asked::Statuses, key.to_owned()));
                }
            }
            Asked::Statuses => listing.services.push(status_ids(&answer)),
        }
    }
    Ok((listing, more))
}

/// One page of workflows: each with its transition names (sorted, no create transition) and
/// status ids. Answers how many workflows the page held.
fn read_page(workflows: &mut Vec<Workflow>, page: &Value) -> u32 {
    let values = page.get("values").and_then(Value::as_array);
    let statuses = page.get("statuses").and_then(Value::as_array);
    let id_of = |reference: Option<&Value>| -> Option<String> {
        let found = statuses?
            .iter()
            .find(|s| s.get("statusReference") == reference && reference.is_some())?;
        match found.get("id")? {
            Value::String(id) if !id.is_empty() => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        }
    };
    for workflow in values.into_iter().flatten() {
        let Some(name) = workflow.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut transitions: Vec<String> = Vec::new();
        for t in workflow
            .get("transitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let named = t.get("name").and_then(Value::as_str).unwrap_or("");
            let initial = t.get("type").and_then(Value::as_str) == Some("INITIAL");
            if !named.is_empty() && !initial && !transitions.iter().any(|n| n == named) {
                transitions.push(named.to_owned());
            }
        }
        if transitions.is_empty() {
            continue;
        }
        transitions.sort_by(|a, b| words_order(a, b));
        let status_ids = workflow
            .get("statuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| id_of(s.get("statusReference")))
            .collect();
        let entry = Workflow {
            name: name.to_owned(),
            status_ids,
            transitions,
        };
        match workflows.iter_mut().find(|w| w.name == name) {
            Some(slot) => *slot = entry,
            None => workflows.push(entry),
        }
    }
    values.map_or(0, |v| u32::try_from(v.len()).unwrap_or(u32::MAX))
}

/// A project's status ids, from its issue types' statuses.
fn status_ids(types: &Value) -> Vec<String> {
    types
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t.get("statuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|s| match s.get("id")? {
            Value::String(id) => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

/// Names in the order people read them: letters before case, then exactly.
fn words_order(a: &str, b: &str) -> Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

fn ranked(listing: &Listing) -> Workflows<'_> {
    let for_service = |w: &Workflow| {
        !w.status_ids.is_empty()
            && listing
                .services
                .iter()
                .any(|ids| w.status_ids.iter().all(|id| ids.contains(id)))
    };
    let mut workflows: Vec<Ranked> = listing
        .workflows
        .iter()
        .map(|w| Ranked {
            name: &w.name,
            service: for_service(w),
            transitions: &w.transitions,
        })
        .collect();
    workflows.sort_by(|a, b| {
        b.service
            .cmp(&a.service)
            .then_with(|| words_order(a.name, b.name))
    });
    Workflows { workflows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::{EffectResult, Ended};
    use crate::model::HttpAnswer;
    use serde_json::json;

    fn answered(bodies: &[Value]) -> Results {
        Results {
            effects: bodies
                .iter()
                .map(|body| EffectResult {
                    ended: Ended::Done,
                    status: 200,
                    note: None,
                    answer: Some(HttpAnswer {
                        status: 200,
                        body: body.to_string(),
                    }),
                })
                .collect(),
            ..Results::default()
        }
    }

    #[test]
    fn pages_and_service_projects_rank_the_workflows() {
        let first = start();
        assert_eq!(first.effects.len(), 2);
        let page = |name: &str, status: &str, last: bool| {
            json!({
                "values": [{ "name": name, "transitions": [{ "name": "Create", "type": "INITIAL" }, { "name": "resolve" }, { "name": "Close" }],
                             "statuses": [{ "statusReference": "r1" }] }],
                "statuses": [{ "statusReference": "r1", "id": status }],
                "isLast": last
            })
        };
        let second = next(
            first.state.unwrap_or_default(),
            &answered(&[
                page("Software", "1", false),
                json!({ "values": [{ "key": "HELP" }] }),
            ]),
        );
        assert_eq!(second.effects.len(), 2, "the next page and HELP's statuses");
        let third = next(
            second.state.unwrap_or_default(),
            &answered(&[
                page("Service", "10", true),
                json!([{ "statuses": [{ "id": "10" }] }]),
            ]),
        );
        let data = third.reply.and_then(|r| r.data).unwrap_or_default();
        assert_eq!(
            data,
            json!({ "workflows": [
                { "name": "Service", "service": true, "transitions": ["Close", "resolve"] },
                { "name": "Software", "service": false, "transitions": ["Close", "resolve"] }
            ] })
        );
    }
}
