//! What the codes the app stores mean, in plain words: the event a delivery applied, why one was
//! not applied, and the detail of an audit entry. The delivery log and the audit trail store the
//! codes; the admin page's deliveries table, the audit report and its CSV read these words.

use crate::audit::Action;

/// An applied delivery's event (`DeliveryEntry.reason` of an accepted delivery, an outcome's
/// audit detail).
const APPLIED: [(&str, &str); 8] = [
    ("started", "The employee opened the link"),
    ("progress", "The employee is going through the verification"),
    ("succeeded", "Verification passed"),
    ("failed", "Verification failed"),
    ("pendingReview", "Sent to manual review"),
    ("identityEnrolled", "Identity enrolled at Incode"),
    ("reviewApproved", "Manual review approved"),
    ("reviewRejected", "Manual review rejected"),
];

/// Why a delivery was not applied as it came (its reason code), or why a result was not.
const REASONS: [(&str, &str); 37] = [
    // Ignored or repeated
    ("test_session", "Test verification received ✓ (no ticket is changed)"),
    ("unknown_session", "No verification sent from Jira has this session"),
    ("duplicate", "Already applied: Incode sent this event again"),
    ("afterFinal", "The verification already had its final result"),
    ("progress", "Progress that changes nothing"),
    ("notApplicable", "The event belongs to another session"),
    ("unknown_event", "An event the app does not use"),
    // Refused before reading: the delivery could not be authenticated
    ("not_configured", "No webhook secret is saved, so nothing can be authenticated"),
    ("missing_signature", "The signature header is missing"),
    ("malformed_signature", "The signature is not in the expected encoding"),
    ("bad_signature", "The signature does not match the webhook secret"),
    ("missing_timestamp", "The timestamp header is missing"),
    ("stale_timestamp", "The timestamp is too old (or too far ahead)"),
    ("missing_secret_header", "The secret header is missing"),
    ("bad_secret", "The secret does not match the webhook secret"),
    ("missing_token", "No bearer token was sent"),
    ("bad_token", "The bearer token is not one the app issued"),
    ("token_expired", "The bearer token has expired"),
    // Authenticated but unreadable
    ("malformed_json", "The body is not JSON"),
    ("too_large", "The body is too large"),
    ("missing_event", "The body names no event"),
    ("missing_session", "The body names no session"),
    ("unresolved_result", "The result could not be read from the event"),
    ("conflicting_session", "The body names more than one session"),
    ("bad_session_id", "The session id is not one Incode issues"),
    // Failed on the app's side (Incode retries)
    ("storage_unavailable", "Storage was unavailable; Incode will retry"),
    ("effects_pending", "Jira updates still pending; Incode will retry"),
    ("busy", "Another delivery of this session was being handled; Incode will retry"),
    ("settings_changed", "The settings changed while it was handled; Incode will retry"),
    ("settings_unreadable", "The saved settings could not be read; save them again"),
    // Refused or kept aside for the verification's safety
    ("loginHintMismatch", "Refused: the event names another person than the verification. Nothing was applied."),
    ("afterCancel", "A result arrived after the agent cancelled. Kept on the verification, not applied."),
    ("afterExpiry", "Arrived after the link expired. Kept on the verification (a result) or ignored (a step), not applied."),
    ("weak_secret", "Refused: the stored webhook secret is too weak. Set a new one of at least 16 characters."),
    ("too_many_failures", "Refused without checking: too many failed authentications, retry later."),
    // Answered before reading anything
    ("method_not_allowed", "Refused: only POST is accepted"),
    ("internal_error", "The app failed to handle it; Incode will retry"),
];

/// What became of a delivery (`DeliveryEntry.verdict`; "test": see `shown_verdict`).
const VERDICTS: [(&str, &str); 7] = [
    ("test", "Test"),
    ("accepted", "Accepted"),
    ("duplicate", "Repeat"),
    ("ignored", "Ignored"),
    ("rejected", "Rejected"),
    ("invalid", "Unreadable"),
    ("error", "Failed"),
];

fn find(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, words)| *words)
}

