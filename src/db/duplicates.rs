//! The pairs of applications of two accounts that share a DNI or a file, as the
//! commissioners' list of duplicate signals reads them. Triggers (migration
//! `2026-11-30-000080_duplicate_pairs`) record each pair when its second application or
//! document is stored; whether a pair is still current is decided here, on read: both sides
//! must be open applications or hold a current (active or suspended) membership.
//!
//! The list walks `duplicate_pairs_found` newest first and reads each side by its primary
//! key and its membership through `memberships_application`, so a page costs the same at
//! any number of applications; the pairs no longer current are passed over, and they are
//! few (pairs themselves are rare: the same DNI or file under two accounts).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::db::DbConn;
use crate::db::fragment::Statement;
use crate::db::queries::applications::open_condition;
use crate::domain::ApplicationId;
use crate::domain::application::Status;

/// One side of a pair.
#[derive(Debug, Clone, QueryableByName)]
pub struct Side {
    #[diesel(sql_type = Text)]
    pub id: ApplicationId,
    #[diesel(sql_type = Text)]
    pub resident_id: String,
    #[diesel(sql_type = Text)]
    pub full_name: String,
    #[diesel(sql_type = Text)]
    pub group_name: String,
    #[diesel(sql_type = Text)]
    pub status: Status,
    #[diesel(sql_type = Text)]
    pub dni: String,
    /// The membership's status when it is current (`active`, `suspended`).
    #[diesel(sql_type = Nullable<Text>)]
    pub membership: Option<String>,
}

/// A current pair, as read: the reasons are the caller's to tell (see
/// `services::analysis::current_duplicates`).
#[derive(Debug, Clone)]
pub struct Pair {
    pub found_at: NaiveDateTime,
    pub first: Side,
    pub second: Side,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Timestamp)]
    found_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    a_id: ApplicationId,
    #[diesel(sql_type = Text)]
    a_resident: String,
    #[diesel(sql_type = Text)]
    a_name: String,
    #[diesel(sql_type = Text)]
    a_group: String,
    #[diesel(sql_type = Text)]
    a_status: Status,
    #[diesel(sql_type = Text)]
    a_dni: String,
    #[diesel(sql_type = Nullable<Text>)]
    a_membership: Option<String>,
    #[diesel(sql_type = Text)]
    b_id: ApplicationId,
    #[diesel(sql_type = Text)]
    b_resident: String,
    #[diesel(sql_type = Text)]
    b_name: String,
    #[diesel(sql_type = Text)]
    b_group: String,
    #[diesel(sql_type = Text)]
    b_status: Status,
    #[diesel(sql_type = Text)]
    b_dni: String,
    #[diesel(sql_type = Nullable<Text>)]
    b_membership: Option<String>,
}

/// Where a page of the list starts: after this pair, in the list's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairKey {
    pub found_at: NaiveDateTime,
    pub first: ApplicationId,
    pub second: ApplicationId,
}

impl PairKey {
    /// `MICROS_FIRST_SECOND`, for the next page's link.
    pub fn encode(&self) -> String {
        format!("{}_{}_{}", self.found_at.and_utc().timestamp_micros(), self.first, self.second)
    }

    /// A cursor comes back in a link, so anyone can edit it: two ids and an instant within
    /// the days a request may name, or nothing.
    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.split('_');
        let (micros, first, second) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let found_at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        crate::domain::day::is_in_range(found_at).then_some(())?;
        Some(Self { found_at, first: ApplicationId::parse(first)?, second: ApplicationId::parse(second)? })
    }
}

/// A membership that keeps its application current, on `memberships m`.
const CURRENT_MEMBERSHIP: &str = "m.status IN ('active', 'suspended')";

/// Whether the application `t` is current, as SQL: open, or holding a current membership.
fn is_current(t: &str) -> String {
    format!(
        "({} OR EXISTS (SELECT 1 FROM memberships m WHERE m.application_id = {t}.id AND {CURRENT_MEMBERSHIP}))",
        open_condition(t)
    )
}

/// Up to `limit` current pairs after `after`, newest found first: fixed text (the open
/// statuses written out, as everywhere a partial index or the prepared-statement cache
/// cares), kept prepared.
///
/// Only the pair and its two applications are joined; names, groups and memberships are
/// read per side by key in subqueries. With all nine tables joined, PostgreSQL spent
/// 13–38 ms choosing a join order each time it planned the statement for new values (at
/// 1 M applications), against well under 1 ms to run it.
pub fn current(conn: &mut DbConn, after: Option<&PairKey>, limit: i64) -> QueryResult<Vec<Pair>> {
    let membership = |t: &str| {
        format!("(SELECT m.status FROM memberships m WHERE m.application_id = {t}.id AND {CURRENT_MEMBERSHIP} LIMIT 1)")
    };
    let columns = |t: &str| {
        format!(
            "{t}.id AS {t}_id, {t}.resident_id AS {t}_resident, \
             (SELECT u.full_name FROM users u WHERE u.id = {t}.resident_id) AS {t}_name, \
             (SELECT g.name FROM groups g WHERE g.id = {t}.group_id) AS {t}_group, \
             {t}.status AS {t}_status, {t}.dni AS {t}_dni, {} AS {t}_membership",
            membership(t)
        )
    };
    let mut q = Statement::default().sql(format!(
        "SELECT p.found_at AS found_at, {}, {} \
         FROM duplicate_pairs p \
         JOIN applications a ON a.id = p.first_id \
         JOIN applications b ON b.id = p.second_id \
         WHERE {} AND {}",
        columns("a"),
        columns("b"),
        is_current("a"),
        is_current("b"),
    ));
    if let Some(k) = after {
        q = q
            .sql(" AND (p.found_at, p.first_id, p.second_id) < (")
            .timestamp(k.found_at)
            .sql(", ")
            .text(k.first.as_str())
            .sql(", ")
            .text(k.second.as_str())
            .sql(")");
    }
    let q = q.sql(" ORDER BY p.found_at DESC, p.first_id DESC, p.second_id DESC LIMIT ").big_int(limit);
    Ok(pairs(q.load(conn)?))
}

