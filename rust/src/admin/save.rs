//! `admin.saveSettings`: what the admin submitted, merged over the stored settings, checked
//! (with the agent groups and the person field looked up on the site), then stored: the secrets
//! first, so that settings claiming a secret is set never land before it; then the settings
//! with the next revision (a webhook with kept settings sees it and reads the secrets again, so
//! an old secret fails once the save has returned); then, when the credentials changed, the
//! token of the old ones goes, with the mark that they were tested. When the settings do not
//! land after new secrets did, the secrets they replaced are written back, so a failed save
//! changes nothing, as its answer says.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::action::Actor;
use super::answer::{found, internal, jira_json, landed, storage_unavailable, Refusal, Reply};
use super::checklist::{checklist_read, checklist_write};
use super::config::{read_config, secrets_of, secrets_read, secrets_write, settings_read};
use super::config::{revision_write, settings_write, Config, TOKEN_KEY};
use super::lookups::{fields_request, groups_named_request, groups_request};
use crate::audit::{Action, Entry};
use crate::effects::Effect;
use crate::model::{Secrets, Settings};
use crate::plan::{Found, LogLine, Read, Results, Step, Write};
use crate::settings::{
    public_settings, validate_settings_on_site, PublicSettings, SettingsDecision,
};
use crate::site::{found_groups, SiteFacts};

/// The core refuses more agent groups than this, so no more are looked up.
const MAX_GROUP_LOOKUPS: usize = 51;
/// The picker matches substrings and answers a page: one look-up per name, a full page each.
const GROUPS_PER_NAME: u32 = 50;

// One value per step, crossing to JS at once: boxing the settings would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SaveState {
    /// The stored settings are being read (`actor`: the admin saving, for the audit trail).
    Reading {
        payload: Value,
        #[serde(default)]
        actor: Actor,
    },
    /// The site is being asked about the names the settings use; the secrets are read again.
    Checking {
        payload: Value,
        revision: u64,
        settings: Settings,
        rest: Map<String, Value>,
        groups_asked: usize,
        #[serde(default)]
        actor: Actor,
    },
    /// The secrets are landing; the settings follow (`previous`: the secrets they replace).
    Secrets {
        then: Landing,
        #[serde(default)]
        previous: Option<Secrets>,
    },
    /// The settings (and what goes with them) are landing; `previous`: the secrets to write back
    /// if they do not, when this save changed them.
    Settings {
        saved: Value,
        revision: u64,
        #[serde(default)]
        previous: Option<Secrets>,
    },
    /// The settings did not land: the secrets they came with are being put back.
    Restoring,
}

/// The writes of the last step and its answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Landing {
    writes: Vec<Write>,
    deletes: Vec<Read>,
    /// The answer (`{ settings: PublicSettings }`).
    saved: Value,
    revision: u64,
}

type SaveStep = Step<SaveState, Reply>;

pub fn start(payload: Value, actor: Actor) -> SaveStep {
    if !payload.is_object() {
        return Step::reply(Reply::refused(
            Refusal::new("validation", "Nothing to save.").with_fields(Vec::new()),
        ));
    }
    Step {
        reads: vec![settings_read()],
        ..Step::then(SaveState::Reading { payload, actor })
    }
}

pub fn next(state: SaveState, results: &Results) -> SaveStep {
    let step = match state {
        SaveState::Reading { payload, actor } => check_site(payload, actor, results),
        SaveState::Checking {
            payload,
            revision,
            settings,
            rest,
            groups_asked,
            actor,
        } => {
            let asked = Asked {
                revision,
                current: &settings,
                rest: &rest,
                groups_asked,
                actor,
            };
            save(&payload, asked, results)
        }
        SaveState::Secrets { then, previous } => {
            landed(&results.write_failed).map(|()| land_settings(then, previous))
        }
        SaveState::Settings {
            previous: Some(previous),
            ..
        } if results.write_failed.is_some() => secrets_write(&previous).map(|restore| Step {
            writes: vec![restore],
            ..Step::then(SaveState::Restoring)
        }),
        SaveState::Restoring => Err(match results.write_failed {
            None => storage_unavailable(),
            Some(_) => saved_in_part(),
        }),
        SaveState::Settings {
            saved, revision, ..
        } => landed(&results.write_failed).map(|()| {
            let mut fields = Map::new();
            fields.insert("count".into(), revision.into());
            Step {
                logs: vec![LogLine {
                    event: "admin.settings_saved".into(),
                    fields,
                }],
                ..Step::reply(Reply {
                    ok: true,
                    data: Some(saved),
                    error: None,
                })
            }
        }),
    };
    step.unwrap_or_else(|refusal| Step::reply(Reply::refused(refusal)))
}

