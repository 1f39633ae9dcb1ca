//! Changing an application's status. Every change, whoever makes it (an officer's decision,
//! the applicant's withdrawal or answer, account deletion, a released claim), goes through
//! `change_status`: one conditional update under the version the change was decided on, so
//! a change committed in between makes this one a no-op instead of being overwritten.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::applications;
use crate::domain::application::Status;
use crate::domain::{ApplicationId, UserId};

/// The new status and the fields that change with it; `None` leaves a field as it is.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = applications)]
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
    let updated = diesel::update(applications::table.find(id).filter(applications::version.eq(version)))
        .set((change, applications::version.eq(version + 1), applications::updated_at.eq(now)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// `table.status IN ('submitted', …)` with the open statuses written out, not bound: SQLite
/// uses a partial index of open applications only when it can see at prepare time that the
/// query's condition matches the index's.
pub fn open_condition(table: &str) -> String {
    let list: Vec<String> = Status::OPEN.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("{table}.status IN ({})", list.join(", "))
}
