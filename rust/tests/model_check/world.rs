//! The environment the planner runs in, as the model sees it: Forge KVS with exactly the
//! guarantees the design relies on (see `GUARANTEES`), a Jira issue with its comments, workflow,
//! property and the app's status field, and the realtime service. Calls may fail before they land or land with their
//! answer lost; the planner's own code is what runs between them.

use std::collections::BTreeMap;

use incode_verify_core::effects::{self, Call, Effect, EffectResult, Progress, EVENT_PROPERTY};
use incode_verify_core::model::{HttpAnswer, Method};
use incode_verify_core::plan::{Found, Results, Step, TtlUnit, Write};
use serde_json::{json, Value};

/// What the model assumes of Forge KVS and the platform, each held to the local host's KVS by
/// the numbered test of tests/host/kvs-guarantees.test.mjs (D: documented by Atlassian, I:
/// inferred; where from). Not assumed: conditional writes on plain keys (only custom entities
/// have them, 7, 9) and consistency across keys (every decision reads under its lock).
pub const GUARANTEES: &[&str] = &[
    "I (1): a get after a set or delete that returned answers its value (single-key read-your-writes); Atlassian documents last-write-wins only (rest/v1/api-group-key-value-store)",
    "D (2): a transaction's sets and deletes land together or not at all (storage-reference/transactions)",
    "I (3): a set with keyPolicy OVERRIDE and returnValue PREVIOUS replaces and returns the value it replaced, atomically; the option is documented (rest/v1/api-group-key-value-store), its atomicity is not",
    "D+I (4): a value has expired once its TTL from its write has passed (documented: runtime-reference/storage-api-basic-api); reads stop seeing it at once (inferred)",
    "I (5): a call that times out may or may not have landed, and lands (if at all) before its caller sees the timeout",
    "D (6): a custom entity's set in a transaction lands with its other sets or not at all, in the entity's own key space (storage-reference/transactions, storage-api-custom-entities)",
    "D (7): a transaction whose conditional entity set finds a value under its key lands nothing; its entity deletes land with its sets (storage-reference/transactions)",
    "I (8): a custom entity's set with keyPolicy OVERRIDE and returnValue PREVIOUS replaces and returns the value it replaced, atomically, as a plain key's (3); the options are in @forge/kvs's entity API (KvsEntity.set, OverrideAndReturnSetOptions), their atomicity is not documented",
    "D+I (9): a transaction's entity set with conditions lands only while the stored value meets them, else nothing lands (documented: storage-reference/transactions-entities); equalTo on an attribute the stored value lacks, or on a key with no value, fails (inferred: undocumented; the local host and this model do so)",
    "D: an invocation is stopped at its time limit (a webtrigger at 55 s, a resolver at 25 s), before a 70 s lease runs out (platform limits)",
];

/// A stored value: its JSON text and when it expires.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Stored {
    pub json: String,
    pub expires_at: Option<i64>,
}

/// The plain keys, the secret store, and the custom entities (`entity/key`): three key spaces.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Default)]
pub struct Kvs {
    pub plain: BTreeMap<String, Stored>,
    pub secret: BTreeMap<String, Stored>,
    pub entities: BTreeMap<String, Stored>,
}

impl Kvs {
    fn space(&mut self, secret: bool) -> &mut BTreeMap<String, Stored> {
        if secret {
            &mut self.secret
        } else {
            &mut self.plain
        }
    }

    /// The plain records whose keys begin with `prefix`, live at `now`.
    pub fn records(&self, prefix: &str, now: i64) -> Vec<(String, Value)> {
        self.plain
            .keys()
            .filter(|k| k.starts_with(prefix))
            .map(|k| (k.clone(), self.get(k, false, now)))
            .filter(|(_, v)| !v.is_null())
            .collect()
    }

    pub fn get(&self, key: &str, secret: bool, now: i64) -> Value {
        let space = if secret { &self.secret } else { &self.plain };
        live(space.get(key), now)
    }

    /// What a write's key holds now, in the write's key space.
    pub fn current(&self, w: &Write, now: i64) -> Value {
        match &w.entity {
            Some(entity) => live(self.entities.get(&format!("{entity}/{}", w.key)), now),
            None => self.get(&w.key, w.secret, now),
        }
    }