#[derive(Serialize)]
struct Saved {
    settings: PublicSettings,
    /// The revision saved: what the page's next save expects.
    revision: u64,
}

fn saved(settings: PublicSettings, revision: u64) -> Result<Value, Refusal> {
    serde_json::to_value(Saved { settings, revision }).map_err(|_| internal())
}

/// The agent groups being saved (the submitted ones, else the stored ones), trimmed, once each.
fn group_names(payload: &Value, stored: &[String]) -> Vec<String> {
    let names: Vec<String> = match payload.get("agentGroups").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(|n| n.trim().to_owned())
            .collect(),
        None => stored.iter().map(|n| n.trim().to_owned()).collect(),
    };
    let mut wanted: Vec<String> = Vec::new();
    for name in names {
        if !name.is_empty() && !wanted.contains(&name) && wanted.len() < MAX_GROUP_LOOKUPS {
            wanted.push(name);
        }
    }
    wanted
}

fn check_site(payload: Value, actor: Actor, results: &Results) -> Result<SaveStep, Refusal> {
    // Over settings no release wrote, the defaults: saving is how the admin repairs them.
    let Config {
        revision,
        settings,
        rest,
        ..
    } = read_config(results.reads.first(), Some(&Found::default()), true)?;
    // Saved from a page loaded before another save landed: refused, or it would silently undo
    // that save's changes (the page sends every field).
    if let Some(expected) = payload.get("expectedRevision") {
        if expected.as_u64() != Some(revision) {
            return Err(Refusal::new(
                "conflict",
                "These settings were saved by someone else after this page was loaded. Reload the page to see their changes, then make yours again.",
            ));
        }
    }
    let names = group_names(&payload, &settings.agent_groups);
    // Each name exactly (the site's groups of those names), and through the picker, which also
    // matches another case of a name.
    let mut effects: Vec<Effect> = names
        .iter()
        .map(|name| Effect::AskJira {
            request: groups_request(name, GROUPS_PER_NAME),
            as_user: true,
        })
        .collect();
    if !names.is_empty() {
        effects.push(Effect::AskJira {
            request: groups_named_request(&names),
            as_user: true,
        });
    }
    let groups_asked = effects.len();
    effects.push(Effect::AskJira {
        request: fields_request(),
        as_user: true,
    });
    Ok(Step {
        reads: vec![secrets_read(), checklist_read()],
        effects,
        ..Step::then(SaveState::Checking {
            payload,
            revision,
            settings,
            rest,
            groups_asked,
            actor,
        })
    })
}

/// What the save was checked against.
struct Asked<'a> {
    revision: u64,
    current: &'a Settings,
    rest: &'a Map<String, Value>,
    groups_asked: usize,
    actor: Actor,
}

