//! `admin.getSettings`: the settings as the page may see them, how to register the webhook in
//! the Incode dashboard, the setup checklist and the rules the page checks before saving.

use serde::{Deserialize, Serialize};

use super::answer::{found, Refusal, Reply};
use super::checklist::{checklist_read, items, read_checklist, ChecklistItem};
use super::config::{read_config, secrets_read, settings_read};
use crate::model::{SignatureEncoding, WebhookAuth};
use crate::plan::{Results, Step};
use crate::rules::{admin_rules, AdminRules, WEBHOOK_EVENTS};
use crate::settings::{public_settings, PublicSettings};

/// The webtriggers' URLs, which only the platform knows (the executor asks for them).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WebhookUrls {
    pub webhook_url: String,
    pub token_url: String,
}

/// How to set up the webhook in the Incode dashboard.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WebhookInfo {
    pub url: String,
    /// The token webtrigger's URL, in OAuth mode only.
    pub token_url: Option<String>,
    pub mode: &'static str,
    pub header: String,
    pub events: Vec<&'static str>,
    pub instructions: String,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SettingsPage {
    pub settings: PublicSettings,
    /// The stored settings' revision: a save sends it back, and is refused when another save
    /// landed since (`conflict`).
    pub revision: u64,
    /// Stored settings no release wrote: shown as the defaults, for the admin to save over.
    pub settings_unreadable: bool,
    pub webhook: WebhookInfo,
    pub checklist: Vec<ChecklistItem>,
    pub rules: AdminRules,
}

pub fn start(urls: WebhookUrls) -> Step<WebhookUrls, Reply> {
    Step {
        reads: vec![settings_read(), secrets_read(), checklist_read()],
        ..Step::then(urls)
    }
}

pub fn next(urls: WebhookUrls, results: &Results) -> Step<WebhookUrls, Reply> {
    Step::reply(Reply::of(page(&urls, results)))
}

fn page(urls: &WebhookUrls, results: &Results) -> Result<SettingsPage, Refusal> {
    let config = read_config(results.reads.first(), results.reads.get(1), true)?;
    let checklist = read_checklist(found(results.reads.get(2))?);
    // The flags from the secrets themselves: records saved by earlier releases lack the strength.
    let flags = config.flags();
    Ok(SettingsPage {
        settings: public_settings(&config.settings, flags),
        revision: config.revision,
        settings_unreadable: config.unreadable,
        webhook: webhook_info(&config.settings.webhook_auth, urls),
        checklist: items(&config.settings, &checklist, flags),
        rules: admin_rules(),
    })
}

pub fn webhook_info(auth: &WebhookAuth, urls: &WebhookUrls) -> WebhookInfo {
    let url = urls.webhook_url.clone();
    let mut steps = vec![
        "In the Incode dashboard, open Configuration → Webhooks and add a webhook.".to_owned(),
        format!("URL: {url}"),
        format!("Events: {}.", WEBHOOK_EVENTS.join(", ")),
    ];
    let (mode, header, token_url) = match auth {
        WebhookAuth::Hmac {
            header,
            encoding,
            timestamp_header,
            ..
        } => {
            let encoding = match encoding {
                SignatureEncoding::Hex => "hex",
                SignatureEncoding::Base64 => "base64",
            };
            steps.push(format!("Signing: HMAC-SHA256 of the raw body with the webhook secret saved here, sent in the {header} header ({encoding})."));
            if !timestamp_header.is_empty() {
                steps.push(format!("Timestamp: Unix time in the {timestamp_header} header, signed as \"timestamp.body\"."));
            }
            ("hmac", header.clone(), None)
        }
        WebhookAuth::SharedSecret { header } => {
            steps.push(format!("Authentication: a custom header {header} whose value is the webhook secret saved here."));
            ("sharedSecret", header.clone(), None)
        }
        WebhookAuth::OAuth { client_id, .. } => {
            let token_url = urls.token_url.clone();
            steps.push(format!("Authentication: OAuth 2.0 client credentials. Token URL: {token_url}; client ID: {client_id}; client secret: the webhook secret saved here."));
            ("oauth", "Authorization".to_owned(), Some(token_url))
        }
    };
    WebhookInfo {
        url,
        token_url,
        mode,
        header,
        events: WEBHOOK_EVENTS.to_vec(),
        instructions: steps.join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{default_webhook_auth, AuthMode};

    #[test]
    fn oauth_names_the_token_url_and_the_client_id() {
        let urls = WebhookUrls {
            webhook_url: "https://w".into(),
            token_url: "https://t".into(),
        };
        let info = webhook_info(&default_webhook_auth(AuthMode::OAuth), &urls);
        assert_eq!(info.token_url.as_deref(), Some("https://t"));
        assert_eq!(info.header, "Authorization");
        assert!(info
            .instructions
            .contains("Token URL: https://t; client ID: incode-webhooks"));
        let info = webhook_info(&default_webhook_auth(AuthMode::Hmac), &urls);
        assert_eq!(info.token_url, None);
        assert!(info
            .instructions
            .contains("x-incode-signature header (hex)"));
        assert!(info.instructions.contains("URL: https://w"));
    }
}
