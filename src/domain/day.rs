//! Calendar days and day counts that come from a request: the audit filters, the
//! certificate's issue date on the application and renewal forms, the span of the decisions
//! export, the instant in a keyset cursor.
//!
//! chrono represents years up to ±262 143 and panics when arithmetic leaves that range
//! (`NaiveDate::MAX + 1 day`), and PostgreSQL refuses timestamps before 4713 BC. A value a
//! visitor typed is therefore range-checked once, here, into a [`Day`] (or a bounded count),
//! and every computation on it is one that cannot leave chrono's range: the bounds are far
//! inside it, and the arithmetic below is checked anyway.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};

use crate::domain::Zone;

/// The first day a request may name. Nothing the service records is older; a certificate
/// or filter before it is a mistake.
pub const FIRST_DAY: NaiveDate = ymd(1900, 1, 1);
/// The last day a request may name. Four-digit years keep stored text timestamps in
/// order on SQLite; nothing the service records lies this far ahead.
pub const LAST_DAY: NaiveDate = ymd(2999, 12, 31);

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("a valid constant date"),
    }
}

/// Why a typed day was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayError {
    /// Not `YYYY-MM-DD` with a four-digit year, or no such day (`2026-02-30`).
    Malformed,
    /// Before [`FIRST_DAY`].
    TooEarly,
    /// After [`LAST_DAY`].
    TooLate,
}

/// A calendar day between [`FIRST_DAY`] and [`LAST_DAY`], both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

