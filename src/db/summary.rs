//! Summary rows: the counts the queue and the dashboard read instead of scanning history.
//! Triggers (migration `2026-11-30-000011_summary_counts`) keep them in the transaction of
//! every change to the rows they count, whichever code or tool makes it; this module reads
//! them, and rebuilds them from the rows for data loaded by other means or after a restore.
//!
//! - `application_counts`: applications per group and status.
//! - `decision_counts`: per local day (in the installed zone, `db::local_time`), group and deciding officer (`''` for none),
//!   approvals, rejections and withdrawals, and the approvals and rejections by how long
//!   they waited, in the ranges of [`WAIT_BUCKET_DAYS`].
//! - `decision_months`, `decision_days`: the same per calendar month (keyed by its first
//!   day), and per day for every group and officer together; kept from `decision_counts`
//!   by triggers of their own (migration `2026-11-30-000030_decision_months`), so that a
//!   period reads about one row per month, group and officer, corrected by at most 15 days
//!   of daily rows ([`period_sums`]), and
//!   the weekly chart one row per day.
//! - `member_counts`: active memberships per group and last valid day.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use crate::db::DbConn;
use crate::db::fragment::Statement;
use crate::db::schema::{application_counts, decision_days, member_counts};
use crate::domain::stats::SummaryRead;

/// The waiting-time ranges; the migration's triggers use the same edges.
use crate::domain::stats::WAIT_EDGES_DAYS as WAIT_BUCKET_DAYS;

/// Decisions of one group and officer (or of one day), summed over a range of days.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct DecisionTotals {
    #[diesel(sql_type = Text)]
    pub group_id: String,
    /// `''` for withdrawals and decisions without an officer.
    #[diesel(sql_type = Text)]
    pub officer_id: String,
    #[diesel(sql_type = BigInt)]
    pub approved: i64,
    #[diesel(sql_type = BigInt)]
    pub rejected: i64,
    #[diesel(sql_type = BigInt)]
    pub withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    wait_0: i64,
    #[diesel(sql_type = BigInt)]
    wait_1: i64,
    #[diesel(sql_type = BigInt)]
    wait_2: i64,
    #[diesel(sql_type = BigInt)]
    wait_3: i64,
    #[diesel(sql_type = BigInt)]
    wait_4: i64,
    #[diesel(sql_type = BigInt)]
    wait_5: i64,
    #[diesel(sql_type = BigInt)]
    wait_6: i64,
    #[diesel(sql_type = BigInt)]
    wait_7: i64,
    #[diesel(sql_type = BigInt)]
    wait_8: i64,
    #[diesel(sql_type = BigInt)]
    wait_9: i64,
    #[diesel(sql_type = BigInt)]
    wait_10: i64,
    #[diesel(sql_type = BigInt)]
    wait_11: i64,
    #[diesel(sql_type = BigInt)]
    wait_12: i64,
}

impl DecisionTotals {
    /// Approvals and rejections per waiting range of [`WAIT_BUCKET_DAYS`].
    pub fn waits(&self) -> [i64; 13] {
        [
            self.wait_0,
            self.wait_1,
            self.wait_2,
            self.wait_3,
            self.wait_4,
            self.wait_5,
            self.wait_6,
            self.wait_7,
            self.wait_8,
            self.wait_9,
            self.wait_10,
            self.wait_11,
            self.wait_12,
        ]
    }
}

/// The count columns of `decision_counts` and `decision_months`.
fn count_columns() -> Vec<String> {
    ["approved", "rejected", "withdrawn"]
        .into_iter()
        .map(String::from)
        .chain((0..WAIT_BUCKET_DAYS.len()).map(|k| format!("wait_{k}")))
        .collect()
}

/// One day's decisions, every group and officer together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    pub approved: i64,
    pub rejected: i64,
    pub withdrawn: i64,
}

/// Decisions from day `from` to today, per group and officer.
pub fn decisions_since(conn: &mut DbConn, from: NaiveDate) -> QueryResult<Vec<DecisionTotals>> {
    period_sums("decision_counts", "decision_months", &count_columns(), from).load(conn)
}

