//! The commissioners' dashboard: per group and per officer figures for a period, and the
//! weekly outcomes for the chart.
//!
//! Periods and weeks are whole local days. Decision times are tallied per range of days
//! (`stats::WAIT_EDGES_DAYS`), so medians and percentiles are given as the range that
//! holds them.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::app::AppState;
use crate::db::DbConn;
use crate::db::fragment::Fixed;
use crate::db::schema::{groups, users};
use crate::db::summary::{self, DecisionTotals};
use crate::domain::Zone;
use crate::domain::application::Status;
use crate::domain::stats::{self, Period, WaitRange};
use crate::domain::{GroupId, UserId};
use crate::error::AppResult;

/// Groups shown at most.
pub const MAX_GROUPS: i64 = 500;

#[derive(Debug, Clone)]
pub struct GroupFigures {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// Open applications per open status, in the order of `Status::OPEN`.
    pub open: Vec<(Status, i64)>,
    /// Memberships with status active whose validity has not ended.
    pub active_members: i64,
    pub approved: i64,
    pub rejected: i64,
    /// The ranges of days from submission to decision (approval or rejection) that hold
    /// the median and the 90th percentile of the period's decisions.
    pub median: Option<WaitRange>,
    pub p90: Option<WaitRange>,
    /// Whole days since the oldest open application was submitted.
    pub oldest_waiting_days: Option<i64>,
}

impl GroupFigures {
    pub fn open_total(&self) -> i64 {
        self.open.iter().map(|(_, n)| n).sum()
    }

    pub fn approval_rate(&self) -> Option<f64> {
        stats::approval_rate(self.approved, self.rejected)
    }
}

/// One officer's decisions in one group (an officer of several groups has a row in each).
#[derive(Debug, Clone)]
pub struct OfficerFigures {
    pub officer_id: UserId,
    pub name: String,
    pub group_id: GroupId,
    pub group_name: String,
    pub approved: i64,
    pub rejected: i64,
    pub median: Option<WaitRange>,
    /// The group's approval rate in the period, the norm the officer is compared with.
    pub group_rate: Option<f64>,
}

impl OfficerFigures {
    pub fn decisions(&self) -> i64 {
        self.approved + self.rejected
    }

    pub fn approval_rate(&self) -> Option<f64> {
        stats::approval_rate(self.approved, self.rejected)
    }

    pub fn outlier(&self) -> bool {
        stats::is_outlier(self.approved, self.rejected, self.group_rate)
    }
}

/// Applications closed in one week of the chart (local days, both included), by outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekFigures {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub approved: i64,
    pub rejected: i64,
    pub withdrawn: i64,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub period: Period,
    pub now: NaiveDateTime,
    pub groups: Vec<GroupFigures>,
    pub officers: Vec<OfficerFigures>,
    pub weeks: Vec<WeekFigures>,
    /// Desk and online applications per group and officer (`oversight::channels`).
    pub channels: super::channels::ChannelFigures,
}

/// Sums of decision totals, with the waits per range added up.
#[derive(Default)]
struct Tally {
    approved: i64,
    rejected: i64,
    waits: [i64; 13],
}

impl Tally {
    fn add(&mut self, t: &DecisionTotals) {
        self.approved += t.approved;
        self.rejected += t.rejected;
        for (sum, n) in self.waits.iter_mut().zip(t.waits()) {
            *sum += n;
        }
    }
}

