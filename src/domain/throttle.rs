//! Login throttling policy: a growing delay after failed sign-ins, counted per account and
//! per client address over a one-hour window.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Keyed by the email typed in, whether or not such an account exists, so that the
    /// answer does not reveal which accounts exist.
    Account,
    /// Keyed by client address. Many people may share one address (a police station, a
    /// mobile carrier), so more failures pass before the delay starts.
    Client,
}

/// Failures in the current window, and until when further attempts wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub blocked_until: Option<NaiveDateTime>,
}

pub const WINDOW: Duration = Duration::hours(1);
/// Failed attempts per account that wait for nothing. The one that uses up the last of
/// them starts the delay, so this is also how many guesses of a parallel burst reach the
/// password check.
pub const FREE_ACCOUNT_FAILURES: i32 = 3;
/// The same per client address.
pub const FREE_CLIENT_FAILURES: i32 = 20;
/// The hard ceiling per account per window.
pub const MAX_ACCOUNT_FAILURES_PER_WINDOW: i32 = 100;
const MAX_DELAY: Duration = Duration::minutes(15);

impl ThrottleScope {
    pub fn free_failures(self) -> i32 {
        match self {
            ThrottleScope::Account => FREE_ACCOUNT_FAILURES,
            ThrottleScope::Client => FREE_CLIENT_FAILURES,
        }
    }
}

/// The state after one more failure at `now`. The first `free_failures - 1` failures of a
/// window set no delay; the one that reaches `free_failures` blocks the next attempt for
/// 1 s, and each further failure doubles the delay (2 s, 4 s …, at most 15 minutes). So
/// exactly `free_failures` attempts are made without waiting, in a row or all at once.
pub fn after_failure(scope: ThrottleScope, previous: Option<ThrottleState>, now: NaiveDateTime) -> ThrottleState {
    let (failures, window_started_at) = match previous {
        Some(p) if now < p.window_started_at + WINDOW => (p.failures.saturating_add(1), p.window_started_at),
        _ => (1, now),
    };
    // 1 for the failure that uses up the free ones, 2 for the next …
    let over = failures - scope.free_failures() + 1;
    let mut blocked_until = (over > 0).then(|| {
        // 1 s, 2 s, 4 s … doubling per failure, capped.
        let secs = 1i64.checked_shl((over - 1).min(20) as u32).unwrap_or(i64::MAX);
        now + Duration::seconds(secs).min(MAX_DELAY)
    });
    if scope == ThrottleScope::Account && failures >= MAX_ACCOUNT_FAILURES_PER_WINDOW {
        blocked_until = Some(window_started_at + WINDOW);
    }
    ThrottleState { failures, window_started_at, blocked_until }
}

/// At most this many account mails (confirmation, notices, reset links) go to one address
/// per window, so the public forms cannot be used to flood someone's mailbox.
pub const ACCOUNT_MAILS_PER_WINDOW: i32 = 5;

/// The count after one more event at `now` under a limit of `limit` per window, or `None`
/// when the limit is reached. Used for account mails per address and public lookups per
/// client.
pub fn after_counted(previous: Option<ThrottleState>, now: NaiveDateTime, limit: i32) -> Option<ThrottleState> {
    let (sent, window_started_at) = match previous {
        Some(p) if now < p.window_started_at + WINDOW => (p.failures, p.window_started_at),
        _ => (0, now),
    };
    (sent < limit).then_some(ThrottleState { failures: sent + 1, window_started_at, blocked_until: None })
}

/// Registrations per client address per window: room for a family or a neighbourhood
/// meeting sharing one connection, not for a script creating accounts by the thousand.
pub const REGISTRATIONS_PER_WINDOW: i32 = 20;

/// Public verification lookups per client address per window: plenty for a person
/// scanning cards, too few to enumerate tokens.
pub const VERIFICATIONS_PER_WINDOW: i32 = 120;