/// The sums of `columns` per group and officer from day `from` to today, read from the
/// monthly table and corrected by at most 15 days of the daily one ([`SummaryRead`]), so
/// that the rows read do not depend on the day of the month a period starts on. Zero sums
/// can come back (an officer who decided only on the days taken away): readers skip them.
pub(crate) fn period_sums(daily: &str, monthly: &str, columns: &[String], from: NaiveDate) -> Statement {
    let read = SummaryRead::of(from);
    let list = |each: &dyn Fn(&String) -> String| columns.iter().map(each).collect::<Vec<_>>().join(", ");
    // PostgreSQL sums BIGINT to NUMERIC: cast back so both backends return BIGINT.
    let sums = list(&|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"));
    let days = list(&|c| if read.subtract_days { format!("-{c}") } else { c.clone() });
    Statement::default()
        .sql(format!(
            "SELECT group_id, officer_id, {sums} FROM ( SELECT group_id, officer_id, {} FROM {monthly} WHERE month >= ",
            columns.join(", ")
        ))
        .date(read.months_from)
        .sql(format!(" UNION ALL SELECT group_id, officer_id, {days} FROM {daily} WHERE day >= "))
        .date(read.days_from)
        .sql(" AND day < ")
        .date(read.days_until)
        .sql(") t GROUP BY group_id, officer_id")
}

/// Decisions per day from day `from` on, every group and officer together.
pub fn decisions_per_day(conn: &mut DbConn, from: NaiveDate) -> QueryResult<Vec<(NaiveDate, DayTotals)>> {
    decision_days::table
        .filter(decision_days::day.ge(from))
        .select((decision_days::day, (decision_days::approved, decision_days::rejected, decision_days::withdrawn)))
        .order(decision_days::day)
        .load::<(NaiveDate, (i64, i64, i64))>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(day, (approved, rejected, withdrawn))| (day, DayTotals { approved, rejected, withdrawn }))
                .collect()
        })
}

/// Applications per group and status, for the groups `groups` selects (all when `None`).
pub fn application_counts(conn: &mut DbConn) -> QueryResult<Vec<(String, String, i64)>> {
    application_counts::table
        .select((application_counts::group_id, application_counts::status, application_counts::n))
        .filter(application_counts::n.ne(0))
        .load(conn)
}

/// Active memberships per group still valid on `today`, summed by the database (a year
/// of last valid days per group would otherwise come back as rows).
pub fn active_members(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        group_id: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = Statement::default()
        .sql("SELECT group_id, CAST(SUM(n) AS BIGINT) AS n FROM member_counts WHERE valid_until >= ")
        .date(today)
        .sql(" GROUP BY group_id")
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.group_id, r.n)).collect())
}

/// Every non-zero summary row, in a fixed order: what [`rebuild`] compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub applications: Vec<(String, String, i64)>,
    pub decisions: Vec<(NaiveDate, DecisionTotals)>,
    /// Keyed by the month's first day.
    pub months: Vec<(NaiveDate, DecisionTotals)>,
    pub days: Vec<(NaiveDate, DayTotals)>,
    pub members: Vec<(String, NaiveDate, i64)>,
}

impl Snapshot {
    /// How many summary rows differ between the two: present in one only, or with other
    /// counts.
    pub fn differences(&self, other: &Snapshot) -> usize {
        use std::collections::BTreeMap;
        fn diff<K: Ord, V: PartialEq>(a: BTreeMap<K, V>, mut b: BTreeMap<K, V>) -> usize {
            let mut n = 0;
            for (k, v) in a {
                n += usize::from(b.remove(&k).is_none_or(|w| w != v));
            }
            n + b.len()
        }
        let apps = |s: &Snapshot| s.applications.iter().map(|(g, st, n)| ((g.clone(), st.clone()), *n)).collect();
        let decisions = |rows: &[(NaiveDate, DecisionTotals)]| {
            rows.iter().map(|(d, t)| ((*d, t.group_id.clone(), t.officer_id.clone()), t.clone())).collect()
        };
        let days = |s: &Snapshot| s.days.iter().copied().collect();
        let members = |s: &Snapshot| s.members.iter().map(|(g, d, n)| ((g.clone(), *d), *n)).collect();
        diff::<_, i64>(apps(self), apps(other))
            + diff::<_, DecisionTotals>(decisions(&self.decisions), decisions(&other.decisions))
            + diff::<_, DecisionTotals>(decisions(&self.months), decisions(&other.months))
            + diff::<_, DayTotals>(days(self), days(other))
            + diff::<_, i64>(members(self), members(other))
    }
}

