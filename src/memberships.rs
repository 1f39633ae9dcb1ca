//! Memberships: issued when an application is approved, shown to the member with the
//! group's invite link while active.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::{Application, Group, Membership};
use crate::db::schema::{groups, memberships};
use crate::domain::membership::{self, MembershipStatus};
use crate::domain::token::SecretToken;

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
        id: uuid::Uuid::new_v4().to_string(),
        user_id: app.resident_id.clone(),
        group_id: group.id.clone(),
        application_id: app.id.clone(),
        number: membership::number(&group.slug, seq),
        status: MembershipStatus::Active.as_str().to_string(),
        valid_from: today,
        valid_until: membership::valid_until(today, group.validity_days),
        verification_token: SecretToken::generate().expose().to_string(),
        status_reason: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(memberships::table).values(&m).execute(conn)?;
    Ok(m)
}

/// Whether the person is an active member of the group.
pub fn is_active_member(conn: &mut DbConn, user_id: &str, group_id: &str) -> QueryResult<bool> {
    let n: i64 = memberships::table
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::group_id.eq(group_id))
        .filter(memberships::status.eq(MembershipStatus::Active.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A person's memberships with their groups, newest first.
pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(Membership, Group)>> {
    memberships::table
        .inner_join(groups::table)
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::created_at.desc())
        .select((Membership::as_select(), Group::as_select()))
        .limit(100)
        .load(conn)
}
