//! Sending a link (`panel.send`) and sending it again (`panel.resend`). Three round trips when
//! the Incode token is cached (ARCHITECTURE.md "Sending a link"):
//!   1. everything the send reads, all known from the invocation context: the caller's
//!      permissions, settings and secrets, the issue lock (one swap), the rate counters, the
//!      issue index, the caller's name, the reporter, the checklist, the cached Incode token,
//!      the issue's transitions and a publish-only realtime token;
//!   2. the Incode start (after the token fetch when none is cached), while the issue's open
//!      verification, which the new link supersedes, is locked and read;
//!   3. one transaction (record, indexes, counters, checklist, the locks' releases) with the
//!      issue property and the live update. The link went out: a failed transaction that did
//!      not land (the new record read back is absent) is written once more before the send gives
//!      up (a link the app cannot match must not stay unrecorded if a write can help).
//!
//! More round trips only when needed: the caller's groups (agent groups set), a person field
//! other than the reporter (or a user look-up for a hidden email), a resend's verification and
//! contact, a lock held by someone else (waited for, up to 4 s), a read to repeat.

use crate::audit::{Action, Entry};
use crate::stored::AccountEntry;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::agent::{self, Person, PersonLook};
use super::{
    consistent, keys, log, read, record_with, refuse, release_at, rev_of, secret_read, stamp_lock,
    take_lock, utc_clock, value_of, verification_of, view_of, write, Answer, CallerContext,
    IssueRef, Refusal, LOCK_SPIN_MS, LOCK_WAIT_MS,
};
use crate::effects::{Effect, EffectResult, Ended, PublishToken};
use crate::incode::{self, IncodeToken, StartVerificationInput, StartedSession};
use crate::lock::{self, Found as LockFound, Taken};
use crate::model::{Delivery, FieldError, Outcome, SecretFlags, Secrets, Settings};
use crate::panel::AgentAccess;
use crate::plan::{Found, Results, Step, Write};
use crate::state::{new_verification, replace_verification, NewVerificationInput};
use crate::transitions::{choose_transition, TransitionChoice};

const HOUR_MS: i64 = 3_600_000;

/// What the executor hands the planner: the context, the payload, and the random values.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct SendInput {
    /// The lock owner this invocation writes as.
    pub owner: String,
    /// The new verification's id.
    pub verification_id: String,
    pub now_ms: i64,
    pub context: CallerContext,
    #[cfg_attr(test, ts(type = "unknown"))]
    pub payload: Value,
    /// `panel.resend`: the payload names the verification to send again.
    pub resend: bool,
}

/// The send's answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Sent {
    #[cfg_attr(test, ts(type = "VerificationView"))]
    pub verification: Value,
    /// What the agent must know of the link this one replaced, when it could not be cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub notice: Option<String>,
}

pub type SendStep = Step<SendState, Answer<Sent>>;

/// The hour's counts of links sent by the caller and on the ticket.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub agent: u64,
    pub ticket: u64,
    pub hour: i64,
}

impl Counts {
    pub fn resets_at_ms(&self) -> i64 {
        (self.hour + 1) * HOUR_MS
    }
}

/// The rate counters' reads for this hour.
pub fn count_reads(account_id: &str, issue_id: &str, now_ms: i64) -> [crate::plan::Read; 2] {
    let hour = now_ms.div_euclid(HOUR_MS);
    [
        read(keys::rate_agent(account_id, hour)),
        read(keys::rate_ticket(issue_id, hour)),
    ]
}

pub fn counts_of(
    agent: Option<&Found>,
    ticket: Option<&Found>,
    now_ms: i64,
) -> Result<Counts, Refusal> {
    let count = |f: Option<&Found>| -> Result<u64, Refusal> {
        let value = value_of(f)?.clone();
        Ok(crate::stored::RateCount::read(value)
            .map(|c| c.0)
            .unwrap_or(0))
    };
    Ok(Counts {
        agent: count(agent)?,
        ticket: count(ticket)?,
        hour: now_ms.div_euclid(HOUR_MS),
    })
}

/// Why a link cannot be sent now, or None: setup unfinished, or an hourly limit reached.
pub fn send_block(ready: bool, settings: &Settings, counts: &Counts) -> Option<Refusal> {
    if !ready {
        return Some(Refusal::new(
            "setup_required",
            "Setup required: a Jira admin needs to finish the Incode Verification settings.",
        ));
    }
    let resets = counts.resets_at_ms();
    let limited = |message: String| Refusal {
        resets_at_ms: Some(resets),
        ..Refusal::new("limit_reached", message)
    };
    let limits = settings.limits;
    if counts.ticket >= u64::from(limits.per_ticket_per_hour) {
        return Some(limited(format!(
            "This ticket has reached its limit of {} verification links per hour. You can send another after {} UTC.",
            limits.per_ticket_per_hour,
            utc_clock(resets)
        )));
    }
    if counts.agent >= u64::from(limits.per_agent_per_hour) {
        return Some(limited(format!(
            "You have reached your limit of {} verification links per hour. You can send another after {} UTC.",
            limits.per_agent_per_hour,
            utc_clock(resets)
        )));
    }
    None
}

/// An issue index as the send reads it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub current: Option<String>,
    pub sessions: Vec<String>,
    /// `rev` as `indexRevOf` reads it: -1 for an index written without one.
    pub rev: i64,
    pub by: Option<String>,
}

