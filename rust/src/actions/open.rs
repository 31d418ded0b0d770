//! Opening the agent's panel (`panel.getState`): the issue's verifications as the caller sees
//! them, whether they may send now (and why not), the person on the issue, and the browser's
//! subscribe-only realtime token. An agent outside the agent groups sees, read-only. Links past
//! their expiry are saved as expired on the way (`expiry.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agent::{self, Person, PersonLook};
use super::send::{count_reads, counts_of, index_of, send_block, Counts, Index};
use super::{
    expiry, keys, log, read, refuse, value_of, verification_of, view_of, Answer, CallerContext,
    IssueRef, Refusal,
};
use crate::effects::{Effect, EffectResult, Ended};
use crate::lock::Taken;
use crate::model::{Delivery, SecretFlags, Settings};
use crate::panel::AgentAccess;
use crate::plan::{LogLine, Results, Step};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct OpenInput {
    /// The lock owner expiring links writes as.
    pub owner: String,
    pub now_ms: i64,
    pub context: CallerContext,
}

/// What the panel shows (`PanelState`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PanelState {
    pub setup_required: bool,
    pub is_admin: bool,
    pub can_send: bool,
    pub cannot_send_reason: Option<String>,
    pub defaults: PanelDefaults,
    pub person: Option<PersonShown>,
    #[cfg_attr(test, ts(type = "VerificationView | null"))]
    pub current: Value,
    #[cfg_attr(test, ts(type = "VerificationView[]"))]
    pub history: Vec<Value>,
    pub realtime: Option<RealtimeGrant>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PanelDefaults {
    pub delivery: Delivery,
    pub link_expiry_minutes: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PersonShown {
    pub email: String,
    pub name: String,
}

/// The browser's subscribe-only token for the issue's channel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RealtimeGrant {
    pub channel: String,
    pub token: String,
}

pub type OpenStep = Step<OpenState, Answer<PanelState>>;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    #[default]
    Read,
    Groups,
    Records,
    Expire,
    /// Records read again under locks the attempt kept (`expiry::Reread`).
    Reread,
    Saved,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OpenState {
    pub phase: Phase,
    pub owner: String,
    pub now_ms: i64,
    pub issue: IssueRef,
    pub account_id: String,
    pub is_admin: bool,
    pub settings: Settings,
    pub secrets_set: SecretFlags,
    pub access: Option<AgentAccess>,
    pub counts: Option<Counts>,
    pub index: Option<Index>,
    pub reporter: Option<EffectResult>,
    pub person: Option<Person>,
    pub lookup: Option<Person>,
    pub realtime: Option<RealtimeGrant>,
    pub records: Vec<Value>,
    pub due: Vec<Value>,
    /// The attempt's settlement while records are read again under its kept locks.
    pub settled: Option<expiry::Settled>,
    pub held: Vec<Taken>,
    pub person_failure: Option<String>,
}

/// Round trip 1: the caller's permissions with everything the panel reads.
pub fn start(input: OpenInput) -> OpenStep {
    let (account_id, issue) = match agent::checked(&input.context) {
        Ok(found) => found,
        Err(refusal) => return refuse(refusal, Vec::new()),
    };
    let [agent_count, ticket_count] = count_reads(&account_id, &issue.id, input.now_ms);
    let step = Step {
        reads: vec![
            read(keys::SETTINGS),
            agent_count,
            ticket_count,
            read(keys::issue(&issue.id)),
        ],
        effects: vec![
            agent::permissions(&issue.key),
            agent::issue_field(&issue.key, "reporter"),
            Effect::SignToken {
                issue_id: issue.id.clone(),
                channel: super::channel_of(&issue.id),
                subscribe: true,
            },
        ],
        ..Step::default()
    };
    let state = OpenState {
        owner: input.owner,
        now_ms: input.now_ms,
        issue,
        account_id,
        ..OpenState::default()
    };
    Step {
        state: Some(state),
        ..step
    }
}

