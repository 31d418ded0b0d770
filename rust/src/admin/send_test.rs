//! `admin.sendTest`: a verification link sent from the settings page, to check the whole setup.
//! The session is marked as a test (`test:{sessionId}`), so its webhooks are recognised, and the
//! audit trail records who sent it, how and to whom (`testSent:{sessionId}`). The
//! cached Incode token is used while fresh; a 401 (a revoked or expired token) drops it, gets a
//! fresh one and tries once more.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::action::Actor;
use super::answer::{found, incode_answer, internal, landed, Refusal, Reply};
use super::config::{cached_token, read_config, secrets_read, settings_read, token_read};
use super::config::{token_write, TOKEN_KEY};
use crate::audit::{Action, Entry};
use crate::effects::Effect;
use crate::incode::{parse_start, parse_token, start_request, token_request};
use crate::incode::{StartVerificationInput, StartedSession};
use crate::model::{Delivery, FieldError, Secrets, Settings};
use crate::plan::{LogLine, Read, Results, Step, Ttl, Write};
use crate::settings::{missing_words, public_settings};
use crate::stored::{TestSessionMarker, SCHEMA_VERSION};

/// How long a test session is recognised as one.
const TEST_SESSION_TTL: Ttl = Ttl::days(7);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SendState {
    Reading {
        payload: Value,
        #[serde(default)]
        actor: Actor,
    },
    /// A token is being fetched (`retried`: after a 401 with the previous one).
    Token { send: Sending, retried: bool },
    /// The session is being started (`retried`: after a 401 with the previous token).
    Starting { send: Sending, retried: bool },
    /// The test marker is landing.
    Marking { session_id: String },
}

/// What a send needs from the stored configuration. Kept only between the steps of one call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sending {
    settings: Settings,
    secrets: Secrets,
    input: StartVerificationInput,
    #[serde(default)]
    actor: Actor,
}

type SendStep = Step<SendState, Reply>;

pub fn start(payload: Value, actor: Actor) -> SendStep {
    Step {
        reads: vec![settings_read(), secrets_read(), token_read()],
        ..Step::then(SendState::Reading { payload, actor })
    }
}

pub fn next(state: SendState, results: &Results) -> SendStep {
    let step = match state {
        SendState::Reading { payload, actor } => first_call(&payload, actor, results),
        SendState::Token { send, retried } => with_token(send, retried, results),
        SendState::Starting { send, retried } => started(send, retried, results),
        SendState::Marking { session_id } => {
            landed(&results.write_failed).map(|()| Step::reply(Reply::data(&Sent { session_id })))
        }
    };
    step.unwrap_or_else(|refusal| Step::reply(Reply::refused(refusal)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sent {
    session_id: String,
}

/// `c•••@example.test`: the first character and the domain, enough for an auditor to tell which
/// organisation a test went to.
fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_owned(),
    }
}

/// KVS keys allow only a few characters: a session id outside them cannot be part of one.
fn is_key_part(id: &str) -> bool {
    let mut chars = id.chars();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    chars.next().is_some_and(allowed) && id.len() <= 200 && chars.all(|c| allowed(c) || c == ':')
}

fn delivery_of(payload: &Value, default: Delivery) -> Result<Delivery, Refusal> {
    match payload.get("delivery") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(text)) if text.is_empty() => Ok(default),
        Some(Value::String(text)) if text == "SMS" => Ok(Delivery::Sms),
        Some(Value::String(text)) if text == "EMAIL" => Ok(Delivery::Email),
        _ => Err(
            Refusal::new("validation", "Choose SMS or email delivery.").with_fields(vec![
                FieldError::new(
                    "delivery",
                    "invalid_delivery",
                    "Choose SMS or email delivery.",
                ),
            ]),
        ),
    }
}

