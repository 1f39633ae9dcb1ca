//! The arithmetic of the commissioners' dashboard: the period, medians and percentiles of
//! decision times, approval rates, the rule that marks an officer far from their group's
//! norm, and the weekly windows of the chart. Pure: the figures come in, numbers go out.

use chrono::{Datelike, Duration, Months, NaiveDate};

/// The periods the dashboard offers, in days.
pub const PERIODS: [i64; 3] = [30, 90, 365];

/// The dashboard's period: the last 30, 90 or 365 days up to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(i64);

impl Period {
    /// `?days=`: one of [`PERIODS`]; anything else (missing, mistyped) is the default 30.
    pub fn parse(raw: Option<&str>) -> Self {
        raw.and_then(|r| r.trim().parse::<i64>().ok()).filter(|d| PERIODS.contains(d)).map(Self).unwrap_or_default()
    }

    pub fn days(self) -> i64 {
        self.0
    }

    /// The first local day of the period made of the last `days` local days, today
    /// included: the dashboard counts whole days, as its summary rows do.
    pub fn first_day(self, today: NaiveDate) -> NaiveDate {
        today - Duration::days(self.0 - 1)
    }
}

impl Default for Period {
    fn default() -> Self {
        Self(PERIODS[0])
    }
}

/// Where each waiting-time range starts, in whole days from submission to decision; the
/// last range is open-ended. Decision times are tallied per range (the summary rows), so
/// the dashboard gives the range that holds a median or percentile, not a value.
pub const WAIT_EDGES_DAYS: [i64; 13] = [0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90];

/// A range of whole days of waiting: `from` up to (not including) `to`, or `from` and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRange {
    pub from: i64,
    pub to: Option<i64>,
}

impl std::fmt::Display for WaitRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to {
            Some(to) => write!(f, "{}–{}", self.from, to),
            None => write!(f, "{}+", self.from),
        }
    }
}

/// The range of [`WAIT_EDGES_DAYS`] a wait of `days` falls in.
pub fn wait_range_of(days: f64) -> WaitRange {
    let k = WAIT_EDGES_DAYS.iter().rposition(|edge| days >= *edge as f64).unwrap_or(0);
    WaitRange { from: WAIT_EDGES_DAYS[k], to: WAIT_EDGES_DAYS.get(k + 1).copied() }
}

/// The range that holds the value of 1-based `rank` in the sorted waits, from the count of
/// waits per range.
fn range_at_rank(counts: &[i64; 13], rank: i64) -> Option<WaitRange> {
    let mut seen = 0;
    for (k, n) in counts.iter().enumerate() {
        seen += n;
        if *n > 0 && seen >= rank {
            return Some(WaitRange { from: WAIT_EDGES_DAYS[k], to: WAIT_EDGES_DAYS.get(k + 1).copied() });
        }
    }
    None
}

/// The range of the median (the lower middle value for an even count); `None` without
/// values.
pub fn median_range(counts: &[i64; 13]) -> Option<WaitRange> {
    let n: i64 = counts.iter().sum();
    (n > 0).then(|| range_at_rank(counts, (n + 1) / 2)).flatten()
}

/// The range of the `p`-th percentile by nearest rank (rank ⌈p/100 · n⌉).
pub fn percentile_range(counts: &[i64; 13], p: f64) -> Option<WaitRange> {
    let n: i64 = counts.iter().sum();
    let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as i64;
    (n > 0).then(|| range_at_rank(counts, rank)).flatten()
}

/// Approvals as a percentage of decisions (approvals + rejections); `None` without
/// decisions.
pub fn approval_rate(approved: i64, rejected: i64) -> Option<f64> {
    let decided = approved + rejected;
    (decided > 0).then(|| approved as f64 * 100.0 / decided as f64)
}

/// An officer's approval rate further than this many percentage points from their group's
/// rate is highlighted…
pub const OUTLIER_POINTS: f64 = 25.0;
/// …once the officer made at least this many decisions in the group in the period (fewer
/// say little either way).
pub const OUTLIER_MIN_DECISIONS: i64 = 5;

/// Whether an officer's decisions in a group stand out from the group's: at least
/// [`OUTLIER_MIN_DECISIONS`] decisions and an approval rate more than [`OUTLIER_POINTS`]
/// points from the group's rate (which includes the officer's own decisions).
pub fn is_outlier(officer_approved: i64, officer_rejected: i64, group_rate: Option<f64>) -> bool {
    let (Some(group), Some(own)) = (group_rate, approval_rate(officer_approved, officer_rejected)) else {
        return false;
    };
    officer_approved + officer_rejected >= OUTLIER_MIN_DECISIONS && (own - group).abs() > OUTLIER_POINTS
}