pub fn next(mut st: OpenState, results: Results) -> OpenStep {
    match st.phase {
        Phase::Read => {
            let (reads, effects) = (&results.reads, &results.effects);
            match agent::permitted(effects.first()) {
                Ok(admin) => st.is_admin = admin,
                Err(refusal) => return refuse(refusal, Vec::new()),
            }
            match agent::settings_of(reads.first()) {
                Ok((settings, flags)) => {
                    st.settings = settings;
                    st.secrets_set = flags;
                }
                Err(refusal) => return refuse(refusal, Vec::new()),
            }
            st.counts = counts_of(reads.get(1), reads.get(2), st.now_ms).ok();
            st.index = value_of(reads.get(3)).ok().map(index_of);
            st.reporter = effects.get(1).cloned();
            st.realtime = grant(effects.get(2), &st.issue.id);
            let logs = if st.realtime.is_none() {
                vec![log(
                    "realtime.sign_failed",
                    &[("issueId", Value::from(st.issue.id.clone()))],
                )]
            } else {
                Vec::new()
            };
            if agent::needs_groups(&st.settings) {
                st.phase = Phase::Groups;
                return Step {
                    effects: vec![agent::groups(&st.account_id)],
                    logs,
                    ..Step::then(st)
                };
            }
            let mut step = records(st, None);
            step.logs.splice(0..0, logs);
            step
        }
        Phase::Groups => {
            let answer = results.effects.first().cloned();
            records(st, answer)
        }
        Phase::Records => {
            let mut records = Vec::new();
            for found in &results.reads {
                match value_of(Some(found)) {
                    Ok(r)
                        if r.get("issueId").and_then(Value::as_str)
                            == Some(st.issue.id.as_str()) =>
                    {
                        records.push(r.clone());
                    }
                    Ok(_) => {}
                    Err(refusal) => return refuse(refusal, Vec::new()),
                }
            }
            if agent::person_field(&st.settings) != "reporter" {
                st.reporter = results.effects.first().cloned();
            }
            person(&mut st);
            let now = st.now_ms;
            let (due, fine): (Vec<Value>, Vec<Value>) =
                records.into_iter().partition(|r| expiry::due(r, now));
            st.records = fine;
            if due.is_empty() && st.lookup.is_none() {
                return answer(st, Vec::new());
            }
            let ids: Vec<String> = due
                .iter()
                .filter_map(|r| {
                    r.get("sessionId")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let (swaps, reads) = expiry::attempt(&ids, &st.owner, results.now_ms);
            st.due = due;
            st.phase = Phase::Expire;
            Step {
                swaps,
                reads,
                effects: st
                    .lookup
                    .as_ref()
                    .map(|p| agent::user(&p.account_id))
                    .into_iter()
                    .collect(),
                ..Step::then(st)
            }
        }
        Phase::Expire => {
            if let Some(known) = st.lookup.take() {
                match agent::jira_look(results.effects.first()) {
                    Ok(user) => st.person = Some(agent::person_from_user(&known, &user)),
                    Err(refusal) => st.person_failure = Some(refusal.code),
                }
            }
            let due = std::mem::take(&mut st.due);
            let mut settled = expiry::settle(
                &due,
                &results.swaps,
                &results.reads,
                &st.owner,
                results.now_ms,
            );
            if settled.reread.is_empty() {
                return save_expired(st, settled);
            }
            let reads = settled.reread_reads();
            let puts = std::mem::take(&mut settled.puts);
            st.settled = Some(settled);
            st.phase = Phase::Reread;
            Step {
                reads,
                puts,
                ..Step::then(st)
            }
        }
        Phase::Reread => {
            let settled = st.settled.take().unwrap_or_default().settle_reread(
                &results.reads,
                &st.owner,
                results.now_ms,
            );
            save_expired(st, settled)
        }
        Phase::Saved => {
            // Not saved: shown expired all the same, saved another time.
            let (puts, effects) = if results.write_failed.is_some() {
                (expiry::release_unsaved(&st.held), Vec::new())
            } else {
                (Vec::new(), expired_status(&st))
            };
            let mut step = answer(st, Vec::new());
            step.puts = puts;
            step.effects.extend(effects);
            step
        }
    }
}

/// The settled expiries: saved in one transaction when any is due, else the answer.
fn save_expired(mut st: OpenState, settled: expiry::Settled) -> OpenStep {
    st.records.extend(settled.records);
    if settled.writes.is_empty() {
        return Step {
            puts: settled.puts,
            ..answer(st, Vec::new())
        };
    }
    st.held = settled.held;
    st.phase = Phase::Saved;
    Step {
        writes: settled.writes,
        puts: settled.puts,
        ..Step::then(st)
    }
}

/// The issue's status field once its current verification was saved as expired (`expiry.rs`).
fn expired_status(st: &OpenState) -> Vec<Effect> {
    let current = st.index.as_ref().and_then(|i| i.current.clone());
    expiry::status_effects(&st.records, &st.held, |i| {
        let id = st
            .records
            .get(i)
            .and_then(|r| r.get("sessionId"))
            .and_then(Value::as_str);
        current.is_some() && id == current.as_deref()
    })
}

/// The caller's access, then the issue's records (and a person field other than the reporter).
fn records(mut st: OpenState, groups: Option<EffectResult>) -> OpenStep {
    match agent::access(&st.settings, groups.as_ref(), true) {
        Ok(access) => st.access = Some(access),
        Err(refusal) => return refuse(refusal, Vec::new()),
    }
    let (Some(_), Some(index)) = (st.counts, st.index.clone()) else {
        return refuse(Refusal::storage(), Vec::new());
    };
    let field = agent::person_field(&st.settings).to_owned();
    let effects: Vec<Effect> = if field == "reporter" {
        Vec::new()
    } else {
        vec![agent::issue_field(&st.issue.key, &field)]
    };
    if index.sessions.is_empty() && effects.is_empty() {
        person(&mut st);
        if st.lookup.is_none() {
            return answer(st, Vec::new());
        }
    }
    st.phase = Phase::Records;
    Step {
        reads: index
            .sessions
            .iter()
            .map(|s| read(keys::record(s)))
            .collect(),
        effects,
        ..Step::then(st)
    }
}

/// The person from the field read (the reporter in round trip 1, or the configured field).
fn person(st: &mut OpenState) {
    let field = agent::person_field(&st.settings).to_owned();
    match agent::jira_look(st.reporter.as_ref()) {
        Ok(issue) => match agent::person_in(&issue, &field) {
            PersonLook::Nobody => st.person = None,
            PersonLook::Found(p) => st.person = Some(p),
            PersonLook::LookUp(p) => st.lookup = Some(p),
        },
        Err(refusal) => st.person_failure = Some(refusal.code),
    }
}

fn grant(result: Option<&EffectResult>, issue_id: &str) -> Option<RealtimeGrant> {
    let answer = match result {
        Some(EffectResult {
            ended: Ended::Done,
            answer: Some(answer),
            ..
        }) if answer.status == 200 => answer,
        _ => return None,
    };
    let body: Value = serde_json::from_str(&answer.body).ok()?;
    let token = body
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())?;
    Some(RealtimeGrant {
        channel: super::channel_of(issue_id),
        token: token.to_owned(),
    })
}

/// The panel's state as the caller sees it.
fn answer(st: OpenState, mut logs: Vec<LogLine>) -> OpenStep {
    if let Some(code) = &st.person_failure {
        logs.push(log(
            "panel.person_unavailable",
            &[
                ("code", Value::from(code.clone())),
                ("issueKey", Value::from(st.issue.key.clone())),
            ],
        ));
    }
    let access = st.access.clone().unwrap_or(AgentAccess {
        may_send: false,
        may_change: false,
        reason: None,
    });
    let ready = crate::settings::public_settings(&st.settings, st.secrets_set).ready;
    let counts = st.counts.unwrap_or_default();
    let block = send_block(ready, &st.settings, &counts);
    let can_send = access.may_send && block.is_none();
    let shown_access = AgentAccess {
        may_send: can_send,
        ..access.clone()
    };
    let current_id = st.index.as_ref().and_then(|i| i.current.clone());
    let mut current = Value::Null;
    let mut history: Vec<(i64, Value)> = Vec::new();
    for record in &st.records {
        let Some(v) = verification_of(record) else {
            continue;
        };
        let view = view_of(&v, &shown_access);
        if current.is_null() && current_id.as_deref() == Some(v.session_id.as_str()) {
            current = view;
        } else {
            history.push((v.requested_at_ms, view));
        }
    }
    history.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let state = PanelState {
        setup_required: !ready,
        is_admin: st.is_admin,
        can_send,
        cannot_send_reason: access.reason.clone().or(block.map(|b| b.message)),
        defaults: PanelDefaults {
            delivery: st.settings.default_delivery,
            link_expiry_minutes: st.settings.link_expiry_minutes,
        },
        person: st.person.as_ref().map(|p| PersonShown {
            email: p.email.clone(),
            name: p.name.clone(),
        }),
        current,
        history: history.into_iter().map(|(_, v)| v).collect(),
        realtime: st.realtime.clone(),
    };
    Step {
        logs,
        ..Step::reply(Answer::data(state))
    }
}
