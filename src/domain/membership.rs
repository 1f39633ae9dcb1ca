//! Membership rules: numbers and validity.

use std::str::FromStr;

use chrono::{Duration, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    #[test]
    fn statuses_round_trip() {
        for s in MembershipStatus::ALL {
            assert_eq!(s.as_str().parse::<MembershipStatus>().unwrap(), s);
        }
    }
}
