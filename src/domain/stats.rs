//! The arithmetic of the commissioners' dashboard: the period, medians and percentiles of
//! decision times, approval rates, the rule that marks an officer far from their group's
//! norm, and the weekly windows of the chart. Pure: the figures come in, numbers go out.

use chrono::{Duration, NaiveDateTime};

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

    /// The first instant of the period that ends at `now`.
    pub fn start(self, now: NaiveDateTime) -> NaiveDateTime {
        now - Duration::days(self.0)
    }
}

impl Default for Period {
    fn default() -> Self {
        Self(PERIODS[0])
    }
}

/// Days from `from` to `to`, with the fraction (decision times are often under a day).
pub fn days_between(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// The middle value; with an even count, the mean of the two middle values. `None` for no
/// values.
pub fn median(values: &[f64]) -> Option<f64> {
    let v = sorted(values);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The `p`-th percentile by nearest rank: the value at rank ⌈p/100 · n⌉ (1-based) of the
/// sorted values, so it is always one of the values. `None` for no values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let v = sorted(values);
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
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

/// The chart's weeks: seven-day windows `[start, end)` ending at `now`, oldest first, as
/// many whole weeks as fit in the period, at most [`MAX_CHART_WEEKS`] (4 for 30 days,
/// 12 for 90 and 365). Rolling windows rather than calendar weeks, so the last bar is a full
/// week and every bar lies inside the period.
pub fn week_windows(now: NaiveDateTime, period: Period) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let n = (period.days() / 7).min(MAX_CHART_WEEKS);
    (0..n)
        .rev()
        .map(|k| {
            let end = now - Duration::weeks(k);
            (end - Duration::weeks(1), end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn the_period_is_one_of_three_and_defaults_to_30_days() {
        assert_eq!(Period::parse(Some("90")).days(), 90);
        assert_eq!(Period::parse(Some(" 365 ")).days(), 365);
        for bad in [None, Some(""), Some("31"), Some("-30"), Some("abc"), Some("99999999999999999999")] {
            assert_eq!(Period::parse(bad).days(), 30, "{bad:?}");
        }
        assert_eq!(Period::parse(Some("30")).start(at(30, 12)), at(30, 12) - Duration::days(30));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[4.0]), Some(4.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0), "not-a-number values are ignored");
    }

    #[test]
    fn percentile_by_nearest_rank() {
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&ten, 100.0), Some(10.0));
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
        assert_eq!(percentile(&ten, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 90.0), Some(3.0), "rank ⌈2.7⌉ = 3");
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&eleven, 90.0), Some(10.0), "rank ⌈9.9⌉ = 10");
        assert_eq!(percentile(&[], 90.0), None);
    }

    #[test]
    fn days_keep_their_fraction() {
        assert_eq!(days_between(at(1, 0), at(2, 12)), 1.5);
        assert_eq!(days_between(at(1, 0), at(1, 0)), 0.0);
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
    fn weeks_are_whole_rolling_windows_inside_the_period() {
        let now = at(30, 12);
        let w = week_windows(now, Period::parse(Some("30")));
        assert_eq!(w.len(), 4);
        assert_eq!(w.last().unwrap().1, now);
        assert_eq!(w[0].0, now - Duration::weeks(4));
        for pair in w.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "contiguous");
        }
        assert_eq!(week_windows(now, Period::parse(Some("90"))).len(), 12);
        assert_eq!(week_windows(now, Period::parse(Some("365"))).len(), 12);
    }
}