/// Every figure comes from summary rows or an index, so the cost does not grow with the
/// number of applications: counts per group and status, decisions per day, group and
/// officer, and members per last valid day (see `db::summary`).
pub fn dashboard(conn: &mut DbConn, now: NaiveDateTime, zone: Zone, period: Period) -> QueryResult<Dashboard> {
    let today = zone.today(now);
    let group_rows: Vec<(String, String, bool, Option<NaiveDateTime>)> = groups::table
        .select((groups::id, groups::name, groups::active, oldest_open()))
        .order((groups::name.asc(), groups::id.asc()))
        .limit(MAX_GROUPS)
        .load(conn)?;
    let counts: HashMap<(String, String), i64> =
        summary::application_counts(conn)?.into_iter().map(|(g, s, n)| ((g, s), n)).collect();
    let members: HashMap<String, i64> = summary::active_members(conn, today)?.into_iter().collect();
    let decisions = summary::decisions_since(conn, period.first_day(today))?;

    let mut per_group: HashMap<&str, Tally> = HashMap::new();
    for d in &decisions {
        per_group.entry(&d.group_id).or_default().add(d);
    }
    let groups: Vec<GroupFigures> = group_rows
        .into_iter()
        .map(|(id, name, active, oldest)| {
            let tally = per_group.remove(id.as_str()).unwrap_or_default();
            GroupFigures {
                open: Status::OPEN
                    .iter()
                    .map(|s| (*s, counts.get(&(id.clone(), s.as_str().to_string())).copied().unwrap_or(0)))
                    .collect(),
                active_members: members.get(&id).copied().unwrap_or(0),
                approved: tally.approved,
                rejected: tally.rejected,
                median: stats::median_range(&tally.waits),
                p90: stats::percentile_range(&tally.waits, 90.0),
                oldest_waiting_days: oldest.map(|at| (now - at).num_days()),
                id,
                name,
                active,
            }
        })
        .collect();

    let officers = officer_figures(conn, &decisions, &groups)?;
    let weeks = weeks(conn, today, period)?;
    let shown: Vec<(String, String)> = groups.iter().map(|g| (g.id.clone(), g.name.clone())).collect();
    let channels = super::channels::figures(conn, period.first_day(today), &shown)?;
    Ok(Dashboard { period, now, groups, officers, weeks, channels })
}

/// When the group's oldest open application was submitted: the first entry of the group's
/// open queue index (`applications_open_group`).
fn oldest_open() -> Fixed<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>> {
    Fixed::new(format!(
        "(SELECT a.submitted_at FROM applications a WHERE a.group_id = groups.id AND {} \
         ORDER BY a.submitted_at LIMIT 1)",
        crate::db::queries::applications::open_condition("a")
    ))
}

/// Who decided is the application's `decided_by`: the officer of its approval (in
/// two-approval groups, the one who confirmed) or rejection.
fn officer_figures(
    conn: &mut DbConn,
    decisions: &[DecisionTotals],
    groups: &[GroupFigures],
) -> QueryResult<Vec<OfficerFigures>> {
    let mine: Vec<&DecisionTotals> =
        decisions.iter().filter(|d| !d.officer_id.is_empty() && d.approved + d.rejected > 0).collect();
    let ids: Vec<&str> = mine.iter().map(|d| d.officer_id.as_str()).collect();
    let names: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::full_name))
            .load(conn)?
            .into_iter()
            .collect()
    };
    let mut out: Vec<OfficerFigures> = mine
        .into_iter()
        .filter_map(|d| {
            let group = groups.iter().find(|g| g.id == d.group_id)?;
            let mut tally = Tally::default();
            tally.add(d);
            Some(OfficerFigures {
                name: names.get(&d.officer_id).cloned().unwrap_or_default(),
                group_name: group.name.clone(),
                group_rate: group.approval_rate(),
                median: stats::median_range(&tally.waits),
                officer_id: UserId::from_stored(d.officer_id.clone()),
                group_id: GroupId::from_stored(d.group_id.clone()),
                approved: tally.approved,
                rejected: tally.rejected,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.group_name, &a.name, &a.officer_id).cmp(&(&b.group_name, &b.name, &b.officer_id)));
    Ok(out)
}

fn weeks(conn: &mut DbConn, today: NaiveDate, period: Period) -> QueryResult<Vec<WeekFigures>> {
    let windows = stats::week_days(today, period);
    let Some((from, _)) = windows.first() else { return Ok(Vec::new()) };
    let days = summary::decisions_per_day(conn, *from)?;
    Ok(windows
        .into_iter()
        .map(|(first, last)| {
            let mut w = WeekFigures { first, last, approved: 0, rejected: 0, withdrawn: 0 };
            for (_, t) in days.iter().filter(|(day, _)| (first..=last).contains(day)) {
                w.approved += t.approved;
                w.rejected += t.rejected;
                w.withdrawn += t.withdrawn;
            }
            w
        })
        .collect())
}

/// The dashboard as of now.
pub async fn load(state: &AppState, period: Period) -> AppResult<Dashboard> {
    let (now, zone) = (state.clock.now(), state.settings.zone);
    state.db(move |c| Ok(dashboard(c, now, zone, period)?)).await
}
