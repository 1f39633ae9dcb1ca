//! Memberships: issued when an application is approved, shown to the member with the
//! group's invite link while active.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::app::{AppState, Tx};
use crate::audit::{Actor, Subject};
use crate::db::DbConn;
use crate::db::models::{Application, Group, Membership, User};
use crate::db::queries::scope::{assigned_groups, reaches_group};
use crate::db::schema::{groups, memberships, users};
use crate::domain::membership::{self, MembershipStatus, Reminder};
use crate::domain::notice::NoticeKind;
use crate::domain::token::SecretToken;
use crate::domain::{GroupId, MembershipId, UserId};
use crate::domain::{Locale, Role};
use crate::error::{AppError, AppResult};
use crate::mail::kinds::{MailKind, MembershipReinstated, MembershipReminder, MembershipRevoked, MembershipSuspended};
use crate::services::notices::{self, About};

/// Issues the membership an approved application earns. Call inside the approval's
/// transaction. The group's counter row is updated first, which locks it, so two
/// approvals at once get different numbers.
pub fn issue(
    conn: &mut DbConn,
    app: &Application,
    group: &Group,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Membership> {
    diesel::update(groups::table.find(&group.id)).set(groups::member_seq.eq(groups::member_seq + 1)).execute(conn)?;
    let seq: i32 = groups::table.find(&group.id).select(groups::member_seq).first(conn)?;
    let m = Membership {
        id: MembershipId::generate(),
        user_id: app.resident_id.clone(),
        group_id: group.id.clone(),
        application_id: app.id.clone(),
        number: membership::number(&group.slug, seq),
        status: MembershipStatus::Active,
        valid_from: today,
        valid_until: membership::valid_until(today, group.validity_days),
        verification_token: SecretToken::generate().expose().to_string(),
        status_reason: None,
        created_at: now,
        updated_at: now,
        reminded_30_at: None,
        reminded_7_at: None,
        removed_from_chat_at: None,
        removed_from_chat_by: None,
    };
    diesel::insert_into(memberships::table).values(&m).execute(conn)?;
    Ok(m)
}

/// Whether the person holds a current (active or suspended) membership of the group.
pub fn is_current_member(conn: &mut DbConn, user_id: &UserId, group_id: &str) -> QueryResult<bool> {
    let current = [MembershipStatus::Active.as_str(), MembershipStatus::Suspended.as_str()];
    let n: i64 = memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::group_id.eq(group_id))
        .filter(memberships::status.eq_any(current))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A person's memberships with their groups, newest first.
pub fn list_for_user(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Vec<(Membership, Group)>> {
    memberships::table
        .inner_join(groups::table)
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::created_at.desc())
        .select((Membership::as_select(), Group::as_select()))
        .limit(100)
        .load(conn)
}

/// A member's own membership; anyone else's looks like none.
pub fn find_for_member(conn: &mut DbConn, id: &str, user_id: &UserId) -> QueryResult<Option<(Membership, Group)>> {
    memberships::table
        .inner_join(groups::table)
        .filter(memberships::id.eq(id))
        .filter(memberships::user_id.eq(user_id))
        .select((Membership::as_select(), Group::as_select()))
        .first(conn)
        .optional()
}

/// What the public verification page may show: never an id, email, DNI or address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublicView {
    pub status: &'static str,
    pub group: String,
    pub name: String,
    pub valid_until: String,
}

/// Looks a verification token up. Unknown tokens cost the same query as known ones.
pub fn verify(conn: &mut DbConn, token: &str, today: NaiveDate) -> QueryResult<Option<PublicView>> {
    use crate::db::schema::users;
    let found: Option<(Membership, String, String)> = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .filter(memberships::verification_token.eq(token))
        .select((Membership::as_select(), groups::name, users::full_name))
        .first(conn)
        .optional()?;
    Ok(found.map(|(m, group, full_name)| {
        let status = m.status;
        PublicView {
            status: membership::public_status(status, m.valid_until, today).as_str(),
            group,
            name: membership::masked_name(&full_name),
            valid_until: m.valid_until.format("%Y-%m-%d").to_string(),
        }
    }))
}

