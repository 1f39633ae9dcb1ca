//! Session lifetime rules. Staff sessions are shorter: they reach other people's records.

use chrono::{Duration, NaiveDateTime};

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// Ends the session after this long without a request.
    pub idle: Duration,
    /// Ends the session this long after sign-in, however active.
    pub absolute: Duration,
}

impl SessionTimeouts {
    pub fn for_role(role: Role) -> Self {
        if role.is_staff() {
            Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
        } else {
            Self { idle: Duration::hours(24), absolute: Duration::days(30) }
        }
    }
}

/// Whether a session is still alive at `now`.
pub fn is_alive(now: NaiveDateTime, last_seen: NaiveDateTime, idle: Duration, expires_at: NaiveDateTime) -> bool {
    now < expires_at && now < last_seen + idle
}

/// Recording every request's time would make each page view a write; a minute of
/// precision is plenty for a 30-minute idle limit.
pub fn needs_touch(now: NaiveDateTime, last_seen: NaiveDateTime) -> bool {
    now - last_seen >= Duration::seconds(60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn staff_sessions_are_shorter() {
        let staff = SessionTimeouts::for_role(Role::Officer);
        let resident = SessionTimeouts::for_role(Role::Resident);
        assert_eq!(staff, SessionTimeouts::for_role(Role::Commissioner));
        assert_eq!(staff.idle, Duration::minutes(30));
        assert_eq!(staff.absolute, Duration::hours(12));
        assert_eq!(resident.idle, Duration::hours(24));
        assert_eq!(resident.absolute, Duration::days(30));
    }

    #[test]
    fn idle_and_absolute_limits_both_end_a_session() {
        let idle = Duration::minutes(30);
        assert!(is_alive(t(10, 29), t(10, 0), idle, t(20, 0)));
        assert!(!is_alive(t(10, 30), t(10, 0), idle, t(20, 0)));
        assert!(!is_alive(t(20, 0), t(19, 59), idle, t(20, 0)));
    }

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        assert!(!needs_touch(t(10, 0) + Duration::seconds(59), t(10, 0)));
        assert!(needs_touch(t(10, 1), t(10, 0)));
    }
}
