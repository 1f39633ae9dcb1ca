//! Background work: mail delivery, reading newly stored documents, officers' daily
//! digests, lapsed claims, membership expiry and reminders, and the daily retention purge. The worker runs it continuously;
//! `vecinal jobs run` runs it once. Every job is safe to run twice or on several
//! instances at once.

use std::sync::Arc;

use crate::app::AppState;
use crate::error::AppResult;
use crate::mail::outbox::{self, DeliveryReport};
use crate::services::retention::{self, PurgeReport};
use crate::services::{review, staff};

/// Delivers every mail that is due, batch by batch. A failed mail is tried again later
/// with back-off; the others go on.
pub async fn deliver_mail(state: &AppState) -> AppResult<DeliveryReport> {
    let mut report = DeliveryReport::default();
    loop {
        let now = state.clock.now();
        let claimed = state.db(move |conn| Ok(outbox::claim_due(conn, now)?)).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        for mail in claimed {
            let result = state.mailer.send(&mail, &state.settings.mail_from).await;
            let now = state.clock.now();
            match result {
                Ok(()) => {
                    report.sent += 1;
                    state.db(move |conn| Ok(outbox::mark_sent(conn, &mail.id, now)?)).await?;
                }
                Err(e) => {
                    report.failed += 1;
                    let error = format!("{e:#}");
                    // The row keeps the whole message for inspection; the log line, which more
                    // people read, not the recipient a server's answer may quote.
                    let logged = crate::domain::sensitive::without_addresses(&error);
                    tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, error = %logged, "mail delivery failed");
                    state.db(move |conn| Ok(outbox::mark_failed(conn, &mail, now, error)?)).await?;
                }
            }
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub mails_sent: usize,
    pub mails_failed: usize,
    pub digests: usize,
    pub claims_released: usize,
    pub memberships_expired: usize,
    pub reminders: usize,
    /// Documents read for the officers (pages drawn, barcodes read).
    pub documents_analysed: usize,
    /// What the retention purge removed, when it ran.
    pub purged: Option<PurgeReport>,
}

/// The retention purge runs this often in each server process. Each instance keeps its
/// own schedule (a restart runs it at once); running it more often, or on several
/// instances, only finds less to remove.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
const PURGE_RETRY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// One pass of every job, the retention purge included.
pub async fn run_once(state: &AppState) -> AppResult<JobReport> {
    let mut report = run_jobs(state).await?;
    report.purged = Some(run_purge(state).await?);
    Ok(report)
}

/// Reads the documents stored since the last run (see `services::analysis`).
pub async fn analyse_documents(state: &AppState) -> AppResult<usize> {
    crate::services::analysis::run_due(state).await.map(|r| r.analysed + r.given_up)
}

/// Every job but the purge.
async fn run_jobs(state: &AppState) -> AppResult<JobReport> {
    let documents_analysed = analyse_documents(state).await?;
    let now = state.clock.now();
    let settings = state.settings.clone();
    let (digests, claims_released, (memberships_expired, reminders)) = state
        .db(move |conn| {
            let digests = review::send_digests(conn, &settings, now)?;
            let released = staff::release_lapsed_claims(conn, now, settings.claim_hours)?;
            let memberships = crate::services::memberships::expire_and_remind(conn, &settings, now)?;
            // The bytes of files deleted since the last run (an account's deletion, a purge
            // on another instance), in short transactions.
            crate::documents::sweep(conn)?;
            crate::db::dialect::optimize(conn)?;
            Ok((digests, released, memberships))
        })
        .await?;
    let delivery = deliver_mail(state).await?;
    Ok(JobReport {
        mails_sent: delivery.sent,
        mails_failed: delivery.failed,
        digests,
        claims_released,
        memberships_expired,
        reminders,
        documents_analysed,
        purged: None,
    })
}

/// The retention purge (see `retention`).
pub async fn run_purge(state: &AppState) -> AppResult<PurgeReport> {
    let now = state.clock.now();
    let settings = state.settings.clone();
    state.db(move |conn| retention::purge(conn, &settings, now, "job")).await
}

/// Delivers mail every few seconds, runs the other jobs every minute and the retention
/// purge once a day (first at start), until the process ends.
pub async fn run_worker(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    let mut n: u64 = 0;
    let mut next_purge = tokio::time::Instant::now();
    loop {
        // Stored documents wake the worker at once; otherwise it ticks.
        tokio::select! {
            _ = tick.tick() => {}
            _ = state.analysis_wake.notified() => {}
        }
        let result = if n.is_multiple_of(12) {
            run_jobs(&state).await.map(|_| ())
        } else {
            match analyse_documents(&state).await {
                Ok(_) => deliver_mail(&state).await.map(|_| ()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "background jobs");
        }
        if tokio::time::Instant::now() >= next_purge {
            next_purge = tokio::time::Instant::now()
                + match run_purge(&state).await {
                    Ok(_) => PURGE_EVERY,
                    Err(e) => {
                        tracing::error!(error = %e, "retention purge; trying again in an hour");
                        PURGE_RETRY
                    }
                };
        }
        n += 1;
    }
}
