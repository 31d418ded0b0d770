//! What a delivery does once it has swapped the session's lock (ARCHITECTURE.md "Why each outcome
//! still gets exactly one comment"): read the record consistently, decide, and commit the record
//! with the lock's release and the delivery log in one transaction beside the effects. Every
//! record write under the lock counts `rev`, repeated in the release marker; a failure after the
//! transaction says so on the lock (`signal`), ending the event's effects window.

use serde_json::Value;

use super::reply::{self, delivery_line, delivery_write, entry, finish, line, name_of};
use super::{
    authenticate, config_in_use, config_of, plain, record_key, At, Context, Delivery,
    DeliveryState, Kept, Planned,
};
use crate::audit::{self, Action};
use crate::effects::{Effect, EffectResult, Ended, PublishToken};
use crate::lock::{self, Found as LockFound, Inflight, Leave, Taken, EFFECTS_WINDOW_MS};
use crate::model::{EventRecord, IncodeEvent, IncodeEventType, LateResult, Shown};
use crate::plan::{Found, Results, Step, Ttl, Write};
use crate::state::{decide_event, EventActions, EventChange, IgnoreReason, RecordChange};
use crate::stored::{self, DeliveryEntry, Field, LastEvent, OutcomeEffects, StoredVerification};
use crate::template::CompiledTemplates;
use crate::webhook::WebhookReceipt;

/// Outcome events whose effects a record keeps for checking (a session has at most three).
const OUTCOMES_KEPT: usize = 5;
/// A duplicate re-checks its outcome's transition only this soon after the event was applied.
const RECHECK_TRANSITION_MS: i64 = 86_400_000;
const RECORD_TTL: Ttl = Ttl::days(400);

/// Where a delivery stands under the lock.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Stage {
    /// An answer's transaction released the lock: released alone when it failed.
    Answered {
        taken: Taken,
        status: u16,
        verdict: String,
        reason: String,
    },
    /// The record read beside the swap was stale: read again.
    Rereading { event: IncodeEvent, taken: Taken },
    /// No record: is it an admin's test session? (`kind`: the event's, for the audit entry)
    TestSession {
        taken: Taken,
        careful: bool,
        kind: String,
    },
    /// A late result's transaction.
    Late { taken: Taken, reason: String },
    /// A duplicate's transaction with the checks of its event's effects.
    Checking {
        taken: Taken,
        unchanged: i64,
        careful: bool,
        key: String,
        did: Vec<Did>,
        log: DeliveryEntry,
    },
    /// W3: the new record's transaction with the event's effects.
    Applying {
        taken: Taken,
        rev: i64,
        careful: bool,
        risky: bool,
        key: String,
        did: Vec<Did>,
        log: DeliveryEntry,
    },
}

/// Which of the event's effects a result is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Did {
    Comment,
    Transition,
    Property,
    Panel,
}

impl Did {
    fn name(self) -> &'static str {
        match self {
            Did::Comment => "comment",
            Did::Transition => "transition",
            Did::Property => "property",
            Did::Panel => "panel",
        }
    }
}

fn locked(ctx: Context, stage: Stage) -> DeliveryState {
    DeliveryState {
        ctx,
        at: At::Locked(stage),
    }
}

/// Leaves the lock as it was found (the `rev` it named).
fn as_found(taken: &Taken) -> Leave {
    Leave {
        rev: taken.rev,
        ..Leave::unknown(taken)
    }
}

fn rev_of(record: &Value) -> i64 {
    if record.is_null() {
        return -1;
    }
    record.get("rev").and_then(Value::as_i64).unwrap_or(0)
}

