//! Exactly-once, checked exhaustively: the real webhook delivery planner (`delivery::start`,
//! `delivery::next`) runs against a model of Forge KVS and Jira (`model_check/world.rs`) over
//! every interleaving of duplicated deliveries of one outcome event, Incode's retries, storage and
//! Jira calls that fail before landing or land with their answer lost, instances that die
//! between two steps, and leases that run out. Every reachable state is checked for:
//! - no event gets two comments;
//! - a final status is never overwritten, and the record's `rev` never goes back;
//! - nothing is written to the record by a holder after it released the lock;
//! - once every delivery has been answered with a success, the outcome is complete: the record
//!   passed, one comment, the ticket moved once, the property says so.
//!
//! Bounds (printed): two deliveries, three attempts each, faults and lease expiries as below.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "model_check/world.rs"]
mod world;

use std::collections::BTreeMap;

use hmac::{KeyInit, Mac};
use incode_verify_core::delivery::{self, Answer, DeliveryRequest, DeliveryState};
use incode_verify_core::effects::Effect;
use incode_verify_core::incode::StartedSession;
use incode_verify_core::model::{Delivery, Secrets, Settings, WebhookAuth};
use incode_verify_core::plan::{Results, Step};
use incode_verify_core::settings::default_settings;
use incode_verify_core::state::{new_verification, NewVerificationInput};
use serde_json::{json, Value};
use stateright::{Checker, Model, Property};

use world::{CallFault, Jira, Kvs, StepFault};

type Planned = Step<DeliveryState, Answer>;
type Start = fn(DeliveryRequest) -> Planned;
type Next = fn(DeliveryState, Results) -> Planned;

