//! Staff: commissioners invite officers and other commissioners, choose the groups each
//! officer reviews, and deactivate accounts. Deactivation ends the person's sessions at
//! once and puts their claimed applications back in the queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::auth::session;
use crate::db::DbConn;
use crate::db::models::{Group, User};
use crate::db::queries::applications::{StatusChange, change_status};
use crate::db::schema::{applications, groups, officer_assignments, users};
use crate::domain::application::Status;
use crate::domain::token::{SecretToken, TokenPurpose};
use crate::domain::{ApplicationId, GroupId, UserId};
use crate::domain::{Email, Locale, Password, PersonName, Role};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{Invite, MailKind};
use crate::services::accounts::{
    self, TokenOutcome, find_by_email, find_by_id, insert_staff_account, issue_token, live_token_account, use_token,
};
use crate::services::applications::{Event, add_event};

/// A staff account with the groups it reviews.
pub struct StaffMember {
    pub user: User,
    pub groups: Vec<Group>,
}

/// Every officer and commissioner, by name. Staff are a few dozen people, not a table
/// that grows with residents.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<StaffMember>> {
    let staff: Vec<User> = users::table
        .filter(users::role.eq_any([Role::Officer.as_str(), Role::Commissioner.as_str()]))
        .order((users::active.desc(), users::full_name.asc()))
        .limit(1000)
        .load(conn)?;
    let ids: Vec<UserId> = staff.iter().map(|u| u.id.clone()).collect();
    let links: Vec<(String, Group)> = officer_assignments::table
        .inner_join(groups::table)
        .filter(officer_assignments::officer_id.eq_any(ids))
        .order(groups::name.asc())
        .select((officer_assignments::officer_id, Group::as_select()))
        .load(conn)?;
    Ok(staff
        .into_iter()
        .map(|user| {
            let groups = links.iter().filter(|(o, _)| *o == user.id).map(|(_, g)| g.clone()).collect();
            StaffMember { user, groups }
        })
        .collect())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<StaffMember>> {
    let Some(user) = find_by_id(conn, id)?.filter(|u| u.role != Role::Resident) else { return Ok(None) };
    let groups = groups::table
        .inner_join(officer_assignments::table)
        .filter(officer_assignments::officer_id.eq(id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?;
    Ok(Some(StaffMember { user, groups }))
}

pub struct Invitation {
    pub full_name: PersonName,
    pub email: Email,
    pub role: Role,
    pub group_ids: Vec<GroupId>,
    pub locale: Locale,
}

#[derive(Debug, PartialEq, Eq)]
pub enum InviteOutcome {
    Invited { user_id: UserId },
    EmailTaken,
}

fn set_assignments(conn: &mut DbConn, user_id: &UserId, group_ids: &[GroupId], now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(officer_assignments::table.filter(officer_assignments::officer_id.eq(user_id))).execute(conn)?;
    for g in group_ids {
        diesel::insert_into(officer_assignments::table)
            .values((
                officer_assignments::officer_id.eq(user_id),
                officer_assignments::group_id.eq(g),
                officer_assignments::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Only ids of existing groups, each once.
fn known_groups(conn: &mut DbConn, ids: &[GroupId]) -> QueryResult<Vec<GroupId>> {
    groups::table.filter(groups::id.eq_any(ids)).select(groups::id).order(groups::id.asc()).load(conn)
}

pub async fn invite(state: &AppState, by: Actor, inv: Invitation) -> AppResult<InviteOutcome> {
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            if find_by_email(tx.conn, &inv.email)?.is_some() {
                return Ok(InviteOutcome::EmailTaken);
            }
            let id = insert_staff_account(tx.conn, &inv.email, &inv.full_name, inv.role, inv.locale, None, now)?;
            // Commissioners see every group; assignments are for officers.
            let group_ids = if inv.role == Role::Officer { known_groups(tx.conn, &inv.group_ids)? } else { Vec::new() };
            set_assignments(tx.conn, &id, &group_ids, now)?;
            let token = issue_token(tx.conn, TokenPurpose::Invite, Some(&id), now)?;
            let mail = Invite {
                name: inv.full_name.as_str(),
                role: inv.role,
                link: &settings.link(&format!("/invite/{}", token.expose())),
            }
            .render(inv.locale, &settings.org_name)?;
            tx.mail(inv.email.as_str(), &mail)?;
            tx.audit(
                &by,
                "staff.invited",
                Some(Subject::user(&id)),
                json!({ "role": inv.role.as_str(), "groups": group_ids }),
            )?;
            Ok(InviteOutcome::Invited { user_id: id })
        })
        .await
}

/// Sets the password of an invited account from its invitation link; the link proves the
/// mailbox, so the email is confirmed too.
pub async fn accept_invite(
    state: &AppState,
    token: SecretToken,
    password: &Password,
    ip: Option<String>,
) -> AppResult<TokenOutcome> {
    let hash = state.hasher.hash(password).await?;
    state
        .write(move |tx| {
            let now = tx.now;
            let Some((t, user)) = live_token_account(tx.conn, &token, TokenPurpose::Invite, now)? else {
                return Ok(TokenOutcome::Invalid);
            };
            if !user.active {
                return Ok(TokenOutcome::Invalid);
            }
            use_token(tx.conn, &t.id, now)?;
            diesel::update(users::table.find(&user.id))
                .set((
                    users::password_hash.eq(Some(&hash)),
                    users::email_confirmed_at.eq(Some(now)),
                    users::updated_at.eq(now),
                ))
                .execute(tx.conn)?;
            let role = accounts::role_of(&user);
            tx.audit(
                &Actor::user(&user.id, role, ip.as_deref()),
                "staff.invite_accepted",
                Some(Subject::user(&user.id)),
                json!({}),
            )?;
            Ok(TokenOutcome::Done)
        })
        .await
}

pub async fn set_groups(state: &AppState, by: Actor, user_id: UserId, group_ids: Vec<GroupId>) -> AppResult<()> {
    state
        .write(move |tx| {
            let now = tx.now;
            let user = find_by_id(tx.conn, &user_id)?.filter(|u| u.role == Role::Officer).ok_or(AppError::NotFound)?;
            let group_ids = known_groups(tx.conn, &group_ids)?;
            set_assignments(tx.conn, &user.id, &group_ids, now)?;
            tx.audit(&by, "staff.groups_changed", Some(Subject::user(&user.id)), json!({ "groups": group_ids }))?;
            Ok(())
        })
        .await
}

/// Puts one claimed application back in the queue, under the version read: a decision
/// taken at this moment (or another instance releasing it first) wins, and then nothing
/// is recorded. Returns whether it was released.
fn release(
    conn: &mut DbConn,
    id: &ApplicationId,
    version: i32,
    now: NaiveDateTime,
    details: serde_json::Value,
) -> QueryResult<bool> {
    let released = change_status(conn, id, version, StatusChange::to(Status::Submitted).unclaimed(), now)?;
    if released {
        add_event(conn, id, now, Event { details, ..Event::new("released", None) })?;
    }
    Ok(released)
}

/// Puts an officer's claimed applications back in the queue.
fn release_claims(conn: &mut DbConn, officer_id: &UserId, now: NaiveDateTime) -> QueryResult<usize> {
    let claimed: Vec<(ApplicationId, i32)> = applications::table
        .filter(applications::claimed_by.eq(officer_id))
        .filter(applications::status.eq(Status::InReview))
        .select((applications::id, applications::version))
        .load(conn)?;
    let mut released = 0;
    for (id, version) in &claimed {
        released += usize::from(release(conn, id, *version, now, json!({}))?);
    }
    Ok(released)
}

#[derive(Debug, PartialEq, Eq)]
pub enum ActiveOutcome {
    Done,
    /// Commissioners cannot deactivate themselves (someone must be left to undo it).
    NotYourself,
}

pub async fn set_active(state: &AppState, by: Actor, user_id: UserId, active: bool) -> AppResult<ActiveOutcome> {
    state
        .write(move |tx| {
            let now = tx.now;
            let user = find_by_id(tx.conn, &user_id)?.filter(|u| u.role != Role::Resident).ok_or(AppError::NotFound)?;
            if !active && by.id.as_deref() == Some(user.id.as_str()) {
                return Ok(ActiveOutcome::NotYourself);
            }
            diesel::update(users::table.find(&user.id))
                .set((users::active.eq(active), users::updated_at.eq(now)))
                .execute(tx.conn)?;
            let (action, details) = if active {
                ("staff.activated", json!({}))
            } else {
                let sessions = session::end_all_for_user(tx.conn, &user.id, None)?;
                let released = release_claims(tx.conn, &user.id, now)?;
                ("staff.deactivated", json!({ "sessions_ended": sessions, "claims_released": released }))
            };
            tx.audit(&by, action, Some(Subject::user(&user.id)), details)?;
            Ok(ActiveOutcome::Done)
        })
        .await
}

/// Applications released per write transaction: each is two writes (the status, in a
/// table with many indexes, and its timeline entry), about 1 ms at 1 M applications, most
/// of it reading index pages the connection has not read yet (docs/PERFORMANCE.md, "The
/// claim release"); three leave room under 10 ms for a commit that checkpoints.
const RELEASE_BATCH: usize = 3;
/// Lapsed claims read per query, outside any write transaction.
const LAPSED_READ: i64 = 500;

/// Puts back in the queue the applications whose claim lapsed `claim_hours` ago. The lapsed
/// claims are found outside any write transaction (index `applications_claimed_at`), then
/// released `RELEASE_BATCH` per short write transaction, each through `change_status`
/// under the version it was read at: one claimed again, decided or released by another
/// instance in between is left alone. Each batch commits its releases, their timeline
/// entries and one audit entry together.
pub fn release_lapsed_claims(conn: &mut DbConn, now: NaiveDateTime, claim_hours: i64) -> AppResult<usize> {
    let cutoff = now - chrono::Duration::hours(claim_hours);
    let mut released = 0;
    loop {
        let lapsed: Vec<(ApplicationId, i32)> = applications::table
            .filter(applications::claimed_at.le(cutoff))
            .filter(applications::status.eq(Status::InReview))
            .select((applications::id, applications::version))
            .order((applications::claimed_at.asc(), applications::id.asc()))
            .limit(LAPSED_READ)
            .load(conn)?;
        let mut this_pass = 0;
        for batch in lapsed.chunks(RELEASE_BATCH) {
            this_pass += Tx::run(conn, now, |tx| -> AppResult<usize> {
                let mut n = 0;
                for (id, version) in batch {
                    n += usize::from(release(tx.conn, id, *version, now, json!({ "reason": "claim_lapsed" }))?);
                }
                if n > 0 {
                    tx.audit(&Actor::system("jobs"), "application.claims_lapsed", None, json!({ "released": n }))?;
                }
                Ok(n)
            })?;
        }
        released += this_pass;
        // A short read is the last one; a pass that released nothing (every one changed
        // since it was read) ends too, rather than reading the same rows again.
        if lapsed.len() < LAPSED_READ as usize || this_pass == 0 {
            return Ok(released);
        }
    }
}

/// Every staff account, for the commissioners' list.
pub async fn list_all(state: &AppState) -> AppResult<Vec<StaffMember>> {
    state.db(|c| Ok(list(c)?)).await
}

pub async fn member(state: &AppState, id: UserId) -> AppResult<StaffMember> {
    state.db(move |c| find(c, &id)?.ok_or(AppError::NotFound)).await
}

/// The groups an officer can be assigned to, by name.
pub async fn assignable_groups(state: &AppState) -> AppResult<Vec<Group>> {
    state.db(|c| Ok(crate::db::queries::groups::list_by_name(c)?)).await
}
