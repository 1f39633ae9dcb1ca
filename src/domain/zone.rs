//! Local time: the zone (`VECINAL_TIME_ZONE`, an IANA name) in which pages and mails show
//! dates and times, and in which "today" is counted for certificate ages, membership expiry
//! and the dashboard's days. Instants are stored and compared in UTC everywhere; only what
//! a person reads, and the calendar days counted for them, are local.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::domain::day::{FIRST_DAY, LAST_DAY};

/// Río Grande's zone, the default.
pub const DEFAULT_ZONE: &str = "America/Argentina/Ushuaia";

/// A time zone of the IANA database, chosen by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Self::parse(DEFAULT_ZONE).expect("the default zone is in the database")
    }
}

impl Zone {
    /// An IANA zone name as written in the database (`America/Argentina/Ushuaia`, `UTC`).
    pub fn parse(name: &str) -> Result<Self, String> {
        name.parse::<Tz>().map(Self).map_err(|_| format!("'{name}' is not a time zone of the IANA database"))
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant `at` (UTC) as the zone's clocks showed it.
    pub fn local(self, at: NaiveDateTime) -> DateTime<Tz> {
        self.0.from_utc_datetime(&at)
    }

    /// The local calendar day at the instant `at` (UTC).
    pub fn today(self, at: NaiveDateTime) -> NaiveDate {
        self.local(at).date_naive()
    }

    /// The zone's offset from UTC at the instant `at`, in seconds (east positive).
    pub fn offset_seconds(self, at: NaiveDateTime) -> i32 {
        self.local(at).offset().fix().local_minus_utc()
    }

    /// The UTC instant at which the local calendar day `date` begins. Where the clocks skip
    /// midnight (a change to summer time at 00:00), the day begins when they jump; where
    /// midnight comes twice, at the first. Days outside the range a request may name take
    /// the offset of the range's nearest end, so no arithmetic leaves chrono's range.
    pub fn day_start(self, date: NaiveDate) -> NaiveDateTime {
        let midnight = date.and_time(NaiveTime::MIN);
        let clamped = date.clamp(FIRST_DAY, LAST_DAY);
        if clamped != date {
            let offset = self.offset_seconds(clamped.and_time(NaiveTime::MIN));
            return midnight.checked_sub_signed(chrono::TimeDelta::seconds(offset.into())).unwrap_or(midnight);
        }
        match self.0.from_local_datetime(&midnight).earliest() {
            Some(t) => t.naive_utc(),
            // Midnight does not exist: the clocks jumped over it, at the instant midnight
            // would have been under the offset before the jump.
            None => {
                let before = midnight - chrono::TimeDelta::hours(12);
                let offset = self.0.offset_from_local_datetime(&before).earliest().map(|o| o.fix().local_minus_utc());
                midnight - chrono::TimeDelta::seconds(offset.unwrap_or(0).into())
            }
        }
    }

    /// The zone's offsets as a table of UTC instants from which each holds: a first row at
    /// [`first_row`] with the offset of [`OFFSETS_FROM`], then one row per change up to
    /// [`OFFSETS_UNTIL`] (later instants keep the last offset). The database holds this
    /// table so that its triggers count decisions per local day.
    pub fn offsets(self) -> Vec<(NaiveDateTime, i32)> {
        let at = |d: NaiveDate| d.and_time(NaiveTime::MIN);
        let mut rows = vec![(first_row(), self.offset_seconds(at(OFFSETS_FROM)))];
        let mut day = OFFSETS_FROM;
        while day < OFFSETS_UNTIL {
            let next = day + Days::new(1);
            let (from, to) = (self.offset_seconds(at(day)), self.offset_seconds(at(next)));
            if from != to {
                // The change lies in (day, next]: the first second with the new offset.
                let (mut lo, mut hi) = (0i64, 86_400i64);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if self.offset_seconds(at(day) + chrono::TimeDelta::seconds(mid)) == from {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                rows.push((at(day) + chrono::TimeDelta::seconds(hi), to));
            }
            day = next;
        }
        rows
    }
}

/// The instant of the offsets table's first row: year 1, which both databases store (and
/// which sorts first as SQLite's text), before anything the service records.
pub fn first_row() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN).and_time(NaiveTime::MIN)
}