    /// Whether `w`'s condition holds on what its key holds now (9): `property` equal to `value`;
    /// an absent value or attribute fails it. A write without a condition always lands.
    pub fn meets(&self, w: &Write, now: i64) -> bool {
        w.only_if
            .as_ref()
            .is_none_or(|c| self.current(w, now).get(&c.property) == Some(&c.value))
    }

    pub fn set(&mut self, w: &Write, now: i64) {
        let expires_at = w.ttl.map(|t| {
            let unit = match t.unit {
                TtlUnit::Seconds => 1_000,
                TtlUnit::Minutes => 60_000,
                TtlUnit::Hours => 3_600_000,
                TtlUnit::Days => 86_400_000,
            };
            now + i64::from(t.value) * unit
        });
        let json = w.value.to_string();
        let stored = Stored { json, expires_at };
        match &w.entity {
            Some(entity) => {
                self.entities.insert(format!("{entity}/{}", w.key), stored);
            }
            None => {
                self.space(w.secret).insert(w.key.clone(), stored);
            }
        }
    }

    pub fn delete(&mut self, key: &str, secret: bool) {
        self.space(secret).remove(key);
    }

    /// The stored value of `entity` under `key`, if any, whatever its TTL (the audit trail's
    /// entries have none).
    pub fn entity(&self, entity: &str, key: &str) -> Option<Value> {
        self.entities
            .get(&format!("{entity}/{key}"))
            .and_then(|s| serde_json::from_str(&s.json).ok())
    }
}