impl Day {
    /// `YYYY-MM-DD` as an `<input type="date">` sends it (surrounding spaces allowed). A
    /// sign or a fifth digit (`+262142-12-31`, `-999999-01-01`) is too early or too late,
    /// not malformed, so forms can say which.
    pub fn parse(raw: &str) -> Result<Self, DayError> {
        let raw = raw.trim();
        let (sign, rest) = match raw.as_bytes().first() {
            Some(b'+') => (1, &raw[1..]),
            Some(b'-') => (-1, &raw[1..]),
            _ => (0, raw),
        };
        let mut parts = rest.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DayError::Malformed);
        };
        let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(y, 4..=9) || !digits(m, 2..=2) || !digits(d, 2..=2) {
            return Err(DayError::Malformed);
        }
        match (sign, y.len()) {
            (-1, _) => return Err(DayError::TooEarly),
            (1, _) | (_, 5..) => return Err(DayError::TooLate),
            _ => {}
        }
        // Four digits, a month and a day of two: every number fits.
        let (y, m, d) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>());
        let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else { return Err(DayError::Malformed) };
        let date = NaiveDate::from_ymd_opt(y, m, d).ok_or(DayError::Malformed)?;
        Self::new(date)
    }

    /// `date` if it lies in the range.
    pub fn new(date: NaiveDate) -> Result<Self, DayError> {
        if date < FIRST_DAY {
            Err(DayError::TooEarly)
        } else if date > LAST_DAY {
            Err(DayError::TooLate)
        } else {
            Ok(Self(date))
        }
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The UTC instant at which this day begins in `zone`.
    pub fn start_in(self, zone: Zone) -> NaiveDateTime {
        zone.day_start(self.0)
    }

    /// The UTC instant at which the next day begins in `zone`: the end (excluded) of a
    /// filter "up to this day".
    pub fn end_in(self, zone: Zone) -> NaiveDateTime {
        // LAST_DAY is far from chrono's last day, so there is always a next one.
        zone.day_start(self.0.checked_add_days(Days::new(1)).unwrap_or(self.0))
    }

    /// Whole days from this day to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: NaiveDate) -> i64 {
        i64::from(later.num_days_from_ce()) - i64::from(self.0.num_days_from_ce())
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// Whether `at` (a timestamp from a request, such as a keyset cursor) lies within the days
/// a request may name, so both databases can store and compare it.
pub fn is_in_range(at: NaiveDateTime) -> bool {
    (FIRST_DAY..=LAST_DAY).contains(&at.date())
}

/// A number of days a request asks for (`?days=`), kept only when it lies in `bounds`.
/// Anything else, a number too large for `i64` included, is `None`, and the page uses its
/// default as it does for any other filter it cannot use.
pub fn parse_day_count(raw: Option<&str>, bounds: std::ops::RangeInclusive<i64>) -> Option<i64> {
    raw.and_then(|r| r.trim().parse::<i64>().ok()).filter(|d| bounds.contains(d))
}

/// `now` less `days` days, or the earliest instant chrono holds if that would leave its
/// range (a count from a request is bounded first; this keeps the arithmetic from
/// panicking regardless).
pub fn days_before(now: NaiveDateTime, days: i64) -> NaiveDateTime {
    chrono::TimeDelta::try_days(days).and_then(|d| now.checked_sub_signed(d)).unwrap_or(NaiveDateTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn ordinary_days_parse() {
        assert_eq!(Day::parse("2026-11-27").map(Day::date), Ok(d(2026, 11, 27)));
        assert_eq!(Day::parse(" 2024-02-29 ").map(Day::date), Ok(d(2024, 2, 29)));
        assert_eq!(Day::parse("1900-01-01").map(Day::date), Ok(FIRST_DAY));
        assert_eq!(Day::parse("2999-12-31").map(Day::date), Ok(LAST_DAY));
        assert_eq!(Day::parse("2026-11-27").unwrap().to_string(), "2026-11-27");
    }

    #[test]
    fn days_outside_the_range_say_which_side() {
        for early in ["1899-12-31", "0001-01-01", "0000-01-01", "-999999-01-01", "-262143-01-01", "-0001-01-01"] {
            assert_eq!(Day::parse(early), Err(DayError::TooEarly), "{early}");
        }
        for late in ["3000-01-01", "9999-12-31", "+262142-12-31", "262142-12-31", "+2026-01-01", "999999999-01-01"] {
            assert_eq!(Day::parse(late), Err(DayError::TooLate), "{late}");
        }
        assert_eq!(Day::new(NaiveDate::MAX), Err(DayError::TooLate));
        assert_eq!(Day::new(NaiveDate::MIN), Err(DayError::TooEarly));
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "",
            "2026",
            "2026-11",
            "2026-13-01",
            "2026-02-30",
            "2026-1-5",
            "26-11-27",
            "2026/11/27",
            "2026-11-27T00:00",
            "2026-11-27-1",
            "٢٠٢٦-١١-٢٧",
            "+",
            "-",
            "1234567890-01-01",
            "2026-+1-01",
            "2026-11-2７",
        ] {
            assert_eq!(Day::parse(bad), Err(DayError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn the_ends_of_the_range_compute_without_panicking() {
        let last = Day::parse("2999-12-31").unwrap();
        // Argentina in 1900 kept Córdoba's mean time, UTC−4:16:48.
        let ushuaia = Zone::default();
        assert_eq!(last.end_in(ushuaia), d(3000, 1, 1).and_hms_opt(3, 0, 0).unwrap());
        let first = Day::parse("1900-01-01").unwrap();
        assert_eq!(first.start_in(ushuaia), d(1900, 1, 1).and_hms_opt(4, 16, 48).unwrap());
        let span = (LAST_DAY - FIRST_DAY).num_days();
        assert_eq!(first.days_until(LAST_DAY), span);
        assert_eq!(last.days_until(FIRST_DAY), -span);
        assert_eq!(first.days_until(d(1900, 1, 31)), 30);
        // The helpers hold at chrono's own ends too.
        assert_eq!(days_before(NaiveDateTime::MIN, 1), NaiveDateTime::MIN);
        assert_eq!(days_before(d(2026, 11, 27).and_hms_opt(0, 0, 0).unwrap(), i64::MAX), NaiveDateTime::MIN);
    }

    #[test]
    fn a_local_day_starts_three_hours_after_utc_midnight_in_rio_grande() {
        let day = Day::parse("2026-11-27").unwrap();
        assert_eq!(day.start_in(Zone::default()), d(2026, 11, 27).and_hms_opt(3, 0, 0).unwrap());
        assert_eq!(day.end_in(Zone::default()), d(2026, 11, 28).and_hms_opt(3, 0, 0).unwrap());
        let madrid = Zone::parse("Europe/Madrid").unwrap();
        assert_eq!(day.start_in(madrid), d(2026, 11, 26).and_hms_opt(23, 0, 0).unwrap());
    }

    #[test]
    fn day_counts_are_kept_only_within_their_bounds() {
        assert_eq!(parse_day_count(Some("30"), 1..=3660), Some(30));
        assert_eq!(parse_day_count(Some(" 3660 "), 1..=3660), Some(3660));
        for bad in ["0", "-1", "3661", "99999999999", "99999999999999999999999", "1e3", "", "x"] {
            assert_eq!(parse_day_count(Some(bad), 1..=3660), None, "{bad}");
        }
        assert_eq!(parse_day_count(None, 1..=3660), None);
    }

    #[test]
    fn timestamps_from_requests_are_checked_against_the_range() {
        assert!(is_in_range(d(2026, 11, 27).and_hms_opt(12, 0, 0).unwrap()));
        assert!(!is_in_range(NaiveDateTime::MIN));
        assert!(!is_in_range(NaiveDateTime::MAX));
        assert!(!is_in_range(d(3000, 1, 1).and_hms_opt(0, 0, 0).unwrap()));
    }
}
