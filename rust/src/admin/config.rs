//! The stored settings, secrets and token as the admin actions read and write them. Reading
//! accepts what every release stored (`stored.rs`); writing stamps the current schema version.

use serde_json::{Map, Value};

use super::answer::{found, internal, Refusal};
use crate::model::{SecretFlags, Secrets, Settings};
use crate::plan::{Found, Read, Ttl, Write};
use crate::settings::default_settings;
use crate::stored::{self, SettingsRecord, StoredSecrets, StoredToken, SCHEMA_VERSION};

pub const SETTINGS_KEY: &str = "settings";
pub const SETTINGS_REVISION_KEY: &str = "settings:revision";
pub const SECRETS_KEY: &str = "secrets";
pub const TOKEN_KEY: &str = "token:incode";
/// A cached token lives at most a day, whatever Incode says.
const TOKEN_TTL_MAX_S: i64 = 86_400;

pub fn settings_read() -> Read {
    Read {
        key: SETTINGS_KEY.to_owned(),
        secret: false,
    }
}

pub fn secrets_read() -> Read {
    Read {
        key: SECRETS_KEY.to_owned(),
        secret: true,
    }
}

pub fn token_read() -> Read {
    Read {
        key: TOKEN_KEY.to_owned(),
        secret: true,
    }
}

/// The settings and secrets as stored. `unreadable`: the stored settings are no release's
/// (read as the defaults, so that the admin can save over them).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub revision: u64,
    pub settings: Settings,
    pub secrets: Secrets,
    pub unreadable: bool,
    /// Top-level fields of the stored record this release does not know, kept on save.
    pub rest: Map<String, Value>,
}

impl Config {
    pub fn flags(&self) -> SecretFlags {
        SecretFlags::of(&self.secrets)
    }
}

