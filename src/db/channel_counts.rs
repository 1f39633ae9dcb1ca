//! Summary rows for the dashboard's desk and online figures: per local day (in the installed zone, `db::local_time`), group
//! and officer, the applications received online and at the desk (under the officer who
//! took them, `''` for online ones) and the approvals and rejections of each kind (under
//! the deciding officer). Triggers (migration `2026-11-30-000031_desk_enrollment`) keep
//! them in the transaction of every change to `applications`; [`rebuild`] recomputes them
//! with the same definitions, for `vecinal stats rebuild`. `channel_months` holds the same
//! per calendar month, kept from the daily rows by triggers of their own (migration
//! `2026-11-30-000090_channel_months`), so a period reads about one row per month, group
//! and officer, corrected by at most 15 days of daily rows (`summary::period_sums`).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use crate::db::DbConn;

/// One group and officer's figures, summed over a range of days.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct ChannelTotals {
    #[diesel(sql_type = Text)]
    pub group_id: String,
    /// The officer who took the desk applications received, or who decided; `''` for none.
    #[diesel(sql_type = Text)]
    pub officer_id: String,
    #[diesel(sql_type = BigInt)]
    pub received_online: i64,
    #[diesel(sql_type = BigInt)]
    pub received_desk: i64,
    #[diesel(sql_type = BigInt)]
    pub decided_online: i64,
    #[diesel(sql_type = BigInt)]
    pub decided_desk: i64,
}

const COLUMNS: [&str; 4] = ["received_online", "received_desk", "decided_online", "decided_desk"];

/// Figures from day `from` to today, per group and officer.
pub fn since(conn: &mut DbConn, from: NaiveDate) -> QueryResult<Vec<ChannelTotals>> {
    let columns: Vec<String> = COLUMNS.map(String::from).into();
    crate::db::summary::period_sums("channel_counts", "channel_months", &columns, from).load(conn)
}

/// Every daily and monthly row with a non-zero figure, in key order: what [`rebuild`]
/// compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSnapshot {
    pub days: Vec<(NaiveDate, ChannelTotals)>,
    /// Keyed by the month's first day.
    pub months: Vec<(NaiveDate, ChannelTotals)>,
}

pub fn snapshot(conn: &mut DbConn) -> QueryResult<ChannelSnapshot> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Date)]
        day: NaiveDate,
        #[diesel(embed)]
        totals: ChannelTotals,
    }
    let mut rows = |table: &str, day: &str| -> QueryResult<Vec<(NaiveDate, ChannelTotals)>> {
        let sql = format!(
            "SELECT {day} AS day, group_id, officer_id, {} FROM {table} WHERE {} ORDER BY {day}, group_id, officer_id",
            COLUMNS.join(", "),
            COLUMNS.iter().map(|c| format!("{c} <> 0")).collect::<Vec<_>>().join(" OR ")
        );
        let rows: Vec<Row> = diesel::sql_query(&sql).load(conn)?;
        Ok(rows.into_iter().map(|r| (r.day, r.totals)).collect())
    };
    Ok(ChannelSnapshot { days: rows("channel_counts", "day")?, months: rows("channel_months", "month")? })
}

/// Recomputes every row from `applications` and returns how many rows were wrong before.
/// Run it inside a write transaction.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    let before = snapshot(conn)?;
    let day = |column: &str| crate::db::local_time::day_of(conn, column);
    let sql = format!(
        "INSERT INTO channel_counts (day, group_id, officer_id, {columns}) \
         SELECT day, group_id, officer_id, SUM(ro), SUM(rd), SUM(dn), SUM(dd) FROM ( \
             SELECT {created} AS day, group_id, COALESCE(taken_by, '') AS officer_id, \
                    CASE WHEN taken_by IS NULL THEN 1 ELSE 0 END AS ro, \
                    CASE WHEN taken_by IS NULL THEN 0 ELSE 1 END AS rd, 0 AS dn, 0 AS dd \
             FROM applications \
             UNION ALL \
             SELECT {decided}, group_id, COALESCE(decided_by, ''), 0, 0, \
                    CASE WHEN taken_by IS NULL THEN 1 ELSE 0 END, CASE WHEN taken_by IS NULL THEN 0 ELSE 1 END \
             FROM applications WHERE decided_at IS NOT NULL AND status IN ('approved', 'rejected') \
         ) c GROUP BY day, group_id, officer_id",
        columns = COLUMNS.join(", "),
        created = day("created_at"),
        decided = day("decided_at"),
    );
    diesel::sql_query("DELETE FROM channel_counts").execute(conn)?;
    diesel::sql_query(&sql).execute(conn)?;
    // The triggers carried the two statements above to the months; recomputed all the
    // same, in case those rows were wrong on their own.
    diesel::sql_query("DELETE FROM channel_months").execute(conn)?;
    let month = crate::db::dialect::month_of(conn, "day");
    diesel::sql_query(format!(
        "INSERT INTO channel_months (month, group_id, officer_id, {columns}) \
         SELECT {month}, group_id, officer_id, {sums} FROM channel_counts GROUP BY 1, group_id, officer_id",
        columns = COLUMNS.join(", "),
        sums = COLUMNS.iter().map(|c| format!("SUM({c})")).collect::<Vec<_>>().join(", "),
    ))
    .execute(conn)?;
    let after = snapshot(conn)?;
    Ok(differences(&before.days, &after.days) + differences(&before.months, &after.months))
}

/// How many rows differ between two snapshots: present in one only, or with other figures.
pub fn differences(a: &[(NaiveDate, ChannelTotals)], b: &[(NaiveDate, ChannelTotals)]) -> usize {
    use std::collections::BTreeMap;
    let map = |s: &[(NaiveDate, ChannelTotals)]| -> BTreeMap<(NaiveDate, String, String), ChannelTotals> {
        s.iter().map(|(d, t)| ((*d, t.group_id.clone(), t.officer_id.clone()), t.clone())).collect()
    };
    let (a, mut b) = (map(a), map(b));
    let mut n = 0;
    for (k, v) in a {
        n += usize::from(b.remove(&k).is_none_or(|w| w != v));
    }
    n + b.len()
}
