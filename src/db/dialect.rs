//! The few statements that differ between SQLite and PostgreSQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::models::Throttle;
use super::schema::{login_throttle, mail_outbox};

/// Advisory lock held while migrations run, so instances starting together take turns.
pub const MIGRATION_LOCK_ID: i64 = 0x5645_4349_4e41_4c01;
/// Advisory lock that serialises appends to the audit chain on PostgreSQL.
const AUDIT_LOCK_ID: i64 = 0x5645_4349_4e41_4c02;
/// Advisory lock between encrypting new documents (shared) and the barrier of a key
/// rotation (exclusive).
const DOCUMENT_KEYS_LOCK_ID: i64 = 0x5645_4349_4e41_4c03;

/// Serialises appends to the audit chain until the transaction ends. SQLite needs nothing:
/// every write transaction there is `BEGIN IMMEDIATE` and already holds the database lock.
pub fn lock_audit_chain(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_ID})")).execute(c)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

/// Held (shared) by a transaction that encrypts a new document, from before it reads the key
/// file until it ends. SQLite needs nothing: its write transactions hold the database lock.
pub fn lock_document_keys_shared(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock_shared({DOCUMENT_KEYS_LOCK_ID})")).execute(c)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

/// Waits until every transaction that encrypts a document with a key read before this call
/// has ended (exclusive against `lock_document_keys_shared`). On SQLite the write
/// transaction this runs in already waited for every other writer.
pub fn lock_document_keys_exclusive(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({DOCUMENT_KEYS_LOCK_ID})")).execute(c)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

/// Ids of up to `limit` outbox mails due at `now`, locked so that concurrent workers on
/// other instances skip them (`FOR UPDATE SKIP LOCKED`) instead of sending them twice.
pub fn due_mail_ids(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    let query = mail_outbox::table
        .select(mail_outbox::id)
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .filter(mail_outbox::next_attempt_at.le(now))
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::created_at.asc()))
        .limit(limit);
    match conn {
        DbConn::Pg(c) => query.for_update().skip_locked().load(c),
        DbConn::Sqlite(c) => query.load(c),
    }
}

/// A login-throttle row, locked until the transaction ends on PostgreSQL so that two
/// failures at once both count (SQLite's write transaction already serialises them).
pub fn throttle_row_for_update(conn: &mut DbConn, key: &str) -> QueryResult<Option<Throttle>> {
    let query = login_throttle::table.find(key);
    match conn {
        DbConn::Pg(c) => query.for_update().first(c).optional(),
        DbConn::Sqlite(c) => query.first(c).optional(),
    }
}

/// Refreshes the query planner's statistics where they are stale. Without them SQLite
/// cannot tell that few applications are open, and sorts every open application of an
/// officer's groups instead of walking the partial index in queue order (21 ms against
/// 0.46 ms at 200 000 applications, see docs/PERFORMANCE.md). PostgreSQL's autovacuum does
/// this on its own.
pub fn optimize(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Sqlite(c) = conn {
        // ANALYZE writes the statistics, so it holds the write lock as long as it reads:
        // logged like every write transaction (`held_us`).
        let started = std::time::Instant::now();
        diesel::connection::SimpleConnection::batch_execute(
            c,
            "PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;",
        )?;
        tracing::debug!(held_us = started.elapsed().as_micros() as u64, "statistics refreshed");
    }
    Ok(())
}

/// SQL for the first day of the month of the `DATE` column `day`: the key of the monthly
/// summary rows (`decision_months`, `channel_months`).
pub fn month_of(conn: &DbConn, day: &str) -> String {
    match conn {
        DbConn::Sqlite(_) => format!("date({day}, 'start of month')"),
        DbConn::Pg(_) => format!("date_trunc('month', {day})::date"),
    }
}
