//! Who may use the agent's panel, and the Jira look-ups the panel's actions make: the caller's
//! permissions on the issue (as the caller), the caller's groups when the admin named agent
//! groups, the caller's name, and the person on the issue. The caller comes from the invocation
//! context; the payload never names a user or an issue.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::{caller_of, issue_of, jira_json, CallerContext, IssueRef, Refusal};
use crate::effects::{Effect, EffectResult};
use crate::jira::encode_segment;
use crate::model::{HttpRequest, Method, SecretFlags, Settings};
use crate::panel::{agent_access, AgentAccess};

const NOT_AN_AGENT: &str = "Only service desk agents can send identity verifications.";
const NOT_VISIBLE: &str = "You cannot work on this issue.";
const NOT_IN_GROUPS: &str =
    "Only members of the agent groups chosen by your Jira admin can send verification links.";

/// The caller and the issue, checked before anything is read. JSM customers hold Browse and
/// Add Comments on their own requests through the portal role; the account type Forge puts in
/// the context tells them apart from agents.
pub fn checked(context: &CallerContext) -> Result<(String, IssueRef), Refusal> {
    let account = caller_of(context)?;
    let issue = issue_of(context)?;
    match context.account_type.as_str() {
        None if context.account_type.is_null() => {}
        Some("licensed") => {}
        _ => return Err(Refusal::forbidden(NOT_AN_AGENT)),
    }
    Ok((account, issue))
}

