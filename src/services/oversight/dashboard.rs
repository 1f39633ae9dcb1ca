//! The commissioners' dashboard: per group and per officer figures for a period, and the
//! weekly outcomes for the chart.
//!
//! Counts are SQL aggregates (`COUNT(*) … GROUP BY`). Medians and percentiles need the
//! single values, so for decisions in the period (and only those) the two timestamps and
//! the group are loaded, never whole rows, and at most [`MAX_DECISION_ROWS`] of them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::app::AppState;
use crate::db::DbConn;
use crate::db::schema::{application_events, applications, groups, memberships, users};
use crate::domain::application::{Status, local_today};
use crate::domain::membership::MembershipStatus;
use crate::domain::stats::{self, Period};
use crate::domain::{GroupId, UserId};
use crate::error::AppResult;

/// Decision times loaded per dashboard view at most (three columns each). Far above a
/// year of decisions for the city; past it the medians cover the newest decisions only.
pub const MAX_DECISION_ROWS: i64 = 100_000;
/// Groups shown at most.
pub const MAX_GROUPS: i64 = 500;

// Decisions per officer and group: the timeline event's officer and kind with the
// application's group.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    application_events::actor_id,
    application_events::kind,
    applications::group_id,
);

/// The outcomes a decision can have, as the charts and counts name them.
const DECIDED: [&str; 2] = ["approved", "rejected"];

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
    /// Days from submission to decision (approval or rejection) in the period.
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
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
    pub median_days: Option<f64>,
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

/// Applications closed in one week of the chart, by outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekFigures {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
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
}

fn count_of<K: std::hash::Hash + Eq>(map: &HashMap<K, i64>, key: &K) -> i64 {
    map.get(key).copied().unwrap_or(0)
}

