//! The retention purge: deletes what Vecinal no longer needs to keep.
//!
//! - the files of applications decided `VECINAL_DOCUMENT_RETENTION_DAYS` ago (the document
//!   metadata with its SHA-256 and the timeline with the officer's checklist stay;
//!   `documents.purged_at` is set);
//! - resident accounts never confirmed within 7 days, with no application (their sessions
//!   and tokens go with them by cascade, and the mails sent to the address);
//! - dead sessions (past their absolute or idle limit), used or expired tokens, throttle
//!   rows whose window is over, and mails sent or given up 30 days ago.
//!
//! Safe to run twice and on several instances at once: what is due is read outside any
//! write transaction, in id order, then deleted in batches, each batch its own short write
//! transaction whose statements repeat the condition (so a row deleted by another instance,
//! or kept alive in the meantime, is not counted here). No write transaction scans: at
//! 1 M applications each holds the write lock for a few milliseconds. The audit log is
//! never touched: its entries name accounts by id only.
//!
//! One audit entry (`retention.purged`, with the counts) per run that removed something;
//! a run that found nothing writes nothing, so the daily job on N instances does not add N
//! empty entries a day.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::app::config::Settings;
use crate::audit::{self, Actor};
use crate::db::DbConn;
use crate::db::schema::{
    application_events, applications, document_blobs, documents, login_throttle, mail_outbox, memberships, sessions,
    tokens, users,
};
use crate::documents as files;
use crate::domain::Role;
use crate::domain::application::Status;
use crate::domain::retention as rules;
use crate::error::AppResult;

/// Ids read per query, outside any write transaction.
const READ_BATCH: i64 = 1000;
/// Small rows (sessions, tokens, throttle rows, mails) deleted per write transaction.
const BATCH: usize = 200;
/// Documents whose files are deleted per write transaction (one application's): a file is
/// up to 10 MiB of pages to free.
const DOCUMENT_BATCH: usize = 3;
/// Accounts deleted per write transaction (each with its sessions, tokens and mails).
const ACCOUNT_BATCH: usize = 10;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Document files (ciphertexts) deleted.
    pub documents: usize,
    pub unconfirmed_accounts: usize,
    pub sessions: usize,
    pub tokens: usize,
    pub throttle_rows: usize,
    pub mails: usize,
}

impl PurgeReport {
    pub fn total(&self) -> usize {
        self.documents + self.unconfirmed_accounts + self.sessions + self.tokens + self.throttle_rows + self.mails
    }
}

impl std::fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "document files: {}, unconfirmed accounts: {}, sessions: {}, tokens: {}, throttle rows: {}, mails: {}",
            self.documents, self.unconfirmed_accounts, self.sessions, self.tokens, self.throttle_rows, self.mails
        )
    }
}

/// Runs every purge once. `trigger` says who ran it (`job`, `cli`) in the audit entry.
pub fn purge(conn: &mut DbConn, settings: &Settings, now: NaiveDateTime, trigger: &str) -> AppResult<PurgeReport> {
    let report = PurgeReport {
        documents: purge_documents(conn, now, settings.document_retention_days)?,
        unconfirmed_accounts: purge_unconfirmed_accounts(conn, now)?,
        sessions: purge_sessions(conn, now)?,
        tokens: in_batches(
            conn,
            BATCH,
            |c, after| {
                tokens::table
                    .select(tokens::id)
                    .filter(tokens::id.gt(after))
                    .filter(tokens::used_at.is_not_null().or(tokens::expires_at.le(now)))
                    .order(tokens::id.asc())
                    .limit(READ_BATCH)
                    .load(c)
            },
            |c, ids| {
                diesel::delete(
                    tokens::table
                        .filter(tokens::id.eq_any(ids))
                        .filter(tokens::used_at.is_not_null().or(tokens::expires_at.le(now))),
                )
                .execute(c)
            },
        )?,
        throttle_rows: {
            let cutoff = rules::throttle_window_cutoff(now);
            let stale_when = login_throttle::window_started_at
                .le(cutoff)
                .and(login_throttle::blocked_until.is_null().or(login_throttle::blocked_until.le(now)));
            in_batches(
                conn,
                BATCH,
                |c, after| {
                    login_throttle::table
                        .select(login_throttle::key)
                        .filter(login_throttle::key.gt(after))
                        .filter(stale_when)
                        .order(login_throttle::key.asc())
                        .limit(READ_BATCH)
                        .load(c)
                },
                // The condition again: a failure counted since the read keeps its row.
                |c, keys| {
                    diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(keys)).filter(stale_when))
                        .execute(c)
                },
            )?
        },
        mails: {
            let cutoff = rules::mail_cutoff(now);
            let old = mail_outbox::sent_at.le(cutoff).or(mail_outbox::failed_at.le(cutoff));
            in_batches(
                conn,
                BATCH,
                |c, after| {
                    mail_outbox::table
                        .select(mail_outbox::id)
                        .filter(mail_outbox::id.gt(after))
                        .filter(old)
                        .order(mail_outbox::id.asc())
                        .limit(READ_BATCH)
                        .load(c)
                },
                |c, ids| diesel::delete(mail_outbox::table.filter(mail_outbox::id.eq_any(ids)).filter(old)).execute(c),
            )?
        },
    };
    if report.total() > 0 {
        conn.write_tx(|c| {
            audit::record(
                c,
                now,
                &Actor::system("retention"),
                "retention.purged",
                None,
                json!({
                    "trigger": trigger,
                    "retention_days": settings.document_retention_days,
                    "removed": serde_json::to_value(&report).unwrap_or_default(),
                }),
            )
        })?;
    }
    tracing::info!(trigger, %report, "retention purge");
    Ok(report)
}

