//! Changing an application's status. Every change, whoever makes it (an officer's decision,
//! the applicant's withdrawal or answer, account deletion, a released claim), goes through
//! `change_status`: one conditional update under the version the change was decided on, so
//! a change committed in between makes this one a no-op instead of being overwritten.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Integer, Nullable, Text, Timestamp};

use crate::db::DbConn;
use crate::domain::application::Status;
use crate::domain::{ApplicationId, UserId};

/// The new status and the fields that change with it; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: Status,
    pub claimed_by: Option<Option<UserId>>,
    pub claimed_at: Option<Option<NaiveDateTime>>,
    pub first_approver: Option<Option<UserId>>,
    pub requested_kinds: Option<String>,
    pub decided_at: Option<Option<NaiveDateTime>>,
    pub decided_by: Option<Option<UserId>>,
}

impl StatusChange {
    pub fn to(status: Status) -> Self {
        Self {
            status,
            claimed_by: None,
            claimed_at: None,
            first_approver: None,
            requested_kinds: None,
            decided_at: None,
            decided_by: None,
        }
    }

    /// Whoever had claimed it no longer has.
    pub fn unclaimed(self) -> Self {
        Self { claimed_by: Some(None), claimed_at: Some(None), ..self }
    }

    /// Ends the application's open life at `at`.
    pub fn decided(self, at: NaiveDateTime) -> Self {
        Self { decided_at: Some(Some(at)), ..self }
    }
}

/// Applies `change` if the application is still at `version`, moving it to `version + 1`.
/// Returns whether it did; `false` means another change came first and nothing was written.
pub fn change_status(
    conn: &mut DbConn,
    id: &ApplicationId,
    version: i32,
    change: StatusChange,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = StatusUpdate::new(id, version, change, now).execute(conn)?;
    Ok(updated == 1)
}

/// `change_status`'s statement, with one text whatever the change: each optional field is
/// `CASE WHEN <set> THEN <value> ELSE <column> END`. Diesel prepares every `update()` again
/// on each call, and on SQLite preparing an UPDATE of `applications` compiles its summary
/// triggers too, about 2 ms, more than the change itself at 1 M applications
/// (docs/PERFORMANCE.md, "The claim release"). This text stays in the connection's
/// statement cache and is compiled once.
struct StatusUpdate {
    status: Status,
    /// (column, whether it is set, the value).
    texts: [(&'static str, bool, Option<String>); 4],
    times: [(&'static str, bool, Option<NaiveDateTime>); 2],
    now: NaiveDateTime,
    id: String,
    version: i32,
    next_version: i32,
}

impl StatusUpdate {
    fn new(id: &ApplicationId, version: i32, c: StatusChange, now: NaiveDateTime) -> Self {
        fn user(v: Option<Option<UserId>>) -> (bool, Option<String>) {
            (v.is_some(), v.flatten().map(|u| u.to_string()))
        }
        let text = |column, (set, value)| (column, set, value);
        let time = |column, v: Option<Option<NaiveDateTime>>| (column, v.is_some(), v.flatten());
        Self {
            status: c.status,
            texts: [
                text("claimed_by", user(c.claimed_by)),
                text("first_approver", user(c.first_approver)),
                text("decided_by", user(c.decided_by)),
                text("requested_kinds", (c.requested_kinds.is_some(), c.requested_kinds)),
            ],
            times: [time("claimed_at", c.claimed_at), time("decided_at", c.decided_at)],
            now,
            id: id.to_string(),
            version,
            next_version: version + 1,
        }
    }
}

impl<DB> QueryFragment<DB> for StatusUpdate
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Bool> + HasSqlType<Integer> + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    bool: ToSql<Bool, DB>,
    i32: ToSql<Integer, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    Option<NaiveDateTime>: ToSql<Nullable<Timestamp>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE applications SET status = ");
        out.push_bind_param::<Text, _>(self.status.as_str())?;
        for (column, set, value) in &self.texts {
            out.push_sql(&format!(", {column} = CASE WHEN "));
            out.push_bind_param::<Bool, _>(set)?;
            out.push_sql(" THEN ");
            out.push_bind_param::<Nullable<Text>, _>(value)?;
            out.push_sql(&format!(" ELSE {column} END"));
        }
        for (column, set, value) in &self.times {
            out.push_sql(&format!(", {column} = CASE WHEN "));
            out.push_bind_param::<Bool, _>(set)?;
            out.push_sql(" THEN ");
            out.push_bind_param::<Nullable<Timestamp>, _>(value)?;
            out.push_sql(&format!(" ELSE {column} END"));
        }
        out.push_sql(", version = ");
        out.push_bind_param::<Integer, _>(&self.next_version)?;
        out.push_sql(", updated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(&self.id)?;
        out.push_sql(" AND version = ");
        out.push_bind_param::<Integer, _>(&self.version)?;
        Ok(())
    }
}

// The text is the same for every change: diesel may key its cache on the SQL.
impl QueryId for StatusUpdate {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: Connection> RunQueryDsl<C> for StatusUpdate {}

/// `table.status IN ('submitted', …)` with the open statuses written out, not bound: SQLite
/// uses a partial index of open applications only when it can see at prepare time that the
/// query's condition matches the index's.
pub fn open_condition(table: &str) -> String {
    let list: Vec<String> = Status::OPEN.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("{table}.status IN ({})", list.join(", "))
}