/// A Jira GET.
pub fn get(path: String) -> HttpRequest {
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

fn query(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn ask(path: String, as_user: bool) -> Effect {
    Effect::AskJira {
        request: get(path),
        as_user,
    }
}

/// The caller's permissions on the issue (one check answers agent and admin).
pub fn permissions(issue_key: &str) -> Effect {
    ask(
        format!(
            "/rest/api/3/mypermissions?issueKey={}&permissions=BROWSE_PROJECTS,ADD_COMMENTS,ADMINISTER",
            query(issue_key)
        ),
        true,
    )
}

fn granted(answer: &Value, permission: &str) -> bool {
    answer
        .get("permissions")
        .and_then(|p| p.get(permission))
        .and_then(|p| p.get("havePermission"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// Refuses a caller who may not browse and comment on the issue; answers whether they are a
/// Jira admin.
pub fn permitted(result: Option<&EffectResult>) -> Result<bool, Refusal> {
    let answer = jira_json(result, Some(NOT_VISIBLE))?;
    if !granted(&answer, "BROWSE_PROJECTS") || !granted(&answer, "ADD_COMMENTS") {
        return Err(Refusal::forbidden(NOT_VISIBLE));
    }
    Ok(granted(&answer, "ADMINISTER"))
}

/// The caller's groups (only when the admin named agent groups).
pub fn groups(account_id: &str) -> Effect {
    ask(
        format!("/rest/api/3/user/groups?accountId={}", query(account_id)),
        false,
    )
}

/// What the caller may do, from the groups answer (None: no agent groups, nothing asked).
/// `see_only`: opening the panel, which an agent outside the groups may still do.
pub fn access(
    settings: &Settings,
    groups_answer: Option<&EffectResult>,
    see_only: bool,
) -> Result<AgentAccess, Refusal> {
    let member_of: Vec<String> = match groups_answer {
        None => Vec::new(),
        Some(result) => match jira_json(Some(result), Some(NOT_VISIBLE))? {
            Value::Array(groups) => groups
                .iter()
                .filter_map(|g| g.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
    };
    let access = agent_access(&settings.agent_groups, &member_of);
    if !access.may_send && !see_only {
        let reason = access.reason.as_deref().unwrap_or(NOT_IN_GROUPS);
        return Err(Refusal::forbidden(reason));
    }
    Ok(access)
}

/// Whether the caller's groups must be looked up.
pub fn needs_groups(settings: &Settings) -> bool {
    !settings.agent_groups.is_empty()
}

/// A look-up whose failure the action survives (the person on the issue): its JSON answer.
pub fn jira_look(result: Option<&EffectResult>) -> Result<Value, Refusal> {
    jira_json(result, None)
}

/// The caller's display name.
pub fn myself() -> Effect {
    ask("/rest/api/3/myself".to_owned(), true)
}

pub fn my_name(result: Option<&EffectResult>) -> Result<String, Refusal> {
    let me = jira_json(result, None)?;
    Ok(me
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned())
}

/// The issue with one user field, as the app sees it.
pub fn issue_field(issue_key: &str, field: &str) -> Effect {
    ask(
        format!(
            "/rest/api/3/issue/{}?fields={}",
            encode_segment(issue_key),
            query(field)
        ),
        false,
    )
}

/// A user, as the app sees them (their email, when Jira may show it).
pub fn user(account_id: &str) -> Effect {
    ask(
        format!("/rest/api/3/user?accountId={}", query(account_id)),
        false,
    )
}

/// The field that names the person to verify.
pub fn person_field(settings: &Settings) -> &str {
    if settings.person_field.is_empty() {
        "reporter"
    } else {
        &settings.person_field
    }
}

/// The person to verify.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub account_id: String,
    pub email: String,
    pub name: String,
}

/// What an issue's user field says of the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonLook {
    Nobody,
    Found(Person),
    /// Jira did not embed the email: the user is looked up (`name` if that fails to name them).
    LookUp(Person),
}

/// The person in the issue's `field`. Jira embeds the user's email when the app may see it.
pub fn person_in(issue: &Value, field: &str) -> PersonLook {
    let mut user = issue.get("fields").and_then(|f| f.get(field));
    if let Some(Value::Array(users)) = user {
        user = users.first();
    }
    let Some(user) = user else {
        return PersonLook::Nobody;
    };
    let Some(account_id) = user.get("accountId").and_then(Value::as_str) else {
        return PersonLook::Nobody;
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let person = Person {
        account_id: account_id.to_owned(),
        email: text(user, "emailAddress"),
        name: text(user, "displayName"),
    };
    if person.email.is_empty() {
        PersonLook::LookUp(person)
    } else {
        PersonLook::Found(person)
    }
}

/// The person completed by the user look-up.
pub fn person_from_user(known: &Person, user: &Value) -> Person {
    let text = |k: &str| user.get(k).and_then(Value::as_str).map(str::to_owned);
    Person {
        account_id: known.account_id.clone(),
        email: text("emailAddress").unwrap_or_default(),
        name: text("displayName").unwrap_or_else(|| known.name.clone()),
    }
}

/// The stored settings (absent: a fresh install's defaults), or why they cannot be used.
pub fn settings_of(found: Option<&crate::plan::Found>) -> Result<(Settings, SecretFlags), Refusal> {
    let value = super::value_of(found)?;
    if value.is_null() {
        return Ok((crate::settings::default_settings(), SecretFlags::default()));
    }
    let unreadable = || {
        Refusal::new(
            "settings_unreadable",
            "The app settings cannot be read. Ask your Jira admin to open the app settings and save them again.",
        )
    };
    if !value.get("settings").is_some_and(Value::is_object) {
        return Err(unreadable());
    }
    let record = crate::stored::settings_record(value.clone()).map_err(|_| unreadable())?;
    Ok((record.settings, record.secrets_set))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::Ended;
    use crate::model::HttpAnswer;
    use serde_json::json;

    fn answered(status: u16, body: Value) -> EffectResult {
        EffectResult {
            ended: Ended::Done,
            status,
            note: None,
            answer: Some(HttpAnswer {
                status,
                body: body.to_string(),
            }),
        }
    }

    #[test]
    fn the_permission_check_refuses_who_cannot_work_the_issue() {
        let all = json!({ "permissions": { "BROWSE_PROJECTS": { "havePermission": true }, "ADD_COMMENTS": { "havePermission": true }, "ADMINISTER": { "havePermission": false } } });
        assert_eq!(permitted(Some(&answered(200, all))), Ok(false));
        let browse = json!({ "permissions": { "BROWSE_PROJECTS": { "havePermission": true } } });
        let refused = permitted(Some(&answered(200, browse)))
            .err()
            .map(|e| e.code);
        assert_eq!(refused.as_deref(), Some("forbidden"));
        let gone = permitted(Some(&answered(404, json!({}))))
            .err()
            .map(|e| e.code);
        assert_eq!(gone.as_deref(), Some("forbidden"));
        let down = permitted(Some(&answered(503, json!({})))).err();
        assert_eq!(
            down.map(|e| (e.code, e.retryable)),
            Some(("jira_unavailable".into(), true))
        );
    }

    #[test]
    fn only_agents_pass_the_context_check() {
        let context = |kind: Value| CallerContext {
            account_id: json!("a1"),
            account_type: kind,
            issue_id: json!(10001),
            issue_key: json!("HELP-1"),
            request_key: Value::Null,
        };
        assert!(checked(&context(Value::Null)).is_ok());
        assert!(checked(&context(json!("licensed"))).is_ok());
        let customer = checked(&context(json!("customer"))).err().map(|e| e.code);
        assert_eq!(customer.as_deref(), Some("forbidden"));
        let anonymous = checked(&context(json!("anonymous"))).err().map(|e| e.code);
        assert_eq!(anonymous.as_deref(), Some("unauthenticated"));
    }

    #[test]
    fn the_person_is_read_from_the_field_or_looked_up() {
        let issue = json!({ "fields": { "reporter": { "accountId": "p1", "displayName": "Casey", "emailAddress": "c@x.test" } } });
        assert!(
            matches!(person_in(&issue, "reporter"), PersonLook::Found(p) if p.email == "c@x.test")
        );
        let hidden = json!({ "fields": { "customfield_1": [{ "accountId": "p2", "displayName": "Dana" }] } });
        let PersonLook::LookUp(known) = person_in(&hidden, "customfield_1") else {
            unreachable!("no email: looked up");
        };
        let found = person_from_user(&known, &json!({ "emailAddress": "d@x.test" }));
        assert_eq!(
            (found.email.as_str(), found.name.as_str()),
            ("d@x.test", "Dana")
        );
        assert_eq!(
            person_in(&json!({ "fields": {} }), "reporter"),
            PersonLook::Nobody
        );
    }
}