/// Reads what is due with `find` (up to `READ_BATCH` keys after the given one, in key
/// order, outside any write transaction), then removes it `per_tx` keys per write
/// transaction with `remove`, which must repeat the condition. Returns what `remove`
/// counted. Every key is read once: the next read starts after the last key seen.
fn in_batches(
    conn: &mut DbConn,
    per_tx: usize,
    mut find: impl FnMut(&mut DbConn, &str) -> QueryResult<Vec<String>>,
    mut remove: impl FnMut(&mut DbConn, &[String]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    let mut total = 0;
    let mut after = String::new();
    loop {
        let due = find(conn, &after)?;
        for batch in due.chunks(per_tx) {
            total += conn.write_tx(|c| remove(c, batch))?;
        }
        match due.last() {
            Some(last) if due.len() == READ_BATCH as usize => after = last.clone(),
            _ => return Ok(total),
        }
    }
}

/// The files of applications whose final decision is older than the retention period.
/// The documents still holding a file are read through the index of unpurged documents.
fn purge_documents(conn: &mut DbConn, now: NaiveDateTime, retention_days: i64) -> QueryResult<usize> {
    let cutoff = rules::documents_cutoff(now, retention_days);
    let closed: Vec<&str> = Status::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str()).collect();
    let due = || {
        documents::table
            .inner_join(document_blobs::table)
            .inner_join(applications::table)
            .filter(documents::purged_at.is_null())
            .filter(applications::decided_at.le(cutoff))
            .filter(applications::status.eq_any(closed.clone()))
    };
    in_batches(
        conn,
        DOCUMENT_BATCH,
        |c, after| {
            due()
                .filter(documents::id.gt(after))
                .select(documents::id)
                .order(documents::id.asc())
                .limit(READ_BATCH)
                .load(c)
        },
        |c, ids| {
            // The condition again, for these documents only (by their primary keys).
            let still: Vec<String> = due().filter(documents::id.eq_any(ids)).select(documents::id).load(c)?;
            if still.is_empty() { Ok(0) } else { files::delete_files(c, &still, now) }
        },
    )
    .and_then(|purged| files::sweep(conn).map(|_| purged))
}

/// Residents who never confirmed their address within the grace period and never got as
/// far as an application. Each account is deleted under the same conditions it was found
/// by, so one that was confirmed in the meantime stays.
fn purge_unconfirmed_accounts(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let cutoff = rules::unconfirmed_cutoff(now);
    let due = || {
        users::table
            .filter(users::role.eq(Role::Resident))
            .filter(users::email_confirmed_at.is_null())
            .filter(users::deleted_at.is_null())
            .filter(users::created_at.le(cutoff))
            .filter(not(exists(applications::table.filter(applications::resident_id.eq(users::id)))))
            .filter(not(exists(memberships::table.filter(memberships::user_id.eq(users::id)))))
            .filter(not(exists(
                application_events::table.filter(application_events::actor_id.eq(users::id.nullable())),
            )))
    };
    let mut total = 0;
    let mut after = String::new();
    loop {
        let candidates: Vec<(String, String)> = due()
            .filter(users::id.gt(&after))
            .select((users::id, users::email))
            .order(users::id.asc())
            .limit(READ_BATCH)
            .load(conn)?;
        for batch in candidates.chunks(ACCOUNT_BATCH) {
            total += conn.write_tx(|c| -> QueryResult<usize> {
                let mut n = 0;
                for (id, email) in batch {
                    // Sessions and tokens go by cascade; the audit log keeps the id only.
                    if diesel::delete(due().filter(users::id.eq(id))).execute(c)? == 1 {
                        diesel::delete(mail_outbox::table.filter(mail_outbox::to_address.eq(email))).execute(c)?;
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        match candidates.last() {
            Some((last, _)) if candidates.len() == READ_BATCH as usize => after = last.clone(),
            _ => return Ok(total),
        }
    }
}

/// Sessions past their absolute expiry, or idle for longer than their own idle timeout
/// (fixed when each session started, so it is read per timeout value).
fn purge_sessions(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let mut total = in_batches(
        conn,
        BATCH,
        |c, after| {
            sessions::table
                .select(sessions::id)
                .filter(sessions::id.gt(after))
                .filter(sessions::expires_at.le(now))
                .order(sessions::id.asc())
                .limit(READ_BATCH)
                .load(c)
        },
        |c, ids| {
            diesel::delete(sessions::table.filter(sessions::id.eq_any(ids)).filter(sessions::expires_at.le(now)))
                .execute(c)
        },
    )?;
    let idle_values: Vec<i32> = sessions::table.select(sessions::idle_timeout_secs).distinct().load(conn)?;
    for idle in idle_values {
        let cutoff = rules::session_idle_cutoff(now, Duration::seconds(idle.into()));
        let idle_dead = sessions::idle_timeout_secs.eq(idle).and(sessions::last_seen_at.le(cutoff));
        total += in_batches(
            conn,
            BATCH,
            |c, after| {
                sessions::table
                    .select(sessions::id)
                    .filter(sessions::id.gt(after))
                    .filter(idle_dead)
                    .order(sessions::id.asc())
                    .limit(READ_BATCH)
                    .load(c)
            },
            // The condition again: a request in the meantime kept the session alive.
            |c, ids| diesel::delete(sessions::table.filter(sessions::id.eq_any(ids)).filter(idle_dead)).execute(c),
        )?;
    }
    Ok(total)
}