fn live(stored: Option<&Stored>, now: i64) -> Value {
    match stored {
        Some(s) if s.expires_at.is_none_or(|at| at > now) => {
            serde_json::from_str(&s.json).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

/// The issue: comments (the event key each carries, "" for none), where it is in its workflow,
/// its property, the app's status field (the text people read), and how often it moved.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Default)]
pub struct Jira {
    pub comments: Vec<String>,
    pub status: String,
    pub property: Option<String>,
    /// The app's status field (`jira:customField`), written only through `SetAppField`.
    pub field: Option<String>,
    pub moves: u8,
    /// Sessions Incode started (links it sent) for a resend.
    pub sessions_started: u8,
}

/// The session Incode starts for a resend.
pub const NEW_SESSION: &str = "75f0c1d2e3a4b5c6d7e8f902";

/// The seeded workflow: from "Waiting for support", "Verified" (passed) and "Escalate" (failed).
pub const START: &str = "Waiting for support";
const WORKFLOW: &[(&str, &str, &str, &str)] = &[
    (START, "11", "Verified", "Verified"),
    (START, "21", "Escalate", "Escalated"),
];

/// How one call goes.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CallFault {
    None,
    /// Never lands; no answer (a timeout or network failure before the platform acted).
    Failed,
    /// Lands, but the answer is lost (a timeout after the platform acted).
    Lost,
}

impl Jira {
    fn answer(&mut self, call: &Call, fault: CallFault, now: i64) -> HttpAnswer {
        if fault == CallFault::Failed {
            return HttpAnswer {
                status: 0,
                body: String::new(),
            };
        }
        let answer = self.handle(call, now);
        if fault == CallFault::Lost {
            return HttpAnswer {
                status: 0,
                body: String::new(),
            };
        }
        answer
    }

    fn handle(&mut self, call: &Call, now: i64) -> HttpAnswer {
        let ok = |status: u16, body: Value| HttpAnswer {
            status,
            body: body.to_string(),
        };
        let request = match call {
            Call::JiraAsApp { request } | Call::JiraAsUser { request } => request,
            Call::SignPublishToken { .. } => {
                return ok(200, json!({ "token": "t", "expiresAt": now + 3_600_000 }))
            }
            Call::Publish { .. } | Call::Wait { .. } => return ok(200, Value::Null),
            Call::SignSubscribeToken { .. } => {
                return ok(200, json!({ "token": "t", "expiresAt": now + 3_600_000 }))
            }
            Call::ReportPersonalData { .. } => return ok(200, json!([])),
            Call::SetAppField { module_key, body } => {
                // Jira's app field endpoint: one update of this issue, by its numeric id.
                let body: Value = serde_json::from_str(body).unwrap_or_default();
                let update = &body["updates"][0];
                let ours = module_key == incode_verify_core::jira::STATUS_FIELD
                    && update["issueIds"]
                        == json!([super::actors::ISSUE_ID.parse::<u64>().unwrap_or(0)]);
                let Some(text) = update["value"].as_str().filter(|_| ours) else {
                    return ok(400, json!({ "errorMessages": ["bad update"] }));
                };
                self.field = Some(text.to_owned());
                return ok(204, Value::Null);
            }
            Call::Incode { request } => {
                // A token, or a new session: Incode sends the employee a second link.
                let url = request.url.as_deref().unwrap_or("");
                if url.ends_with("/oauth2/token") {
                    return ok(
                        200,
                        json!({ "access_token": "incode-token", "expires_in": 3600 }),
                    );
                }
                self.sessions_started += 1;
                return ok(
                    200,
                    json!({ "interviewId": NEW_SESSION, "url": "https://incode.example/s/2" }),
                );
            }
        };
        let path = request.path.clone().unwrap_or_default();
        let body: Value = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        match (request.method, path.split('?').next().unwrap_or("")) {
            (Method::Get, p) if p.ends_with("/comment") => {
                let start_at = query(&path, "startAt");
                let max = query(&path, "maxResults").max(1);
                let newest: Vec<Value> = self
                    .comments
                    .iter()
                    .rev()
                    .skip(start_at)
                    .take(max)
                    .map(|key| {
                        json!({ "properties": [{ "key": EVENT_PROPERTY, "value": { "key": key } }] })
                    })
                    .collect();
                let page = json!({ "startAt": start_at, "maxResults": max,
                    "total": self.comments.len(), "comments": newest });
                ok(200, page)
            }
            (Method::Post, p) if p.ends_with("/comment") => {
                let key = body["properties"]
                    .as_array()
                    .and_then(|props| {
                        props
                            .iter()
                            .find(|p| p["key"] == EVENT_PROPERTY)
                            .map(|p| p["value"]["key"].clone())
                    })
                    .and_then(|k| k.as_str().map(str::to_owned))
                    .unwrap_or_default();
                self.comments.push(key);
                ok(201, json!({ "id": self.comments.len() }))
            }
            (Method::Get, p) if p.ends_with("/transitions") => {
                let offered: Vec<Value> = WORKFLOW
                    .iter()
                    .filter(|(from, ..)| *from == self.status)
                    .map(
                        |(_, id, name, to)| json!({ "id": id, "name": name, "to": { "name": to } }),
                    )
                    .collect();
                ok(200, json!({ "transitions": offered }))
            }
            (Method::Post, p) if p.ends_with("/transitions") => {
                let id = body["transition"]["id"].as_str().unwrap_or("");
                let found = WORKFLOW
                    .iter()
                    .find(|(from, tid, ..)| *from == self.status && *tid == id);
                match found {
                    Some((_, _, _, to)) => {
                        self.status = (*to).to_owned();
                        self.moves += 1;
                        ok(204, Value::Null)
                    }
                    None => ok(400, json!({ "errorMessages": ["not available"] })),
                }
            }
            (Method::Get, "/rest/api/3/mypermissions") => {
                let granted = json!({ "havePermission": true });
                ok(
                    200,
                    json!({ "permissions": { "BROWSE_PROJECTS": granted, "ADD_COMMENTS": granted,
                        "ADMINISTER": { "havePermission": false } } }),
                )
            }
            (Method::Get, "/rest/api/3/myself") => ok(
                200,
                json!({ "accountId": "agent-1", "displayName": "Agent One" }),
            ),
            (Method::Get, p)
                if p.starts_with("/rest/api/3/issue/")
                    && !p.trim_start_matches("/rest/api/3/issue/").contains('/') =>
            {
                ok(
                    200,
                    json!({ "fields": { "reporter": { "accountId": "customer-1",
                    "emailAddress": "jane.doe@example.com", "displayName": "Jane Doe" } } }),
                )
            }
            (Method::Put, p) if p.contains("/properties/") => {
                self.property = Some(body.to_string());
                ok(200, Value::Null)
            }
            _ => ok(404, Value::Null),
        }
    }
}

fn query(path: &str, name: &str) -> usize {
    path.split(['?', '&'])
        .find_map(|part| {
            part.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// How one step goes: everything lands and answers, or one operation fails.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum StepFault {
    None,
    /// The transaction never lands / lands with its answer lost.
    Transaction(CallFault),
    /// The lock swap never lands / lands with its answer lost.
    Swap(CallFault),
    /// The effect at this index: its first call that changes something fails or is lost.
    Effect(usize, CallFault),
}

/// The world's part of performing a step: as `src/run.js` does, every operation of the step,
/// answered in order (the swaps, the transaction, the puts, the effects). Also answers whether
/// the transaction landed.
pub fn perform<S, R>(
    kvs: &mut Kvs,
    jira: &mut Jira,
    step: &Step<S, R>,
    fault: StepFault,
    now: i64,
) -> (Results, bool) {
    let reads = step
        .reads
        .iter()
        .map(|r| Found {
            value: kvs.get(&r.key, r.secret, now),
            failed: None,
        })
        .collect();
    let swaps = step
        .swaps
        .iter()
        .map(|w| {
            let f = match fault {
                StepFault::Swap(f) => f,
                _ => CallFault::None,
            };
            let previous = kvs.current(w, now);
            if f != CallFault::Failed {
                kvs.set(w, now);
            }
            match f {
                CallFault::None => Found {
                    value: previous,
                    failed: None,
                },
                _ => Found {
                    value: Value::Null,
                    failed: Some("timeout".into()),
                },
            }
        })
        .collect();
    let tx = match fault {
        StepFault::Transaction(f) => f,
        _ => CallFault::None,
    };
    let mut write_failed = None;
    let mut landed = false;
    if !step.writes.is_empty() || !step.deletes.is_empty() || !step.entity_deletes.is_empty() {
        // A claimed entity key already holding a value, or a condition that does not hold,
        // fails the whole transaction.
        let claimed = step.writes.iter().any(|w| {
            let taken = step.claims.contains(&w.key)
                && w.entity
                    .as_deref()
                    .is_some_and(|e| kvs.entity(e, &w.key).is_some());
            taken || !kvs.meets(w, now)
        });
        if claimed && tx != CallFault::Failed {
            write_failed = Some("CONDITIONAL_CHECK_FAILED".to_owned());
        } else {
            if tx != CallFault::Failed {
                landed = true;
                for w in &step.writes {
                    kvs.set(w, now);
                }
                for d in &step.deletes {
                    kvs.delete(&d.key, d.secret);
                }
                for d in &step.entity_deletes {
                    kvs.entities.remove(&format!("{}/{}", d.entity, d.key));
                }
            }
            if tx != CallFault::None {
                write_failed = Some("timeout".to_owned());
            }
        }
    }
    // Each put on its own: a conditional one lands only while its condition holds (9).
    for w in &step.puts {
        if kvs.meets(w, now) {
            kvs.set(w, now);
        }
    }
    let effects = step
        .effects
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let f = match fault {
                StepFault::Effect(at, f) if at == i => f,
                _ => CallFault::None,
            };
            run_effect(jira, e.clone(), f, now)
        })
        .collect();
    let results = Results {
        now_ms: now,
        reads,
        swaps,
        write_failed,
        effects,
        ..Results::default()
    };
    (results, landed)
}

/// One effect's calls through the real adapter; `fault` strikes its first call that changes
/// something (or its only call).
fn run_effect(jira: &mut Jira, effect: Effect, fault: CallFault, now: i64) -> EffectResult {
    let mut progress = effects::begin(effect, now);
    let mut pending = fault;
    loop {
        match progress {
            Progress::Ended { result } => return result,
            Progress::Call { call, running } => {
                // A look-up changes nothing: the fault waits for the call that does.
                let changes = match &call {
                    Call::JiraAsApp { request } | Call::JiraAsUser { request } => {
                        request.method != Method::Get
                    }
                    Call::Incode { .. } | Call::Publish { .. } | Call::SetAppField { .. } => true,
                    _ => false,
                };
                let this = if changes { pending } else { CallFault::None };
                if this != CallFault::None {
                    pending = CallFault::None;
                }
                let answer = jira.answer(&call, this, now);
                progress = effects::advance(running, &answer);
            }
        }
    }
}