pub fn index_of(value: &Value) -> Index {
    let current = value
        .get("current")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let sessions: Vec<String> = value
        .get("sessions")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let rev = match value.get("rev").and_then(Value::as_i64) {
        Some(rev) => rev,
        None if current.is_none() && sessions.is_empty() => 0,
        None => -1,
    };
    Index {
        current,
        sessions,
        rev,
        by: value.get("by").and_then(Value::as_str).map(str::to_owned),
    }
}

/// `sha256(trimmed lower-case email)` in hex: the person index's key part.
pub fn email_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// Where the send stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    #[default]
    Read,
    Groups,
    WaitIssue,
    TakeIssue,
    Reread,
    Person,
    User,
    Records,
    Contact,
    Start,
    Written,
    /// The transaction failed: the new record is read back to learn whether it landed.
    Landed,
    Retried,
}

/// The Incode side of round trip 2.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Incode {
    #[default]
    Idle,
    /// The token was asked for; `attempt` of the start that follows.
    Token {
        attempt: u8,
    },
    Start {
        attempt: u8,
    },
    Started {
        session: StartedSession,
        at_ms: i64,
    },
}

/// The superseded verification's lock, taken beside the Incode start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Previous {
    #[default]
    None,
    Taking,
    Waiting,
    Rereading {
        taken: Taken,
    },
    Held {
        taken: Taken,
        record: Value,
    },
    /// A webhook held it past the wait: it finishes on its own, and the agent is told.
    GaveUp {
        /// When that link expires, if its record said.
        expires_at_ms: Option<i64>,
    },
}

/// The send's state between round trips (it stays in the function: never in an answer).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SendState {
    pub phase: Phase,
    pub owner: String,
    pub new_id: String,
    pub account_id: String,
    pub issue: IssueRef,
    pub resend: bool,
    pub payload: Value,
    pub settings: Settings,
    pub secrets: Secrets,
    pub secrets_set: SecretFlags,
    pub access: Option<AgentAccess>,
    /// A refusal that waits for the caller check (a read failed).
    pub failure: Option<Refusal>,
    pub issue_lock: Option<Taken>,
    /// The busy issue lock's holder value, put back.
    pub issue_put_back: Option<Write>,
    pub issue_swap_failed: bool,
    pub start_ms: i64,
    pub deadline_ms: i64,
    pub counts: Counts,
    pub index: Index,
    pub index_ok: bool,
    pub fresh: bool,
    pub checklist: Value,
    pub agent_name: String,
    pub token: Option<IncodeToken>,
    pub transitions: Map<String, Value>,
    pub publish: Option<PublishToken>,
    pub reporter: Option<EffectResult>,
    pub person: Option<Person>,
    pub person_known: bool,
    /// Why the person could not be read (for the log).
    pub person_failure: Option<String>,
    pub input: Option<StartVerificationInput>,
    pub known_name: Option<String>,
    pub incode: Incode,
    pub previous: Previous,
    pub previous_id: Option<String>,
    pub previous_deadline_ms: i64,
    /// What the last round trip 2 step asked, in order.
    pub asked: Asked,
    pub writes: Vec<Write>,
    pub view: Value,
    pub session_id: String,
    pub first_failure: String,
}

/// Which operations a start-phase step carried (the results come back in this order).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Asked {
    pub incode: bool,
    pub wait: bool,
    pub swap: bool,
    pub read: bool,
}

/// Round trip 1.
pub fn start(input: SendInput) -> SendStep {
    let (account_id, issue) = match agent::checked(&input.context) {
        Ok(found) => found,
        Err(refusal) => return refuse(refusal, Vec::new()),
    };
    let now = input.now_ms;
    let [agent_count, ticket_count] = count_reads(&account_id, &issue.id, now);
    let step = Step {
        reads: vec![
            read(keys::SETTINGS),
            secret_read(keys::SECRETS),
            agent_count,
            ticket_count,
            read(keys::issue(&issue.id)),
            read(keys::CHECKLIST),
            secret_read(keys::TOKEN),
            // The issue lock as the previous release kept it (lock.rs).
            read(keys::issue_lock(&issue.id)),
        ],
        swaps: vec![take_lock(&keys::issue_lock(&issue.id), &input.owner, now)],
        effects: vec![
            agent::permissions(&issue.key),
            agent::myself(),
            agent::issue_field(&issue.key, "reporter"),
            Effect::AskJira {
                request: crate::jira::transitions_request(&issue.key),
                as_user: false,
            },
            Effect::SignToken {
                issue_id: issue.id.clone(),
                channel: super::channel_of(&issue.id),
                subscribe: false,
            },
        ],
        ..Step::default()
    };
    let state = SendState {
        owner: input.owner,
        new_id: input.verification_id,
        account_id,
        issue,
        resend: input.resend,
        payload: input.payload,
        start_ms: now,
        deadline_ms: now + LOCK_WAIT_MS,
        ..SendState::default()
    };
    Step {
        state: Some(state),
        ..step
    }
}