/// Extends a membership on approval of its renewal: same number, a new period, active
/// again, reminders reset.
pub fn extend(
    conn: &mut DbConn,
    membership_id: &str,
    group: &Group,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<Membership> {
    let m: Membership = memberships::table.find(membership_id).first(conn)?;
    let until = membership::renewed_until(m.valid_until, today, group.validity_days);
    diesel::update(memberships::table.find(membership_id))
        .set((
            memberships::status.eq(MembershipStatus::Active),
            memberships::valid_until.eq(until),
            memberships::status_reason.eq(None::<String>),
            memberships::reminded_30_at.eq(None::<NaiveDateTime>),
            memberships::reminded_7_at.eq(None::<NaiveDateTime>),
            memberships::updated_at.eq(now),
        ))
        .execute(conn)?;
    memberships::table.find(membership_id).first(conn)
}

/// Ends the person's memberships in other groups when one in `group_id` starts (moving
/// house); they go on those groups' removal lists. Returns the ids ended.
pub fn end_others(conn: &mut DbConn, user_id: &UserId, group_id: &str, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let current = [MembershipStatus::Active.as_str(), MembershipStatus::Suspended.as_str()];
    let ids: Vec<String> = memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::group_id.ne(group_id))
        .filter(memberships::status.eq_any(current))
        .select(memberships::id)
        .load(conn)?;
    if !ids.is_empty() {
        diesel::update(memberships::table.filter(memberships::id.eq_any(&ids)))
            .set((
                memberships::status.eq(MembershipStatus::Ended),
                memberships::status_reason.eq(Some("moved")),
                memberships::removed_from_chat_at.eq(None::<NaiveDateTime>),
                memberships::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(ids)
}

/// A staff member acting on memberships.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: UserId,
    pub role: Role,
    pub ip: Option<String>,
}

/// A membership within the staff member's reach: any for commissioners, those of their
/// groups for officers. Outside it, the membership does not exist for them.
pub fn find_for_staff(conn: &mut DbConn, id: &str, staff: &Staff) -> QueryResult<Option<(Membership, Group, User)>> {
    let found: Option<(Membership, Group, User)> = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .filter(memberships::id.eq(id))
        .select((Membership::as_select(), Group::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    match found {
        Some(f) if in_scope(conn, staff, &f.1.id)? => Ok(Some(f)),
        _ => Ok(None),
    }
}

fn in_scope(conn: &mut DbConn, staff: &Staff, group_id: &GroupId) -> QueryResult<bool> {
    reaches_group(conn, staff.role, &staff.user_id, group_id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Suspend,
    Reinstate,
    Revoke,
}

impl StatusChange {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "suspend" => Some(StatusChange::Suspend),
            "reinstate" => Some(StatusChange::Reinstate),
            "revoke" => Some(StatusChange::Revoke),
            _ => None,
        }
    }

    pub fn needs_reason(self) -> bool {
        !matches!(self, StatusChange::Reinstate)
    }
}

/// Suspends (can be lifted), reinstates, or revokes (final) a membership. The member is
/// told with the reason, by mail or, without a confirmed address, through the group's desk
/// notices; a suspended or revoked member goes on the removal list.
pub async fn change_status(
    state: &AppState,
    staff: Staff,
    id: MembershipId,
    change: StatusChange,
    reason: Option<String>,
) -> AppResult<MembershipStatus> {
    let now = state.clock.now();
    let today = state.settings.zone.today(now);
    let settings = state.settings.clone();
    state
        .write(move |tx| {
            let now = tx.now;
            let (m, group, member) = find_for_staff(tx.conn, &id, &staff)?.ok_or(AppError::NotFound)?;
            let current: MembershipStatus = m.status;
            let next = match (change, current) {
                (StatusChange::Suspend, MembershipStatus::Active) => MembershipStatus::Suspended,
                (StatusChange::Reinstate, MembershipStatus::Suspended) if m.valid_until >= today => {
                    MembershipStatus::Active
                }
                (StatusChange::Reinstate, MembershipStatus::Suspended) => MembershipStatus::Expired,
                (StatusChange::Revoke, MembershipStatus::Active | MembershipStatus::Suspended) => {
                    MembershipStatus::Revoked
                }
                _ => return Err(AppError::Conflict),
            };
            let back_on_list = matches!(next, MembershipStatus::Suspended | MembershipStatus::Revoked);
            let changed = diesel::update(memberships::table.find(&m.id).filter(memberships::status.eq(&m.status)))
                .set((
                    memberships::status.eq(next),
                    memberships::status_reason.eq(reason.clone()),
                    memberships::updated_at.eq(now),
                ))
                .execute(tx.conn)?;
            // Someone else changed it at the same moment: theirs stands, ours is a conflict.
            if changed != 1 {
                return Err(AppError::Conflict);
            }
            if back_on_list {
                diesel::update(memberships::table.find(&m.id))
                    .set((
                        memberships::removed_from_chat_at.eq(None::<NaiveDateTime>),
                        memberships::removed_from_chat_by.eq(None::<String>),
                    ))
                    .execute(tx.conn)?;
            }
            let action = match change {
                StatusChange::Suspend => "membership.suspended",
                StatusChange::Reinstate => "membership.reinstated",
                StatusChange::Revoke => "membership.revoked",
            };
            tx.audit(
                &Actor::user(&staff.user_id, staff.role, staff.ip.as_deref()),
                action,
                Some(Subject { kind: "membership", id: &m.id }),
                // The reason is free text and may name people: it stays on the membership
                // (which deletion blanks), the append-only log only notes there was one.
                json!({ "from": m.status, "to": next.as_str(), "has_reason": reason.is_some() }),
            )?;
            let locale: Locale = member.locale;
            let link = settings.link(&format!("/memberships/{}", m.id));
            let (name, group, number, reason) =
                (member.full_name.as_str(), group.name.as_str(), m.number.as_str(), reason.as_deref());
            let org = &settings.org_name;
            let (kind, rendered) = match change {
                StatusChange::Suspend => (
                    NoticeKind::Suspended,
                    MembershipSuspended { name, group, number, reason, link: &link }.render(locale, org)?,
                ),
                StatusChange::Reinstate => (
                    NoticeKind::Reinstated,
                    MembershipReinstated { name, group, number, reason, link: &link }.render(locale, org)?,
                ),
                StatusChange::Revoke => (
                    NoticeKind::Revoked,
                    MembershipRevoked { name, group, number, reason, link: &link }.render(locale, org)?,
                ),
            };
            notices::tell(tx, &member, About::Membership(&m), kind, &rendered)?;
            Ok(next)
        })
        .await
}

/// Someone to take out of a chat group by hand.
pub struct Removal {
    pub membership: Membership,
    pub group_name: String,
    pub member_name: String,
}

/// Memberships no longer current whose holders may still be in the chat group, for the
/// groups in the staff member's reach. Officers clear it as they go, so it stays short;
/// at most 500 are shown.
pub fn removals(conn: &mut DbConn, staff: &Staff) -> QueryResult<Vec<Removal>> {
    let gone = [
        MembershipStatus::Expired.as_str(),
        MembershipStatus::Suspended.as_str(),
        MembershipStatus::Revoked.as_str(),
        MembershipStatus::Ended.as_str(),
    ];
    let mut q = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .filter(memberships::status.eq_any(gone))
        .filter(memberships::removed_from_chat_at.is_null())
        .select((Membership::as_select(), groups::name, users::full_name))
        .order((memberships::updated_at.asc(), memberships::id.asc()))
        .limit(500)
        .into_boxed();
    if staff.role != Role::Commissioner {
        q = q.filter(memberships::group_id.eq_any(assigned_groups(&staff.user_id)));
    }
    let rows: Vec<(Membership, String, String)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(membership, group_name, member_name)| Removal { membership, group_name, member_name })
        .collect())
}

pub async fn mark_removed(state: &AppState, staff: Staff, id: MembershipId) -> AppResult<()> {
    state
        .write(move |tx| {
            let now = tx.now;
            let (m, _, _) = find_for_staff(tx.conn, &id, &staff)?.ok_or(AppError::NotFound)?;
            if m.status == MembershipStatus::Active || m.removed_from_chat_at.is_some() {
                return Err(AppError::Conflict);
            }
            diesel::update(memberships::table.find(&m.id))
                .set((
                    memberships::removed_from_chat_at.eq(Some(now)),
                    memberships::removed_from_chat_by.eq(Some(&staff.user_id)),
                ))
                .execute(tx.conn)?;
            tx.audit(
                &Actor::user(&staff.user_id, staff.role, staff.ip.as_deref()),
                "membership.removed_from_chat",
                Some(Subject { kind: "membership", id: &m.id }),
                json!({ "status": m.status }),
            )?;
            Ok(())
        })
        .await
}

/// Members of the staff member's groups, by number, 50 a page after `after` (keyset on
/// the number), optionally filtered by a number or name fragment.
pub fn list_for_staff(
    conn: &mut DbConn,
    staff: &Staff,
    query: &str,
    after: Option<&str>,
) -> QueryResult<Vec<(Membership, String, String)>> {
    let mut q = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .select((Membership::as_select(), groups::name, users::full_name))
        .order(memberships::number.asc())
        .limit(50)
        .into_boxed();
    if staff.role != Role::Commissioner {
        q = q.filter(memberships::group_id.eq_any(assigned_groups(&staff.user_id)));
    }
    let query = query.trim();
    if !query.is_empty() {
        let like = format!("%{}%", query.replace(['%', '_'], ""));
        q = q.filter(memberships::number.like(like.to_uppercase()).or(users::full_name.like(like)));
    }
    if let Some(a) = after {
        q = q.filter(memberships::number.gt(a.to_string()));
    }
    q.load(conn)
}

/// A membership's status.
pub fn status_of(conn: &mut DbConn, id: &MembershipId) -> QueryResult<MembershipStatus> {
    memberships::table.find(id).select(memberships::status).first(conn)
}

/// The membership job (run with the other jobs every minute): marks memberships expired once their last day has passed,
/// and sends the 30- and 7-day reminders, each once (by mail, or as a desk notice for a
/// member without a confirmed address). Every step is a conditional update,
/// so running twice, or on two instances at once, does nothing twice.
pub fn expire_and_remind(
    conn: &mut DbConn,
    settings: &crate::app::config::Settings,
    now: NaiveDateTime,
) -> AppResult<(usize, usize)> {
    let today = settings.zone.today(now);
    let mut expired = 0;
    loop {
        // Read outside the write transaction (index `memberships_due`); each batch of 10
        // (an update and an audit entry each) is a short write of its own. In the index's
        // order: PostgreSQL multiplies the share of active memberships by the share of past
        // end dates (most of history), expects thousands of rows where there are none, and
        // without an order to keep it scanned the whole table (160 ms at 1 M applications).
        let due: Vec<String> = memberships::table
            .filter(memberships::status.eq(MembershipStatus::Active))
            .filter(memberships::valid_until.lt(today))
            .order(memberships::valid_until.asc())
            .select(memberships::id)
            .limit(500)
            .load(conn)?;
        let before = expired;
        for batch in due.chunks(10) {
            Tx::run(conn, now, |tx| -> AppResult<()> {
                for id in batch {
                    let n = diesel::update(
                        memberships::table
                            .find(id)
                            .filter(memberships::status.eq(MembershipStatus::Active))
                            .filter(memberships::valid_until.lt(today)),
                    )
                    .set((memberships::status.eq(MembershipStatus::Expired), memberships::updated_at.eq(now)))
                    .execute(tx.conn)?;
                    if n == 1 {
                        expired += 1;
                        tx.audit(
                            &Actor::system("jobs"),
                            "membership.expired",
                            Some(Subject { kind: "membership", id }),
                            json!({}),
                        )?;
                    }
                }
                Ok(())
            })?;
        }
        // A short read was the last; a pass that expired nothing (all changed since the
        // read) ends rather than reading them again.
        if due.len() < 500 || expired == before {
            break;
        }
    }

    let horizon = today + chrono::Duration::days(membership::RENEWAL_WINDOW_DAYS);
    let candidates: Vec<(Membership, Group, User)> = memberships::table
        .inner_join(groups::table)
        .inner_join(users::table)
        .filter(memberships::status.eq(MembershipStatus::Active))
        .filter(memberships::valid_until.ge(today))
        .filter(memberships::valid_until.le(horizon))
        .filter(memberships::reminded_7_at.is_null())
        .select((Membership::as_select(), Group::as_select(), User::as_select()))
        .limit(1000)
        .load(conn)?;
    let mut reminded = 0;
    for (m, group, member) in candidates {
        let Some(due) = membership::reminder_due(m.valid_until, today) else { continue };
        let sent = Tx::run(conn, now, |tx| -> AppResult<bool> {
            let target = memberships::table.find(&m.id);
            let claimed = match due {
                Reminder::ThirtyDays => diesel::update(target.filter(memberships::reminded_30_at.is_null()))
                    .set(memberships::reminded_30_at.eq(Some(now)))
                    .execute(tx.conn)?,
                Reminder::SevenDays => diesel::update(target.filter(memberships::reminded_7_at.is_null()))
                    .set((
                        memberships::reminded_7_at.eq(Some(now)),
                        memberships::reminded_30_at.eq(Some(m.reminded_30_at.unwrap_or(now))),
                    ))
                    .execute(tx.conn)?,
            };
            if claimed != 1 {
                return Ok(false);
            }
            let locale: Locale = member.locale;
            let mail = MembershipReminder {
                name: &member.full_name,
                group: &group.name,
                number: &m.number,
                valid_until: m.valid_until,
                days: (m.valid_until - today).num_days(),
                link: &settings.link(&format!("/memberships/{}/renew", m.id)),
            }
            .render(locale, &settings.org_name)?;
            notices::tell(tx, &member, About::Membership(&m), NoticeKind::RenewalDue, &mail)?;
            tx.audit(
                &Actor::system("jobs"),
                "membership.reminded",
                Some(Subject { kind: "membership", id: &m.id }),
                json!({ "days_left": (m.valid_until - today).num_days().to_string() }),
            )?;
            Ok(true)
        })?;
        reminded += usize::from(sent);
    }
    Ok((expired, reminded))
}

/// A resident's own membership; anyone else's is not found.
pub async fn own(state: &AppState, id: MembershipId, user_id: UserId) -> AppResult<(Membership, Group)> {
    state.db(move |c| find_for_member(c, &id, &user_id)?.ok_or(AppError::NotFound)).await
}

/// A page of the members within the staff member's reach (see `list_for_staff`).
pub async fn staff_list(
    state: &AppState,
    staff: Staff,
    query: String,
    after: Option<String>,
) -> AppResult<Vec<(Membership, String, String)>> {
    state.db(move |c| Ok(list_for_staff(c, &staff, &query, after.as_deref())?)).await
}

/// One membership within the staff member's reach, with its group and member.
pub async fn staff_view(state: &AppState, id: MembershipId, staff: Staff) -> AppResult<(Membership, Group, User)> {
    state.db(move |c| find_for_staff(c, &id, &staff)?.ok_or(AppError::NotFound)).await
}

/// The people to take out of the chat groups within the staff member's reach.
pub async fn removal_list(state: &AppState, staff: Staff) -> AppResult<Vec<Removal>> {
    state.db(move |c| Ok(removals(c, &staff)?)).await
}

/// The public verification of a card's token, limited per client address. Tokens that
/// could never have been issued still cost the same lookup.
pub async fn check(state: &AppState, token: String, client_ip: Option<String>) -> AppResult<Option<PublicView>> {
    let (now, zone) = (state.clock.now(), state.settings.zone);
    let key = format!("verify:{}", client_ip.as_deref().unwrap_or("unknown"));
    state
        .db(move |c| {
            let allowed = c.write_tx(|c| {
                crate::auth::throttle::take_allowance(c, &key, crate::domain::throttle::VERIFICATIONS_PER_WINDOW, now)
            })?;
            if !allowed {
                return Err(AppError::TooManyRequests { retry_after_secs: 600 });
            }
            let lookup =
                if crate::domain::token::SecretToken::from_untrusted(&token).is_some() { token } else { String::new() };
            Ok(verify(c, &lookup, zone.today(now))?)
        })
        .await
}

/// A resident's membership open for renewal (from 30 days before expiry), with its group
/// and the application it came from; anything else is not found.
pub async fn renewable(
    state: &AppState,
    id: MembershipId,
    user_id: UserId,
) -> AppResult<(Membership, Group, Application)> {
    let today = state.today();
    state
        .db(move |c| {
            let (m, g) = find_for_member(c, &id, &user_id)?.ok_or(AppError::NotFound)?;
            if !membership::renewal_open(m.status, m.valid_until, today) {
                return Err(AppError::NotFound);
            }
            let previous =
                crate::services::review::find_for_officer(c, &m.application_id, None)?.ok_or(AppError::NotFound)?.0;
            Ok((m, g, previous))
        })
        .await
}