/// W2's results: the lock's previous value, the record (and the settings' revision).
pub(super) fn lock_taken(
    mut ctx: Context,
    event: IncodeEvent,
    delivery: Option<Delivery>,
    results: Results,
) -> Planned {
    let session_id = event.session_id.clone();
    let swapped = results.swaps.into_iter().next().unwrap_or_default();
    if let Some(code) = swapped.failed {
        // The swap may or may not have landed: if it did, its lease runs out and the next is careful.
        let mut step = reply::answer(ctx, 503, "error", "storage_unavailable", Vec::new(), None);
        step.logs.push(line(
            "webhook.lock_failed",
            vec![("code", code.into()), ("sessionId", session_id.into())],
        ));
        return step;
    }
    let mut reads = results.reads.into_iter();
    let record = reads.next().unwrap_or_default();
    let legacy = reads.next().unwrap_or_default();
    let key = format!("lock:{session_id}");
    let taken = lock::found(&key, &ctx.owner, swapped.value, &legacy.value, ctx.now_ms);
    if taken.found == LockFound::Busy {
        let put_back = lock::put_back(&taken);
        let mut step = reply::answer(ctx, 503, "error", "busy", Vec::new(), None);
        step.puts.extend(put_back);
        return step;
    }
    if let Some(delivery) = delivery {
        let revision = match reads.next() {
            Some(Found {
                failed: Some(code), ..
            }) => Err(super::ConfigFailure::Unavailable(code)),
            Some(Found { value, .. }) => super::confirmed_revision(&ctx.memory, &value),
            None => Ok(Some(0)),
        };
        let kept = config_in_use(&ctx).map(|c| c.revision);
        if revision.as_ref().ok().copied().flatten() != kept {
            // Saved since this instance kept the settings: authenticate again with what is
            // stored now (one more round trip, only after a save).
            ctx.memory.kept = None;
            ctx.config = None;
            let release = vec![lock::release(&taken, &as_found(&taken))];
            return match revision {
                Err(failure) => {
                    reply::answer(ctx, 503, "error", failure.reason(), release, Some(taken))
                }
                Ok(_) => {
                    let reads = super::delivery_config_reads();
                    Step {
                        reads,
                        ..Step::then(DeliveryState {
                            ctx,
                            at: At::Refreshing {
                                event,
                                delivery,
                                taken,
                                record,
                            },
                        })
                    }
                }
            };
        }
    }
    with_record(ctx, event, taken, record)
}

/// The settings read again after a save: the delivery is authenticated once more.
pub(super) fn refreshed(
    mut ctx: Context,
    event: IncodeEvent,
    delivery: Delivery,
    taken: Taken,
    record: Found,
    results: Results,
) -> Planned {
    let release = lock::release(&taken, &as_found(&taken));
    let config = match config_of(&results.reads) {
        Ok((config, _)) => config,
        Err(failure) => {
            return reply::answer(
                ctx,
                503,
                "error",
                failure.reason(),
                vec![release],
                Some(taken),
            )
        }
    };
    let done = results
        .reads
        .get(super::CHECKLIST_READ)
        .and_then(|r| r.value.get("webhookReceivedAtMs"))
        .is_some_and(|at| !at.is_null());
    let receipt = authenticate(&config, &delivery, ctx.now_ms);
    if done {
        ctx.memory.kept = Some(Kept {
            revision_key: super::revision_key_holds(&results.reads, &config),
            config,
            read_at_ms: ctx.now_ms,
        });
    } else {
        ctx.config = Some(config);
    }
    let same = matches!(&receipt, WebhookReceipt::Event { event: again }
        if again.session_id == event.session_id && again.kind == event.kind);
    if !same {
        let mut step = match receipt {
            WebhookReceipt::Rejected { reason, .. } => reply::refused(ctx, &reason, Vec::new()),
            _ => reply::answer(ctx, 503, "error", "settings_changed", Vec::new(), None),
        };
        step.puts.push(release);
        return step;
    }
    with_record(ctx, event, taken, record)
}

