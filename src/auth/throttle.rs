//! Sign-in throttling kept in the database, so every instance sees the same counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::Throttle;
use crate::db::schema::login_throttle;
use crate::db::{DbConn, dialect};
use crate::domain::throttle::{
    ACCOUNT_MAILS_PER_WINDOW, ThrottleScope, ThrottleState, after_counted, after_failure, retry_at,
};

/// The keys one sign-in attempt is counted under.
#[derive(Debug, Clone)]
pub struct ThrottleKeys {
    keys: Vec<(ThrottleScope, String)>,
}

impl ThrottleKeys {
    pub fn new(email_as_typed: &str, client_ip: Option<&str>) -> Self {
        let mut keys = vec![(ThrottleScope::Account, format!("account:{}", email_as_typed.trim().to_lowercase()))];
        if let Some(ip) = client_ip {
            keys.push((ThrottleScope::Client, format!("client:{ip}")));
        }
        Self { keys }
    }

    /// The keys of a claim at `/claim`, counted as sign-in attempts are: under the DNI
    /// (digits only, as typed) as the account, and under the client address, which it
    /// shares with sign-in so guesses on either form add up.
    pub fn claim(dni_as_typed: &str, client_ip: Option<&str>) -> Self {
        let digits: String = dni_as_typed.chars().filter(char::is_ascii_digit).take(16).collect();
        let mut keys = vec![(ThrottleScope::Account, format!("claim:{digits}"))];
        if let Some(ip) = client_ip {
            keys.push((ThrottleScope::Client, format!("client:{ip}")));
        }
        Self { keys }
    }

    fn account_key(&self) -> &str {
        &self.keys[0].1
    }
}

fn state(row: &Throttle) -> ThrottleState {
    ThrottleState { failures: row.failures, window_started_at: row.window_started_at, blocked_until: row.blocked_until }
}

/// When the attempt may be made, if it has to wait.
pub fn blocked_until(conn: &mut DbConn, keys: &ThrottleKeys, now: NaiveDateTime) -> QueryResult<Option<NaiveDateTime>> {
    let names: Vec<&str> = keys.keys.iter().map(|(_, k)| k.as_str()).collect();
    let rows: Vec<Throttle> = login_throttle::table.filter(login_throttle::key.eq_any(names)).load(conn)?;
    Ok(rows.iter().filter_map(|r| retry_at(Some(state(r)), now)).max())
}

/// Counts one failure under every key. Call inside a write transaction.
pub fn record_failure(conn: &mut DbConn, keys: &ThrottleKeys, now: NaiveDateTime) -> QueryResult<()> {
    for (scope, key) in &keys.keys {
        let previous = dialect::throttle_row_for_update(conn, key)?;
        let next = after_failure(*scope, previous.as_ref().map(state), now);
        save(conn, key, next, previous.is_some(), now)?;
    }
    Ok(())
}

fn save(conn: &mut DbConn, key: &str, next: ThrottleState, exists: bool, now: NaiveDateTime) -> QueryResult<()> {
    let row = Throttle {
        key: key.to_string(),
        failures: next.failures,
        window_started_at: next.window_started_at,
        blocked_until: next.blocked_until,
        updated_at: now,
    };
    if exists {
        diesel::update(login_throttle::table.find(key)).set(&row).execute(conn)?;
    } else {
        diesel::insert_into(login_throttle::table).values(&row).execute(conn)?;
    }
    Ok(())
}

/// Counts one account mail to `address`; `false` when the address has had its share this
/// hour and the mail must not be sent. Call inside the write transaction that would send it.
pub fn take_mail_allowance(conn: &mut DbConn, address: &str, now: NaiveDateTime) -> QueryResult<bool> {
    take_allowance(conn, &format!("mail:{address}"), ACCOUNT_MAILS_PER_WINDOW, now)
}

/// Counts one event under `key`; `false` when `limit` per window is reached. Call inside
/// a write transaction.
pub fn take_allowance(conn: &mut DbConn, key: &str, limit: i32, now: NaiveDateTime) -> QueryResult<bool> {
    let previous = dialect::throttle_row_for_update(conn, key)?;
    match after_counted(previous.as_ref().map(state), now, limit) {
        Some(next) => {
            save(conn, key, next, previous.is_some(), now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Checks and counts a sign-in attempt in one step, before the password is verified: the
/// rows are locked, a blocked key refuses the attempt (its retry time is returned), and
/// otherwise the attempt is counted as a failure up front and forgiven on success. Counting
/// after verification would let a burst of parallel attempts all pass the check first.
/// Call inside a write transaction.
pub fn reserve_attempt(
    conn: &mut DbConn,
    keys: &ThrottleKeys,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let mut rows = Vec::new();
    for (scope, key) in &keys.keys {
        rows.push((*scope, key, dialect::throttle_row_for_update(conn, key)?));
    }
    if let Some(until) = rows.iter().filter_map(|(_, _, r)| retry_at(r.as_ref().map(state), now)).max() {
        return Ok(Some(until));
    }
    for (scope, key, previous) in rows {
        let next = after_failure(scope, previous.as_ref().map(state), now);
        save(conn, key, next, previous.is_some(), now)?;
    }
    Ok(None)
}

/// After a successful sign-in: the account's count is cleared and the client's reserved
/// attempt given back.
pub fn forgive(conn: &mut DbConn, keys: &ThrottleKeys, now: NaiveDateTime) -> QueryResult<()> {
    clear_account(conn, keys)?;
    for (scope, key) in &keys.keys {
        if *scope == ThrottleScope::Client
            && let Some(row) = dialect::throttle_row_for_update(conn, key)?
        {
            let next = ThrottleState {
                failures: (row.failures - 1).max(0),
                window_started_at: row.window_started_at,
                blocked_until: None,
            };
            save(conn, key, next, true, now)?;
        }
    }
    Ok(())
}

/// A successful sign-in clears the account's count (the client's stays: one address
/// guessing at many accounts must not reset itself by owning one of them).
pub fn clear_account(conn: &mut DbConn, keys: &ThrottleKeys) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(keys.account_key())).execute(conn)?;
    Ok(())
}
