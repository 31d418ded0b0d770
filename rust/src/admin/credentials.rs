//! `admin.testCredentials` (always a fresh token: the cache would hide credentials that stopped
//! working; the token is cached and the checklist ticked) and `admin.clearTokenCache`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action::Actor;
use super::answer::{found, incode_answer, landed, Refusal, Reply};
use super::checklist::{checklist_read, checklist_write};
use super::config::{read_config, secrets_read, settings_read, token_write, TOKEN_KEY};
use crate::audit::{Action, Entry};
use crate::effects::Effect;
use crate::incode::{parse_token, token_request};
use crate::plan::{Read, Results, Step};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum TestState {
    /// `actor`: the admin testing, for the audit trail.
    Reading {
        #[serde(default)]
        actor: Actor,
    },
    /// Incode is asked for a token; `checklist`: the stored checklist.
    Asking {
        checklist: Value,
        #[serde(default)]
        actor: Actor,
    },
    /// The token and the tick are landing.
    Landing { checked_at: i64 },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connected {
    connected: bool,
    checked_at: i64,
}

type TestStep = Step<TestState, Reply>;

pub fn start_test(actor: Actor) -> TestStep {
    Step {
        reads: vec![settings_read(), secrets_read(), checklist_read()],
        ..Step::then(TestState::Reading { actor })
    }
}

pub fn next_test(state: TestState, results: &Results) -> TestStep {
    let step = match state {
        TestState::Reading { actor } => ask(results, actor),
        TestState::Asking { checklist, actor } => {
            // Each test is recorded, whatever Incode answered (a failure changes nothing else).
            let trail = |outcome: &str, detail: &str| {
                Entry {
                    action: Action::CredentialsTested,
                    at_ms: results.now_ms as f64,
                    actor_account_id: actor.account_id.clone(),
                    actor_name: actor.name.clone(),
                    outcome: outcome.to_owned(),
                    detail: detail.to_owned(),
                    ..Entry::default()
                }
                .write(actor.key(format!(
                    "credentials:{}:{}",
                    results.now_ms, actor.account_id
                )))
            };
            let indexed = crate::stored::actor_account(&actor.account_id, results.now_ms);
            match tested(&checklist, results) {
                Ok(mut step) => {
                    step.writes.push(trail("connected", ""));
                    step.writes.extend(indexed);
                    return step;
                }
                Err(refusal) => {
                    let mut step = Step::reply(Reply::refused(refusal.clone()));
                    step.puts.push(trail("failed", &refusal.code));
                    step.puts.extend(indexed);
                    return step;
                }
            }
        }
        TestState::Landing { checked_at } => landed(&results.write_failed).map(|()| {
            Step::reply(Reply::data(&Connected {
                connected: true,
                checked_at,
            }))
        }),
    };
    step.unwrap_or_else(|refusal| Step::reply(Reply::refused(refusal)))
}

fn ask(results: &Results, actor: Actor) -> Result<TestStep, Refusal> {
    let config = read_config(results.reads.first(), results.reads.get(1), false)?;
    let checklist = found(results.reads.get(2))?.clone();
    if config.secrets.client_secret.is_empty() || config.settings.client_id.is_empty() {
        return Err(Refusal::new(
            "setup_required",
            "Save the client ID and client secret first.",
        ));
    }
    Ok(Step {
        effects: vec![Effect::AskIncode {
            request: token_request(&config.settings, &config.secrets),
        }],
        ..Step::then(TestState::Asking { checklist, actor })
    })
}

fn tested(checklist: &Value, results: &Results) -> Result<TestStep, Refusal> {
    let answer = incode_answer(results.effects.first())?;
    let now_ms = results.now_ms;
    let token = parse_token(answer, now_ms)?;
    let mut writes = vec![checklist_write(checklist, |c| {
        c.credentials_tested_at_ms = Some(now_ms)
    })?];
    writes.extend(token_write(
        &token.access_token,
        token.refresh_at_ms,
        now_ms,
    ));
    Ok(Step {
        writes,
        ..Step::then(TestState::Landing { checked_at: now_ms })
    })
}

#[derive(Serialize)]
struct Cleared {
    cleared: bool,
}

pub fn start_clear() -> Step<(), Reply> {
    Step {
        deletes: vec![Read {
            key: TOKEN_KEY.to_owned(),
            secret: true,
        }],
        ..Step::then(())
    }
}

pub fn cleared(results: &Results) -> Step<(), Reply> {
    Step::reply(Reply::of(
        landed(&results.write_failed).map(|()| Cleared { cleared: true }),
    ))
}