/// The record read beside the swap is used only when the swap proves no one committed since.
fn with_record(ctx: Context, event: IncodeEvent, taken: Taken, record: Found) -> Planned {
    if let Some(code) = record.failed {
        let release = vec![lock::release(&taken, &as_found(&taken))];
        let session_id = event.session_id;
        let mut step = reply::answer(
            ctx,
            503,
            "error",
            "storage_unavailable",
            release,
            Some(taken),
        );
        step.logs.push(line(
            "webhook.record_unavailable",
            vec![("code", code.into()), ("sessionId", session_id.into())],
        ));
        return step;
    }
    let consistent = match taken.found {
        LockFound::Free => true,
        LockFound::Released => taken.rev == Some(rev_of(&record.value)),
        LockFound::Expired | LockFound::Busy => false,
    };
    if !consistent {
        return Step {
            reads: vec![plain(&record_key(&event.session_id))],
            ..Step::then(locked(ctx, Stage::Rereading { event, taken }))
        };
    }
    decide(ctx, event, taken, record.value)
}

/// The steps after W2.
pub(super) fn next(ctx: Context, stage: Stage, results: Results) -> Planned {
    let failed = results.write_failed.is_some();
    match stage {
        Stage::Answered {
            taken,
            status,
            verdict,
            reason,
        } => {
            let puts = if failed {
                vec![lock::release(&taken, &Leave::unknown(&taken))]
            } else {
                Vec::new()
            };
            Step {
                puts,
                ..Step::reply(finish(ctx, status, &verdict, &reason))
            }
        }
        Stage::Rereading { event, taken } => {
            let record = results.reads.into_iter().next().unwrap_or_default();
            match record.failed {
                Some(_) => unsure(ctx, taken),
                None => decide(ctx, event, taken, record.value),
            }
        }
        Stage::TestSession {
            taken,
            careful,
            kind,
        } => {
            let marker = results.reads.into_iter().next().unwrap_or_default();
            if marker.failed.is_some() {
                return unsure(ctx, taken);
            }
            // 202 either way: Incode must not keep retrying a session this site never sent.
            let reason = if marker.value.is_null() {
                "unknown_session"
            } else {
                "test_session"
            };
            let leave = Leave {
                rev: Some(-1),
                careful,
                ..Leave::unknown(&taken)
            };
            let mut writes = vec![lock::release(&taken, &leave)];
            if marker.value.is_null() {
                let sid = ctx.entry.session_id.clone();
                let unknown = serde_json::json!({ "sessionId": sid });
                writes.push(audit_write(
                    &ctx,
                    Action::IgnoredResult,
                    &unknown,
                    &kind,
                    reason,
                ));
            }
            reply::answer(ctx, 202, "ignored", reason, writes, Some(taken))
        }
        Stage::Late { taken, reason } => {
            if !failed {
                return Step::reply(finish(ctx, 200, "ignored", &reason));
            }
            let lost = entry(&ctx, 503, "error", "storage_unavailable");
            Step {
                puts: vec![lock::release(&taken, &Leave::unknown(&taken))],
                logs: vec![delivery_line(&lost)],
                ..Step::reply(finish(ctx, 503, "error", "storage_unavailable"))
            }
        }
        Stage::Checking {
            taken,
            unchanged,
            careful,
            key,
            did,
            log,
        } => {
            let (incomplete, busy, logs) = outcome_of(&ctx, &did, &results.effects);
            if !failed && !incomplete && !busy {
                return Step {
                    logs,
                    ..Step::reply(finish(ctx, 200, "duplicate", "duplicate"))
                };
            }
            let reason = if failed {
                "storage_unavailable"
            } else if incomplete {
                "effects_pending"
            } else {
                "busy"
            };
            let leave = after_effects(&taken, (!failed).then_some(unchanged), careful, key);
            let mut step = signal(ctx, taken, leave, &log, reason);
            step.logs.splice(0..0, logs);
            step
        }
        Stage::Applying {
            taken,
            rev,
            careful,
            risky,
            key,
            did,
            log,
        } => {
            let (incomplete, _, logs) = outcome_of(&ctx, &did, &results.effects);
            if !failed && !incomplete {
                let reason = log.reason.clone();
                return Step {
                    logs,
                    ..Step::reply(finish(ctx, 200, "accepted", &reason))
                };
            }
            // Not committed: the record may not have landed while effects did, so the retry
            // applies the event carefully. Committed: the retry is a duplicate, which checks
            // and finishes the effects.
            let (rev, careful, reason) = if failed {
                (None, careful || risky, "storage_unavailable")
            } else {
                (Some(rev), careful, "effects_pending")
            };
            let leave = after_effects(&taken, rev, careful, key);
            let mut step = signal(ctx, taken, leave, &log, reason);
            step.logs.splice(0..0, logs);
            step
        }
    }
}