pub fn snapshot(conn: &mut DbConn) -> QueryResult<Snapshot> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Date)]
        day: NaiveDate,
        #[diesel(embed)]
        totals: DecisionTotals,
    }
    let mut applications = application_counts(conn)?;
    applications.sort();
    let columns = count_columns();
    let non_zero = columns.iter().map(|c| format!("{c} <> 0")).collect::<Vec<_>>().join(" OR ");
    let mut decisions = |table: &str, day: &str| -> QueryResult<Vec<(NaiveDate, DecisionTotals)>> {
        let sql = format!(
            "SELECT {day} AS day, group_id, officer_id, {} FROM {table} WHERE {non_zero} \
             ORDER BY {day}, group_id, officer_id",
            columns.join(", ")
        );
        let rows: Vec<Row> = diesel::sql_query(&sql).load(conn)?;
        Ok(rows.into_iter().map(|r| (r.day, r.totals)).collect())
    };
    let daily = decisions("decision_counts", "day")?;
    let months = decisions("decision_months", "month")?;
    // Every day the service can hold (domain::day's range).
    let days = decisions_per_day(conn, crate::domain::day::FIRST_DAY)?
        .into_iter()
        .filter(|(_, t)| *t != DayTotals::default())
        .collect();
    let members = member_counts::table
        .filter(member_counts::n.ne(0))
        .select((member_counts::group_id, member_counts::valid_until, member_counts::n))
        .order((member_counts::group_id, member_counts::valid_until))
        .load(conn)?;
    Ok(Snapshot { applications, decisions: daily, months, days, members })
}

/// Recomputes every summary row from the rows they count and returns how many rows were
/// wrong before (0 when the triggers had kept them right). Run it inside a write
/// transaction: it replaces the tables' contents.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    let before = snapshot(conn)?;
    let day = crate::db::local_time::day_of(conn, "decided_at");
    let wait = match conn {
        DbConn::Sqlite(_) => "strftime('%s', decided_at) - strftime('%s', submitted_at)",
        DbConn::Pg(_) => "EXTRACT(EPOCH FROM decided_at - submitted_at)",
    };
    let month = crate::db::dialect::month_of(conn, "day");
    let bucket = WAIT_BUCKET_DAYS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, edge)| format!("WHEN w < {} THEN {}", edge * 86_400, k - 1))
        .collect::<Vec<_>>()
        .join(" ");
    let waits = (0..WAIT_BUCKET_DAYS.len())
        .map(|k| format!("SUM(CASE WHEN b = {k} THEN 1 ELSE 0 END)"))
        .collect::<Vec<_>>()
        .join(", ");
    let columns = (0..WAIT_BUCKET_DAYS.len()).map(|k| format!("wait_{k}")).collect::<Vec<_>>().join(", ");
    let last = WAIT_BUCKET_DAYS.len() - 1;
    let statements = [
        "DELETE FROM application_counts".to_string(),
        "INSERT INTO application_counts (group_id, status, n) \
         SELECT group_id, status, COUNT(*) FROM applications GROUP BY group_id, status"
            .to_string(),
        "DELETE FROM member_counts".to_string(),
        "INSERT INTO member_counts (group_id, valid_until, n) \
         SELECT group_id, valid_until, COUNT(*) FROM memberships WHERE status = 'active' \
         GROUP BY group_id, valid_until"
            .to_string(),
        "DELETE FROM decision_counts".to_string(),
        format!(
            "INSERT INTO decision_counts (day, group_id, officer_id, approved, rejected, withdrawn, {columns}) \
             SELECT day, group_id, officer_id, \
                    SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END), {waits} \
             FROM (SELECT {day} AS day, group_id, COALESCE(decided_by, '') AS officer_id, status, \
                          CASE WHEN status = 'withdrawn' THEN -1 ELSE CASE {bucket} ELSE {last} END END AS b \
                   FROM (SELECT a.*, {wait} AS w FROM applications a \
                         WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected', 'withdrawn')) aw) d \
             GROUP BY day, group_id, officer_id"
        ),
        // The triggers on decision_counts carried the two statements above to the months
        // and days; recomputed all the same, in case those rows were wrong on their own.
        "DELETE FROM decision_months".to_string(),
        format!(
            "INSERT INTO decision_months (month, group_id, officer_id, {all}) \
             SELECT {month}, group_id, officer_id, {sums} FROM decision_counts GROUP BY 1, group_id, officer_id",
            all = count_columns().join(", "),
            sums = count_columns().iter().map(|c| format!("SUM({c})")).collect::<Vec<_>>().join(", "),
        ),
        "DELETE FROM decision_days".to_string(),
        "INSERT INTO decision_days (day, approved, rejected, withdrawn) \
         SELECT day, SUM(approved), SUM(rejected), SUM(withdrawn) FROM decision_counts GROUP BY day"
            .to_string(),
    ];
    for sql in statements {
        diesel::sql_query(&sql).execute(conn)?;
    }
    Ok(before.differences(&snapshot(conn)?))
}
