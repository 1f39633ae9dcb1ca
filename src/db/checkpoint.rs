//! Checkpoints of a SQLite file's write-ahead log, on a thread of their own.
//!
//! By default the connection whose commit brings the log past 1 000 pages copies it back
//! into the database file (SQLite's automatic checkpoint) inside that `COMMIT` call, after
//! it has released the write lock: one commit in some hundreds then took 20–40 ms instead
//! of under 1, and the request or job that made it waited for all of it (docs/PERFORMANCE.md,
//! "Background jobs at 1 M applications"). The pool's connections turn that off
//! (`wal_autocheckpoint = 0`), and this thread runs a passive checkpoint every
//! `CHECKPOINT_EVERY` instead: passive, it takes no lock a reader or writer waits for, and
//! copies what no reader still needs. The thread ends with the pool. Connections opened
//! outside the pool (the command line's) keep the automatic checkpoint, and SQLite
//! checkpoints when the last connection to a file closes.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DatabaseUrl, establish};

/// How often the log is checkpointed: a second's writes at most wait in it.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The checkpointing thread of one SQLite file; it stops when this is dropped.
#[derive(Debug)]
pub struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the file of `url`; `None` for PostgreSQL and for a database in
    /// memory, which has no log.
    pub fn start(url: &DatabaseUrl) -> anyhow::Result<Option<Self>> {
        let DatabaseUrl::Sqlite(path) = url else { return Ok(None) };
        if path.is_empty() || path.starts_with(":memory:") || path.contains("mode=memory") {
            return Ok(None);
        }
        let mut conn = establish(url)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("vecinal-checkpoint".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                // A failed checkpoint (the disk full, the file gone) is tried again at the
                // next tick; the log keeps every page meanwhile.
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                    tracing::warn!(error = %e, "checkpoint of the SQLite log");
                }
            }
        })?;
        Ok(Some(Self { _stop: stop }))
    }
}