/// The lock left when a step's effects for the event `key` did not all finish: at `rev` when the
/// record committed, with what was in flight and the event they were for.
fn after_effects(taken: &Taken, rev: Option<i64>, careful: bool, key: String) -> Leave {
    Leave {
        rev,
        careful,
        inflight: taken.inflight.clone(),
        event_key: key,
    }
}

/// A read under the lock failed: what ran is unknown, so the lock is left careful.
fn unsure(ctx: Context, taken: Taken) -> Planned {
    let leave = Leave {
        careful: true,
        ..Leave::unknown(&taken)
    };
    let log = entry(&ctx, 503, "error", "storage_unavailable");
    signal(ctx, taken, leave, &log, "storage_unavailable")
}

/// The failure path after the last transaction: says so on the lock (`lock::signal`, ending the
/// event's effects window) and rewrites the delivery's log entry with the answer actually given.
fn signal(ctx: Context, taken: Taken, leave: Leave, log: &DeliveryEntry, reason: &str) -> Planned {
    let now = DeliveryEntry {
        verdict: "error".to_owned(),
        reason: reason.to_owned(),
        http_status: 503,
        ..log.clone()
    };
    Step {
        puts: vec![lock::signal(&taken, &leave)],
        writes: vec![delivery_write(&ctx, &now)],
        logs: vec![delivery_line(&now)],
        ..Step::reply(finish(ctx, 503, "error", reason))
    }
}

/// Whether any effect must be retried (each logged), and whether a look-only one saw work left.
fn outcome_of(
    ctx: &Context,
    did: &[Did],
    results: &[EffectResult],
) -> (bool, bool, Vec<crate::plan::LogLine>) {
    let mut incomplete = false;
    let mut busy = false;
    let mut logs = Vec::new();
    for (what, result) in did.iter().zip(results) {
        if *what == Did::Panel {
            // Live updates are best effort: the panel also polls.
            continue;
        }
        let fields = |logs: &mut Vec<_>, event: &str| {
            logs.push(line(
                event,
                vec![
                    ("effect", what.name().into()),
                    ("status", result.status.into()),
                    ("sessionId", ctx.entry.session_id.as_str().into()),
                    ("issueKey", ctx.entry.issue_key.as_str().into()),
                ],
            ));
        };
        match result.ended {
            Ended::Retry => {
                incomplete = true;
                fields(&mut logs, "webhook.effect_pending");
            }
            Ended::Busy => busy = true,
            Ended::Dropped => fields(&mut logs, "effect.dropped"),
            Ended::Done => {}
        }
    }
    (incomplete, busy, logs)
}