fn text_of(payload: &Value, field: &str) -> String {
    payload
        .get(field)
        .and_then(Value::as_str)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

fn first_call(payload: &Value, actor: Actor, results: &Results) -> Result<SendStep, Refusal> {
    let config = read_config(results.reads.first(), results.reads.get(1), false)?;
    let token = found(results.reads.get(2))?;
    let public = public_settings(&config.settings, config.flags());
    if !public.ready {
        return Err(Refusal::new(
            "setup_required",
            format!(
                "Finish the settings first: save {}.",
                missing_words(&public.missing)
            ),
        ));
    }
    let input = StartVerificationInput {
        email: text_of(payload, "email"),
        delivery: delivery_of(payload, config.settings.default_delivery)?,
        phone: text_of(payload, "phone"),
        alternate_email: String::new(),
    };
    let send = Sending {
        settings: config.settings,
        secrets: config.secrets,
        input,
        actor,
    };
    match cached_token(token, results.now_ms) {
        Some(token) => start_session(send, &token.access_token, false, Vec::new()),
        None => Ok(ask_token(send, false, Vec::new())),
    }
}

fn ask_token(send: Sending, retried: bool, deletes: Vec<Read>) -> SendStep {
    Step {
        deletes,
        effects: vec![Effect::AskIncode {
            request: token_request(&send.settings, &send.secrets),
        }],
        ..Step::then(SendState::Token { send, retried })
    }
}

fn start_session(
    send: Sending,
    access_token: &str,
    retried: bool,
    puts: Vec<Write>,
) -> Result<SendStep, Refusal> {
    let request = start_request(&send.settings, &send.secrets, access_token, &send.input)?;
    Ok(Step {
        puts,
        effects: vec![Effect::AskIncode { request }],
        ..Step::then(SendState::Starting { send, retried })
    })
}

fn with_token(send: Sending, retried: bool, results: &Results) -> Result<SendStep, Refusal> {
    let answer = incode_answer(results.effects.first())?;
    let token = parse_token(answer, results.now_ms)?;
    // The cache is a saving, not a need: it is put on its own while the session starts.
    let cache = token_write(&token.access_token, token.refresh_at_ms, results.now_ms);
    start_session(
        send,
        &token.access_token,
        retried,
        cache.into_iter().collect(),
    )
}

fn started(send: Sending, retried: bool, results: &Results) -> Result<SendStep, Refusal> {
    let answer = incode_answer(results.effects.first())?;
    if answer.status == 401 && !retried {
        let drop = Read {
            key: TOKEN_KEY.to_owned(),
            secret: true,
        };
        return Ok(ask_token(send, true, vec![drop]));
    }
    let StartedSession { session_id, .. } = parse_start(answer)?;
    if !is_key_part(&session_id) {
        return Err(Refusal::new(
            "incode_bad_response",
            "Incode answered with a session id the app cannot store. Try again; if it keeps failing, contact Incode support.",
        ));
    }
    let marker = TestSessionMarker {
        schema_version: SCHEMA_VERSION,
        at_ms: results.now_ms,
    };
    let mut fields = Map::new();
    fields.insert("sessionId".into(), session_id.clone().into());
    // The channel as records store it (`Delivery`'s serialised name), as the other entries say it.
    let channel = serde_json::to_value(send.input.delivery).unwrap_or_default();
    let trail = Entry {
        action: Action::TestSent,
        at_ms: results.now_ms as f64,
        actor_account_id: send.actor.account_id.clone(),
        actor_name: send.actor.name.clone(),
        channel: channel.as_str().unwrap_or_default().to_owned(),
        session_id: session_id.clone(),
        // No account stands behind a test address, so no erasure could find it: masked.
        detail: format!(
            "test link from the settings page for {}",
            masked_email(&send.input.email)
        ),
        ..Entry::default()
    };
    let mut writes = vec![
        Write {
            key: format!("test:{session_id}"),
            value: serde_json::to_value(&marker).map_err(|_| internal())?,
            ttl: Some(TEST_SESSION_TTL),
            secret: false,
            entity: None,
            only_if: None,
        },
        trail.write(format!("testSent:{session_id}")),
    ];
    writes.extend(crate::stored::actor_account(
        &send.actor.account_id,
        results.now_ms,
    ));
    Ok(Step {
        writes,
        logs: vec![LogLine {
            event: "admin.test_sent".into(),
            fields,
        }],
        ..Step::then(SendState::Marking { session_id })
    })
}
