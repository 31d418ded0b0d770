//! Exactly-once and no-effect-when-not-due, checked exhaustively: the real planners run against a
//! model of Forge KVS and Jira (`model_check/world.rs`): Incode's deliveries of one session's
//! events (`delivery::start`/`next`: duplicated, retried, forged, for an unknown session), an
//! agent's cancel (`actions::cancel`) and resend (`actions::send`), and the panel saving a link
//! past its expiry (`actions::open` with `actions::expiry`). Calls fail before landing or land
//! with their answer lost, instances die between two steps, leases run out.
//!
//! Every reachable state is checked for (`model_check/rules.rs`):
//! - no event gets two comments;
//! - nothing is written under a lock by a holder after it released it;
//! - a record's `rev` never goes back; a final status is never overwritten;
//! - no comment, transition or status for a forged or unknown delivery, or for a result that
//!   came after the session was cancelled or expired;
//! - liveness, checked at quiescent states: once every authentic delivery has been answered with
//!   a success (Incode stopped retrying, nothing else running), every event the record accepted
//!   has all its effects: one comment each, the ticket moved, and the app's status field (what
//!   people read) and the issue property (what JQL searches) following the record's status;
//! - the audit trail, at the same quiescent states: one entry per applied outcome under its
//!   event's key, none for a forged delivery, and an unknown session's delivery only ever
//!   recorded as ignored. (Stateright's `eventually` misses paths that join a state already seen,
//!   so it is not used.)
//!
//! Several bounded configurations, each printed with its bounds, states and time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "model_check/actors.rs"]
mod actors;
#[path = "model_check/rules.rs"]
mod rules;
#[path = "model_check/world.rs"]
mod world;

use std::collections::BTreeMap;
use std::time::Instant;

use incode_verify_core::delivery::{self, DeliveryState};
use incode_verify_core::effects::Effect;
use incode_verify_core::incode::StartedSession;
use incode_verify_core::model::{Delivery, Secrets, Settings};
use incode_verify_core::plan::{Results, Write};
use incode_verify_core::settings::default_settings;
use incode_verify_core::state::{new_verification, NewVerificationInput};
use serde_json::{json, Value};
use stateright::{Checker, HasDiscoveries, Model, Property};

use actors::{Planned, Planners, Role, ISSUE_ID, REAL};
use rules::Rule;
use world::{CallFault, Jira, Kvs, StepFault};

