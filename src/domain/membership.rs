//! Membership rules: numbers and validity.

use std::str::FromStr;

use chrono::{Duration, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum MembershipStatus {
    Active,
    Expired,
    Suspended,
    Revoked,
    /// Ended for another reason: moved to another group, account deleted.
    Ended,
}

impl MembershipStatus {
    pub const ALL: [MembershipStatus; 5] = [
        MembershipStatus::Active,
        MembershipStatus::Expired,
        MembershipStatus::Suspended,
        MembershipStatus::Revoked,
        MembershipStatus::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Active => "active",
            MembershipStatus::Expired => "expired",
            MembershipStatus::Suspended => "suspended",
            MembershipStatus::Revoked => "revoked",
            MembershipStatus::Ended => "ended",
        }
    }
}

impl std::fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MembershipStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| format!("unknown membership status '{s}'"))
    }
}

/// "CHACRA-II-000123": the group's slug in capitals and a six-digit sequence number.
pub fn number(slug: &str, seq: i32) -> String {
    format!("{}-{seq:06}", slug.to_uppercase())
}

/// The last valid day of a membership that starts on `from` and lasts `validity_days`.
pub fn valid_until(from: NaiveDate, validity_days: i32) -> NaiveDate {
    from + Duration::days(i64::from(validity_days) - 1)
}

/// What the public verification page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicStatus {
    Valid,
    Expired,
    Suspended,
    Revoked,
    Ended,
}

impl PublicStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicStatus::Valid => "valid",
            PublicStatus::Expired => "expired",
            PublicStatus::Suspended => "suspended",
            PublicStatus::Revoked => "revoked",
            PublicStatus::Ended => "ended",
        }
    }
}

/// The status a verifier sees on `today`: an active membership past its last day is
/// expired even before the job marks it.
pub fn public_status(status: MembershipStatus, valid_until: NaiveDate, today: NaiveDate) -> PublicStatus {
    match status {
        MembershipStatus::Active if today > valid_until => PublicStatus::Expired,
        MembershipStatus::Active => PublicStatus::Valid,
        MembershipStatus::Expired => PublicStatus::Expired,
        MembershipStatus::Suspended => PublicStatus::Suspended,
        MembershipStatus::Revoked => PublicStatus::Revoked,
        MembershipStatus::Ended => PublicStatus::Ended,
    }
}

/// "Juan P.": the first name and the initial of the last, so a verifier can match a
/// person in front of them without learning their full name.
pub fn masked_name(full_name: &str) -> String {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [only] => only.to_string(),
        [first, .., last] => {
            format!("{first} {}.", last.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default())
        }
    }
}

/// Renewal opens this many days before the last valid day.
pub const RENEWAL_WINDOW_DAYS: i64 = 30;

/// Whether the member may ask to renew on `today`: from 30 days before expiry, and after
/// it has expired.
pub fn renewal_open(status: MembershipStatus, valid_until: NaiveDate, today: NaiveDate) -> bool {
    match status {
        MembershipStatus::Active => valid_until - today <= Duration::days(RENEWAL_WINDOW_DAYS),
        MembershipStatus::Expired => true,
        _ => false,
    }
}

/// The new last day after a renewal approved on `today`: a full period added to the
/// current end, or to today when it already lapsed.
pub fn renewed_until(valid_until: NaiveDate, today: NaiveDate, validity_days: i32) -> NaiveDate {
    let start = if valid_until >= today { valid_until + Duration::days(1) } else { today };
    self::valid_until(start, validity_days)
}

/// The reminders before expiry, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    ThirtyDays,
    SevenDays,
}

/// The reminder due on `today` for a membership ending on `valid_until`, if any. Each is
/// due from its day until expiry, so a job that missed a day still sends it (once: the
/// caller records it).
pub fn reminder_due(valid_until: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    let left = valid_until - today;
    if left < Duration::zero() {
        None
    } else if left <= Duration::days(7) {
        Some(Reminder::SevenDays)
    } else if left <= Duration::days(30) {
        Some(Reminder::ThirtyDays)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_group_and_a_padded_sequence() {
        assert_eq!(number("chacra-ii", 123), "CHACRA-II-000123");
        assert_eq!(number("centro", 1), "CENTRO-000001");
    }

    #[test]
    fn validity_counts_the_first_day() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(valid_until(d, 365), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(valid_until(d, 1), d);
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn names_are_masked_to_first_name_and_initial() {
        assert_eq!(masked_name("Juan Pérez"), "Juan P.");
        assert_eq!(masked_name("  María José   Gómez Álvarez "), "María Á.");
        assert_eq!(masked_name("Ana"), "Ana");
        assert_eq!(masked_name("juan ñandú"), "juan Ñ.");
        assert_eq!(masked_name(""), "");
    }

    #[test]
    fn public_status_follows_the_dates() {
        let until = d(2026, 12, 31);
        assert_eq!(public_status(MembershipStatus::Active, until, d(2026, 12, 31)), PublicStatus::Valid);
        assert_eq!(public_status(MembershipStatus::Active, until, d(2027, 1, 1)), PublicStatus::Expired);
        assert_eq!(public_status(MembershipStatus::Suspended, until, d(2026, 6, 1)), PublicStatus::Suspended);
        assert_eq!(public_status(MembershipStatus::Revoked, until, d(2026, 6, 1)), PublicStatus::Revoked);
    }

    #[test]
    fn renewal_opens_thirty_days_before_expiry() {
        let until = d(2026, 12, 31);
        assert!(!renewal_open(MembershipStatus::Active, until, d(2026, 11, 30)));
        assert!(renewal_open(MembershipStatus::Active, until, d(2026, 12, 1)));
        assert!(renewal_open(MembershipStatus::Expired, until, d(2027, 3, 1)));
        assert!(!renewal_open(MembershipStatus::Revoked, until, d(2026, 12, 20)));
        assert!(!renewal_open(MembershipStatus::Suspended, until, d(2026, 12, 20)));
    }

    #[test]
    fn renewal_adds_a_full_period() {
        assert_eq!(renewed_until(d(2026, 12, 31), d(2026, 12, 10), 365), d(2027, 12, 31));
        assert_eq!(renewed_until(d(2026, 12, 31), d(2027, 2, 1), 365), d(2028, 1, 31), "from today once lapsed");
    }

    #[test]
    fn reminders_at_thirty_and_seven_days() {
        let until = d(2026, 12, 31);
        assert_eq!(reminder_due(until, d(2026, 11, 30)), None);
        assert_eq!(reminder_due(until, d(2026, 12, 1)), Some(Reminder::ThirtyDays));
        assert_eq!(reminder_due(until, d(2026, 12, 23)), Some(Reminder::ThirtyDays));
        assert_eq!(reminder_due(until, d(2026, 12, 24)), Some(Reminder::SevenDays));
        assert_eq!(reminder_due(until, d(2026, 12, 31)), Some(Reminder::SevenDays));
        assert_eq!(reminder_due(until, d(2027, 1, 1)), None);
    }

    #[test]
    fn statuses_round_trip() {
        for s in MembershipStatus::ALL {
            assert_eq!(s.as_str().parse::<MembershipStatus>().unwrap(), s);
        }
    }
}