/// When an attempt at `now` may be made, if it must wait.
pub fn retry_at(state: Option<ThrottleState>, now: NaiveDateTime) -> Option<NaiveDateTime> {
    state.and_then(|s| s.blocked_until).filter(|until| *until > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t0() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_opt(12, 0, 0).unwrap()
    }

    fn fail_n(scope: ThrottleScope, n: i32, now: NaiveDateTime) -> ThrottleState {
        let mut s = None;
        for _ in 0..n {
            s = Some(after_failure(scope, s, now));
        }
        s.unwrap()
    }

    #[test]
    fn first_failures_are_free_then_the_delay_doubles() {
        let now = t0();
        let s = fail_n(ThrottleScope::Account, FREE_ACCOUNT_FAILURES - 1, now);
        assert_eq!(s.blocked_until, None);
        // The third failure uses up the free ones: the fourth attempt waits.
        let s = after_failure(ThrottleScope::Account, Some(s), now);
        assert_eq!(s.failures, FREE_ACCOUNT_FAILURES);
        assert_eq!(s.blocked_until, Some(now + Duration::seconds(1)));
        let s = after_failure(ThrottleScope::Account, Some(s), now);
        assert_eq!(s.blocked_until, Some(now + Duration::seconds(2)));
        let s = after_failure(ThrottleScope::Account, Some(s), now);
        assert_eq!(s.blocked_until, Some(now + Duration::seconds(4)));
        let s = after_failure(ThrottleScope::Account, Some(s), now);
        assert_eq!(s.blocked_until, Some(now + Duration::seconds(8)));
    }

    #[test]
    fn delay_is_capped() {
        let s = fail_n(ThrottleScope::Account, 40, t0());
        assert_eq!(s.blocked_until, Some(t0() + MAX_DELAY));
    }

    #[test]
    fn client_addresses_get_more_free_failures() {
        assert_eq!(fail_n(ThrottleScope::Client, FREE_CLIENT_FAILURES - 1, t0()).blocked_until, None);
        assert!(fail_n(ThrottleScope::Client, FREE_CLIENT_FAILURES, t0()).blocked_until.is_some());
    }

    #[test]
    fn the_window_resets_after_an_hour() {
        let s = fail_n(ThrottleScope::Account, 10, t0());
        let later = t0() + WINDOW + Duration::seconds(1);
        let s = after_failure(ThrottleScope::Account, Some(s), later);
        assert_eq!(s.failures, 1);
        assert_eq!(s.window_started_at, later);
        assert_eq!(s.blocked_until, None);
    }

    #[test]
    fn an_account_is_shut_for_the_rest_of_the_window_at_the_ceiling() {
        let s = fail_n(ThrottleScope::Account, MAX_ACCOUNT_FAILURES_PER_WINDOW, t0());
        assert_eq!(s.blocked_until, Some(t0() + WINDOW));
    }

    #[test]
    fn account_mails_per_address_are_capped_per_window() {
        let mut s = None;
        for _ in 0..ACCOUNT_MAILS_PER_WINDOW {
            s = after_counted(s, t0(), ACCOUNT_MAILS_PER_WINDOW);
            assert!(s.is_some());
        }
        assert_eq!(after_counted(s, t0() + Duration::minutes(59), ACCOUNT_MAILS_PER_WINDOW), None);
        let next = after_counted(s, t0() + WINDOW, ACCOUNT_MAILS_PER_WINDOW).unwrap();
        assert_eq!(next.failures, 1, "a new window starts");
    }

    #[test]
    fn retry_at_is_only_in_the_future() {
        let s = fail_n(ThrottleScope::Account, 5, t0());
        assert_eq!(retry_at(Some(s), t0()), s.blocked_until);
        assert_eq!(retry_at(Some(s), t0() + Duration::minutes(1)), None);
        assert_eq!(retry_at(None, t0()), None);
    }
}
