//! What the settings refer to on the Jira site: the agent groups and the person field. The
//! resolver reads the site (groups picker, field list) and hands the answers here; the core
//! decides what the page offers and whether a saved name exists.

use crate::model::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The person field that means the ticket's reporter (a Jira system field, always there).
pub const REPORTER: &str = "reporter";

/// A group as the groups picker answers it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SiteGroup {
    pub name: String,
    #[serde(default)]
    pub group_id: String,
}

/// A choice for "Person to verify": the reporter or a user-picker field, by id and name.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PersonFieldOption {
    pub id: String,
    pub name: String,
}

/// What the resolver read from the site for a save. `None` means not looked up (only the
/// core's own tests and vectors validate without a site).
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SiteFacts {
    /// The groups the picker found for the names being saved.
    #[serde(default)]
    pub groups: Option<Vec<SiteGroup>>,
    /// The site's fields (`GET /rest/api/3/field`), as Jira answered them.
    #[serde(default)]
    #[cfg_attr(test, ts(type = "unknown"))]
    pub fields: Option<Value>,
}

/// The groups picker's answer (`FoundGroups`) as a list; anything unreadable is left out.
pub fn found_groups(answer: &Value) -> Vec<SiteGroup> {
    // The picker answers `groups`, `group/bulk` a page of `values`.
    answer
        .get("groups")
        .or_else(|| answer.get("values"))
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| {
                    let name = g.get("name")?.as_str()?.to_owned();
                    let group_id = g
                        .get("groupId")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    Some(SiteGroup { name, group_id })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The reporter, then the site's single-user picker custom fields by name. A multi-user picker
/// is left out: a verification is for one person.
pub fn person_field_options(fields: &Value) -> Vec<PersonFieldOption> {
    let mut found: Vec<PersonFieldOption> = fields
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|f| f.get("custom").and_then(Value::as_bool) == Some(true))
                .filter(|f| {
                    f.get("schema")
                        .and_then(|s| s.get("type"))
                        .and_then(Value::as_str)
                        == Some("user")
                })
                .filter_map(|f| {
                    Some(PersonFieldOption {
                        id: f.get("id")?.as_str()?.to_owned(),
                        name: f.get("name")?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|a| a.name.to_lowercase());
    let mut options = vec![PersonFieldOption {
        id: REPORTER.to_owned(),
        name: "Reporter".to_owned(),
    }];
    options.extend(found);
    options
}

/// The agent groups with the site's spelling, or the error for the first one the site lacks.
pub fn check_groups(groups: &[String], site: &[SiteGroup]) -> Result<Vec<String>, FieldError> {
    groups
        .iter()
        .map(|name| {
            site.iter()
                .find(|g| crate::caseless::eq(&g.name, name.trim()))
                .map(|g| g.name.clone())
                .ok_or_else(|| {
                    FieldError::new(
                        "agentGroups",
                        "unknown_group",
                        format!("There is no group \"{name}\" on this Jira site; choose the group from the list."),
                    )
                })
        })
        .collect()
}

/// Whether the person field is the reporter or one of the site's user-picker fields.
pub fn check_person_field(field: &str, fields: &Value) -> Result<(), FieldError> {
    if person_field_options(fields).iter().any(|o| o.id == field) {
        return Ok(());
    }
    Err(FieldError::new(
        "personField",
        "unknown_field",
        format!("\"{field}\" is not a user-picker field on this Jira site; choose the reporter or one of the site's user-picker fields."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn site_fields() -> Value {
        json!([
            { "id": "summary", "name": "Summary", "custom": false, "schema": { "type": "string", "system": "summary" } },
            { "id": "reporter", "name": "Reporter", "custom": false, "schema": { "type": "user", "system": "reporter" } },
            { "id": "customfield_10050", "name": "Affected employee", "custom": true,
              "schema": { "type": "user", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:userpicker", "customId": 10050 } },
            { "id": "customfield_10051", "name": "Cost centre", "custom": true,
              "schema": { "type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield", "customId": 10051 } },
            { "id": "customfield_10052", "name": "Watchers too", "custom": true,
              "schema": { "type": "array", "items": "user", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker", "customId": 10052 } }
        ])
    }

    #[test]
    fn person_fields_are_the_reporter_and_single_user_pickers_by_name() {
        let options = person_field_options(&site_fields());
        let pairs: Vec<(&str, &str)> = options
            .iter()
            .map(|o| (o.id.as_str(), o.name.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("reporter", "Reporter"),
                ("customfield_10050", "Affected employee")
            ]
        );
        assert_eq!(person_field_options(&json!(null)).len(), 1);
        assert!(check_person_field("customfield_10050", &site_fields()).is_ok());
        assert!(check_person_field("reporter", &site_fields()).is_ok());
        for absent in [
            "customfield_10042",
            "customfield_10051",
            "customfield_10052",
        ] {
            let error = check_person_field(absent, &site_fields()).err();
            assert_eq!(
                error.map(|e| e.code),
                Some("unknown_field".to_owned()),
                "{absent}"
            );
        }
    }

    #[test]
    fn groups_must_exist_and_take_the_site_spelling() {
        let site = found_groups(&json!({
            "header": "Showing 2 of 2 matching groups", "total": 2,
            "groups": [
                { "name": "helpdesk-agents", "html": "<b>helpdesk-agents</b>", "groupId": "g-1" },
                { "name": "Finance-Team", "html": "Finance-Team", "groupId": "g-2" },
                { "html": "no name" }
            ]
        }));
        assert_eq!(site.len(), 2);
        assert_eq!(
            check_groups(
                &["finance-team".to_owned(), "helpdesk-agents".to_owned()],
                &site
            ),
            Ok(vec![
                "Finance-Team".to_owned(),
                "helpdesk-agents".to_owned()
            ])
        );
        let error = check_groups(&["helpdesk-agentz".to_owned()], &site).err();
        assert_eq!(
            error.as_ref().map(|e| e.code.as_str()),
            Some("unknown_group")
        );
        assert!(error.is_some_and(|e| e.message.contains("helpdesk-agentz")));
        assert_eq!(check_groups(&[], &[]), Ok(vec![]));
    }
}