/// The event decided on the record.
fn decide(mut ctx: Context, event: IncodeEvent, taken: Taken, value: Value) -> Planned {
    if value.is_null() {
        let careful = taken.careful;
        let kind = name_of(&event.kind);
        return Step {
            reads: vec![plain(&format!("test:{}", event.session_id))],
            ..Step::then(locked(
                ctx,
                Stage::TestSession {
                    taken,
                    careful,
                    kind,
                },
            ))
        };
    }
    let read = stored::read_as::<StoredVerification>(&value)
        .and_then(|rec| stored::event_record(&value, &rec).map(|er| (rec, er)));
    let config = config_in_use(&ctx).cloned();
    let (Ok((rec, er)), Some(config)) = (read, config) else {
        let release = vec![lock::release(&taken, &Leave::unknown(&taken))];
        let mut step = reply::answer(ctx, 500, "error", "internal_error", release, Some(taken));
        step.logs
            .push(line("webhook.record_unreadable", Vec::new()));
        return step;
    };
    // `careful` is sticky: on the lock and, from the first commit after it, on the record.
    let careful = taken.careful || rec.careful.value() == Some(&true);
    ctx.entry.issue_key.clone_from(&rec.issue_key);
    ctx.entry.status.clone_from(&rec.status);
    let unchanged = rec.rev.value().copied().unwrap_or(0);
    let templates =
        CompiledTemplates::saved(&config.settings.templates, &config.settings.template_code);
    let change = decide_event(&er, &event, &config.settings, &templates, ctx.now_ms);
    let held = OnRecord {
        taken,
        rec,
        value,
        careful,
        unchanged,
    };
    match change {
        EventChange::Refused { reason } => refused(ctx, &event, held, &name_of(&reason)),
        EventChange::Ignored {
            reason: IgnoreReason::Duplicate,
        } => duplicate(ctx, &event, held, &er, &config.settings),
        EventChange::Ignored { reason } => ignored(ctx, &event, held, &name_of(&reason)),
        EventChange::Late {
            idempotency_key,
            late,
            late_results_dropped,
            applied_events_dropped,
        } => {
            let dropped = (late_results_dropped, applied_events_dropped);
            kept_late(ctx, &event, held, idempotency_key, late, dropped)
        }
        EventChange::Applied {
            idempotency_key,
            change,
            actions,
        } => applied(ctx, &event, held, idempotency_key, change, actions),
    }
}

/// What each way of deciding an event works from: the lock, the record (as its type and as
/// stored), whether the session is handled carefully, and the record's `rev` as read.
struct OnRecord {
    taken: Taken,
    rec: StoredVerification,
    value: Value,
    careful: bool,
    unchanged: i64,
}

impl OnRecord {
    /// The lock's release with the record at `rev`.
    fn at_rev(&self, rev: i64) -> Leave {
        Leave {
            rev: Some(rev),
            careful: self.careful,
            ..Leave::unknown(&self.taken)
        }
    }
}

/// A result refused for the verification's safety: answered 200 so that Incode does not retry an
/// event that will never be applied.
fn refused(ctx: Context, event: &IncodeEvent, held: OnRecord, reason: &str) -> Planned {
    let kind = name_of(&event.kind);
    let release = vec![
        lock::release(&held.taken, &held.at_rev(held.unchanged)),
        audit_write(&ctx, Action::IgnoredResult, &held.value, &kind, reason),
    ];
    reply::answer(ctx, 200, "rejected", reason, release, Some(held.taken))
}

/// An event that changes nothing; a result among them leaves an audit entry.
fn ignored(ctx: Context, event: &IncodeEvent, held: OnRecord, reason: &str) -> Planned {
    let mut release = vec![lock::release(&held.taken, &held.at_rev(held.unchanged))];
    if is_result(event.kind) {
        let kind = name_of(&event.kind);
        release.push(audit_write(
            &ctx,
            Action::IgnoredResult,
            &held.value,
            &kind,
            reason,
        ));
    }
    reply::answer(ctx, 200, "ignored", reason, release, Some(held.taken))
}

