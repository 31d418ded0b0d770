//! Throttling of failed authentications on the public webtriggers (the webhook and the token
//! endpoint), per installation.
//!
//! Anyone can post guesses of the webhook secret to the webtrigger URLs. Each function instance
//! counts the failures it sees (in memory: counting in storage would let a flood of forged
//! requests spend the installation's KVS writes); an instance that sees `MAX_FAILURES` within
//! `WINDOW_MS` locks authentication for `LOCKOUT_MS` and writes one marker to storage, which
//! every instance reads beside the settings. While locked, requests are answered 429 with
//! `Retry-After` without being authenticated, so a guess can neither succeed nor be told
//! from a miss; Incode retries its real deliveries, so nothing is lost, only delayed.

use serde::{Deserialize, Serialize};

/// Failures an instance tolerates within one window.
pub const MAX_FAILURES: u32 = 30;
/// The window the failures are counted in.
pub const WINDOW_MS: i64 = 60_000;
/// How long authentication stays locked once the limit is crossed.
pub const LOCKOUT_MS: i64 = 300_000;

/// One instance's count of failed authentications for one installation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct AuthFailures {
    pub window_start_ms: i64,
    pub failures: u32,
    /// Authentication is locked until then (0 = not locked).
    pub locked_until_ms: i64,
}

/// The count after one more failure, and the lock's end when this failure crossed the limit
/// (the marker to write: once per lockout).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FailureNoted {
    pub failures: AuthFailures,
    pub mark_until_ms: Option<i64>,
}

/// Seconds to wait when authentication is locked (by this instance's count or by the stored
/// marker, `marker_until_ms`), else None.
pub fn locked_for(
    failures: &AuthFailures,
    marker_until_ms: Option<i64>,
    now_ms: i64,
) -> Option<u32> {
    let until = failures.locked_until_ms.max(marker_until_ms.unwrap_or(0));
    (until > now_ms).then(|| {
        let seconds = (until - now_ms + 999) / 1000;
        u32::try_from(seconds.clamp(1, LOCKOUT_MS / 1000)).unwrap_or(1)
    })
}

/// Counts one failed authentication.
pub fn note_failure(failures: &AuthFailures, now_ms: i64) -> FailureNoted {
    let fresh = now_ms < failures.window_start_ms || now_ms - failures.window_start_ms >= WINDOW_MS;
    let mut next = if fresh {
        AuthFailures {
            window_start_ms: now_ms,
            failures: 0,
            locked_until_ms: failures.locked_until_ms,
        }
    } else {
        *failures
    };
    next.failures = next.failures.saturating_add(1);
    let crossed = next.failures == MAX_FAILURES;
    if crossed {
        next.locked_until_ms = now_ms.saturating_add(LOCKOUT_MS);
        // The next window starts after the lockout.
        next.window_start_ms = next.locked_until_ms;
        next.failures = 0;
    }
    FailureNoted {
        failures: next,
        mark_until_ms: crossed.then_some(next.locked_until_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_locks_once_and_writes_one_marker() {
        let mut state = AuthFailures::default();
        let mut marks = Vec::new();
        for i in 0..(MAX_FAILURES * 3) {
            let now = 1_000_000 + i64::from(i);
            if locked_for(&state, None, now).is_some() {
                continue;
            }
            let noted = note_failure(&state, now);
            marks.extend(noted.mark_until_ms);
            state = noted.failures;
        }
        assert_eq!(marks.len(), 1, "one marker per lockout");
        assert_eq!(locked_for(&state, None, 1_000_100), Some(300));
        // After the lockout, counting starts again.
        let after = 1_000_000 + i64::from(MAX_FAILURES) + LOCKOUT_MS;
        assert_eq!(locked_for(&state, None, after), None);
        assert_eq!(note_failure(&state, after).mark_until_ms, None);
    }

    #[test]
    fn failures_spread_over_windows_do_not_lock() {
        let mut state = AuthFailures::default();
        for i in 0..(MAX_FAILURES * 4) {
            // Half the limit per window.
            let now = i64::from(i) * (2 * WINDOW_MS / i64::from(MAX_FAILURES));
            let noted = note_failure(&state, now);
            assert_eq!(noted.mark_until_ms, None, "failure {i}");
            state = noted.failures;
        }
    }

    #[test]
    fn a_marker_from_another_instance_locks() {
        let state = AuthFailures::default();
        assert_eq!(locked_for(&state, Some(10_500), 10_000), Some(1));
        assert_eq!(locked_for(&state, Some(70_000), 10_000), Some(60));
        assert_eq!(locked_for(&state, Some(10_000), 10_000), None);
        assert_eq!(locked_for(&state, None, 10_000), None);
    }
}