pub fn dashboard(conn: &mut DbConn, now: NaiveDateTime, period: Period) -> QueryResult<Dashboard> {
    let start = period.start(now);
    let open: Vec<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();

    let group_rows: Vec<(String, String, bool)> = groups::table
        .select((groups::id, groups::name, groups::active))
        .order((groups::name.asc(), groups::id.asc()))
        .limit(MAX_GROUPS)
        .load(conn)?;

    let open_counts: HashMap<(String, String), i64> = applications::table
        .filter(applications::status.eq_any(&open))
        .group_by((applications::group_id, applications::status))
        .select((applications::group_id, applications::status, count_star()))
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(g, s, n)| ((g, s), n))
        .collect();

    let oldest: HashMap<String, NaiveDateTime> = applications::table
        .filter(applications::status.eq_any(&open))
        .group_by(applications::group_id)
        .select((applications::group_id, min(applications::submitted_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(g, at)| at.map(|at| (g, at)))
        .collect();

    let members: HashMap<String, i64> = memberships::table
        .filter(memberships::status.eq(MembershipStatus::Active))
        .filter(memberships::valid_until.ge(local_today(now)))
        .group_by(memberships::group_id)
        .select((memberships::group_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();

    let decided_counts: HashMap<(String, String), i64> = applications::table
        .filter(applications::status.eq_any(DECIDED))
        .filter(applications::decided_at.ge(start))
        .group_by((applications::group_id, applications::status))
        .select((applications::group_id, applications::status, count_star()))
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(g, s, n)| ((g, s), n))
        .collect();

    let mut durations: HashMap<String, Vec<f64>> = HashMap::new();
    let rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = applications::table
        .filter(applications::status.eq_any(DECIDED))
        .filter(applications::decided_at.ge(start))
        .select((applications::group_id, applications::submitted_at, applications::decided_at))
        .order(applications::decided_at.desc())
        .limit(MAX_DECISION_ROWS)
        .load(conn)?;
    for (g, submitted, decided) in rows {
        if let Some(decided) = decided {
            durations.entry(g).or_default().push(stats::days_between(submitted, decided));
        }
    }

    let groups: Vec<GroupFigures> = group_rows
        .into_iter()
        .map(|(id, name, active)| {
            let times = durations.remove(&id).unwrap_or_default();
            GroupFigures {
                open: Status::OPEN
                    .iter()
                    .map(|s| (*s, count_of(&open_counts, &(id.clone(), s.as_str().into()))))
                    .collect(),
                active_members: count_of(&members, &id),
                approved: count_of(&decided_counts, &(id.clone(), "approved".into())),
                rejected: count_of(&decided_counts, &(id.clone(), "rejected".into())),
                median_days: stats::median(&times),
                p90_days: stats::percentile(&times, 90.0),
                oldest_waiting_days: oldest.get(&id).map(|at| (now - *at).num_days()),
                id,
                name,
                active,
            }
        })
        .collect();

    let officers = officer_figures(conn, start, &groups)?;
    let weeks =
        stats::week_windows(now, period).into_iter().map(|(s, e)| week(conn, s, e)).collect::<QueryResult<Vec<_>>>()?;
    Ok(Dashboard { period, now, groups, officers, weeks })
}

/// Who decided is on the application's timeline: the officer of its `approved` or
/// `rejected` event (in two-approval groups, the one who confirmed).
fn officer_figures(
    conn: &mut DbConn,
    start: NaiveDateTime,
    groups: &[GroupFigures],
) -> QueryResult<Vec<OfficerFigures>> {
    let counts: Vec<(Option<String>, String, String, i64)> = application_events::table
        .inner_join(applications::table)
        .filter(application_events::kind.eq_any(DECIDED))
        .filter(application_events::at.ge(start))
        .filter(application_events::actor_id.is_not_null())
        .group_by((application_events::actor_id, applications::group_id, application_events::kind))
        .select((application_events::actor_id, applications::group_id, application_events::kind, count_star()))
        .load(conn)?;
    let times: Vec<(Option<String>, String, NaiveDateTime, NaiveDateTime)> = application_events::table
        .inner_join(applications::table)
        .filter(application_events::kind.eq_any(DECIDED))
        .filter(application_events::at.ge(start))
        .filter(application_events::actor_id.is_not_null())
        .select((
            application_events::actor_id,
            applications::group_id,
            applications::submitted_at,
            application_events::at,
        ))
        .order(application_events::at.desc())
        .limit(MAX_DECISION_ROWS)
        .load(conn)?;
    let mut durations: HashMap<(String, String), Vec<f64>> = HashMap::new();
    for (officer, group, submitted, decided) in times {
        if let Some(o) = officer {
            durations.entry((o, group)).or_default().push(stats::days_between(submitted, decided));
        }
    }
    let mut tally: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for (officer, group, kind, n) in counts {
        let Some(o) = officer else { continue };
        let t = tally.entry((o, group)).or_default();
        if kind == "approved" {
            t.0 += n;
        } else {
            t.1 += n;
        }
    }
    let ids: Vec<String> = tally.keys().map(|(o, _)| o.clone()).collect();
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
    let mut out: Vec<OfficerFigures> = tally
        .into_iter()
        .filter_map(|((officer_id, group_id), (approved, rejected))| {
            let group = groups.iter().find(|g| g.id == group_id)?;
            let times = durations.remove(&(officer_id.clone(), group_id.clone())).unwrap_or_default();
            Some(OfficerFigures {
                name: names.get(&officer_id).cloned().unwrap_or_default(),
                group_name: group.name.clone(),
                group_rate: group.approval_rate(),
                median_days: stats::median(&times),
                officer_id: UserId::from_stored(officer_id),
                group_id: GroupId::from_stored(group_id),
                approved,
                rejected,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.group_name, &a.name, &a.officer_id).cmp(&(&b.group_name, &b.name, &b.officer_id)));
    Ok(out)
}

fn week(conn: &mut DbConn, start: NaiveDateTime, end: NaiveDateTime) -> QueryResult<WeekFigures> {
    let counts: HashMap<String, i64> = applications::table
        .filter(applications::status.eq_any(["approved", "rejected", "withdrawn"]))
        .filter(applications::decided_at.ge(start))
        .filter(applications::decided_at.lt(end))
        .group_by(applications::status)
        .select((applications::status, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(WeekFigures {
        start,
        end,
        approved: count_of(&counts, &"approved".to_string()),
        rejected: count_of(&counts, &"rejected".to_string()),
        withdrawn: count_of(&counts, &"withdrawn".to_string()),
    })
}

/// The dashboard as of now.
pub async fn load(state: &AppState, period: Period) -> AppResult<Dashboard> {
    let now = state.clock.now();
    state.db(move |c| Ok(dashboard(c, now, period)?)).await
}