/// A late result, kept on the record (the panel shows it), nothing else: no comment, transition
/// or status. `dropped`: how many of the oldest late results and applied events drop off.
fn kept_late(
    ctx: Context,
    event: &IncodeEvent,
    held: OnRecord,
    idempotency_key: String,
    late: LateResult,
    dropped: (usize, usize),
) -> Planned {
    let reason = name_of(&late.reason);
    let rev = held.unchanged + 1;
    let release = lock::release(&held.taken, &held.at_rev(rev));
    let OnRecord {
        taken,
        rec: mut kept,
        value,
        careful,
        ..
    } = held;
    let mut results = kept.late_results.value().cloned().unwrap_or_default();
    results.drain(..dropped.0.min(results.len()));
    results.push(late);
    kept.late_results = Field::Set(results);
    let applied = &mut kept.applied_events;
    applied.drain(..dropped.1.min(applied.len()));
    applied.push(idempotency_key);
    let kind = name_of(&event.kind);
    let trail = audit_write(&ctx, Action::LateResult, &value, &kind, &reason);
    let record = record_write(&ctx, &taken, kept, careful, rev, value);
    let done = entry(&ctx, 200, "ignored", &reason);
    let mut writes = vec![record, release, trail];
    writes.extend(ctx.extra.iter().cloned());
    writes.push(delivery_write(&ctx, &done));
    Step {
        writes,
        logs: vec![delivery_line(&done)],
        ..Step::then(locked(ctx, Stage::Late { taken, reason }))
    }
}

/// An applied event: the new record, the lock's release naming the event in flight, the audit
/// entry of an outcome and the delivery log in one transaction, beside the event's effects.
fn applied(
    mut ctx: Context,
    event: &IncodeEvent,
    held: OnRecord,
    key: String,
    change: RecordChange,
    actions: EventActions,
) -> Planned {
    let OnRecord {
        taken,
        rec,
        value,
        careful,
        unchanged,
    } = held;
    let rev = unchanged + 1;
    let kind = name_of(&event.kind);
    let status = name_of(&change.status);
    let trail = actions.outcome.map(|_| {
        let mut outcome = audit::Entry::of_record(Action::Outcome, &value, ctx.now_ms);
        outcome.outcome.clone_from(&status);
        outcome.identity_id.clone_from(&change.identity_id);
        outcome
            .because(kind.as_str())
            .write(format!("outcome:{key}"))
    });
    let mut next = rec;
    next.status = name_of(&change.status);
    next.status_text = change.status_text;
    next.updated_at_ms = change.updated_at_ms;
    next.identity_id = change.identity_id;
    next.history.push(change.history_entry);
    let applied = &mut next.applied_events;
    applied.drain(..change.applied_events_dropped.min(applied.len()));
    applied.push(key.clone());
    next.last = Field::Set(LastEvent {
        key: key.clone(),
        kind: kind.clone(),
    });
    let mut outcomes = next.outcomes.value().cloned().unwrap_or_default();
    if let Some(outcome) = actions.outcome {
        outcomes.retain(|o| o.key != key);
        outcomes.push(OutcomeEffects {
            key: key.clone(),
            kind: kind.clone(),
            outcome,
            comment: actions.comment.clone(),
            transition: actions.transition_name.clone(),
            at_ms: ctx.now_ms,
        });
        let over = outcomes.len().saturating_sub(OUTCOMES_KEPT);
        outcomes.drain(..over);
    }
    next.outcomes = Field::Set(outcomes);
    let transitions = next.transitions.value().cloned().unwrap_or_default();
    next.transitions = Field::Set(transitions);
    if next.publish.is_absent() {
        next.publish = Field::Null;
    }
    ctx.entry.status.clone_from(&next.status);
    let issue_key = next.issue_key.clone();
    let mut did = Vec::new();
    let mut effects = Vec::new();
    let risky = actions.comment.is_some() || actions.transition_name.is_some();
    if let Some(request) = actions.comment {
        did.push(Did::Comment);
        effects.push(Effect::PostOutcomeComment {
            issue_key: issue_key.clone(),
            event_key: key.clone(),
            request,
            look_first: careful,
        });
    }
    if let (Some(outcome), Some(name)) = (actions.outcome, actions.transition_name) {
        // The id chosen at send time, for the name configured now; careful: looked up.
        let known_id = next
            .known_transition(&name_of(&outcome))
            .filter(|known| !careful && known.name == name && !known.id.is_empty())
            .map(|known| known.id);
        did.push(Did::Transition);
        effects.push(Effect::TakeOutcomeTransition {
            issue_key: issue_key.clone(),
            outcome,
            name,
            known_id,
        });
    }
    did.push(Did::Property);
    effects.push(Effect::RecordStatus {
        issue_id: next.issue_id.clone(),
        text: next.status_text.clone(),
    });
    did.push(Did::Panel);
    effects.push(Effect::TellPanel {
        issue_id: next.issue_id.clone(),
        channel: actions.realtime.channel,
        payload: actions.realtime.payload,
        token: next.publish.value().map(|p| PublishToken {
            token: p.token.clone(),
            expires_at_ms: p.expires_at_ms,
        }),
    });
    did.push(Did::Property);
    effects.push(Effect::IndexStatus {
        request: actions.property,
    });
    let done = entry(&ctx, 200, "accepted", &kind);
    let mut inflight = taken.inflight.clone();
    inflight.push(Inflight {
        key: key.clone(),
        until_ms: ctx.now_ms + EFFECTS_WINDOW_MS,
    });
    let release = Leave {
        rev: Some(rev),
        careful,
        inflight,
        event_key: key.clone(),
    };
    let record = record_write(&ctx, &taken, next, careful, rev, value);
    let mut writes = vec![record, lock::release(&taken, &release)];
    writes.extend(trail);
    effects_under_lock(ctx, writes, effects, done, |log| Stage::Applying {
        taken,
        rev,
        careful,
        risky,
        key,
        did,
        log,
    })
}