/// The weekly chart shows at most this many weeks.
pub const MAX_CHART_WEEKS: i64 = 12;

/// The chart's weeks as local days, first and last included: seven-day windows ending
/// today, oldest first, as many whole weeks as fit in the period, at most
/// [`MAX_CHART_WEEKS`] (4 for 30 days, 12 for 90 and 365).
pub fn week_days(today: NaiveDate, period: Period) -> Vec<(NaiveDate, NaiveDate)> {
    let n = (period.days() / 7).min(MAX_CHART_WEEKS);
    (0..n)
        .rev()
        .map(|k| {
            let last = today - Duration::weeks(k);
            (last - Duration::days(6), last)
        })
        .collect()
}

/// How a period that starts on `first` and ends today reads the summary rows: every
/// monthly row from `months_from` on (the current month included: it holds no day after
/// today, since no decision lies in the future), corrected by the daily rows from
/// `days_from` up to (not including) `days_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryRead {
    pub months_from: NaiveDate,
    pub days_from: NaiveDate,
    pub days_until: NaiveDate,
    /// The daily rows are the first month's days before the period, taken away from its
    /// monthly row; otherwise they are the period's days before its first whole month,
    /// added.
    pub subtract_days: bool,
}

impl SummaryRead {
    /// A period that starts mid-month reads whichever is shorter: its days in that month
    /// (added to the months after it), or the month's days before it (taken from the
    /// month's row). At most 15 days of daily rows either way, whatever the date.
    pub fn of(first: NaiveDate) -> Self {
        let month = first.with_day(1).unwrap_or(first);
        let next = month.checked_add_months(Months::new(1)).unwrap_or(first);
        let before = (first - month).num_days();
        if before == 0 || before < (next - first).num_days() {
            Self { months_from: month, days_from: month, days_until: first, subtract_days: true }
        } else {
            Self { months_from: next, days_from: first, days_until: next, subtract_days: false }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_reads_months_and_at_most_half_a_month_of_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let read = |first| {
            let r = SummaryRead::of(first);
            (r.months_from, r.days_from, r.days_until, r.subtract_days)
        };
        // 90 days to 30 Nov 2026 start on 2 Sep: September's row minus 1 September.
        assert_eq!(read(d(2026, 9, 2)), (d(2026, 9, 1), d(2026, 9, 1), d(2026, 9, 2), true));
        // 365 days to 29 Nov 2026 start on 30 Nov 2025: that day, then December on.
        assert_eq!(read(d(2025, 11, 30)), (d(2025, 12, 1), d(2025, 11, 30), d(2025, 12, 1), false));
        // A period starting on a first of month reads whole months and no day.
        assert_eq!(read(d(2026, 9, 1)), (d(2026, 9, 1), d(2026, 9, 1), d(2026, 9, 1), true));
        // Half a month either way: 15 days before 16 November, 15 from it; the days are added.
        assert_eq!(read(d(2026, 11, 16)), (d(2026, 12, 1), d(2026, 11, 16), d(2026, 12, 1), false));
        assert_eq!(read(d(2026, 11, 15)), (d(2026, 11, 1), d(2026, 11, 1), d(2026, 11, 15), true));
        // February of a leap year, and across a year's end.
        assert_eq!(read(d(2028, 2, 15)), (d(2028, 2, 1), d(2028, 2, 1), d(2028, 2, 15), true));
        assert_eq!(read(d(2028, 2, 16)), (d(2028, 3, 1), d(2028, 2, 16), d(2028, 3, 1), false));
        assert_eq!(read(d(2025, 12, 31)), (d(2026, 1, 1), d(2025, 12, 31), d(2026, 1, 1), false));
        // Never more than 15 days of daily rows, on any day of a year.
        let mut first = d(2027, 1, 1);
        while first < d(2029, 1, 1) {
            let r = SummaryRead::of(first);
            assert!((r.days_until - r.days_from).num_days() <= 15, "{first}");
            assert!(r.months_from.day() == 1 && r.days_from <= r.days_until, "{first}");
            first += Duration::days(1);
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn the_period_is_one_of_three_and_defaults_to_30_days() {
        assert_eq!(Period::parse(Some("90")).days(), 90);
        assert_eq!(Period::parse(Some(" 365 ")).days(), 365);
        for bad in [None, Some(""), Some("31"), Some("-30"), Some("abc"), Some("99999999999999999999")] {
            assert_eq!(Period::parse(bad).days(), 30, "{bad:?}");
        }
    }

    #[test]
    fn approval_rate_is_a_percentage_of_decisions() {
        assert_eq!(approval_rate(0, 0), None);
        assert_eq!(approval_rate(3, 1), Some(75.0));
        assert_eq!(approval_rate(0, 4), Some(0.0));
    }

    #[test]
    fn an_officer_is_far_from_the_norm_only_with_enough_decisions_and_over_25_points() {
        // Group approves 80 %.
        let group = Some(80.0);
        assert!(is_outlier(1, 4, group), "20 % is 60 points away, with 5 decisions");
        assert!(!is_outlier(1, 3, group), "4 decisions are too few");
        assert!(!is_outlier(11, 9, Some(80.0)), "55 % is exactly 25 points away: not more than 25");
        assert!(is_outlier(27, 23, Some(80.0)), "54 % is 26 points away");
        assert!(is_outlier(10, 0, Some(70.0)), "too lenient counts as well as too strict");
        assert!(!is_outlier(5, 0, None));
        assert!(!is_outlier(0, 0, group));
    }

    #[test]
    fn weeks_are_whole_local_days_ending_today_inside_the_period() {
        let today = day(30);
        let w = week_days(today, Period::parse(Some("30")));
        assert_eq!(w.len(), 4);
        assert_eq!(w[3], (day(24), day(30)), "the last week ends today");
        assert_eq!(w[0], (day(3), day(9)));
        assert!(w.windows(2).all(|p| p[0].1 + Duration::days(1) == p[1].0), "weeks follow each other");
        assert!(w[0].0 >= Period::parse(Some("30")).first_day(today), "inside the period");
        assert_eq!(week_days(today, Period::parse(Some("90"))).len(), 12);
        assert_eq!(week_days(today, Period::parse(Some("365"))).len(), 12);
    }

    #[test]
    fn a_period_is_its_last_days_with_today() {
        assert_eq!(Period::parse(Some("30")).first_day(day(30)), day(1));
        assert_eq!(Period::parse(Some("90")).first_day(day(30)), day(30) - Duration::days(89));
    }

    #[test]
    fn waits_fall_in_the_range_that_starts_at_or_below_them() {
        assert_eq!(wait_range_of(0.0), WaitRange { from: 0, to: Some(1) });
        assert_eq!(wait_range_of(0.99), WaitRange { from: 0, to: Some(1) });
        assert_eq!(wait_range_of(1.0), WaitRange { from: 1, to: Some(2) });
        assert_eq!(wait_range_of(4.5), WaitRange { from: 3, to: Some(5) });
        assert_eq!(wait_range_of(89.9), WaitRange { from: 60, to: Some(90) });
        assert_eq!(wait_range_of(400.0), WaitRange { from: 90, to: None });
        assert_eq!(WaitRange { from: 3, to: Some(5) }.to_string(), "3–5");
        assert_eq!(WaitRange { from: 90, to: None }.to_string(), "90+");
    }

    /// Counts per range of the given waits, as the summary rows keep them.
    fn tally(waits: &[f64]) -> [i64; 13] {
        let mut counts = [0; 13];
        for w in waits {
            let r = wait_range_of(*w);
            counts[WAIT_EDGES_DAYS.iter().position(|e| *e == r.from).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn the_median_range_holds_the_lower_middle_value() {
        assert_eq!(median_range(&[0; 13]), None);
        assert_eq!(median_range(&tally(&[4.0])), Some(wait_range_of(4.0)));
        assert_eq!(median_range(&tally(&[9.0, 0.5, 4.0])), Some(wait_range_of(4.0)));
        // Even count: the lower of the two middle values (1.5), not their mean (3.0).
        assert_eq!(median_range(&tally(&[0.2, 1.5, 4.5, 100.0])), Some(wait_range_of(1.5)));
    }

    #[test]
    fn the_percentile_range_holds_the_nearest_rank_value() {
        let ten: Vec<f64> = (1..=10).map(|d| d as f64 * 10.0).collect();
        assert_eq!(percentile_range(&tally(&ten), 90.0), Some(wait_range_of(90.0)), "rank 9 is 90 days");
        assert_eq!(percentile_range(&tally(&ten), 80.0), Some(wait_range_of(80.0)));
        assert_eq!(percentile_range(&tally(&ten), 0.0), Some(wait_range_of(10.0)), "rank 1 at least");
        assert_eq!(percentile_range(&tally(&[3.5, 0.5, 2.5]), 90.0), Some(wait_range_of(3.5)), "rank ⌈2.7⌉ = 3");
        assert_eq!(percentile_range(&[0; 13], 90.0), None);
    }
}
