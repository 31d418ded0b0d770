//! An agent cancels a live link (`panel.cancel`): under the verification's session lock, so an
//! agent's cancel and a webhook never overwrite each other. A webhook holding the lock is waited
//! for briefly (4 s); still held, the agent is told to try again.

use crate::audit::{Action, Entry};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::agent;
use super::{
    consistent, keys, log, read, record_with, refuse, release_at, rev_of, stamp_lock, take_lock,
    value_of, verification_of, view_of, Answer, CallerContext, IssueRef, Refusal, LOCK_SPIN_MS,
    LOCK_WAIT_MS,
};
use crate::effects::{Effect, PublishToken};
use crate::lock::{self, Found as LockFound, Taken};
use crate::model::Settings;
use crate::panel::AgentAccess;
use crate::plan::{Results, Step};
use crate::state::cancel_verification;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct CancelInput {
    pub owner: String,
    pub now_ms: i64,
    pub context: CallerContext,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub payload: Value,
}

pub type CancelStep = Step<CancelState, Answer<super::send::Sent>>;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    #[default]
    Read,
    Groups,
    Find,
    Wait,
    Lock,
    Reread,
    Saved,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CancelState {
    pub phase: Phase,
    pub owner: String,
    pub issue: IssueRef,
    pub account_id: String,
    pub settings: Settings,
    pub access: Option<AgentAccess>,
    pub index: Option<super::send::Index>,
    pub agent_name: String,
    pub name_failure: Option<Refusal>,
    pub session_id: String,
    pub deadline_ms: i64,
    pub taken: Option<Taken>,
    pub view: Value,
    pub effects: Vec<Effect>,
}

/// Round trip 1: the caller's permissions, the settings, the issue index and the caller's name.
pub fn start(input: CancelInput) -> CancelStep {
    let (account_id, issue) = match agent::checked(&input.context) {
        Ok(found) => found,
        Err(refusal) => return refuse(refusal, Vec::new()),
    };
    let wanted = input
        .payload
        .get("verificationId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let step = Step {
        reads: vec![read(keys::SETTINGS), read(keys::issue(&issue.id))],
        effects: vec![agent::permissions(&issue.key), agent::myself()],
        ..Step::default()
    };
    let state = CancelState {
        owner: input.owner,
        issue,
        account_id,
        session_id: wanted,
        deadline_ms: input.now_ms + LOCK_WAIT_MS,
        ..CancelState::default()
    };
    Step {
        state: Some(state),
        ..step
    }
}

fn not_found() -> Refusal {
    Refusal::new("not_found", "That verification is not on this issue.")
}

pub fn next(mut st: CancelState, results: Results) -> CancelStep {
    let now = results.now_ms;
    match st.phase {
        Phase::Read => {
            if let Err(refusal) = agent::permitted(results.effects.first()) {
                return refuse(refusal, Vec::new());
            }
            match agent::settings_of(results.reads.first()) {
                Ok((settings, _)) => st.settings = settings,
                Err(refusal) => return refuse(refusal, Vec::new()),
            }
            st.index = value_of(results.reads.get(1))
                .ok()
                .map(super::send::index_of);
            match agent::my_name(results.effects.get(1)) {
                Ok(name) => st.agent_name = name,
                Err(refusal) => st.name_failure = Some(refusal),
            }
            if agent::needs_groups(&st.settings) {
                st.phase = Phase::Groups;
                return Step {
                    effects: vec![agent::groups(&st.account_id)],
                    ..Step::then(st)
                };
            }
            find(st, None)
        }
        Phase::Groups => {
            let groups = results.effects.first().cloned();
            find(st, groups)
        }
        Phase::Find => {
            // `session_id` holds the verification id asked for until it is found.
            let wanted = std::mem::take(&mut st.session_id);
            let mut found = None;
            for f in &results.reads {
                match value_of(Some(f)) {
                    Ok(r)
                        if !wanted.is_empty()
                            && r.get("id").and_then(Value::as_str) == Some(wanted.as_str())
                            && r.get("issueId").and_then(Value::as_str)
                                == Some(st.issue.id.as_str()) =>
                    {
                        found = r
                            .get("sessionId")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                    }
                    Ok(_) => {}
                    Err(refusal) => return refuse(refusal, Vec::new()),
                }
            }
            if let Some(refusal) = st.name_failure.take() {
                return refuse(refusal, Vec::new());
            }
            let Some(session_id) = found else {
                return refuse(not_found(), Vec::new());
            };
            st.session_id = session_id;
            st.deadline_ms = now + LOCK_WAIT_MS;
            take(st, now)
        }
        Phase::Wait => take(st, now),
        Phase::Lock => {
            let (Some(swap), Some(fresh)) = (results.swaps.first(), results.reads.first()) else {
                return refuse(Refusal::storage(), Vec::new());
            };
            if swap.failed.is_some() {
                return refuse(Refusal::storage(), Vec::new());
            }
            let key = keys::lock(&st.session_id);
            let legacy = results.reads.get(1).map_or(&Value::Null, |r| &r.value);
            let taken = lock::found(&key, &st.owner, swap.value.clone(), legacy, now);
            if taken.found == LockFound::Busy {
                let puts: Vec<_> = lock::put_back(&taken).map(stamp_lock).into_iter().collect();
                if now + i64::from(LOCK_SPIN_MS) > st.deadline_ms {
                    return refuse(
                        Refusal::retryable(
                            "busy",
                            "This verification is being updated. Try again in a moment.",
                        ),
                        puts,
                    );
                }
                st.phase = Phase::Wait;
                return Step {
                    puts,
                    effects: vec![Effect::Wait { ms: LOCK_SPIN_MS }],
                    ..Step::then(st)
                };
            }
            if fresh.failed.is_some() || !consistent(&taken, rev_of(&fresh.value)) {
                st.taken = Some(taken);
                st.phase = Phase::Reread;
                return Step {
                    reads: vec![read(keys::record(&st.session_id))],
                    ..Step::then(st)
                };
            }
            decide(st, taken, &fresh.value, now)
        }
        Phase::Reread => {
            let Some(taken) = st.taken.take() else {
                return refuse(Refusal::internal(), Vec::new());
            };
            match value_of(results.reads.first()) {
                Ok(record) => {
                    let record = record.clone();
                    decide(st, taken, &record, now)
                }
                Err(refusal) => refuse(refusal, vec![release_at(&taken, None)]),
            }
        }
        Phase::Saved => {
            if results.write_failed.is_some() {
                let puts = st.taken.iter().map(|t| release_at(t, None)).collect();
                return refuse(Refusal::storage(), puts);
            }
            let logs = vec![log(
                "cancel.cancelled",
                &[
                    ("sessionId", Value::from(st.session_id.clone())),
                    ("issueKey", Value::from(st.issue.key.clone())),
                ],
            )];
            Step {
                logs,
                effects: std::mem::take(&mut st.effects),
                ..Step::reply(Answer::data(super::send::Sent {
                    verification: std::mem::take(&mut st.view),
                    notice: None,
                }))
            }
        }
    }
}