/// A code's words from `table`, or the code spelled out.
fn in_words(table: &[(&str, &'static str)], code: &str) -> String {
    find(table, code).map_or_else(|| spelled(code), str::to_owned)
}

/// "some_code" or "someCode" as "Some code", for a code a later release wrote.
fn spelled(code: &str) -> String {
    let mut words = String::with_capacity(code.len() + 4);
    let mut previous_lower = false;
    for ch in code.trim().chars() {
        if ch == '_' {
            words.push(' ');
            previous_lower = false;
            continue;
        }
        if ch.is_uppercase() && previous_lower {
            words.push(' ');
        }
        previous_lower = ch.is_lowercase();
        words.extend(ch.to_lowercase());
    }
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A delivery log entry's reason (`reason`, for its `verdict`) in words: an accepted delivery's
/// reason is the event it applied.
pub fn delivery_reason(verdict: &str, reason: &str) -> String {
    if reason.is_empty() {
        return String::new();
    }
    let table: &[(&str, &'static str)] = if verdict == "accepted" {
        &APPLIED
    } else {
        &REASONS
    };
    in_words(table, reason)
}

/// A delivery log entry's verdict as the page shows it: "test" for an admin's test verification
/// (stored as ignored), "unknown" for none, else as stored.
pub fn shown_verdict<'a>(verdict: &'a str, reason: &str) -> &'a str {
    match verdict {
        "ignored" if reason == "test_session" => "test",
        v if v.trim().is_empty() => "unknown",
        v => v,
    }
}

/// A shown verdict (`shown_verdict`) in a word.
pub fn delivery_verdict(shown: &str) -> String {
    in_words(&VERDICTS, shown)
}

/// An audit entry's detail in words: an outcome's event, why a result was not applied; other
/// actions store words already (who cancelled, the gate's message, what a save changed).
pub fn audit_detail(action: Action, detail: &str) -> String {
    let table: &[(&str, &'static str)] = match action {
        Action::Outcome => &APPLIED,
        Action::IgnoredResult | Action::LateResult => &REASONS,
        _ => return detail.to_owned(),
    };
    find(table, detail).map_or_else(|| detail.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_delivery_reason_has_words() {
        let cases = [
            ("accepted", "reviewRejected", "Manual review rejected"),
            ("accepted", "pendingReview", "Sent to manual review"),
            (
                "ignored",
                "afterFinal",
                "The verification already had its final result",
            ),
            (
                "ignored",
                "test_session",
                "Test verification received ✓ (no ticket is changed)",
            ),
            (
                "rejected",
                "bad_signature",
                "The signature does not match the webhook secret",
            ),
            ("invalid", "malformed_json", "The body is not JSON"),
            (
                "error",
                "storage_unavailable",
                "Storage was unavailable; Incode will retry",
            ),
            (
                "duplicate",
                "duplicate",
                "Already applied: Incode sent this event again",
            ),
            ("accepted", "", ""),
        ];
        for (verdict, reason, words) in cases {
            assert_eq!(
                delivery_reason(verdict, reason),
                words,
                "{verdict} {reason}"
            );
        }
    }

    #[test]
    fn every_verdict_has_a_word() {
        let cases = [
            ("accepted", "started", "Accepted"),
            ("duplicate", "duplicate", "Repeat"),
            ("ignored", "afterFinal", "Ignored"),
            ("ignored", "test_session", "Test"),
            ("rejected", "bad_signature", "Rejected"),
            ("invalid", "malformed_json", "Unreadable"),
            ("error", "storage_unavailable", "Failed"),
            ("someNewVerdict", "x", "Some new verdict"),
            ("", "x", "Unknown"),
        ];
        for (verdict, reason, word) in cases {
            assert_eq!(
                delivery_verdict(shown_verdict(verdict, reason)),
                word,
                "{verdict}/{reason}"
            );
        }
        assert_eq!(shown_verdict("ignored", "test_session"), "test");
        assert_eq!(shown_verdict("ignored", "afterFinal"), "ignored");
        assert_eq!(shown_verdict(" ", "x"), "unknown");
    }

    #[test]
    fn a_code_of_a_later_release_is_spelled_out() {
        assert_eq!(
            delivery_reason("ignored", "new_reason_code"),
            "New reason code"
        );
        assert_eq!(
            delivery_reason("accepted", "identityVerified"),
            "Identity verified"
        );
        assert_eq!(spelled("  "), "");
    }

    #[test]
    fn audit_details_of_results_are_words_and_others_as_stored() {
        let cases = [
            (Action::Outcome, "succeeded", "Verification passed"),
            (
                Action::LateResult,
                "afterCancel",
                "A result arrived after the agent cancelled. Kept on the verification, not applied.",
            ),
            (
                Action::IgnoredResult,
                "loginHintMismatch",
                "Refused: the event names another person than the verification. Nothing was applied.",
            ),
            (Action::GateRefused, "Resolve: not verified", "Resolve: not verified"),
            (Action::Outcome, "somethingNew", "somethingNew"),
        ];
        for (action, detail, words) in cases {
            assert_eq!(audit_detail(action, detail), words, "{detail}");
        }
    }

    #[test]
    fn every_reason_a_delivery_is_logged_with_has_words() {
        use crate::model::LateReason;
        use crate::state::{IgnoreReason, RefuseReason};
        let code = |v: serde_json::Result<serde_json::Value>| {
            v.ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let mut codes: Vec<String> = [
            IgnoreReason::Duplicate,
            IgnoreReason::AfterFinal,
            IgnoreReason::Progress,
            IgnoreReason::NotApplicable,
            IgnoreReason::AfterExpiry,
        ]
        .iter()
        .map(|r| code(serde_json::to_value(r)))
        .collect();
        codes.extend(
            [LateReason::AfterCancel, LateReason::AfterExpiry]
                .iter()
                .map(|r| code(serde_json::to_value(r))),
        );
        codes.push(code(serde_json::to_value(RefuseReason::LoginHintMismatch)));
        // The planner's own codes (rust/src/delivery/, rust/src/webhook.rs).
        for planner in [
            "test_session",
            "unknown_session",
            "unknown_event",
            "busy",
            "effects_pending",
            "storage_unavailable",
            "settings_changed",
            "settings_unreadable",
            "weak_secret",
            "too_many_failures",
            "conflicting_session",
            "bad_session_id",
            "not_configured",
            "missing_signature",
            "malformed_signature",
            "bad_signature",
            "missing_timestamp",
            "stale_timestamp",
            "missing_secret_header",
            "bad_secret",
            "missing_token",
            "bad_token",
            "token_expired",
            "malformed_json",
            "too_large",
            "missing_event",
            "missing_session",
            "method_not_allowed",
            "internal_error",
        ] {
            codes.push(planner.to_owned());
        }
        for code in codes {
            assert!(find(&REASONS, &code).is_some(), "{code:?} has no words");
        }
    }
}