const SESSION: &str = "65f0c1d2e3a4b5c6d7e8f901";
const SECRET: &str = "whsec_5f2a9c0e7b1d4e63a8";
const T0: i64 = 1_795_341_605_000;
/// A link that expires long after every configuration's end.
const FAR: i64 = T0 + 3_600_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Actor {
    /// About to start (attempt 1, or Incode's retry).
    Waiting {
        attempt: u8,
    },
    /// Between two steps: the next step to perform.
    Running {
        attempt: u8,
        step: Planned,
    },
    Answered {
        attempt: u8,
        status: u16,
    },
    /// The instance died; Incode sees a timeout.
    Gone {
        attempt: u8,
    },
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct World {
    now: i64,
    kvs: Kvs,
    jira: Jira,
    actors: Vec<Actor>,
    faults_left: u8,
    ticks_left: u8,
    /// (lock key, owner): locks their holder released.
    released: Vec<(String, String)>,
    /// (event key, status): events a delivery accepted while the session was live.
    decided: Vec<(String, String)>,
    /// The record's status was last changed by a delivery (not an agent's action).
    status_by_delivery: bool,
    /// The issue property was last written by an agent's action (a resend's, even unrecorded).
    property_by_agent: bool,
    /// The app's status field was last written by an agent's action.
    field_by_agent: bool,
    violations: Vec<(Rule, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Action {
    Step(usize, StepFault),
    Crash(usize),
    Retry(usize),
    /// Time passes beyond a lease (70 s), an effects window (60 s) and every invocation's limit.
    Tick,
}

/// One bounded configuration.
#[derive(Clone)]
struct Config {
    name: &'static str,
    roles: Vec<Role>,
    /// Attempts of each authentic delivery (Incode's retries); every other actor acts once.
    attempts: u8,
    faults: u8,
    ticks: u8,
    /// When the link expires.
    expires_at: i64,
    planners: Planners,
    /// A state the configuration must reach (else the model is stuck), and its name.
    reach: (&'static str, fn(&World) -> bool),
}

fn settings() -> Settings {
    let mut s = default_settings();
    s.transitions.passed = "Verified".into();
    s.transitions.failed = "Escalate".into();
    s.client_id = "client-1".into();
    s.integration_reference = "ref-1".into();
    s
}

fn put(kvs: &mut Kvs, key: &str, value: Value, secret: bool) {
    let w = Write {
        key: key.into(),
        value,
        ttl: None,
        secret,
        entity: None,
        only_if: None,
    };
    kvs.set(&w, T0);
}

fn seeded(expires_at: i64) -> Kvs {
    let mut kvs = Kvs::default();
    let flags = json!({ "apiKey": true, "clientSecret": true, "webhookSecret": true, "weakWebhookSecret": false });
    let stored = json!({ "revision": 1, "settings": settings(), "secretsSet": flags });
    put(&mut kvs, "settings", stored, false);
    // As a save of this release leaves them: the revision beside the record.
    let revision = json!({ "schemaVersion": 3, "revision": 1 });
    put(&mut kvs, "settings:revision", revision, false);
    let secrets = Secrets {
        api_key: "k".into(),
        client_secret: "c".into(),
        webhook_secret: SECRET.into(),
    };
    put(
        &mut kvs,
        "secrets",
        serde_json::to_value(&secrets).unwrap(),
        true,
    );
    let checklist =
        json!({ "credentialsTestedAtMs": 1, "webhookReceivedAtMs": 1, "firstVerificationAtMs": 1 });
    put(&mut kvs, "checklist", checklist, false);
    let index = json!({ "current": SESSION, "sessions": [SESSION], "rev": 1, "by": "seed" });
    put(&mut kvs, &format!("issue:{ISSUE_ID}"), index, false);
    let record = new_verification(&NewVerificationInput {
        id: "v1".into(),
        session: StartedSession {
            session_id: SESSION.into(),
            url: "https://x".into(),
        },
        issue_key: actors::ISSUE_KEY.into(),
        issue_id: ISSUE_ID.into(),
        email: "jane.doe@example.com".into(),
        name: "Jane Doe".into(),
        delivery: Delivery::Email,
        phone: String::new(),
        alternate_email: String::new(),
        requested_by: "agent-1".into(),
        requested_by_name: "Agent".into(),
        now_ms: expires_at - 3_600_000,
        link_expiry_minutes: 60,
    });
    let mut record = serde_json::to_value(&record).unwrap();
    // Written twice before the model starts: a writer that forgot `rev` would take it back.
    record["rev"] = json!(2);
    put(&mut kvs, &format!("v:{SESSION}"), record, false);
    kvs
}

fn record(kvs: &Kvs, now: i64) -> Value {
    kvs.get(&format!("v:{SESSION}"), false, now)
}

/// The faults a step can meet, from what it does.
fn faults_of(step: &Planned) -> Vec<StepFault> {
    let ops = step.ops();
    let mut faults = Vec::new();
    for f in [CallFault::Failed, CallFault::Lost] {
        if !ops.writes.is_empty() {
            faults.push(StepFault::Transaction(f));
        }
        if !ops.swaps.is_empty() {
            faults.push(StepFault::Swap(f));
        }
        for (e, effect) in ops.effects.iter().enumerate() {
            let changes = matches!(
                effect,
                Effect::PostOutcomeComment { .. }
                    | Effect::TakeOutcomeTransition { .. }
                    | Effect::RecordStatus { .. }
                    | Effect::IndexStatus { .. }
                    | Effect::AskIncode { .. }
            );
            if changes {
                faults.push(StepFault::Effect(e, f));
            }
        }
    }
    faults
}

impl Config {
    fn step(&self, world: &mut World, i: usize, fault: StepFault) -> Option<()> {
        let role = self.roles[i];
        let (attempt, planned) = match &world.actors[i] {
            Actor::Waiting { attempt } => (*attempt, actors::start(role, i, *attempt, world.now)),
            Actor::Running { attempt, step } => (*attempt, step.clone()),
            _ => return None,
        };
        let me = actors::owner(i, attempt);
        let ops = planned.ops();
        let before = world.kvs.records("v:", world.now);
        let (results, landed) =
            world::perform(&mut world.kvs, &mut world.jira, &ops, fault, world.now);
        rules::check_step(world, role, &me, &ops, &before, fault, landed);
        world.actors[i] = match planned.last() {
            Some(status) => Actor::Answered { attempt, status },
            None => Actor::Running {
                attempt,
                step: planned.next(&self.planners, results)?,
            },
        };
        Some(())
    }
}

fn broke(rule: Rule) -> fn(&Config, &World) -> bool {
    match rule {
        Rule::Lock => |_, w| !w.violations.iter().any(|(r, _)| *r == Rule::Lock),
        Rule::Rev => |_, w| !w.violations.iter().any(|(r, _)| *r == Rule::Rev),
        Rule::Final => |_, w| !w.violations.iter().any(|(r, _)| *r == Rule::Final),
        Rule::Effect => |_, w| !w.violations.iter().any(|(r, _)| *r == Rule::Effect),
    }
}

const LIVENESS: &str = "once deliveries stop failing, every accepted event has its effects";
const ONE_COMMENT: &str = "no event gets two comments";
const AUDITED: &str =
    "once deliveries stop failing, each applied outcome has one audit entry, no untrusted one";

impl Model for Config {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        vec![World {
            now: T0,
            kvs: seeded(self.expires_at),
            jira: Jira {
                status: world::START.into(),
                ..Jira::default()
            },
            actors: vec![Actor::Waiting { attempt: 1 }; self.roles.len()],
            faults_left: self.faults,
            ticks_left: self.ticks,
            released: Vec::new(),
            decided: Vec::new(),
            status_by_delivery: false,
            property_by_agent: false,
            field_by_agent: false,
            violations: Vec::new(),
        }]
    }

    fn actions(&self, world: &World, actions: &mut Vec<Action>) {
        if !world.violations.is_empty() {
            return;
        }
        for (i, actor) in world.actors.iter().enumerate() {
            let retried = self.roles[i].genuine();
            match actor {
                Actor::Waiting { attempt } | Actor::Running { attempt, .. } => {
                    actions.push(Action::Step(i, StepFault::None));
                    if world.faults_left == 0 {
                        continue;
                    }
                    let step = match actor {
                        Actor::Running { step, .. } => {
                            actions.push(Action::Crash(i));
                            step.clone()
                        }
                        _ => actors::start(self.roles[i], i, *attempt, world.now),
                    };
                    actions.extend(faults_of(&step).into_iter().map(|f| Action::Step(i, f)));
                }
                Actor::Answered { attempt, status }
                    if retried && *status >= 500 && *attempt < self.attempts =>
                {
                    actions.push(Action::Retry(i))
                }
                Actor::Gone { attempt } if retried && *attempt < self.attempts => {
                    actions.push(Action::Retry(i))
                }
                _ => {}
            }
        }
        if world.ticks_left > 0 {
            actions.push(Action::Tick);
        }
    }

    fn next_state(&self, world: &World, action: Action) -> Option<World> {
        let mut next = world.clone();
        match action {
            Action::Step(i, fault) => {
                if fault != StepFault::None {
                    next.faults_left -= 1;
                }
                self.step(&mut next, i, fault)?;
            }
            Action::Crash(i) => {
                next.faults_left -= 1;
                if let Actor::Running { attempt, .. } = next.actors[i] {
                    next.actors[i] = Actor::Gone { attempt };
                }
            }
            Action::Retry(i) => {
                let attempt = match next.actors[i] {
                    Actor::Answered { attempt, .. } | Actor::Gone { attempt } => attempt,
                    _ => return None,
                };
                next.actors[i] = Actor::Waiting {
                    attempt: attempt + 1,
                };
            }
            Action::Tick => {
                // Past every invocation's limit (a webtrigger is stopped at 55 s, a resolver at
                // 25 s): an instance still between two steps is stopped.
                next.ticks_left -= 1;
                next.now += 75_000;
                for actor in &mut next.actors {
                    if let Actor::Running { attempt, .. } = *actor {
                        *actor = Actor::Gone { attempt };
                    }
                }
            }
        }
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut properties = vec![Property::always(ONE_COMMENT, |_, w: &World| {
            let mut seen = BTreeMap::new();
            w.jira.comments.iter().all(|k| {
                let n = seen.entry(k.clone()).or_insert(0);
                *n += 1;
                *n == 1
            })
        })];
        for (rule, name) in rules::RULES {
            properties.push(Property::always(name, broke(rule)));
        }
        properties.push(Property::always(LIVENESS, |c: &Config, w: &World| {
            rules::complete_when_quiet(w, &c.roles)
        }));
        properties.push(Property::always(AUDITED, |c: &Config, w: &World| {
            rules::audited_when_quiet(w, &c.roles)
        }));
        properties.push(Property::sometimes(
            self.reach.0,
            |c: &Config, w: &World| (c.reach.1)(w),
        ));
        properties
    }
}

/// Runs the checker on `config`: the states explored, the properties that failed (with their
/// counterexamples), and the seconds it took.
/// `until`: stop at the first counterexample to this property (a broken planner's run).
fn check(config: Config, until: Option<&'static str>) -> (usize, Vec<String>, f64) {
    let began = Instant::now();
    let reach = config.reach.0;
    let builder = config.checker();
    let builder = match until {
        Some(name) => builder.finish_when(HasDiscoveries::AnyOf([name].into())),
        None => builder,
    };
    let checker = builder.spawn_bfs().join();
    let seconds = began.elapsed().as_secs_f64();
    let mut failed: Vec<String> = checker
        .discoveries()
        .iter()
        .filter(|(name, _)| **name != reach)
        .map(|(name, path)| {
            let last = path.last_state();
            format!(
                "{name}: {:?} {:?}\n  actions: {:?}\n  comments: {:?}, issue: {} (moved {}), property: {:?}, field: {:?}, records: {:?}, actors: {:?}",
                last.violations,
                rules::audit_violation(last),
                path.clone().into_actions(),
                last.jira.comments,
                last.jira.status,
                last.jira.moves,
                last.jira.property,
                last.jira.field,
                last.kvs.records("v:", last.now).iter().map(|(k, v)| format!("{k} {} rev {}", v["status"], v["rev"])).collect::<Vec<_>>(),
                last.actors.iter().map(|a| match a {
                    Actor::Running { attempt, .. } => format!("running (attempt {attempt})"),
                    other => format!("{other:?}"),
                }).collect::<Vec<_>>()
            )
        })
        .collect();
    if until.is_none() && !checker.discoveries().contains_key(reach) {
        failed.push(format!("never reached: {reach} (the model is stuck)"));
    }
    (checker.unique_state_count(), failed, seconds)
}

/// Checks `config` and prints its bounds and figures; answers the failures.
fn run(config: Config, until: Option<&'static str>) -> Vec<String> {
    let bounds = format!(
        "{}: {:?}, {} attempts each, {} fault(s), {} lease expiry(ies)",
        config.name, config.roles, config.attempts, config.faults, config.ticks
    );
    let (states, failed, seconds) = check(config, until);
    println!(
        "model check {bounds}: {states} states, {} violations, {seconds:.1} s",
        failed.len()
    );
    failed
}

fn passed(w: &World) -> bool {
    let record = record(&w.kvs, w.now);
    record["status"] == "passed" && w.jira.comments.len() == 1 && rules::effects_present(w)
}

fn late_kept(w: &World) -> bool {
    record(&w.kvs, w.now)["lateResults"]
        .as_array()
        .is_some_and(|l| !l.is_empty())
}

fn configurations(planners: Planners) -> Vec<Config> {
    let mut configs = base_configurations(planners);
    // The same runs with a second fault anywhere on the way.
    for (name, of) in [
        ("review, two faults", "review"),
        ("cancel during review, two faults", "cancel during review"),
        ("cancel, two faults", "cancel"),
    ] {
        let base = configs.iter().find(|c| c.name == of).cloned();
        configs.extend(base.map(|c| Config {
            name,
            faults: 2,
            ..c
        }));
    }
    configs
}

fn base_configurations(planners: Planners) -> Vec<Config> {
    let delivery = Role::delivery;
    vec![
        Config {
            name: "duplicates",
            roles: vec![delivery("SESSION_SUCCEEDED"), delivery("SESSION_SUCCEEDED")],
            attempts: 3,
            faults: 1,
            ticks: 1,
            expires_at: FAR,
            planners,
            reach: ("a verification passes with its effects", passed),
        },
        Config {
            name: "conflicting results",
            roles: vec![delivery("SESSION_SUCCEEDED"), delivery("SESSION_FAILED")],
            attempts: 3,
            faults: 0,
            ticks: 1,
            expires_at: FAR,
            planners,
            reach: ("the first result is final with its effects", |w| {
                let status = record(&w.kvs, w.now)["status"].clone();
                (status == "passed" || status == "failed") && rules::effects_present(w)
            }),
        },
        Config {
            name: "review",
            roles: vec![
                delivery("SESSION_PENDING_REVIEW"),
                delivery("MANUAL_REVIEW_APPROVED"),
            ],
            attempts: 2,
            faults: 1,
            ticks: 0,
            expires_at: FAR,
            planners,
            reach: ("a review is approved with its effects", |w| {
                record(&w.kvs, w.now)["status"] == "passed"
                    && w.jira.comments.len() == 2
                    && rules::effects_present(w)
            }),
        },
        Config {
            name: "cancel during review",
            roles: vec![
                delivery("SESSION_PENDING_REVIEW"),
                delivery("MANUAL_REVIEW_APPROVED"),
                Role::Cancel,
            ],
            attempts: 1,
            faults: 1,
            ticks: 0,
            expires_at: FAR,
            planners,
            reach: ("an approval after the cancel is kept as late", late_kept),
        },
        Config {
            name: "cancel",
            roles: vec![delivery("SESSION_SUCCEEDED"), Role::Cancel],
            attempts: 3,
            faults: 1,
            ticks: 1,
            expires_at: FAR,
            planners,
            reach: ("a result after the cancel is kept as late", late_kept),
        },
        Config {
            name: "resend",
            roles: vec![delivery("SESSION_SUCCEEDED"), Role::Resend],
            attempts: 3,
            faults: 1,
            ticks: 1,
            expires_at: FAR,
            planners,
            reach: ("a result after the resend is kept as late", late_kept),
        },
        Config {
            name: "expiry",
            roles: vec![delivery("SESSION_SUCCEEDED"), Role::Open],
            attempts: 3,
            faults: 1,
            ticks: 1,
            expires_at: T0 + 30_000,
            planners,
            reach: ("a result after the expiry is kept as late", |w| {
                late_kept(w) && record(&w.kvs, w.now)["status"] == "expired"
            }),
        },
        Config {
            name: "untrusted",
            roles: vec![
                delivery("SESSION_SUCCEEDED"),
                Role::Delivery {
                    event: "SESSION_SUCCEEDED",
                    session: SESSION,
                    forged: true,
                },
                Role::Delivery {
                    event: "SESSION_SUCCEEDED",
                    session: actors::UNKNOWN_SESSION,
                    forged: false,
                },
            ],
            attempts: 2,
            faults: 1,
            ticks: 0,
            expires_at: FAR,
            planners,
            reach: ("a verification passes with its effects", passed),
        },
    ]
}

fn configuration(name: &str, planners: Planners) -> Config {
    configurations(planners)
        .into_iter()
        .find(|c| c.name == name)
        .unwrap()
}

/// Checks the configuration `name` with the real planners.
fn keeps_every_rule(name: &str) {
    let failed = run(configuration(name, REAL), None);
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn duplicated_deliveries_under_faults() {
    for guarantee in world::GUARANTEES {
        println!("model check assumes: {guarantee}");
    }
    keeps_every_rule("duplicates");
}

#[test]
fn conflicting_results() {
    keeps_every_rule("conflicting results");
}

#[test]
fn a_cancel_against_a_delivery() {
    keeps_every_rule("cancel");
}

#[test]
fn a_resend_against_a_delivery() {
    keeps_every_rule("resend");
}

#[test]
fn an_expiry_against_a_delivery() {
    keeps_every_rule("expiry");
}

#[test]
fn a_review_and_its_approval() {
    keeps_every_rule("review");
}

#[test]
fn a_cancel_during_a_review() {
    keeps_every_rule("cancel during review");
}

/// Two faults in one run (a lost answer and a crash, two failed calls, ...), on the lock's
/// busiest configurations.
#[test]
fn two_faults_on_a_review() {
    keeps_every_rule("review, two faults");
    keeps_every_rule("cancel during review, two faults");
}

#[test]
fn two_faults_on_a_cancel() {
    keeps_every_rule("cancel, two faults");
}

#[test]
fn forged_and_unknown_deliveries() {
    keeps_every_rule("untrusted");
}

/// The model's transaction: a claim on a taken entity key lands nothing (not even the entity
/// deletes); otherwise the sets, the deletes and the entity deletes land together.
#[test]
fn a_claimed_key_fails_the_whole_transaction() {
    use incode_verify_core::plan::EntityKey;
    let entry = |key: &str| Write {
        key: key.into(),
        value: json!({ "schemaVersion": 2 }),
        ttl: None,
        secret: false,
        entity: Some("audit".into()),
        only_if: None,
    };
    let mut kvs = Kvs::default();
    kvs.set(&entry("gate:1"), T0);
    kvs.set(&entry("old:1"), T0);
    let mut jira = Jira::default();
    let claiming = |key: &str| actors::Ops {
        writes: vec![entry(key), entry("other:1")],
        claims: vec![key.into()],
        entity_deletes: vec![EntityKey {
            entity: "audit".into(),
            key: "old:1".into(),
        }],
        ..actors::Ops::default()
    };
    let (results, landed) = world::perform(
        &mut kvs,
        &mut jira,
        &claiming("gate:1"),
        StepFault::None,
        T0,
    );
    assert!(!landed);
    assert_eq!(
        results.write_failed.as_deref(),
        Some("CONDITIONAL_CHECK_FAILED")
    );
    assert!(kvs.entity("audit", "other:1").is_none());
    assert!(kvs.entity("audit", "old:1").is_some());
    let (results, landed) = world::perform(
        &mut kvs,
        &mut jira,
        &claiming("gate:2"),
        StepFault::None,
        T0,
    );
    assert!(landed && results.write_failed.is_none());
    assert!(kvs.entity("audit", "gate:2").is_some() && kvs.entity("audit", "other:1").is_some());
    assert!(kvs.entity("audit", "old:1").is_none());
}

/// Runs the configuration `name` with broken `planners` until `property` fails, and checks
/// that it did.
fn caught(name: &str, planners: Planners, property: &'static str) {
    let failed = run(configuration(name, planners), Some(property));
    caught_in(&failed, property);
}

fn caught_in(failed: &[String], property: &str) {
    assert!(
        failed.iter().any(|f| f.starts_with(property)),
        "expected a counterexample to {property:?}: {failed:#?}"
    );
}

/// A planner that never looks for an event's comment before posting it posts a second one when
/// a retry follows a lost answer.
#[test]
fn a_planner_that_posts_without_looking_is_caught() {
    fn careless(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        for effect in &mut step.effects {
            if let Effect::PostOutcomeComment { look_first, .. } = effect {
                *look_first = false;
            }
        }
        step
    }
    let planners = Planners {
        delivery_next: careless,
        ..REAL
    };
    caught("duplicates", planners, ONE_COMMENT);
}

/// The record's status as a planner that forgot `status` would read it.
fn reread(results: &mut Results, from: &[&str], to: &str) {
    for found in &mut results.reads {
        let status = found.value["status"].as_str().unwrap_or("");
        if found.value["sessionId"].is_string() && from.contains(&status) {
            found.value["status"] = json!(to);
        }
    }
}

/// A planner that does not see a final status lets a later result overwrite it.
#[test]
fn a_planner_blind_to_final_statuses_is_caught() {
    fn blind(state: DeliveryState, mut results: Results) -> delivery::Planned {
        reread(&mut results, &["passed", "failed"], "inProgress");
        delivery::next(state, results)
    }
    let planners = Planners {
        delivery_next: blind,
        ..REAL
    };
    caught("conflicting results", planners, rules::RULES[2].1);
}

/// A planner that does not see a cancellation comments on a result that came after it.
#[test]
fn a_planner_blind_to_cancellation_is_caught() {
    fn blind(state: DeliveryState, mut results: Results) -> delivery::Planned {
        reread(&mut results, &["cancelled"], "inProgress");
        delivery::next(state, results)
    }
    let planners = Planners {
        delivery_next: blind,
        ..REAL
    };
    caught("cancel", planners, rules::RULES[3].1);
}

/// A cancel that writes the record without its `rev` takes the revision back.
#[test]
fn a_cancel_that_forgets_the_revision_is_caught() {
    use incode_verify_core::actions::cancel::{self, CancelState, CancelStep};
    fn forgetful(state: CancelState, results: Results) -> CancelStep {
        let mut step = cancel::next(state, results);
        for w in step.writes.iter_mut().filter(|w| w.key.starts_with("v:")) {
            if let Some(fields) = w.value.as_object_mut() {
                fields.remove("rev");
            }
        }
        step
    }
    let planners = Planners {
        cancel_next: forgetful,
        ..REAL
    };
    caught("cancel", planners, rules::RULES[1].1);
}

/// A delivery that writes the record beside the transaction that releases the lock writes it
/// after the release.
#[test]
fn a_record_written_after_the_release_is_caught() {
    fn late_write(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        let (record, rest): (Vec<Write>, Vec<Write>) = std::mem::take(&mut step.writes)
            .into_iter()
            .partition(|w| w.key.starts_with("v:"));
        step.writes = rest;
        step.puts.extend(record);
        step
    }
    let planners = Planners {
        delivery_next: late_write,
        ..REAL
    };
    caught("duplicates", planners, rules::RULES[0].1);
}

/// A duplicate that does not write the status field again leaves it missing when the first
/// delivery's write failed: the liveness check at quiescent states catches it.
#[test]
fn a_duplicate_that_does_not_finish_the_effects_is_caught() {
    fn lazy(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        if !step.writes.iter().any(|w| w.key.starts_with("v:")) {
            step.effects
                .retain(|e| !matches!(e, Effect::RecordStatus { .. }));
        }
        step
    }
    let planners = Planners {
        delivery_next: lazy,
        ..REAL
    };
    caught("duplicates", planners, LIVENESS);
}

/// The same for the issue property: a duplicate that does not write it again leaves the index
/// behind the record.
#[test]
fn a_duplicate_that_does_not_finish_the_index_is_caught() {
    fn lazy(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        if !step.writes.iter().any(|w| w.key.starts_with("v:")) {
            step.effects
                .retain(|e| !matches!(e, Effect::IndexStatus { .. }));
        }
        step
    }
    let planners = Planners {
        delivery_next: lazy,
        ..REAL
    };
    caught("duplicates", planners, LIVENESS);
}

/// A delivery whose transaction leaves out the outcome's audit entry applies an outcome the
/// trail never shows.
#[test]
fn an_outcome_without_its_audit_entry_is_caught() {
    fn untraced(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        step.writes.retain(|w| !w.key.starts_with("outcome:"));
        step
    }
    let planners = Planners {
        delivery_next: untraced,
        ..REAL
    };
    caught("duplicates", planners, AUDITED);
}

/// Every give-back as a blind set (no `only_if`): the hidden lease of counterexample 2
/// (tests/vectors/model/counterexamples.json) gives the lock two holders.
#[test]
fn a_blind_put_back_is_caught() {
    use incode_verify_core::actions::cancel::{self, CancelState, CancelStep};
    fn blind(puts: &mut [Write]) {
        for w in puts {
            w.only_if = None;
        }
    }
    fn delivery_blind(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        blind(&mut step.puts);
        step
    }
    fn cancel_blind(state: CancelState, results: Results) -> CancelStep {
        let mut step = cancel::next(state, results);
        blind(&mut step.puts);
        step
    }
    let planners = Planners {
        delivery_next: delivery_blind,
        cancel_next: cancel_blind,
        ..REAL
    };
    caught("cancel during review", planners, rules::RULES[2].1);
}

/// A planner that carries out an effect for a delivery it refused (a forged signature, 401):
/// the status field written for someone who does not hold the secret.
#[test]
fn an_effect_for_a_forged_delivery_is_caught() {
    fn credulous(state: DeliveryState, results: Results) -> delivery::Planned {
        let mut step = delivery::next(state, results);
        let refused = step
            .reply
            .as_ref()
            .is_some_and(|r| r.response.status_code == 401);
        if refused {
            step.effects.push(Effect::RecordStatus {
                issue_id: ISSUE_ID.into(),
                text: "Success".into(),
            });
        }
        step
    }
    let planners = Planners {
        delivery_next: credulous,
        ..REAL
    };
    caught("untrusted", planners, rules::RULES[3].1);
}

/// An action as the checker prints it (`Step(0, Transaction(Lost))`, `Retry(1)`, `Tick`).
fn action_of(text: &str) -> Action {
    let call = |f: &str| match f {
        "Failed" => CallFault::Failed,
        _ => CallFault::Lost,
    };
    let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|t| t.strip_suffix(')'));
    if let Some(args) = inner("Step(") {
        let (actor, fault) = args.split_once(", ").unwrap();
        let fault = if let Some(f) = fault.strip_prefix("Transaction(") {
            StepFault::Transaction(call(f.trim_end_matches(')')))
        } else if let Some(f) = fault.strip_prefix("Swap(") {
            StepFault::Swap(call(f.trim_end_matches(')')))
        } else if let Some(f) = fault.strip_prefix("Effect(") {
            let (at, f) = f.trim_end_matches(')').split_once(", ").unwrap();
            StepFault::Effect(at.parse().unwrap(), call(f))
        } else {
            StepFault::None
        };
        return Action::Step(actor.parse().unwrap(), fault);
    }
    if let Some(actor) = inner("Retry(") {
        return Action::Retry(actor.parse().unwrap());
    }
    if let Some(actor) = inner("Crash(") {
        return Action::Crash(actor.parse().unwrap());
    }
    Action::Tick
}

/// Whether `property` fails in a state of the path `actions` takes (a path the planners no
/// longer take holds).
fn violated_on(config: &Config, actions: &[Value], property: &str) -> bool {
    let condition = config
        .properties()
        .into_iter()
        .find(|p| p.name == property)
        .unwrap()
        .condition;
    let mut world = config.init_states().remove(0);
    for action in actions {
        let Some(next) = config.next_state(&world, action_of(action.as_str().unwrap())) else {
            return false;
        };
        world = next;
        if !condition(config, &world) {
            return true;
        }
    }
    false
}

/// The counterexamples found so far (tests/vectors/model/counterexamples.json), replayed.
#[test]
fn counterexamples_replay_as_recorded() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/model/counterexamples.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut wrong = Vec::new();
    for case in file["cases"].as_array().unwrap() {
        let config = configuration(case["config"].as_str().unwrap(), REAL);
        let property = case["property"].as_str().unwrap();
        let violated = violated_on(&config, case["actions"].as_array().unwrap(), property);
        let expected = case["expect"] == "violated";
        println!(
            "model check counterexample ({}): {property}: {}",
            case["config"],
            if violated { "violated" } else { "holds" }
        );
        if violated != expected {
            wrong.push(case["name"].as_str().unwrap().to_owned());
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