/// The step that commits `writes` (the lock's release among them) with the delivery's entry and
/// runs `effects` under the lock; the next stage, given the entry, waits on them.
fn effects_under_lock(
    ctx: Context,
    mut writes: Vec<Write>,
    effects: Vec<Effect>,
    done: DeliveryEntry,
    next: impl FnOnce(DeliveryEntry) -> Stage,
) -> Planned {
    writes.push(delivery_write(&ctx, &done));
    writes.extend(ctx.extra.iter().cloned());
    Step {
        writes,
        effects,
        logs: vec![delivery_line(&done)],
        ..Step::then(locked(ctx, next(done)))
    }
}

/// The audit entry of a result that was not applied (late, refused, for no verification), under
/// a key naming the session and the event, so Incode's retries of it leave one entry.
fn audit_write(ctx: &Context, action: Action, record: &Value, kind: &str, why: &str) -> Write {
    let prefix = match action {
        Action::LateResult => "late",
        _ => "ignored",
    };
    let key = format!("{prefix}:{}:{kind}", ctx.entry.session_id);
    audit::Entry::of_record(action, record, ctx.now_ms)
        .because(why)
        .write(key)
}

/// Whether an event reports a result (not a step of the session).
fn is_result(kind: IncodeEventType) -> bool {
    !matches!(
        kind,
        IncodeEventType::Started | IncodeEventType::Progress | IncodeEventType::IdentityEnrolled
    )
}

/// The record as written under the lock: its `rev`, the owner that wrote it, `careful`.
fn record_write(
    ctx: &Context,
    taken: &Taken,
    mut record: StoredVerification,
    careful: bool,
    rev: i64,
    original: Value,
) -> Write {
    record.schema_version = stored::SCHEMA_VERSION;
    record.rev = Field::Set(rev);
    record.by = Field::Set(taken.owner.clone());
    record.careful = Field::Set(careful);
    Write {
        key: record_key(&ctx.entry.session_id),
        value: stored::to_store(&record, original),
        ttl: Some(RECORD_TTL),
        secret: false,
        entity: None,
        only_if: None,
    }
}