/// Reads the settings record and the secrets. Without `or_defaults`, settings no release wrote
/// refuse the action (the admin must save them again first).
pub fn read_config(
    settings: Option<&Found>,
    secrets: Option<&Found>,
    or_defaults: bool,
) -> Result<Config, Refusal> {
    let stored = found(settings)?;
    let secrets = secrets_of(secrets)?;
    if stored.is_null() {
        return Ok(Config {
            revision: 0,
            settings: default_settings(),
            secrets,
            unreadable: false,
            rest: Map::new(),
        });
    }
    let readable = stored
        .get("settings")
        .is_some_and(Value::is_object)
        .then(|| stored::settings_record(stored.clone()).ok())
        .flatten();
    match readable {
        Some(SettingsRecord {
            revision,
            settings,
            rest,
            ..
        }) => Ok(Config {
            revision,
            settings,
            secrets,
            unreadable: false,
            rest,
        }),
        None if or_defaults => Ok(Config {
            // The revision goes on counting, so that kept settings elsewhere see the change.
            revision: stored
                .get("revision")
                .and_then(Value::as_u64)
                .filter(|r| *r <= MAX_SAFE_INTEGER)
                .unwrap_or(0),
            settings: default_settings(),
            secrets,
            unreadable: true,
            rest: Map::new(),
        }),
        None => Err(Refusal::new(
            "settings_unreadable",
            "The app settings cannot be read. Ask your Jira admin to open the app settings and save them again.",
        )),
    }
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The stored secrets ("" = not set).
pub fn secrets_of(found_secrets: Option<&Found>) -> Result<Secrets, Refusal> {
    let value = found(found_secrets)?;
    if value.is_null() {
        return Ok(Secrets::default());
    }
    let stored: StoredSecrets = serde_json::from_value(value.clone()).map_err(|_| internal())?;
    Ok(Secrets {
        api_key: stored.api_key,
        client_secret: stored.client_secret,
        webhook_secret: stored.webhook_secret,
    })
}

/// The settings record a save stores: the next revision, which secrets are set, and the stored
/// record's fields a later release added.
pub fn settings_write(
    revision: u64,
    settings: &Settings,
    flags: SecretFlags,
    rest: &Map<String, Value>,
) -> Result<Write, Refusal> {
    let record = SettingsRecord {
        schema_version: SCHEMA_VERSION,
        revision,
        settings: settings.clone(),
        secrets_set: flags,
        rest: Map::new(),
    };
    let mut value = serde_json::to_value(&record).map_err(|_| internal())?;
    if let Value::Object(fields) = &mut value {
        for (key, field) in rest {
            if !fields.contains_key(key) {
                fields.insert(key.clone(), field.clone());
            }
        }
    }
    Ok(crate::actions::write(SETTINGS_KEY, value, None))
}

/// The settings' revision alone, written beside the record (`stored::SettingsRevision`).
pub fn revision_write(revision: u64) -> Result<Write, Refusal> {
    let stored = stored::SettingsRevision {
        schema_version: SCHEMA_VERSION,
        revision,
    };
    let value = serde_json::to_value(&stored).map_err(|_| internal())?;
    Ok(crate::actions::write(SETTINGS_REVISION_KEY, value, None))
}

pub fn secrets_write(secrets: &Secrets) -> Result<Write, Refusal> {
    let stored = StoredSecrets {
        schema_version: SCHEMA_VERSION,
        api_key: secrets.api_key.clone(),
        client_secret: secrets.client_secret.clone(),
        webhook_secret: secrets.webhook_secret.clone(),
    };
    Ok(Write {
        key: SECRETS_KEY.to_owned(),
        value: serde_json::to_value(&stored).map_err(|_| internal())?,
        ttl: None,
        secret: true,
        entity: None,
        only_if: None,
    })
}

/// The cached token, until it is due for refresh (at most a day); none when it is due already.
pub fn token_write(access_token: &str, refresh_at_ms: i64, now_ms: i64) -> Option<Write> {
    let seconds = (refresh_at_ms - now_ms).div_euclid(1000);
    if seconds < 1 {
        return None;
    }
    let stored = StoredToken {
        schema_version: SCHEMA_VERSION,
        access_token: access_token.to_owned(),
        refresh_at_ms,
    };
    Some(Write {
        key: TOKEN_KEY.to_owned(),
        value: serde_json::to_value(&stored).ok()?,
        ttl: Some(Ttl::seconds(
            u32::try_from(seconds.min(TOKEN_TTL_MAX_S)).unwrap_or(1),
        )),
        secret: true,
        entity: None,
        only_if: None,
    })
}

/// The cached token while it is fresh.
pub fn cached_token(value: &Value, now_ms: i64) -> Option<StoredToken> {
    let token: StoredToken = serde_json::from_value(value.clone()).ok()?;
    (token.refresh_at_ms > now_ms && !token.access_token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(value: Value) -> Found {
        Found {
            value,
            failed: None,
        }
    }

    #[test]
    fn settings_of_any_release_read_with_defaults_and_unknown_fields_kept() {
        let stored = at(json!({
            "revision": 4,
            "settings": { "clientId": "c", "retired": 1 },
            "secretsSet": {},
            "later": "x"
        }));
        let config = read_config(Some(&stored), Some(&at(Value::Null)), false)
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(config.revision, 4);
        assert_eq!(config.settings.client_id, "c");
        assert_eq!(config.settings.link_expiry_minutes, 10);
        let write = settings_write(5, &config.settings, config.flags(), &config.rest)
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(write.value["schemaVersion"], json!(SCHEMA_VERSION));
        assert_eq!(write.value["revision"], json!(5));
        assert_eq!(write.value["later"], json!("x"));
        assert_eq!(write.value["settings"].get("retired"), None);
    }

    #[test]
    fn settings_no_release_wrote_read_as_defaults_only_for_the_admin() {
        for bad in [
            json!("text"),
            json!({ "revision": 2 }),
            json!({ "revision": 2, "settings": { "linkExpiryMinutes": "ten" } }),
        ] {
            let stored = at(bad);
            let refused = read_config(Some(&stored), Some(&at(Value::Null)), false);
            assert_eq!(
                refused.err().map(|e| e.code),
                Some("settings_unreadable".into())
            );
            let config = read_config(Some(&stored), Some(&at(Value::Null)), true)
                .unwrap_or_else(|e| unreachable!("{e:?}"));
            assert!(config.unreadable);
            assert_eq!(config.settings, default_settings());
        }
        let config = read_config(
            Some(&at(json!({ "revision": 7, "settings": 3 }))),
            Some(&at(Value::Null)),
            true,
        )
        .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(config.revision, 7, "the revision goes on counting");
    }

    #[test]
    fn secrets_and_tokens_are_stamped() {
        let secrets = Secrets {
            api_key: "k".into(),
            client_secret: String::new(),
            webhook_secret: "w".into(),
        };
        let write = secrets_write(&secrets).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert!(write.secret);
        assert_eq!(write.value["schemaVersion"], json!(SCHEMA_VERSION));
        assert_eq!(write.value["apiKey"], json!("k"));
        let token = token_write("t", 10_000 + 90_500, 10_000).unwrap_or_else(|| unreachable!());
        assert_eq!(token.ttl, Some(Ttl::seconds(90)));
        assert_eq!(token.value["schemaVersion"], json!(SCHEMA_VERSION));
        assert!(token_write("t", 10_500, 10_000).is_none());
        assert!(cached_token(&token.value, 10_000).is_some());
        assert!(cached_token(&token.value, 100_500).is_none());
    }
}