/// The next round trip, from the last one's results.
pub fn next(mut st: SendState, results: Results) -> SendStep {
    let now = results.now_ms;
    match st.phase {
        Phase::Read => read_all(st, &results),
        Phase::Groups => {
            match agent::access(&st.settings, results.effects.first(), false) {
                Ok(access) => st.access = Some(access),
                Err(refusal) => return refuse_early(&st, refusal),
            }
            proceed(st, now)
        }
        Phase::WaitIssue => {
            st.phase = Phase::TakeIssue;
            Step {
                swaps: vec![take_lock(&keys::issue_lock(&st.issue.id), &st.owner, now)],
                reads: vec![
                    read(keys::issue(&st.issue.id)),
                    read(keys::issue_lock(&st.issue.id)),
                ],
                ..Step::then(st)
            }
        }
        Phase::TakeIssue => {
            let index = value_of(results.reads.first()).ok().cloned();
            let legacy = results.reads.get(1).map(|r| r.value.clone());
            take_issue(&mut st, results.swaps.first(), index.as_ref(), legacy, now);
            // Another send committed meanwhile: the counters and the index are read again.
            st.fresh = false;
            proceed(st, now)
        }
        Phase::Reread => {
            let counts = counts_of(results.reads.first(), results.reads.get(1), st.start_ms);
            match (counts, value_of(results.reads.get(2))) {
                (Ok(counts), Ok(index)) => {
                    st.counts = counts;
                    st.index = index_of(index);
                    st.index_ok = true;
                    st.fresh = true;
                }
                (Err(refusal), _) | (_, Err(refusal)) => return refuse_held(&st, refusal, None),
            }
            proceed(st, now)
        }
        Phase::Person => {
            st.reporter = results.effects.first().cloned();
            st.person = None;
            match agent::jira_look(st.reporter.as_ref())
                .map(|issue| agent::person_in(&issue, agent::person_field(&st.settings)))
            {
                Ok(look) => return looked(st, look, now),
                Err(refusal) => person_unavailable(&mut st, &refusal),
            }
            proceed(st, now)
        }
        Phase::User => {
            let known = st.person.take().unwrap_or_default();
            match agent::jira_look(results.effects.first()) {
                Ok(user) => st.person = Some(agent::person_from_user(&known, &user)),
                Err(refusal) => person_unavailable(&mut st, &refusal),
            }
            st.person_known = true;
            proceed(st, now)
        }
        Phase::Records => {
            let wanted = st
                .payload
                .get("verificationId")
                .and_then(Value::as_str)
                .unwrap_or("");
            let mut found = None;
            for f in &results.reads {
                match value_of(Some(f)) {
                    Ok(r)
                        if r.get("id").and_then(Value::as_str) == Some(wanted)
                            && r.get("issueId").and_then(Value::as_str)
                                == Some(st.issue.id.as_str()) =>
                    {
                        found = Some(r.clone());
                    }
                    Ok(_) => {}
                    Err(refusal) => return refuse_held(&st, refusal, None),
                }
            }
            let Some(previous) = found.as_ref().and_then(verification_of) else {
                return refuse_held(&st, not_on_issue(), None);
            };
            st.known_name = Some(previous.name.clone());
            st.input = Some(StartVerificationInput {
                email: previous.email.clone(),
                delivery: previous.delivery,
                phone: String::new(),
                alternate_email: String::new(),
            });
            st.phase = Phase::Contact;
            let key = keys::person(&email_hash(&previous.email), &previous.session_id);
            Step {
                reads: vec![read(key)],
                ..Step::then(st)
            }
        }
        Phase::Contact => {
            let contact = match value_of(results.reads.first()) {
                Ok(contact) => contact.clone(),
                Err(refusal) => return refuse_held(&st, refusal, None),
            };
            let text = |k: &str| {
                contact
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            if let Some(input) = st.input.as_mut() {
                input.phone = text("phone");
                input.alternate_email = text("alternateEmail");
            }
            proceed(st, now)
        }
        Phase::Start => started(st, &results),
        Phase::Written | Phase::Retried => written(st, &results),
        Phase::Landed => landed(st, &results),
    }
}

fn not_on_issue() -> Refusal {
    Refusal::new("not_found", "That verification is not on this issue.")
}

fn busy_issue() -> Refusal {
    Refusal::retryable(
        "busy",
        "Another link is being sent on this issue. Try again in a moment.",
    )
}

/// The person lookup is a convenience: when Jira cannot answer it, the send still works.
fn person_unavailable(st: &mut SendState, refusal: &Refusal) {
    st.person = None;
    st.person_known = true;
    st.person_failure = Some(refusal.code.clone());
}

/// Takes what round trip 1 read.
fn read_all(mut st: SendState, results: &Results) -> SendStep {
    let now = results.now_ms;
    let effects = &results.effects;
    let reads = &results.reads;
    // The caller first: nothing is answered or used for a refused one.
    let index = value_of(reads.get(4)).ok().cloned();
    let legacy = reads.get(7).map(|r| r.value.clone());
    take_issue(&mut st, results.swaps.first(), index.as_ref(), legacy, now);
    if let Err(refusal) = agent::permitted(effects.first()) {
        return refuse_early(&st, refusal);
    }
    match agent::settings_of(reads.first()) {
        Ok((settings, flags)) => {
            st.settings = settings;
            st.secrets_set = flags;
        }
        Err(refusal) => return refuse_early(&st, refusal),
    }
    match value_of(reads.get(1)) {
        Ok(secrets) => st.secrets = serde_json::from_value(secrets.clone()).unwrap_or_default(),
        Err(refusal) => return refuse_early(&st, refusal),
    }
    // A counter or the index unread: refused once the caller is checked and the lock held.
    let counted = counts_of(reads.get(2), reads.get(3), st.start_ms).map(|c| st.counts = c);
    let indexed = index.as_ref().map(|_| ()).ok_or_else(Refusal::storage);
    let start_ms = st.start_ms;
    let later = [
        counted,
        indexed,
        value_of(reads.get(5)).cloned().map(|c| st.checklist = c),
        agent::my_name(effects.get(1)).map(|n| st.agent_name = n),
        value_of(reads.get(6)).map(|t| {
            st.token = serde_json::from_value::<IncodeToken>(t.clone())
                .ok()
                .filter(|t| t.refresh_at_ms > start_ms);
        }),
    ];
    st.failure = later.into_iter().find_map(Result::err);
    st.reporter = effects.get(2).cloned();
    st.transitions = planned(effects.get(3), &st.settings, &st.issue.key);
    st.publish = publish_token(effects.get(4));
    let mut logs = Vec::new();
    if st.publish.is_none() {
        logs.push(log(
            "realtime.sign_failed",
            &[("issueId", Value::from(st.issue.id.clone()))],
        ));
    }
    if agent::needs_groups(&st.settings) {
        st.phase = Phase::Groups;
        return Step {
            effects: vec![agent::groups(&st.account_id)],
            logs,
            ..Step::then(st)
        };
    }
    match agent::access(&st.settings, None, false) {
        Ok(access) => st.access = Some(access),
        Err(refusal) => return refuse_early(&st, refusal),
    }
    let mut step = proceed(st, now);
    step.logs.splice(0..0, logs);
    step
}

/// Reads the issue lock's swap (`legacy`: the plain key of the previous release): held (free,
/// released, expired), or busy (given back: the send waits).
fn take_issue(
    st: &mut SendState,
    swap: Option<&Found>,
    index: Option<&Value>,
    legacy: Option<Value>,
    now: i64,
) {
    st.issue_lock = None;
    st.issue_put_back = None;
    let Some(Found {
        value,
        failed: None,
    }) = swap
    else {
        st.issue_swap_failed = true;
        return;
    };
    let key = keys::issue_lock(&st.issue.id);
    let legacy = legacy.unwrap_or_default();
    let taken = lock::found(&key, &st.owner, value.clone(), &legacy, now);
    if let Some(index) = index {
        st.index = index_of(index);
        st.index_ok = true;
    } else {
        st.index_ok = false;
    }
    if taken.found == LockFound::Busy {
        st.issue_put_back = lock::put_back(&taken).map(stamp_lock);
        return;
    }
    st.fresh = st.index_ok && consistent(&taken, st.index.rev);
    st.issue_lock = Some(taken);
}

/// A refusal before the issue lock was settled: a lock of ours is released as found, a busy
/// one put back.
fn refuse_early(st: &SendState, refusal: Refusal) -> SendStep {
    let mut puts = Vec::new();
    match &st.issue_lock {
        Some(taken) => puts.push(release_at(taken, as_found(st, taken))),
        None => puts.extend(st.issue_put_back.iter().cloned()),
    }
    refuse(refusal, puts)
}

/// What the index is at, as far as the lock tells (null: unknown, the next send reads again).
fn as_found(st: &SendState, taken: &Taken) -> Option<i64> {
    match taken.found {
        LockFound::Released => taken.rev,
        LockFound::Free if st.index_ok => Some(st.index.rev),
        _ => None,
    }
}

/// A refusal while the issue lock is held: released at the index's rev (`rev`: what else to
/// release, e.g. the superseded verification's lock).
fn refuse_held(st: &SendState, refusal: Refusal, extra: Option<Write>) -> SendStep {
    let mut puts = Vec::new();
    if let Some(taken) = &st.issue_lock {
        let rev = if st.fresh {
            Some(st.index.rev)
        } else {
            as_found(st, taken)
        };
        puts.push(release_at(taken, rev));
    }
    puts.extend(extra);
    refuse(refusal, puts)
}

/// The next thing the send needs before the Incode start, or the start itself.
fn proceed(mut st: SendState, now: i64) -> SendStep {
    // Another send holds the issue: wait for it briefly, then read what it left.
    if st.issue_lock.is_none() {
        if st.issue_swap_failed {
            return refuse_early(&st, Refusal::storage());
        }
        if now + i64::from(LOCK_SPIN_MS) > st.deadline_ms {
            return refuse_early(&st, busy_issue());
        }
        let puts: Vec<Write> = st.issue_put_back.take().into_iter().collect();
        st.phase = Phase::WaitIssue;
        return Step {
            puts,
            effects: vec![Effect::Wait { ms: LOCK_SPIN_MS }],
            ..Step::then(st)
        };
    }
    if let Some(refusal) = st.failure.take() {
        return refuse_held(&st, refusal, None);
    }
    // What was read beside the lock is used only when no other send committed between.
    if !st.fresh {
        st.phase = Phase::Reread;
        let [a, t] = count_reads(&st.account_id, &st.issue.id, st.start_ms);
        return Step {
            reads: vec![a, t, read(keys::issue(&st.issue.id))],
            ..Step::then(st)
        };
    }
    if !st.person_known {
        let field = agent::person_field(&st.settings).to_owned();
        if field != "reporter" {
            st.phase = Phase::Person;
            return Step {
                effects: vec![agent::issue_field(&st.issue.key, &field)],
                ..Step::then(st)
            };
        }
        match agent::jira_look(st.reporter.as_ref()) {
            Ok(issue) => return looked(st, agent::person_in(&issue, "reporter"), now),
            Err(refusal) => person_unavailable(&mut st, &refusal),
        }
    }
    let mut logs = Vec::new();
    if let Some(code) = st.person_failure.take() {
        logs.push(log(
            "panel.person_unavailable",
            &[
                ("code", Value::from(code)),
                ("issueKey", Value::from(st.issue.key.clone())),
            ],
        ));
    }
    if st.input.is_none() {
        if st.resend {
            let wanted = st
                .payload
                .get("verificationId")
                .and_then(Value::as_str)
                .unwrap_or("");
            if wanted.is_empty() {
                return refuse_held(&st, not_on_issue(), None);
            }
            st.phase = Phase::Records;
            let reads = st
                .index
                .sessions
                .iter()
                .map(|s| read(keys::record(s)))
                .collect();
            return Step {
                reads,
                logs,
                ..Step::then(st)
            };
        }
        match input_of(&st.payload, &st.settings) {
            Ok(input) => st.input = Some(input),
            Err(refusal) => return with_logs(refuse_held(&st, refusal, None), logs),
        }
    }
    let ready = crate::settings::public_settings(&st.settings, st.secrets_set).ready;
    if let Some(refusal) = send_block(ready, &st.settings, &st.counts) {
        return with_logs(refuse_held(&st, refusal, None), logs);
    }
    // 2.
    st.phase = Phase::Start;
    st.previous_id = st.index.current.clone();
    st.previous = if st.previous_id.is_some() {
        Previous::Taking
    } else {
        Previous::None
    };
    st.previous_deadline_ms = now + LOCK_WAIT_MS;
    st.incode = match st.token {
        Some(_) => Incode::Start { attempt: 1 },
        None => Incode::Token { attempt: 1 },
    };
    with_logs(start_step(st, now, Vec::new(), Vec::new()), logs)
}

fn with_logs(mut step: SendStep, logs: Vec<crate::plan::LogLine>) -> SendStep {
    step.logs.splice(0..0, logs);
    step
}

/// The person read from an issue field: complete, or looked up (one more round trip).
fn looked(mut st: SendState, look: PersonLook, now: i64) -> SendStep {
    match look {
        PersonLook::Nobody => {
            st.person = None;
            st.person_known = true;
        }
        PersonLook::Found(person) => {
            st.person = Some(person);
            st.person_known = true;
        }
        PersonLook::LookUp(person) => {
            let ask = agent::user(&person.account_id);
            st.person = Some(person);
            st.phase = Phase::User;
            return Step {
                effects: vec![ask],
                ..Step::then(st)
            };
        }
    }
    proceed(st, now)
}

fn text(payload: &Value, field: &str) -> String {
    payload
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
        .to_owned()
}

/// The send form's payload, checked.
pub fn input_of(payload: &Value, settings: &Settings) -> Result<StartVerificationInput, Refusal> {
    let delivery = match payload.get("delivery") {
        None => settings.default_delivery,
        Some(Value::String(s)) if s.is_empty() => settings.default_delivery,
        Some(Value::String(s)) if s == "SMS" => Delivery::Sms,
        Some(Value::String(s)) if s == "EMAIL" => Delivery::Email,
        Some(_) => {
            let message = "Choose SMS or email delivery.";
            return Err(Refusal {
                fields: Some(vec![FieldError::new(
                    "delivery",
                    "invalid_delivery",
                    message,
                )]),
                ..Refusal::new("validation", message)
            });
        }
    };
    let email = text(payload, "email");
    if email.is_empty() {
        let message = "Enter the employee's corporate email.";
        return Err(Refusal {
            fields: Some(vec![FieldError::new("email", "required", message)]),
            ..Refusal::new("validation", message)
        });
    }
    Ok(StartVerificationInput {
        email,
        delivery,
        phone: text(payload, "phone"),
        alternate_email: text(payload, "alternateEmail"),
    })
}

/// The transition id the core picks for each configured outcome, from the issue's transitions
/// read at send time (best effort: without them, the outcome looks the transition up).
fn planned(
    result: Option<&EffectResult>,
    settings: &Settings,
    issue_key: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(EffectResult {
        ended: Ended::Done,
        answer: Some(answer),
        ..
    }) = result
    else {
        return out;
    };
    if !(200..300).contains(&answer.status) {
        return out;
    }
    let Ok(list) = serde_json::from_str::<Value>(&answer.body) else {
        return out;
    };
    if !list.is_object() {
        return out;
    }
    for outcome in Outcome::ALL {
        let name = settings.transitions.get(outcome).trim();
        if name.is_empty() {
            continue;
        }
        if let TransitionChoice::Transition { id, .. } =
            choose_transition(outcome, settings, issue_key, &list)
        {
            let mut known = Map::new();
            known.insert("name".into(), Value::from(name));
            known.insert("id".into(), Value::from(id));
            out.insert(outcome.key().to_owned(), Value::Object(known));
        }
    }
    out
}

/// The publish-only token signed in round trip 1, or None (realtime unavailable).
fn publish_token(result: Option<&EffectResult>) -> Option<PublishToken> {
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
    let expires_at_ms = super::epoch_ms(body.get("expiresAt")?)?;
    Some(PublishToken {
        token: token.to_owned(),
        expires_at_ms,
    })
}

fn incode_unavailable() -> Refusal {
    Refusal::retryable(
        "incode_unavailable",
        "Incode could not be reached. Try again in a minute.",
    )
}

/// A round trip 2 step: the Incode call in flight and the superseded verification's lock.
fn start_step(
    mut st: SendState,
    now: i64,
    puts: Vec<Write>,
    deletes: Vec<crate::plan::Read>,
) -> SendStep {
    let mut step = Step {
        puts,
        deletes,
        ..Step::default()
    };
    st.asked = Asked::default();
    match &st.incode {
        Incode::Token { .. } => {
            step.effects.push(Effect::AskIncode {
                request: incode::token_request(&st.settings, &st.secrets),
            });
            st.asked.incode = true;
        }
        Incode::Start { .. } => {
            let token = st
                .token
                .as_ref()
                .map(|t| t.access_token.clone())
                .unwrap_or_default();
            let input = st.input.clone().unwrap_or(StartVerificationInput {
                email: String::new(),
                delivery: Delivery::Email,
                phone: String::new(),
                alternate_email: String::new(),
            });
            match incode::start_request(&st.settings, &st.secrets, &token, &input) {
                Ok(request) => step.effects.push(Effect::AskIncode { request }),
                Err(error) => {
                    let mut refused = refuse_held(&st, error.into(), release_previous(&st));
                    refused.puts.splice(0..0, step.puts);
                    return refused;
                }
            }
            st.asked.incode = true;
        }
        Incode::Idle | Incode::Started { .. } => {}
    }
    let previous_id = st.previous_id.clone().unwrap_or_default();
    match &st.previous {
        Previous::Taking => {
            step.swaps
                .push(take_lock(&keys::lock(&previous_id), &st.owner, now));
            step.reads.push(read(keys::record(&previous_id)));
            step.reads.push(read(keys::lock(&previous_id)));
            st.asked.swap = true;
            st.asked.read = true;
        }
        Previous::Waiting => {
            step.effects.push(Effect::Wait { ms: LOCK_SPIN_MS });
            st.asked.wait = true;
        }
        Previous::Rereading { .. } => {
            step.reads.push(read(keys::record(&previous_id)));
            st.asked.read = true;
        }
        Previous::None | Previous::Held { .. } | Previous::GaveUp { .. } => {}
    }
    if !st.asked.incode && !st.asked.wait && !st.asked.swap && !st.asked.read {
        return write_step(st, step.puts);
    }
    Step {
        state: Some(st),
        ..step
    }
}

/// The release of the superseded verification's lock (failure paths: as it was found).
fn release_previous(st: &SendState) -> Option<Write> {
    match &st.previous {
        Previous::Held { taken, .. } | Previous::Rereading { taken } => {
            Some(release_at(taken, taken.rev))
        }
        _ => None,
    }
}

/// Round trip 2's results: the Incode answer and the superseded verification's lock.
fn started(mut st: SendState, results: &Results) -> SendStep {
    let now = results.now_ms;
    let asked = st.asked;
    let mut effects = results.effects.iter();
    let incode_result = if asked.incode { effects.next() } else { None };
    let _wait = if asked.wait { effects.next() } else { None };
    let mut puts = Vec::new();
    let mut deletes = Vec::new();

    // The superseded verification first: a failure below must release what was taken.
    let mut previous_failure = None;
    let previous_id = st.previous_id.clone().unwrap_or_default();
    if asked.swap {
        let swap = results.swaps.first();
        let record = results.reads.first();
        match (swap, record) {
            (
                Some(Found {
                    value,
                    failed: None,
                }),
                Some(r),
            ) => {
                let legacy = results.reads.get(1).map_or(&Value::Null, |l| &l.value);
                let key = keys::lock(&previous_id);
                let taken = lock::found(&key, &st.owner, value.clone(), legacy, now);
                if taken.found == LockFound::Busy {
                    puts.extend(lock::put_back(&taken).map(stamp_lock));
                    st.previous = if now + i64::from(LOCK_SPIN_MS) > st.previous_deadline_ms {
                        Previous::GaveUp {
                            expires_at_ms: r.value.get("expiresAtMs").and_then(Value::as_i64),
                        }
                    } else {
                        Previous::Waiting
                    };
                } else if r.failed.is_some() {
                    puts.push(release_at(&taken, taken.rev));
                    st.previous = Previous::None;
                    previous_failure = Some(Refusal::storage());
                } else if consistent(&taken, rev_of(&r.value)) {
                    st.previous = Previous::Held {
                        taken,
                        record: r.value.clone(),
                    };
                } else {
                    st.previous = Previous::Rereading { taken };
                }
            }
            _ => {
                st.previous = Previous::None;
                previous_failure = Some(Refusal::storage());
            }
        }
    } else if asked.read {
        if let Previous::Rereading { taken } = st.previous.clone() {
            match value_of(results.reads.first()) {
                Ok(record) => {
                    st.previous = Previous::Held {
                        taken,
                        record: record.clone(),
                    }
                }
                Err(refusal) => {
                    puts.push(release_at(&taken, taken.rev));
                    st.previous = Previous::None;
                    previous_failure = Some(refusal);
                }
            }
        }
    } else if asked.wait {
        st.previous = Previous::Taking;
    }

    // Incode.
    let mut incode_failure = None;
    if let Some(result) = incode_result {
        let answer = match result {
            EffectResult {
                ended: Ended::Done,
                answer: Some(answer),
                ..
            } if answer.status != 0 => Some(answer.clone()),
            _ => None,
        };
        match (st.incode.clone(), answer) {
            (_, None) => incode_failure = Some(incode_unavailable()),
            (Incode::Token { attempt }, Some(answer)) => match incode::parse_token(&answer, now) {
                Ok(token) => {
                    puts.extend(super::token_cache(&token, now));
                    st.token = Some(token);
                    st.incode = Incode::Start { attempt };
                }
                Err(error) => incode_failure = Some(error.into()),
            },
            (Incode::Start { attempt: 1 }, Some(answer)) if answer.status == 401 => {
                // A revoked or expired token: dropped, one fresh token, one more try.
                deletes.push(secret_read(keys::TOKEN));
                st.token = None;
                st.incode = Incode::Token { attempt: 2 };
            }
            (Incode::Start { .. }, Some(answer)) => match incode::parse_start(&answer) {
                Ok(session) => {
                    st.incode = Incode::Started {
                        session,
                        at_ms: now,
                    }
                }
                Err(error) => incode_failure = Some(error.into()),
            },
            _ => {}
        }
    }
    if let Some(refusal) = incode_failure.or(previous_failure) {
        let mut step = refuse_held(&st, refusal, release_previous(&st));
        step.puts.splice(0..0, puts);
        step.deletes = deletes;
        return step;
    }
    start_step(st, now, puts, deletes)
}

/// Round trip 3: the record and everything that changes with it, in one transaction, with the
/// issue property and the live update.
fn write_step(mut st: SendState, puts: Vec<Write>) -> SendStep {
    let Incode::Started { session, at_ms } = st.incode.clone() else {
        return refuse_held(&st, Refusal::internal(), release_previous(&st));
    };
    let Some(input) = st.input.clone() else {
        return refuse_held(&st, Refusal::internal(), release_previous(&st));
    };
    let Some(issue_lock) = st.issue_lock.clone() else {
        return refuse_held(&st, Refusal::internal(), release_previous(&st));
    };
    let issue = st.issue.clone();
    let account = st.account_id.clone();
    let same_person = st
        .person
        .as_ref()
        .filter(|p| !p.email.is_empty() && crate::caseless::eq(&p.email, &input.email))
        .cloned();
    let name = st
        .known_name
        .clone()
        .or_else(|| same_person.as_ref().map(|p| p.name.clone()))
        .unwrap_or_default();
    let verification = new_verification(&NewVerificationInput {
        id: st.new_id.clone(),
        session: session.clone(),
        issue_key: issue.key.clone(),
        issue_id: issue.id.clone(),
        email: input.email.clone(),
        name,
        delivery: input.delivery,
        phone: input.phone.clone(),
        alternate_email: input.alternate_email.clone(),
        requested_by: account.clone(),
        requested_by_name: st.agent_name.clone(),
        now_ms: at_ms,
        link_expiry_minutes: st.settings.link_expiry_minutes,
    });
    let sid = verification.session_id.clone();
    let mut record = match serde_json::to_value(&verification) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    record.insert("pending".into(), Value::Null);
    // Who the person is, for the audit trail's entries about this verification (and erasure).
    let person_account = same_person
        .as_ref()
        .map(|p| p.account_id.clone())
        .unwrap_or_default();
    record.insert(
        "personAccountId".into(),
        Value::from(person_account.clone()),
    );
    record.insert("rev".into(), Value::from(0));
    record.insert("transitions".into(), Value::Object(st.transitions.clone()));
    record.insert(
        "publish".into(),
        serde_json::to_value(&st.publish).unwrap_or(Value::Null),
    );
    let hash = email_hash(&input.email);
    let index_rev = if st.index.rev < 0 {
        1
    } else {
        st.index.rev + 1
    };
    let mut sessions = vec![sid.clone()];
    sessions.extend(st.index.sessions.iter().filter(|s| **s != sid).cloned());
    sessions.truncate(super::ISSUE_HISTORY_MAX);
    let object = |pairs: Vec<(&str, Value)>| -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let ttl = Some(super::RECORD_TTL);
    let hour = st.counts.hour;
    let action = if st.resend {
        Action::Resent
    } else {
        Action::Sent
    };
    let record = Value::Object(record);
    let trail = Entry::of_record(action, &record, at_ms).write(format!("sent:{sid}"));
    let mut writes = vec![
        trail,
        write(keys::record(&sid), record, ttl),
        // Found by the hourly expiry run once the link's time is over (`sweep.rs`).
        super::sweep::open_entry(&sid, &issue.id, verification.expires_at_ms),
        write(
            keys::issue(&issue.id),
            object(vec![
                ("current", Value::from(sid.clone())),
                ("sessions", Value::from(sessions)),
                ("rev", Value::from(index_rev)),
                ("by", Value::from(issue_lock.owner.clone())),
            ]),
            None,
        ),
        write(
            keys::person(&hash, &sid),
            object(vec![
                ("issueId", Value::from(issue.id.clone())),
                ("accountId", Value::from(person_account.clone())),
                ("phone", Value::from(input.phone.clone())),
                ("alternateEmail", Value::from(input.alternate_email.clone())),
            ]),
            ttl,
        ),
        write(
            keys::account(&account, &sid),
            AccountEntry::part("agent", &sid, &issue.id, &hash, at_ms).value(),
            ttl,
        ),
        write(
            keys::rate_agent(&account, hour),
            Value::from(st.counts.agent + 1),
            Some(super::RATE_TTL),
        ),
        write(
            keys::rate_ticket(&issue.id, hour),
            Value::from(st.counts.ticket + 1),
            Some(super::RATE_TTL),
        ),
        release_at(&issue_lock, Some(index_rev)),
    ];
    if same_person.is_some() && person_account != account {
        writes.push(write(
            keys::account(&person_account, &sid),
            AccountEntry::part("person", &sid, &issue.id, &hash, at_ms).value(),
            ttl,
        ));
    }
    // The issue's open verification is superseded by the new link. When a webhook held its lock
    // past the wait, it is left to finish on its own (its outcome still counts).
    if let Previous::Held {
        taken,
        record: previous,
    } = &st.previous
    {
        let replaced = (st.previous_id.as_deref() != Some(sid.as_str()))
            .then(|| verification_of(previous))
            .flatten()
            .and_then(|v| replace_verification(&v, at_ms).ok());
        match replaced {
            Some(cancelled) => {
                let rev = rev_of(previous) + 1;
                let superseded = record_with(previous, &cancelled, rev, Some(&taken.owner));
                let mut trail = Entry::of_record(Action::Cancelled, &superseded, at_ms)
                    .because("superseded by a new link");
                trail.actor_account_id.clone_from(&account);
                trail.actor_name.clone_from(&st.agent_name);
                writes.push(trail.write(format!("cancelled:{}", cancelled.session_id)));
                writes.push(write(keys::record(&cancelled.session_id), superseded, ttl));
                writes.push(release_at(taken, Some(rev)));
            }
            None => writes.push(release_at(taken, Some(rev_of(previous)))),
        }
    }
    if st
        .checklist
        .get("firstVerificationAtMs")
        .is_none_or(Value::is_null)
    {
        let mut checklist = match &st.checklist {
            Value::Object(fields) => fields.clone(),
            _ => Map::new(),
        };
        for field in ["credentialsTestedAtMs", "webhookReceivedAtMs"] {
            checklist.entry(field).or_insert(Value::Null);
        }
        checklist.insert("firstVerificationAtMs".into(), Value::from(at_ms));
        writes.push(write(keys::CHECKLIST, Value::Object(checklist), None));
    }
    let access = st.access.clone().unwrap_or(AgentAccess {
        may_send: true,
        may_change: true,
        reason: None,
    });
    let view = view_of(&verification, &access);
    let mut payload = Map::new();
    payload.insert("verification".into(), view.clone());
    let effects = vec![
        Effect::record_status(&verification.shown()),
        Effect::TellPanel {
            issue_id: issue.id.clone(),
            channel: super::channel_of(&issue.id),
            payload: Value::Object(payload).to_string(),
            token: st.publish.clone(),
        },
        Effect::index_status(&issue.key, &verification.shown()),
    ];
    st.phase = Phase::Written;
    st.writes = writes.clone();
    st.view = view;
    st.session_id = sid;
    Step {
        writes,
        puts,
        effects,
        ..Step::then(st)
    }
}

fn sent(mut st: SendState) -> SendStep {
    let mut logs = vec![log(
        "send.sent",
        &[
            ("sessionId", Value::from(st.session_id.clone())),
            ("issueKey", Value::from(st.issue.key.clone())),
            ("verificationId", Value::from(st.new_id.clone())),
        ],
    )];
    let notice = match st.previous {
        Previous::GaveUp { expires_at_ms } => {
            logs.push(log(
                "send.previous_open",
                &[
                    ("sessionId", Value::from(st.previous_id.clone())),
                    ("issueKey", Value::from(st.issue.key.clone())),
                ],
            ));
            Some(previous_open(expires_at_ms))
        }
        _ => None,
    };
    Step {
        logs,
        ..Step::reply(Answer::data(Sent {
            verification: std::mem::take(&mut st.view),
            notice,
        }))
    }
}

/// The agent's notice when the link a new one replaces could not be cancelled: an Incode event
/// was being recorded on it for longer than the send waits.
fn previous_open(expires_at_ms: Option<i64>) -> String {
    let until = expires_at_ms.map_or_else(
        || "until it expires".to_owned(),
        |ms| format!("until {} UTC", utc_clock(ms)),
    );
    format!(
        "The link sent before this one could not be cancelled: Incode was reporting on it at that moment. It stays open {until}, and a result from it is still recorded on this ticket."
    )
}

/// The new record read back after a failed transaction: there, it landed; absent, nothing did
/// and every lock is still held, so it is written once more; unreadable, the send gives up
/// without writing or releasing (the locks may be another holder's; unreleased, they run out).
fn landed(mut st: SendState, results: &Results) -> SendStep {
    match value_of(results.reads.first()) {
        Ok(Value::Null) => {
            st.phase = Phase::Retried;
            Step {
                writes: st.writes.clone(),
                ..Step::then(st)
            }
        }
        Ok(_) => sent(st),
        Err(refusal) => {
            let logs = vec![log(
                "send.unconfirmed",
                &[
                    ("sessionId", Value::from(st.session_id.clone())),
                    ("issueKey", Value::from(st.issue.key.clone())),
                ],
            )];
            Step {
                logs,
                ..refuse(refusal, Vec::new())
            }
        }
    }
}

/// The transaction landed, or is written once more; after a second failure the link went out
/// unrecorded: said in the log, the locks released, the send refused.
fn written(mut st: SendState, results: &Results) -> SendStep {
    let sid = Value::from(st.session_id.clone());
    let Some(code) = results.write_failed.clone() else {
        return sent(st);
    };
    if st.phase == Phase::Written {
        // It may have landed with its answer lost, releasing the locks: another holder may have
        // written since, so it is not written blindly once more. Only this transaction writes
        // the new session's record: reading it back tells.
        st.phase = Phase::Landed;
        st.first_failure = code;
        return Step {
            reads: vec![read(keys::record(&st.session_id))],
            ..Step::then(st)
        };
    }
    let logs = vec![
        log(
            "send.record_retry_failed",
            &[("code", Value::from(code)), ("sessionId", sid.clone())],
        ),
        log(
            "send.unrecorded",
            &[
                ("sessionId", sid),
                ("issueKey", Value::from(st.issue.key.clone())),
            ],
        ),
    ];
    let mut puts: Vec<Write> = st.issue_lock.iter().map(|t| release_at(t, None)).collect();
    if let Previous::Held { taken, .. } = &st.previous {
        puts.push(release_at(taken, None));
    }
    Step {
        logs,
        ..refuse(Refusal::storage(), puts)
    }
}