/// The span [`Zone::offsets`] lists changes for: before it nothing the service records;
/// after it, rules nobody has written yet.
pub const OFFSETS_FROM: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};
pub const OFFSETS_UNTIL: NaiveDate = match NaiveDate::from_ymd_opt(2100, 1, 1) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(Zone::parse("Europe/Madrid").unwrap().name(), "Europe/Madrid");
        assert_eq!(Zone::default().name(), DEFAULT_ZONE);
        assert!(Zone::parse("America/Rio_Grande").is_err());
        assert!(Zone::parse("").is_err());
        assert!(Zone::parse("-03:00").is_err());
    }

    #[test]
    fn ushuaia_is_three_hours_behind_utc() {
        let z = Zone::default();
        // 01:30 UTC on the 28th is 22:30 on the 27th in Río Grande.
        assert_eq!(z.today(at(2026, 11, 28, 1, 30)), day(2026, 11, 27));
        assert_eq!(z.today(at(2026, 11, 28, 3, 0)), day(2026, 11, 28));
        assert_eq!(z.day_start(day(2026, 11, 27)), at(2026, 11, 27, 3, 0));
        assert_eq!(z.local(at(2026, 11, 28, 1, 30)).format("%d/%m/%Y %H:%M").to_string(), "27/11/2026 22:30");
    }

    #[test]
    fn summer_time_moves_the_day_boundaries() {
        let z = Zone::parse("Europe/Madrid").unwrap();
        // Winter UTC+1, summer UTC+2 (from 01:00 UTC on the last Sunday of March).
        assert_eq!(z.day_start(day(2026, 1, 15)), at(2026, 1, 14, 23, 0));
        assert_eq!(z.day_start(day(2026, 7, 15)), at(2026, 7, 14, 22, 0));
        assert_eq!(z.today(at(2026, 7, 14, 22, 30)), day(2026, 7, 15));
        assert_eq!(z.today(at(2026, 1, 14, 22, 30)), day(2026, 1, 14));
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_begins_when_the_clocks_jump() {
        // São Paulo moved to summer time at 00:00 local (03:00 UTC) on 4 November 2018:
        // the clocks went from 23:59:59 on the 3rd to 01:00 on the 4th.
        let z = Zone::parse("America/Sao_Paulo").unwrap();
        assert_eq!(z.day_start(day(2018, 11, 4)), at(2018, 11, 4, 3, 0));
        assert_eq!(z.today(at(2018, 11, 4, 3, 0)), day(2018, 11, 4));
        assert_eq!(z.today(at(2018, 11, 4, 2, 59)), day(2018, 11, 3));
    }

    #[test]
    fn extreme_days_do_not_panic() {
        let z = Zone::parse("Pacific/Kiritimati").unwrap();
        assert_eq!(z.day_start(NaiveDate::MAX), NaiveDate::MAX.and_time(NaiveTime::MIN) - chrono::TimeDelta::hours(14));
        // Before 1900, the offset of 1900 (Córdoba's mean time, UTC−4:16:48).
        assert_eq!(Zone::default().day_start(NaiveDate::MIN), NaiveDate::MIN.and_hms_opt(4, 16, 48).unwrap());
    }

    #[test]
    fn the_offsets_table_lists_every_change_and_agrees_with_the_zone() {
        let madrid = Zone::parse("Europe/Madrid").unwrap();
        let rows = madrid.offsets();
        assert_eq!(rows[0], (first_row(), 3600));
        assert!(rows.contains(&(at(2026, 3, 29, 1, 0), 7200)), "summer time 2026");
        assert!(rows.contains(&(at(2026, 10, 25, 1, 0), 3600)), "winter time 2026");
        // Every instant's offset is the one of the last row at or before it.
        for probe in [at(1985, 6, 1, 12, 0), at(2026, 3, 29, 0, 59), at(2026, 3, 29, 1, 0), at(2099, 12, 31, 23, 0)] {
            let row = rows.iter().rev().find(|(from, _)| *from <= probe).unwrap();
            assert_eq!(row.1, madrid.offset_seconds(probe), "at {probe}");
        }
        // A zone without changes since 1970 is one row.
        assert_eq!(Zone::parse("UTC").unwrap().offsets(), vec![(first_row(), 0)]);
        // Río Grande: UTC−3 since 2009.
        let ushuaia = Zone::default().offsets();
        assert_eq!(ushuaia.last().map(|r| r.1), Some(-10_800));
        assert!(ushuaia.last().unwrap().0 < at(2009, 1, 1, 0, 0));
    }
}