/// The caller's access, then the issue's records, to find the verification by its id.
fn find(mut st: CancelState, groups: Option<crate::effects::EffectResult>) -> CancelStep {
    match agent::access(&st.settings, groups.as_ref(), false) {
        Ok(access) => st.access = Some(access),
        Err(refusal) => return refuse(refusal, Vec::new()),
    }
    let Some(index) = st.index.clone() else {
        return refuse(Refusal::storage(), Vec::new());
    };
    if st.session_id.is_empty() {
        return refuse(not_found(), Vec::new());
    }
    st.phase = Phase::Find;
    Step {
        reads: index
            .sessions
            .iter()
            .map(|s| read(keys::record(s)))
            .collect(),
        ..Step::then(st)
    }
}

/// The session lock's swap, with the record read beside it.
fn take(mut st: CancelState, now: i64) -> CancelStep {
    st.phase = Phase::Lock;
    Step {
        swaps: vec![take_lock(&keys::lock(&st.session_id), &st.owner, now)],
        // The record, and the lock as the previous release kept it (lock.rs).
        reads: vec![
            read(keys::record(&st.session_id)),
            read(keys::lock(&st.session_id)),
        ],
        ..Step::then(st)
    }
}

/// The core decides on the copy read under the lock; the change lands with the lock's release.
fn decide(mut st: CancelState, taken: Taken, record: &Value, now: i64) -> CancelStep {
    let Some(v) = verification_of(record) else {
        return refuse(not_found(), vec![release_at(&taken, None)]);
    };
    let name = st.agent_name.clone();
    let by = if name.is_empty() {
        "agent"
    } else {
        name.as_str()
    };
    let cancelled = match cancel_verification(&v, now, by) {
        Ok(cancelled) => cancelled,
        Err(error) => return refuse(error.into(), vec![release_at(&taken, Some(rev_of(record)))]),
    };
    let rev = rev_of(record) + 1;
    let saved = record_with(record, &cancelled, rev, Some(&taken.owner));
    let access = st.access.clone().unwrap_or(AgentAccess {
        may_send: false,
        may_change: false,
        reason: None,
    });
    let view = view_of(&cancelled, &access);
    let mut payload = Map::new();
    payload.insert("verification".into(), view.clone());
    let token: Option<PublishToken> = record
        .get("publish")
        .and_then(|p| serde_json::from_value(p.clone()).ok());
    st.effects = vec![
        Effect::record_status(&cancelled.shown()),
        Effect::TellPanel {
            issue_id: st.issue.id.clone(),
            channel: super::channel_of(&st.issue.id),
            payload: Value::Object(payload).to_string(),
            token,
        },
        Effect::index_status(&st.issue.key, &cancelled.shown()),
    ];
    st.view = view;
    let mut trail = Entry::of_record(Action::Cancelled, &saved, now).because(by);
    trail.actor_account_id.clone_from(&st.account_id);
    trail.actor_name.clone_from(&st.agent_name);
    // The canceller is named in the record's history and the trail: indexed for the privacy
    // report, by the name the history gives them.
    let canceller = crate::stored::AccountEntry {
        name: st.agent_name.clone(),
        ..crate::stored::AccountEntry::part("agent", &st.session_id, &st.issue.id, "", now)
    };
    let writes = vec![
        trail.write(format!("cancelled:{}", st.session_id)),
        super::write(keys::record(&st.session_id), saved, Some(super::RECORD_TTL)),
        release_at(&taken, Some(rev)),
        super::write(
            keys::account(&st.account_id, &st.session_id),
            canceller.value(),
            Some(super::RECORD_TTL),
        ),
    ];
    st.taken = Some(taken);
    st.phase = Phase::Saved;
    Step {
        writes,
        ..Step::then(st)
    }
}