fn save(payload: &Value, asked: Asked<'_>, results: &Results) -> Result<SaveStep, Refusal> {
    let Asked {
        revision,
        current,
        rest,
        groups_asked,
        actor,
    } = asked;
    let stored = secrets_of(results.reads.first())?;
    let checklist = found(results.reads.get(1))?;
    let mut groups = Vec::new();
    for index in 0..groups_asked {
        groups.extend(found_groups(&jira_json(results.effects.get(index))?));
    }
    let fields = jira_json(results.effects.get(groups_asked))?;
    let site = SiteFacts {
        groups: Some(groups),
        fields: Some(fields),
    };
    let flags = crate::model::SecretFlags::of(&stored);
    let (settings, updates) = match validate_settings_on_site(current, payload, flags, &site) {
        SettingsDecision::Rejected { errors, .. } => {
            return Err(
                Refusal::new("validation", "Some settings need your attention.")
                    .with_fields(errors),
            )
        }
        SettingsDecision::Accepted {
            settings,
            secret_updates,
            ..
        } => (settings, secret_updates),
    };
    let secrets = Secrets {
        api_key: updates.api_key.clone().unwrap_or(stored.api_key.clone()),
        client_secret: updates
            .client_secret
            .clone()
            .unwrap_or(stored.client_secret.clone()),
        webhook_secret: updates
            .webhook_secret
            .clone()
            .unwrap_or(stored.webhook_secret.clone()),
    };
    let credentials_changed = updates.api_key.is_some()
        || updates.client_secret.is_some()
        || settings.environment != current.environment
        || settings.base_url_override != current.base_url_override
        || settings.client_id != current.client_id;
    let secrets_set = crate::model::SecretFlags::of(&secrets);
    let mut changed = changed_fields(current, &settings);
    for (name, update) in [
        ("apiKey", &updates.api_key),
        ("clientSecret", &updates.client_secret),
        ("webhookSecret", &updates.webhook_secret),
    ] {
        if update.is_some() {
            changed.push(name.to_owned());
        }
    }
    let trail = Entry {
        action: Action::SettingsChanged,
        at_ms: results.now_ms as f64,
        actor_account_id: actor.account_id.clone(),
        actor_name: actor.name.clone(),
        detail: if changed.is_empty() {
            "saved unchanged".to_owned()
        } else {
            format!("changed: {}", changed.join(", "))
        },
        ..Entry::default()
    };
    let mut writes = vec![
        settings_write(revision + 1, &settings, secrets_set, rest)?,
        revision_write(revision + 1)?,
        trail.write(actor.key(format!("settings:{}", revision + 1))),
    ];
    writes.extend(crate::stored::actor_account(
        &actor.account_id,
        results.now_ms,
    ));
    let mut deletes = Vec::new();
    if credentials_changed {
        writes.push(checklist_write(checklist, |c| {
            c.credentials_tested_at_ms = None
        })?);
        deletes.push(Read {
            key: TOKEN_KEY.to_owned(),
            secret: true,
        });
    }
    let then = Landing {
        writes,
        deletes,
        saved: saved(public_settings(&settings, secrets_set), revision + 1)?,
        revision: revision + 1,
    };
    let changes_secrets = updates.api_key.is_some()
        || updates.client_secret.is_some()
        || updates.webhook_secret.is_some();
    if !changes_secrets {
        return Ok(land_settings(then, None));
    }
    Ok(Step {
        writes: vec![secrets_write(&secrets)?],
        ..Step::then(SaveState::Secrets {
            then,
            previous: Some(stored),
        })
    })
}

/// The settings did not land after new secrets did, and the old secrets could not be put back.
fn saved_in_part() -> Refusal {
    Refusal::retryable(
        "saved_in_part",
        "The app could not reach its storage while saving. The new secrets you entered are already in use, but the other settings were not saved: save again to finish.",
    )
}

/// The names of the settings a save changes (never their values: a template may say anything).
fn changed_fields(before: &Settings, after: &Settings) -> Vec<String> {
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(name, value)| before.get(*name) != Some(*value))
        .map(|(name, _)| name.clone())
        .collect()
}

/// The settings record, the checklist and the token's removal; the token (a secret) goes once
/// the transaction has landed.
fn land_settings(then: Landing, previous: Option<Secrets>) -> SaveStep {
    Step {
        writes: then.writes,
        deletes: then.deletes,
        ..Step::then(SaveState::Settings {
            saved: then.saved,
            revision: then.revision,
            previous,
        })
    }
}
