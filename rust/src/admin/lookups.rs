//! `admin.searchGroups` and `admin.listPersonFields`: the site's groups and user-picker fields,
//! for the pickers of the settings page. Asked as the admin, so Jira answers what they may see.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;

use super::answer::{jira_json, Refusal, Reply};
use crate::effects::Effect;
use crate::model::{HttpRequest, Method};
use crate::plan::{Results, Step};
use crate::site::{found_groups, person_field_options, PersonFieldOption, SiteGroup};

/// How many groups the picker offers while the admin types.
const GROUP_PAGE: u32 = 20;
/// Jira's longest group name.
const MAX_QUERY_CHARS: usize = 255;

/// A Jira GET as the admin.
pub fn jira_get(path: String) -> HttpRequest {
    let mut headers = BTreeMap::new();
    headers.insert("Accept".to_owned(), "application/json".to_owned());
    HttpRequest {
        method: Method::Get,
        url: None,
        path: Some(path),
        headers,
        body: None,
    }
}

/// What `encodeURIComponent` escapes: all but letters, digits and `-_.!~*'()`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A query parameter's value, percent-encoded as `route` does a template value.
pub fn query_value(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The groups picker: groups whose names contain `query`.
pub fn groups_request(query: &str, max_results: u32) -> HttpRequest {
    jira_get(format!(
        "/rest/api/3/groups/picker?query={}&maxResults={max_results}&caseInsensitive=true",
        query_value(query)
    ))
}

/// The groups of exactly these names (`group/bulk`): a name the picker's page leaves out (more
/// than a page of groups contain it) is still found.
pub fn groups_named_request(names: &[String]) -> HttpRequest {
    let named: Vec<String> = names
        .iter()
        .map(|name| format!("groupName={}", query_value(name)))
        .collect();
    jira_get(format!(
        "/rest/api/3/group/bulk?{}&maxResults={}",
        named.join("&"),
        names.len().max(1)
    ))
}

/// The site's fields.
pub fn fields_request() -> HttpRequest {
    jira_get("/rest/api/3/field".to_owned())
}

fn ask(request: HttpRequest) -> Effect {
    Effect::AskJira {
        request,
        as_user: true,
    }
}

#[derive(Serialize)]
struct Groups {
    groups: Vec<SiteGroup>,
}

#[derive(Serialize)]
struct Fields {
    fields: Vec<PersonFieldOption>,
}

/// What the admin typed, trimmed and cut to a group name's length.
pub fn search_groups(payload: &Value) -> Step<(), Reply> {
    let query: String = payload
        .get("query")
        .and_then(Value::as_str)
        .map(|q| q.trim().chars().take(MAX_QUERY_CHARS).collect())
        .unwrap_or_default();
    Step {
        effects: vec![ask(groups_request(&query, GROUP_PAGE))],
        ..Step::then(())
    }
}

pub fn groups_found(results: &Results) -> Step<(), Reply> {
    let found = jira_json(results.effects.first()).map(|answer| Groups {
        groups: found_groups(&answer),
    });
    Step::reply(Reply::of(found))
}

pub fn list_person_fields() -> Step<(), Reply> {
    Step {
        effects: vec![ask(fields_request())],
        ..Step::then(())
    }
}

pub fn person_fields_found(results: &Results) -> Step<(), Reply> {
    let found: Result<Fields, Refusal> = jira_json(results.effects.first()).map(|answer| Fields {
        fields: person_field_options(&answer),
    });
    Step::reply(Reply::of(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_query_cannot_add_parameters() {
        let request = groups_request("a&maxResults=1000 é", 20);
        assert_eq!(
            request.path.as_deref(),
            Some("/rest/api/3/groups/picker?query=a%26maxResults%3D1000%20%C3%A9&maxResults=20&caseInsensitive=true")
        );
    }
}
