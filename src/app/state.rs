//! The state shared by every request and job, and the way they reach the database.

use crate::app::clock::Clock;
use crate::app::config::Settings;
use crate::app::tx::Tx;
use crate::app::upload_budget::UploadBudget;
use crate::auth::csrf::CsrfKey;
use crate::auth::password::PasswordHasher;
use crate::db::{DbConn, Pool};
use crate::documents::keys::KeyRing;
use crate::error::AppResult;
use crate::mail::Mailer;

/// Shared by every request and job.
pub struct AppState {
    pub settings: Settings,
    pub pool: Pool,
    pub clock: Clock,
    pub hasher: PasswordHasher,
    pub mailer: Mailer,
    pub csrf: CsrfKey,
    pub keys: KeyRing,
    /// Upload bodies in memory at once.
    pub uploads: UploadBudget,
    /// Document analyses running at once (each a child process): one per core but one.
    pub analysers: tokio::sync::Semaphore,
    /// Wakes the background worker when documents were stored, so they are read at once
    /// rather than at the next tick.
    pub analysis_wake: tokio::sync::Notify,
}

impl AppState {
    /// Runs blocking database work on the blocking pool with a pooled connection, so no
    /// connection is held across an `.await`.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Today in the configured time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.settings.zone.today(self.clock.now())
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> AppResult<()> {
        self.db(|c| Ok(crate::db::ping(c)?)).await
    }

    /// Runs `f` as one write transaction on the blocking pool: everything it writes through
    /// the `Tx` (rows, audit entry, mail) commits together, or nothing does.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db(move |conn| conn.write_tx(|conn| f(&mut Tx::new(conn, now)))).await
    }
}
