//! One write transaction of a service: the rows, the audit entry and the outgoing mail
//! commit together or not at all.

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::audit::{self, Actor, Subject};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::mail::RenderedMail;
use crate::mail::outbox;

/// A write transaction in progress, with the time the change happens at. Queries run on
/// `tx.conn`; `audit` and `mail` add the entry and the mail to the same transaction.
pub struct Tx<'c> {
    pub conn: &'c mut DbConn,
    pub now: NaiveDateTime,
}

impl<'c> Tx<'c> {
    pub fn new(conn: &'c mut DbConn, now: NaiveDateTime) -> Self {
        Self { conn, now }
    }

    /// Runs `f` as one write transaction on a connection the caller holds (jobs and the
    /// command line, which work in batches on one connection).
    pub fn run<T, E>(conn: &mut DbConn, now: NaiveDateTime, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        conn.write_tx(|conn| f(&mut Tx::new(conn, now)))
    }

    /// Appends the audit entry of this change.
    pub fn audit(
        &mut self,
        actor: &Actor,
        action: &str,
        subject: Option<Subject<'_>>,
        details: Value,
    ) -> AppResult<()> {
        audit::record(self.conn, self.now, actor, action, subject, details)?;
        Ok(())
    }

    /// Queues a mail; the outbox worker sends it once this transaction has committed.
    pub fn mail(&mut self, to: &str, mail: &RenderedMail) -> AppResult<()> {
        outbox::enqueue(self.conn, self.now, to, mail)?;
        Ok(())
    }
}