/// Which of `ids` have a current duplicate signal, as the list shows it: in a pair whose
/// two sides are current and that still has its reason, the same DNI typed or a current
/// file of the same content on both sides. The queue calls it for its rows marked
/// `in_pair` (`db::marks`), usually none or one: one statement per row, the row's pairs
/// found through each key of `duplicate_pairs` in its own arm of a `UNION ALL`, then each
/// side and its files read by key. An `IN` list, a `UNION` or an `OR` of the two keys made
/// SQLite build a temporary b-tree or scan the table on every page; `LIMIT 1 OFFSET 0`
/// keeps PostgreSQL probing the files per pair instead of hashing every current file.
pub fn holding_among(conn: &mut DbConn, ids: &[&str]) -> QueryResult<std::collections::HashSet<ApplicationId>> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let holds = format!(
        "{} AND {} AND ((a.dni <> '' AND a.dni = b.dni) OR EXISTS (SELECT 1 FROM documents x \
         JOIN documents y ON y.sha256 = x.sha256 WHERE x.application_id = a.id AND x.replaced_at IS NULL \
         AND y.application_id = b.id AND y.replaced_at IS NULL LIMIT 1 OFFSET 0))",
        is_current("a"),
        is_current("b")
    );
    let pairs =
        "FROM duplicate_pairs p JOIN applications a ON a.id = p.first_id JOIN applications b ON b.id = p.second_id";
    let mut found = std::collections::HashSet::new();
    for id in ids {
        let held: Vec<Held> = Statement::default()
            .sql(format!("SELECT p.first_id AS id {pairs} WHERE p.first_id = "))
            .text(*id)
            .sql(format!(" AND {holds} UNION ALL SELECT p.second_id AS id {pairs} WHERE p.second_id = "))
            .text(*id)
            .sql(format!(" AND {holds} LIMIT 1"))
            .load(conn)?;
        if held.iter().any(|h| h.id == *id) {
            found.insert(ApplicationId::from_stored(id.to_string()));
        }
    }
    Ok(found)
}

/// Records the current pairs missing from `duplicate_pairs` and returns how many: after a
/// bulk load with the triggers off, a restore, or damage by hand (`vecinal stats rebuild`).
/// The same pairs the migration found in existing data: of each DNI and each current file,
/// the first 21 current applications (the triggers likewise pair a new row with at most 20).
/// Pairs no longer current stay; the list passes over them as it always does. Run it inside
/// a write transaction.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    // The later of two instants, in SQL both backends read (SQLite has no GREATEST).
    let later = |x: &str, y: &str| format!("CASE WHEN {x} > {y} THEN {x} ELSE {y} END");
    let by_dni = diesel::sql_query(format!(
        "WITH ranked AS ( \
             SELECT a.id, a.dni, a.resident_id, a.created_at, \
                    ROW_NUMBER() OVER (PARTITION BY a.dni ORDER BY a.created_at, a.id) AS n \
             FROM applications a WHERE a.dni <> '' AND {} \
         ), firsts AS (SELECT * FROM ranked WHERE n <= 21) \
         INSERT INTO duplicate_pairs (first_id, second_id, found_at) \
         SELECT x.id, y.id, {} FROM firsts x, firsts y \
         WHERE y.dni = x.dni AND y.id > x.id AND y.resident_id <> x.resident_id \
         ON CONFLICT DO NOTHING",
        is_current("a"),
        later("x.created_at", "y.created_at"),
    ))
    .execute(conn)?;
    let by_file = diesel::sql_query(format!(
        "WITH ranked AS ( \
             SELECT d.application_id, d.sha256, d.uploaded_at, a.resident_id, \
                    ROW_NUMBER() OVER (PARTITION BY d.sha256 ORDER BY d.uploaded_at, d.id) AS n \
             FROM documents d JOIN applications a ON a.id = d.application_id \
             WHERE d.replaced_at IS NULL AND {} \
         ), firsts AS (SELECT * FROM ranked WHERE n <= 21) \
         INSERT INTO duplicate_pairs (first_id, second_id, found_at) \
         SELECT x.application_id, y.application_id, MAX({}) FROM firsts x, firsts y \
         WHERE y.sha256 = x.sha256 AND y.application_id > x.application_id AND y.resident_id <> x.resident_id \
         GROUP BY x.application_id, y.application_id \
         ON CONFLICT DO NOTHING",
        is_current("a"),
        later("x.uploaded_at", "y.uploaded_at"),
    ))
    .execute(conn)?;
    Ok(by_dni + by_file)
}

fn pairs(rows: Vec<Row>) -> Vec<Pair> {
    rows.into_iter()
        .map(|r| Pair {
            found_at: r.found_at,
            first: Side {
                id: r.a_id,
                resident_id: r.a_resident,
                full_name: r.a_name,
                group_name: r.a_group,
                status: r.a_status,
                dni: r.a_dni,
                membership: r.a_membership,
            },
            second: Side {
                id: r.b_id,
                resident_id: r.b_resident,
                full_name: r.b_name,
                group_name: r.b_group,
                status: r.b_status,
                dni: r.b_dni,
                membership: r.b_membership,
            },
        })
        .collect()
}
