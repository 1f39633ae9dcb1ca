//! The outbox: mails as rows, written with the change they report and delivered by a worker.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::{NewOutboxMail, OutboxMail};
use crate::db::schema::mail_outbox;
use crate::db::{DbConn, dialect};
use crate::mail::RenderedMail;

/// After this many failed attempts a mail is given up on and kept for inspection.
pub const MAX_ATTEMPTS: i32 = 12;
/// How long a claimed mail is reserved for the worker that claimed it. A worker that dies
/// mid-send releases its mails when the lease runs out.
const LEASE: Duration = Duration::minutes(10);
const BATCH: i64 = 20;

/// Queues a mail. Call inside the transaction of the change it reports.
pub fn enqueue(conn: &mut DbConn, now: NaiveDateTime, to: &str, mail: &RenderedMail) -> QueryResult<()> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(mail_outbox::table)
        .values(NewOutboxMail {
            id: &id,
            to_address: to,
            subject: &mail.subject,
            text_body: &mail.text,
            html_body: &mail.html,
            created_at: now,
            next_attempt_at: now,
            attempts: 0,
        })
        .execute(conn)?;
    Ok(())
}

/// Wait before the next try after `attempts` failures: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    Duration::minutes(1i64 << exp).min(Duration::hours(6))
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub failed: usize,
}

/// Claims a batch of due mails for this worker: each is reserved for `LEASE` and counted as
/// an attempt, in the order they were written (a person gets "received" before "approved").
pub fn claim_due(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<OutboxMail>> {
    conn.write_tx(|conn| {
        let ids = dialect::due_mail_ids(conn, now, BATCH)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
            .set((mail_outbox::next_attempt_at.eq(now + LEASE), mail_outbox::attempts.eq(mail_outbox::attempts + 1)))
            .execute(conn)?;
        mail_outbox::table
            .filter(mail_outbox::id.eq_any(&ids))
            .order((mail_outbox::created_at.asc(), mail_outbox::id.asc()))
            .load::<OutboxMail>(conn)
    })
}

pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((mail_outbox::sent_at.eq(now), mail_outbox::last_error.eq(None::<String>)))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: tried again after the back-off, or given up on after
/// `MAX_ATTEMPTS`.
pub fn mark_failed(conn: &mut DbConn, mail: &OutboxMail, now: NaiveDateTime, error: String) -> QueryResult<()> {
    let give_up = mail.attempts >= MAX_ATTEMPTS;
    diesel::update(mail_outbox::table.find(&mail.id))
        .set((
            mail_outbox::next_attempt_at.eq(now + backoff(mail.attempts)),
            mail_outbox::last_error.eq(Some(error)),
            mail_outbox::failed_at.eq(give_up.then_some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(5), Duration::minutes(16));
        assert_eq!(backoff(10), Duration::hours(6));
        assert_eq!(backoff(MAX_ATTEMPTS), Duration::hours(6));
    }
}
