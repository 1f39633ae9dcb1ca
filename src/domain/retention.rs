//! How long things are kept. Each rule has two faces: a predicate for one row ("is it due
//! at `now`?") and a cutoff time for the purge query ("everything at or before this
//! instant is due"). The two agree: `x` is due exactly when `x <= cutoff`.

use chrono::{Duration, NaiveDateTime};

use super::throttle;

/// An account whose owner never confirmed the e-mail address is removed after this long.
pub const UNCONFIRMED_ACCOUNT_DAYS: i64 = 7;

/// Sent and given-up mails are kept this long for inspection, then removed: their bodies
/// greet people by name and quote officers' messages.
pub const MAIL_KEEP_DAYS: i64 = 30;

/// The instant at or after which the files of an application decided at `decided_at` are
/// deleted.
pub fn documents_purge_at(decided_at: NaiveDateTime, retention_days: i64) -> NaiveDateTime {
    decided_at + Duration::days(retention_days)
}

/// The files of an application are due for deletion once its final decision is
/// `retention_days` old. An application without a final decision keeps its files.
pub fn documents_due(decided_at: Option<NaiveDateTime>, retention_days: i64, now: NaiveDateTime) -> bool {
    decided_at.is_some_and(|d| documents_purge_at(d, retention_days) <= now)
}

/// Applications decided at or before this instant have their files deleted.
pub fn documents_cutoff(now: NaiveDateTime, retention_days: i64) -> NaiveDateTime {
    now - Duration::days(retention_days)
}

/// Unconfirmed accounts created at or before this instant are removed.
pub fn unconfirmed_cutoff(now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::days(UNCONFIRMED_ACCOUNT_DAYS)
}

/// Whether an unconfirmed account created at `created_at` is due for removal.
pub fn unconfirmed_account_due(created_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    created_at <= unconfirmed_cutoff(now)
}

/// A mailed or logged token is of no further use once used or expired.
pub fn token_dead(used_at: Option<NaiveDateTime>, expires_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    used_at.is_some() || expires_at <= now
}

/// Sessions idle for `idle` that were last seen at or before this instant are dead (the
/// complement of `session::is_alive`).
pub fn session_idle_cutoff(now: NaiveDateTime, idle: Duration) -> NaiveDateTime {
    now - idle
}

/// A throttle row whose window ended and whose block (if any) is over counts for nothing:
/// deleting it changes no later decision, and it holds a typed e-mail or a client address.
pub fn throttle_row_stale(
    window_started_at: NaiveDateTime,
    blocked_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    window_started_at <= throttle_window_cutoff(now) && blocked_until.is_none_or(|b| b <= now)
}

/// Throttle windows that started at or before this instant have ended.
pub fn throttle_window_cutoff(now: NaiveDateTime) -> NaiveDateTime {
    now - throttle::WINDOW
}

/// Mails sent or given up at or before this instant are removed.
pub fn mail_cutoff(now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::days(MAIL_KEEP_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::is_alive;
    use crate::domain::throttle::{ThrottleScope, ThrottleState, after_failure, retry_at};
    use chrono::NaiveDate;

    fn t(day: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn files_are_due_exactly_retention_days_after_the_decision() {
        let decided = t(1, 10);
        assert!(!documents_due(Some(decided), 30, decided + Duration::days(30) - Duration::seconds(1)));
        assert!(documents_due(Some(decided), 30, decided + Duration::days(30)));
        assert!(documents_due(Some(decided), 30, decided + Duration::days(400)));
        assert!(!documents_due(None, 30, t(31, 0)), "an open application keeps its files");
        assert!(documents_due(Some(decided), 1, t(2, 10)));
        assert_eq!(documents_purge_at(decided, 30), decided + Duration::days(30));
    }

    #[test]
    fn the_documents_cutoff_agrees_with_the_predicate() {
        let now = t(20, 12);
        for days in [1, 7, 30, 365] {
            let cutoff = documents_cutoff(now, days);
            for offset in [-2, -1, 0, 1, 2] {
                let decided = cutoff + Duration::seconds(offset);
                assert_eq!(decided <= cutoff, documents_due(Some(decided), days, now), "{days} days, {offset} s");
            }
        }
    }

    #[test]
    fn unconfirmed_accounts_get_seven_days() {
        let created = t(1, 8);
        assert!(!unconfirmed_account_due(created, created + Duration::days(7) - Duration::seconds(1)));
        assert!(unconfirmed_account_due(created, created + Duration::days(7)));
    }

    #[test]
    fn used_or_expired_tokens_are_dead() {
        let now = t(5, 12);
        assert!(!token_dead(None, now + Duration::seconds(1), now));
        assert!(token_dead(None, now, now), "expired at this very instant");
        assert!(token_dead(Some(now - Duration::hours(1)), now + Duration::days(1), now), "used, still unexpired");
    }

    #[test]
    fn the_session_cutoff_is_the_complement_of_is_alive() {
        let now = t(10, 12);
        let idle = Duration::minutes(30);
        let far = now + Duration::days(1);
        for offset in [-1, 0, 1] {
            let last_seen = session_idle_cutoff(now, idle) + Duration::seconds(offset);
            assert_eq!(last_seen <= session_idle_cutoff(now, idle), !is_alive(now, last_seen, idle, far), "{offset}");
        }
    }

    #[test]
    fn a_stale_throttle_row_changes_nothing_when_removed() {
        let start = t(3, 9);
        let mut state = None;
        for _ in 0..6 {
            state = Some(after_failure(ThrottleScope::Account, state, start));
        }
        let s: ThrottleState = state.unwrap();
        // Inside the window, or while blocked, the row matters.
        assert!(!throttle_row_stale(s.window_started_at, s.blocked_until, start + Duration::minutes(59)));
        let later = start + throttle::WINDOW;
        assert!(throttle_row_stale(s.window_started_at, s.blocked_until, later));
        // …and at that point the row and no row lead to the same next state and answer.
        assert_eq!(
            after_failure(ThrottleScope::Account, Some(s), later),
            after_failure(ThrottleScope::Account, None, later)
        );
        assert_eq!(retry_at(Some(s), later), retry_at(None, later));
        // A block reaching past the window keeps the row.
        let blocked = Some(later + Duration::minutes(5));
        assert!(!throttle_row_stale(s.window_started_at, blocked, later));
    }

    #[test]
    fn mails_are_kept_thirty_days() {
        let now = t(31, 0);
        assert_eq!(mail_cutoff(now), t(1, 0));
    }
}
