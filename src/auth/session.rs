//! Server-side sessions. The browser holds a random token; the database holds only its
//! SHA-256, so reading the sessions table does not let anyone sign in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::{NewSession, User};
use crate::db::schema::{sessions, users};
use crate::domain::UserId;
use crate::domain::session::{SessionTimeouts, is_alive, needs_touch};
use crate::domain::token::SecretToken;
use crate::domain::{Locale, Role};

/// The signed-in account behind a request.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub user_id: UserId,
    pub role: Role,
    pub full_name: String,
    pub email: String,
    pub locale: Locale,
}

/// Starts a session and returns the token for the cookie.
pub fn create(
    conn: &mut DbConn,
    user: &User,
    role: Role,
    now: NaiveDateTime,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> QueryResult<SecretToken> {
    let token = SecretToken::generate();
    let limits = SessionTimeouts::for_role(role);
    let ua = user_agent.map(|s| truncate(s, 300));
    diesel::insert_into(sessions::table)
        .values(NewSession {
            id: &token.hash(),
            user_id: &user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + limits.absolute,
            idle_timeout_secs: limits.idle.num_seconds() as i32,
            ip,
            user_agent: ua.as_deref(),
        })
        .execute(conn)?;
    Ok(token)
}

/// What `load` reads of a session (last seen, expiry, idle seconds) and of its account.
type SessionRow = ((NaiveDateTime, NaiveDateTime, i32), (UserId, Role, String, String, Locale, bool));

/// The account of a live session. Dead sessions (idle, expired, deactivated account) are
/// deleted on sight.
pub fn load(conn: &mut DbConn, token: &SecretToken, now: NaiveDateTime) -> QueryResult<Option<SessionUser>> {
    let id = token.hash();
    // Only what a request needs: this runs on every request (and the password hash stays
    // where it is).
    let found: Option<SessionRow> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&id))
        .select((
            (sessions::last_seen_at, sessions::expires_at, sessions::idle_timeout_secs),
            (users::id, users::role, users::full_name, users::email, users::locale, users::active),
        ))
        .first(conn)
        .optional()?;
    let Some(((last_seen_at, expires_at, idle_secs), (user_id, role, full_name, email, locale, active))) = found else {
        return Ok(None);
    };
    let idle = chrono::Duration::seconds(idle_secs.into());
    if !is_alive(now, last_seen_at, idle, expires_at) || !active {
        end(conn, &id)?;
        return Ok(None);
    }
    if needs_touch(now, last_seen_at) {
        diesel::update(sessions::table.find(&id)).set(sessions::last_seen_at.eq(now)).execute(conn)?;
    }
    Ok(Some(SessionUser { session_id: id, user_id, role, full_name, email, locale }))
}

pub fn end(conn: &mut DbConn, session_id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)
}

/// Ends every session of a user, except `keep` when given.
pub fn end_all_for_user(conn: &mut DbConn, user_id: &UserId, keep: Option<&str>) -> QueryResult<usize> {
    let q = sessions::table.filter(sessions::user_id.eq(user_id));
    match keep {
        Some(k) => diesel::delete(q.filter(sessions::id.ne(k))).execute(conn),
        None => diesel::delete(q).execute(conn),
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}
