//! Who acts on the session, each through its real planner: Incode's deliveries of one event
//! (authentic, forged, or for a session this site never sent), an agent's cancel and resend, and
//! an agent opening the panel once the link is past its expiry (which saves it expired).

use hmac::{KeyInit, Mac};
use incode_verify_core::actions::cancel::{self, CancelInput, CancelState, CancelStep};
use incode_verify_core::actions::open::{self, OpenInput, OpenState, OpenStep};
use incode_verify_core::actions::send::{self, SendInput, SendState, SendStep};
use incode_verify_core::actions::{Answer, CallerContext};
use incode_verify_core::delivery::{self, DeliveryRequest, DeliveryState};
use incode_verify_core::model::WebhookAuth;
use incode_verify_core::plan::{Results, Step};
use serde_json::json;

use super::{settings, SECRET, SESSION};

pub const ISSUE_ID: &str = "10001";
pub const ISSUE_KEY: &str = "HD-1";
/// A session id no link of this site started.
pub const UNKNOWN_SESSION: &str = "85f0c1d2e3a4b5c6d7e8f903";

/// One actor's part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Incode delivering one event (`SESSION_SUCCEEDED`, ...) of `session`; `forged`: signed
    /// with another secret.
    Delivery {
        event: &'static str,
        session: &'static str,
        forged: bool,
    },
    Cancel,
    Resend,
    /// The panel opened (it saves a link past its expiry as expired).
    Open,
}

impl Role {
    pub const fn delivery(event: &'static str) -> Role {
        Role::Delivery {
            event,
            session: SESSION,
            forged: false,
        }
    }

    /// An authentic delivery for the verification: Incode retries it until it succeeds.
    pub fn genuine(self) -> bool {
        matches!(self, Role::Delivery { session, forged: false, .. } if session == SESSION)
    }

    pub fn is_delivery(self) -> bool {
        matches!(self, Role::Delivery { .. })
    }
}

/// The planners the model runs; a test swaps one for a broken copy.
#[derive(Clone, Copy)]
pub struct Planners {
    pub delivery_next: fn(DeliveryState, Results) -> delivery::Planned,
    pub cancel_next: fn(CancelState, Results) -> CancelStep,
    pub send_next: fn(SendState, Results) -> SendStep,
    pub open_next: fn(OpenState, Results) -> OpenStep,
}

pub const REAL: Planners = Planners {
    delivery_next: delivery::next,
    cancel_next: cancel::next,
    send_next: send::next,
    open_next: open::next,
};

/// A planned step of any actor. The planners' states are compared by value and hashed by their
/// debug form, which shows every field.
#[derive(Clone, Debug, PartialEq)]
pub enum Planned {
    Delivery(Box<delivery::Planned>),
    Cancel(Box<CancelStep>),
    Send(Box<SendStep>),
    Open(Box<OpenStep>),
}

impl Eq for Planned {}

impl std::hash::Hash for Planned {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        format!("{self:?}").hash(state);
    }
}

/// A step's operations without its state or reply.
pub type Ops = Step<(), ()>;

fn ops_of<S, R>(step: &Step<S, R>) -> Ops {
    Step {
        reads: step.reads.clone(),
        swaps: step.swaps.clone(),
        writes: step.writes.clone(),
        puts: step.puts.clone(),
        deletes: step.deletes.clone(),
        claims: step.claims.clone(),
        entity_deletes: step.entity_deletes.clone(),
        queries: step.queries.clone(),
        entity_queries: step.entity_queries.clone(),
        effects: step.effects.clone(),
        logs: Vec::new(),
        state: None,
        reply: None,
    }
}

/// An agent action's answer as a status: 200 done, 503 refused and worth retrying, 409 refused.
fn status_of<T>(answer: &Answer<T>) -> u16 {
    match answer {
        Answer::Done { .. } => 200,
        Answer::Refused { error, .. } if error.retryable => 503,
        Answer::Refused { .. } => 409,
    }
}

impl Planned {
    pub fn ops(&self) -> Ops {
        match self {
            Planned::Delivery(s) => ops_of(s),
            Planned::Cancel(s) => ops_of(s),
            Planned::Send(s) => ops_of(s),
            Planned::Open(s) => ops_of(s),
        }
    }

    /// The answer's status when this is the last step.
    pub fn last(&self) -> Option<u16> {
        match self {
            Planned::Delivery(s) => s
                .state
                .is_none()
                .then(|| s.reply.as_ref().map_or(0, |r| r.response.status_code)),
            Planned::Cancel(s) => s
                .state
                .is_none()
                .then(|| s.reply.as_ref().map_or(0, status_of)),
            Planned::Send(s) => s
                .state
                .is_none()
                .then(|| s.reply.as_ref().map_or(0, status_of)),
            Planned::Open(s) => s
                .state
                .is_none()
                .then(|| s.reply.as_ref().map_or(0, status_of)),
        }
    }

    /// The step after this one, given its results (None: this was the last).
    pub fn next(self, planners: &Planners, results: Results) -> Option<Planned> {
        Some(match self {
            Planned::Delivery(s) => {
                Planned::Delivery(Box::new((planners.delivery_next)(s.state?, results)))
            }
            Planned::Cancel(s) => {
                Planned::Cancel(Box::new((planners.cancel_next)(s.state?, results)))
            }
            Planned::Send(s) => Planned::Send(Box::new((planners.send_next)(s.state?, results))),
            Planned::Open(s) => Planned::Open(Box::new((planners.open_next)(s.state?, results))),
        })
    }
}

pub fn owner(actor: usize, attempt: u8) -> String {
    format!("owner{actor}x{attempt}")
}

fn agent() -> CallerContext {
    CallerContext {
        account_id: json!("agent-1"),
        account_type: json!("licensed"),
        issue_id: json!(ISSUE_ID),
        issue_key: json!(ISSUE_KEY),
        request_key: json!(null),
    }
}

fn signature(secret: &str, body: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The first step of `role`'s attempt.
pub fn start(role: Role, actor: usize, attempt: u8, now: i64) -> Planned {
    let owner = owner(actor, attempt);
    match role {
        Role::Delivery {
            event,
            session,
            forged,
        } => {
            let body = json!({ "eventType": event, "interviewId": session, "identityId": "id-1",
                "loginHint": "jane.doe@example.com", "timestamp": "2026-11-22T10:00:00Z" })
            .to_string();
            let header = match &settings().webhook_auth {
                WebhookAuth::Hmac { header, .. } => header.clone(),
                _ => "x-incode-signature".into(),
            };
            let secret = if forged {
                "whsec_guessed_by_someone"
            } else {
                SECRET
            };
            Planned::Delivery(Box::new(delivery::start(DeliveryRequest {
                method: "POST".into(),
                headers: json!({ header: [signature(secret, &body)] }),
                body,
                now_ms: now,
                owner,
                nonce: format!("n{actor}{attempt}"),
                memory: None,
            })))
        }
        Role::Cancel => Planned::Cancel(Box::new(cancel::start(CancelInput {
            owner,
            now_ms: now,
            context: agent(),
            payload: json!({ "verificationId": "v1" }),
        }))),
        Role::Resend => Planned::Send(Box::new(send::start(SendInput {
            owner,
            verification_id: "v2".into(),
            now_ms: now,
            context: agent(),
            payload: json!({ "verificationId": "v1" }),
            resend: true,
        }))),
        Role::Open => Planned::Open(Box::new(open::start(OpenInput {
            owner,
            now_ms: now,
            context: agent(),
        }))),
    }
}