const SESSION: &str = "65f0c1d2e3a4b5c6d7e8f901";
const SECRET: &str = "whsec_5f2a9c0e7b1d4e63a8";
const T0: i64 = 1_795_341_605_000;
const ATTEMPTS: u8 = 3;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Actor {
    /// Incode is about to deliver (attempt 1, or a retry).
    Waiting {
        attempt: u8,
    },
    /// Between two steps: the next step to perform.
    Running {
        attempt: u8,
        step: Pending,
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
struct World {
    now: i64,
    kvs: Kvs,
    jira: Jira,
    actors: Vec<Actor>,
    faults_left: u8,
    ticks_left: u8,
    /// Lock owners that have released the session lock.
    released: Vec<String>,
    violations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Action {
    Step(usize, StepFault),
    Crash(usize),
    Retry(usize),
    /// Time passes beyond a lease (70 s), an effects window (60 s) and every invocation's limit.
    Tick,
}

/// A planned step. The planner's state is not meant to be hashed or compared by anyone but the
/// checker: it is hashed by its debug form, which shows every field.
#[derive(Clone, Debug)]
struct Pending(Box<Planned>);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Pending {}

impl std::hash::Hash for Pending {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        format!("{:?}", self.0).hash(state);
    }
}

struct Deliveries {
    start: Start,
    next: Next,
    faults: u8,
    ticks: u8,
}

fn settings() -> Settings {
    let mut s = default_settings();
    s.transitions.passed = "Verified".into();
    s.transitions.failed = "Escalate".into();
    s
}

fn body() -> String {
    json!({ "eventType": "SESSION_SUCCEEDED", "interviewId": SESSION, "identityId": "id-1",
        "loginHint": "jane.doe@example.com", "timestamp": "2026-11-22T10:00:00Z" })
    .to_string()
}

fn signature(body: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn owner(actor: usize, attempt: u8) -> String {
    format!("owner{actor}x{attempt}")
}

fn seeded() -> Kvs {
    let mut kvs = Kvs::default();
    let put = |kvs: &mut Kvs, key: &str, value: Value, secret: bool| {
        let w = incode_verify_core::plan::Write {
            key: key.into(),
            value,
            ttl: None,
            secret,
            entity: None,
        };
        kvs.set(&w, T0);
    };
    let flags = json!({ "apiKey": true, "clientSecret": true, "webhookSecret": true, "weakWebhookSecret": false });
    put(
        &mut kvs,
        "settings",
        json!({ "revision": 1, "settings": settings(), "secretsSet": flags }),
        false,
    );
    let secrets = Secrets {
        api_key: "k".into(),
        client_secret: "c".into(),
        webhook_secret: SECRET.into(),
    };
    put(
        &mut kvs,
        "secrets",
        serde_json::to_value(&secrets).unwrap_or_default(),
        true,
    );
    put(
        &mut kvs,
        "checklist",
        json!({ "credentialsTestedAtMs": 1, "webhookReceivedAtMs": 1, "firstVerificationAtMs": 1 }),
        false,
    );
    let record = new_verification(&NewVerificationInput {
        id: "v1".into(),
        session: StartedSession {
            session_id: SESSION.into(),
            url: "https://x".into(),
        },
        issue_key: "HD-1".into(),
        issue_id: "10001".into(),
        email: "jane.doe@example.com".into(),
        name: "Jane Doe".into(),
        delivery: Delivery::Email,
        phone: String::new(),
        alternate_email: String::new(),
        requested_by: "agent-1".into(),
        requested_by_name: "Agent".into(),
        now_ms: T0 - 60_000,
        link_expiry_minutes: 60,
    });
    put(
        &mut kvs,
        &format!("v:{SESSION}"),
        serde_json::to_value(&record).unwrap_or_default(),
        false,
    );
    kvs
}

fn record(kvs: &Kvs, now: i64) -> Value {
    kvs.get(&format!("v:{SESSION}"), false, now)
}

impl Deliveries {
    fn request(&self, actor: usize, attempt: u8, now: i64) -> DeliveryRequest {
        let body = body();
        let header = match &settings().webhook_auth {
            WebhookAuth::Hmac { header, .. } => header.clone(),
            _ => "x-incode-signature".into(),
        };
        DeliveryRequest {
            method: "POST".into(),
            headers: json!({ header: [signature(&body)] }),
            body,
            now_ms: now,
            owner: owner(actor, attempt),
            nonce: format!("n{actor}{attempt}"),
            memory: None,
        }
    }

    /// Performs one step of `actor` with `fault`, and checks what it wrote.
    fn step(&self, world: &mut World, actor: usize, fault: StepFault) {
        let (attempt, step) = match &world.actors[actor] {
            Actor::Waiting { attempt } => (
                *attempt,
                (self.start)(self.request(actor, *attempt, world.now)),
            ),
            Actor::Running { attempt, step } => (*attempt, (*step.0).clone()),
            _ => return,
        };
        let me = owner(actor, attempt);
        let before = record(&world.kvs, world.now);
        let released_before = world.released.contains(&me);
        let results = world::perform(&mut world.kvs, &mut world.jira, &step, fault, world.now);
        self.check(world, &step, &before, &me, released_before);
        world.actors[actor] = match step.state {
            None => Actor::Answered {
                attempt,
                status: step.reply.map(|r| r.response.status_code).unwrap_or(0),
            },
            Some(state) => {
                let next = (self.next)(state, results);
                Actor::Running {
                    attempt,
                    step: Pending(Box::new(next)),
                }
            }
        };
    }

    fn check(
        &self,
        world: &mut World,
        step: &Planned,
        before: &Value,
        me: &str,
        released_before: bool,
    ) {
        let after = record(&world.kvs, world.now);
        let key = format!("v:{SESSION}");
        let wrote_record = step.writes.iter().chain(&step.puts).any(|w| w.key == key);
        if wrote_record && released_before {
            world
                .violations
                .push(format!("{me} wrote the record after releasing the lock"));
        }
        let rev = |v: &Value| v["rev"].as_i64().unwrap_or(0);
        if after.is_object() && rev(&after) < rev(before) {
            world.violations.push(format!(
                "rev went back from {} to {}",
                rev(before),
                rev(&after)
            ));
        }
        let status = |v: &Value| v["status"].as_str().unwrap_or("").to_owned();
        if ["passed", "failed"].contains(&status(before).as_str())
            && status(&after) != status(before)
        {
            world.violations.push(format!(
                "final status {} overwritten by {}",
                status(before),
                status(&after)
            ));
        }
        for w in step.writes.iter().chain(&step.puts).chain(&step.swaps) {
            let released = w.key == format!("lock:{SESSION}") && w.value["owner"] == "";
            if released && w.value["by"] == me && !world.released.iter().any(|o| o == me) {
                world.released.push(me.to_owned());
            }
        }
    }
}

impl Model for Deliveries {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        vec![World {
            now: T0,
            kvs: seeded(),
            jira: Jira {
                status: world::START.into(),
                ..Jira::default()
            },
            actors: vec![Actor::Waiting { attempt: 1 }, Actor::Waiting { attempt: 1 }],
            faults_left: self.faults,
            ticks_left: self.ticks,
            released: Vec::new(),
            violations: Vec::new(),
        }]
    }

    fn actions(&self, world: &World, actions: &mut Vec<Action>) {
        if !world.violations.is_empty() {
            return;
        }
        for (i, actor) in world.actors.iter().enumerate() {
            match actor {
                Actor::Waiting { .. } | Actor::Running { .. } => {
                    actions.push(Action::Step(i, StepFault::None));
                    if world.faults_left == 0 {
                        continue;
                    }
                    if matches!(actor, Actor::Running { .. }) {
                        actions.push(Action::Crash(i));
                    }
                    // Which faults this step can meet depends on what it does: the step is
                    // planned here again (the planner is a pure function).
                    let step = match actor {
                        Actor::Running { step, .. } => Some((*step.0).clone()),
                        _ => Some((self.start)(self.request(i, 1, world.now))),
                    };
                    let Some(step) = step else { continue };
                    for f in [CallFault::Failed, CallFault::Lost] {
                        if !step.writes.is_empty() {
                            actions.push(Action::Step(i, StepFault::Transaction(f)));
                        }
                        if !step.swaps.is_empty() {
                            actions.push(Action::Step(i, StepFault::Swap(f)));
                        }
                        for (e, effect) in step.effects.iter().enumerate() {
                            if !matches!(effect, Effect::TellPanel { .. }) {
                                actions.push(Action::Step(i, StepFault::Effect(e, f)));
                            }
                        }
                    }
                }
                Actor::Answered { attempt, status } if *status >= 500 && *attempt < ATTEMPTS => {
                    actions.push(Action::Retry(i))
                }
                Actor::Gone { attempt } if *attempt < ATTEMPTS => actions.push(Action::Retry(i)),
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
                self.step(&mut next, i, fault);
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
                // Past every invocation's limit (a webtrigger is stopped at 55 s): an instance
                // still between two steps is stopped, its next step never happens.
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
        vec![
            Property::always("no event gets two comments", |_, w: &World| {
                let mut seen = BTreeMap::new();
                w.jira.comments.iter().all(|k| {
                    let n = seen.entry(k.clone()).or_insert(0);
                    *n += 1;
                    *n == 1
                })
            }),
            Property::always("no write breaks the record's history", |_, w: &World| {
                w.violations.is_empty()
            }),
            Property::always("answered with success means complete", |_, w: &World| {
                let quiet = w
                    .actors
                    .iter()
                    .all(|a| matches!(a, Actor::Answered { status, .. } if *status < 300));
                !quiet || complete(w)
            }),
            Property::sometimes("a verification passes with its effects", |_, w: &World| {
                complete(w)
            }),
        ]
    }
}

fn complete(w: &World) -> bool {
    let record = record(&w.kvs, w.now);
    record["status"] == "passed"
        && w.jira.comments.len() == 1
        && w.jira.status == "Verified"
        && w.jira.moves == 1
        && w.jira
            .property
            .as_deref()
            .is_some_and(|p| p.contains("\"passed\""))
}

fn check(deliveries: Deliveries) -> (usize, Vec<String>) {
    let checker = deliveries.checker().spawn_bfs().join();
    let failed: Vec<String> = checker
        .discoveries()
        .iter()
        .filter(|(name, _)| **name != "a verification passes with its effects")
        .map(|(name, path)| {
            let last = path.last_state();
            format!(
                "{name}: {:?}\n  actions: {:?}\n  comments: {:?}, issue: {} (moved {}), record: {}, actors: {:?}",
                last.violations,
                path.clone().into_actions(),
                last.jira.comments,
                last.jira.status,
                last.jira.moves,
                record(&last.kvs, last.now)["status"],
                last.actors.iter().map(|a| match a { Actor::Answered { status, attempt } => format!("answered {status} (attempt {attempt})"), other => format!("{other:?}").chars().take(40).collect() }).collect::<Vec<_>>()
            )
        })
        .collect();
    let missing = !checker
        .discoveries()
        .contains_key("a verification passes with its effects");
    let mut all = failed;
    if missing {
        all.push("never reached a complete verification: the model is stuck".into());
    }
    (checker.unique_state_count(), all)
}

#[test]
fn every_outcome_exactly_once_under_faults() {
    let (states, violations) = check(Deliveries {
        start: delivery::start,
        next: delivery::next,
        faults: 1,
        ticks: 1,
    });
    for guarantee in world::GUARANTEES {
        println!("model check assumes: {guarantee}");
    }
    println!("model check: 2 deliveries x {ATTEMPTS} attempts, 1 fault, 1 lease expiry: {states} states, {} violations", violations.len());
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The check can fail: a planner that never looks for an event's comment before posting it
/// posts a second one when a retry follows a lost answer.
#[test]
fn a_planner_that_posts_without_looking_is_caught() {
    fn careless(state: DeliveryState, results: Results) -> Planned {
        let mut step = delivery::next(state, results);
        for effect in &mut step.effects {
            if let Effect::PostOutcomeComment { look_first, .. } = effect {
                *look_first = false;
            }
        }
        step
    }
    let (_, violations) = check(Deliveries {
        start: delivery::start,
        next: careless,
        faults: 1,
        ticks: 1,
    });
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("no event gets two comments")),
        "{violations:#?}"
    );
}