/// A delivery of an applied event: its effects may not all have landed (the first delivery
/// failed, or died after its transaction), so they are checked. While the first delivery may
/// still be landing them (its event is in flight), they are only looked at: anything missing is
/// answered 503 (retry later), never redone meanwhile.
fn duplicate(
    ctx: Context,
    event: &IncodeEvent,
    held: OnRecord,
    er: &EventRecord,
    settings: &crate::model::Settings,
) -> Planned {
    let leave = held.at_rev(held.unchanged);
    let OnRecord {
        taken,
        rec,
        careful,
        unchanged,
        ..
    } = held;
    let kind = name_of(&event.kind);
    let outcomes: &[OutcomeEffects] = rec.outcomes.value().map_or(&[], Vec::as_slice);
    let applied = outcomes.iter().position(|o| o.kind == kind);
    let applied = applied.and_then(|i| outcomes.get(i).map(|o| (i, o)));
    let last_key = rec
        .last
        .value()
        .filter(|l| l.kind == kind)
        .map(|l| l.key.clone());
    let key = applied.map(|(_, o)| o.key.clone()).or(last_key.clone());
    let inflight = taken.inflight.clone();
    let probing = key
        .as_ref()
        .is_some_and(|k| inflight.iter().any(|i| &i.key == k));
    let issue_key = rec.issue_key.clone();
    let mut did = Vec::new();
    let mut effects = Vec::new();
    if let Some((index, applied)) = applied {
        if let Some(request) = &applied.comment {
            did.push(Did::Comment);
            effects.push(if probing {
                Effect::FindOutcomeComment {
                    issue_key: issue_key.clone(),
                    event_key: applied.key.clone(),
                }
            } else {
                Effect::PostOutcomeComment {
                    issue_key: issue_key.clone(),
                    event_key: applied.key.clone(),
                    request: request.clone(),
                    look_first: true,
                }
            });
        }
        let latest = index + 1 == outcomes.len();
        let recent = ctx.now_ms - applied.at_ms < RECHECK_TRANSITION_MS;
        if applied.transition.is_some() && latest && recent {
            let outcome = applied.outcome;
            let name = settings.transitions.get(outcome).trim().to_owned();
            did.push(Did::Transition);
            effects.push(if probing {
                Effect::CheckOutcomeTransition {
                    issue_key: issue_key.clone(),
                    outcome,
                    name,
                }
            } else {
                Effect::TakeOutcomeTransition {
                    issue_key: issue_key.clone(),
                    outcome,
                    name,
                    known_id: None,
                }
            });
        }
    }
    if last_key.is_some() {
        // The property is written whole from the record, so it is simply written again.
        let shown = Shown {
            id: &er.id,
            session_id: &er.session_id,
            issue_key: &er.issue_key,
            issue_id: &er.issue_id,
            email: &er.email,
            name: &er.name,
            delivery: er.delivery,
            requested_by_name: &er.requested_by_name,
            status: er.status,
            status_text: &er.status_text,
            identity_id: &er.identity_id,
            updated_at_ms: rec.updated_at_ms,
        };
        did.push(Did::Property);
        effects.push(Effect::record_status(&shown));
        did.push(Did::Property);
        effects.push(Effect::index_status(&issue_key, &shown));
    }
    let Some(key) = key.filter(|_| !effects.is_empty()) else {
        let release = vec![lock::release(&taken, &leave)];
        return reply::answer(ctx, 200, "duplicate", "duplicate", release, Some(taken));
    };
    let done = entry(&ctx, 200, "duplicate", "duplicate");
    let mut window = inflight;
    if !probing {
        window.push(Inflight {
            key: key.clone(),
            until_ms: ctx.now_ms + EFFECTS_WINDOW_MS,
        });
    }
    let release = Leave {
        inflight: window,
        ..leave
    };
    let writes = vec![lock::release(&taken, &release)];
    effects_under_lock(ctx, writes, effects, done, |log| Stage::Checking {
        taken,
        unchanged,
        careful,
        key,
        did,
        log,
    })
}
