//! Telling a resident about a decision or a change: by mail when their address is
//! confirmed; otherwise, for a resident enrolled at the desk (or one whose address nobody
//! confirmed), the news waits in the group's desk notices until an officer tells them by
//! phone or at the desk, and marks it told.
//!
//! The review's decisions (approved, rejected, information requested) and the membership's
//! changes and reminders (suspended, reinstated, revoked, renewal due) all go through
//! `tell`, inside the transaction of the change they report.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::db::models::{Application, DeskNotice, Membership, User};
use crate::db::queries::scope::assigned_groups;
use crate::db::schema::{applications, desk_notices, groups, memberships, users};
use crate::domain::membership::MembershipStatus;
use crate::domain::notice::NoticeKind;
use crate::domain::{MembershipId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::RenderedMail;
use crate::services::review::Reviewer;

/// What a notice is about: an application (the review's decisions) or a membership.
#[derive(Clone, Copy)]
pub enum About<'a> {
    Application(&'a Application),
    Membership(&'a Membership),
}

/// How the resident was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Mailed,
    /// A desk notice was written.
    Noticed,
    /// An untold renewal notice of the membership already waits (the 30-day one when the
    /// 7-day reminder comes); the list shows the days left as of the day it is read.
    AlreadyWaiting,
}

/// Tells `resident` by `mail` when their address is confirmed; otherwise writes a desk
/// notice of `kind` for the officers of the group. Call inside the change's transaction.
pub(crate) fn tell(
    tx: &mut Tx,
    resident: &User,
    about: About<'_>,
    kind: NoticeKind,
    mail: &RenderedMail,
) -> AppResult<Told> {
    if resident.email_confirmed_at.is_some() {
        tx.mail(&resident.email, mail)?;
        return Ok(Told::Mailed);
    }
    let (application_id, group_id, membership_id) = match about {
        About::Application(a) => (a.id.clone(), a.group_id.clone(), None),
        About::Membership(m) => (m.application_id.clone(), m.group_id.clone(), Some(m.id.clone())),
    };
    // The table's CHECK holds the same rule; saying it here names the mistake.
    if kind.about_membership() != membership_id.is_some() {
        return Err(AppError::internal(anyhow::anyhow!("a {kind} notice about the wrong kind of record")));
    }
    if kind == NoticeKind::RenewalDue
        && let Some(mid) = &membership_id
    {
        let waiting: i64 = desk_notices::table
            .filter(desk_notices::membership_id.eq(mid))
            .filter(desk_notices::kind.eq(kind))
            .filter(desk_notices::told_at.is_null())
            .count()
            .get_result(tx.conn)?;
        if waiting > 0 {
            return Ok(Told::AlreadyWaiting);
        }
    }
    diesel::insert_into(desk_notices::table)
        .values(DeskNotice {
            id: uuid::Uuid::new_v4().to_string(),
            application_id,
            group_id,
            kind,
            created_at: tx.now,
            told_at: None,
            told_by: None,
            membership_id,
        })
        .execute(tx.conn)?;
    Ok(Told::Noticed)
}

/// The membership a notice is about, as it is now.
pub struct NoticeMembership {
    pub id: MembershipId,
    pub number: String,
    pub status: MembershipStatus,
    pub valid_until: NaiveDate,
    pub status_reason: Option<String>,
}

/// One line of the desk notices list.
pub struct NoticeRow {
    pub notice: DeskNotice,
    pub resident_name: String,
    /// The account was made at the desk and not claimed: its holder cannot sign in.
    pub desk_account: bool,
    pub phone: Option<String>,
    pub group_name: String,
    pub membership: Option<NoticeMembership>,
}

/// Notices shown at most; the oldest first.
pub const MAX_NOTICES: i64 = 500;

type MembershipColumns = (MembershipId, String, MembershipStatus, NaiveDate, Option<String>);
/// A notice with the phone, the resident's name, whether the account has no password, the
/// group's name, and its membership if any.
type ListRow = (DeskNotice, Option<String>, String, bool, String, Option<MembershipColumns>);

/// The notices not yet told in the officer's groups, oldest first.
pub async fn list(state: &AppState, officer_id: UserId) -> AppResult<Vec<NoticeRow>> {
    state
        .db(move |c| {
            let rows: Vec<ListRow> = desk_notices::table
                .inner_join(applications::table.inner_join(groups::table))
                .inner_join(users::table.on(users::id.eq(applications::resident_id)))
                .left_join(memberships::table.on(desk_notices::membership_id.eq(memberships::id.nullable())))
                .filter(desk_notices::told_at.is_null())
                .filter(desk_notices::group_id.eq_any(assigned_groups(&officer_id)))
                .order((desk_notices::created_at.asc(), desk_notices::id.asc()))
                .limit(MAX_NOTICES)
                .select((
                    DeskNotice::as_select(),
                    applications::phone,
                    users::full_name,
                    users::password_hash.is_null(),
                    groups::name,
                    (
                        memberships::id,
                        memberships::number,
                        memberships::status,
                        memberships::valid_until,
                        memberships::status_reason,
                    )
                        .nullable(),
                ))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(|(notice, phone, resident_name, desk_account, group_name, m)| NoticeRow {
                    notice,
                    resident_name,
                    desk_account,
                    phone,
                    group_name,
                    membership: m.map(|(id, number, status, valid_until, status_reason)| NoticeMembership {
                        id,
                        number,
                        status,
                        valid_until,
                        status_reason,
                    }),
                })
                .collect())
        })
        .await
}

/// Marks a notice of one of the officer's groups as told. Another group's, or an unknown
/// one, is not found; one already told is a conflict and changes nothing. The audit
/// entry's subject is what the notice was about.
pub async fn mark_told(state: &AppState, notice_id: String, officer: Reviewer) -> AppResult<()> {
    state
        .write(move |tx| {
            let notice: DeskNotice = desk_notices::table
                .find(&notice_id)
                .filter(desk_notices::group_id.eq_any(assigned_groups(&officer.user_id)))
                .first(tx.conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            let changed = diesel::update(desk_notices::table.find(&notice_id).filter(desk_notices::told_at.is_null()))
                .set((desk_notices::told_at.eq(Some(tx.now)), desk_notices::told_by.eq(Some(&officer.user_id))))
                .execute(tx.conn)?;
            if changed != 1 {
                return Err(AppError::Conflict);
            }
            let subject = match &notice.membership_id {
                Some(m) => Subject { kind: "membership", id: m },
                None => Subject { kind: "application", id: &notice.application_id },
            };
            tx.audit(
                &Actor::user(&officer.user_id, Role::Officer, officer.ip.as_deref()),
                "desk.notice_told",
                Some(subject),
                json!({
                    "notice_id": notice.id,
                    "kind": notice.kind,
                    "group_id": notice.group_id,
                    "application_id": notice.application_id,
                }),
            )?;
            Ok(())
        })
        .await
}
