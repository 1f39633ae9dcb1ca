//! Database access: one connection type for SQLite and PostgreSQL, the pool, write
//! transactions and migrations.
//!
//! The backend is chosen from the URL scheme, never by trial: diesel's own
//! `MultiConnection::establish` tries each backend in turn, and SQLite accepts any string,
//! so a PostgreSQL URL with a typo would silently become a local file.

pub mod channel_counts;
pub mod checkpoint;
pub mod dialect;
pub mod duplicates;
pub mod fragment;
pub mod local_time;
pub mod marks;
pub mod models;
pub mod queries;
pub mod schema;
pub mod summary;
pub mod types;
pub mod writers;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection for either backend. Queries written once against this type run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Which database a URL points at. Its `Debug` masks the password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A PostgreSQL connection URL, passed to libpq as is.
    Postgres(String),
    /// A path to an SQLite database file.
    Sqlite(String),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite:PATH` and `sqlite://PATH`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .ok_or_else(|| format!("expected a URL starting with postgres:// or sqlite:, got '{raw}'"))?;
        if path.is_empty() || path == ":memory:" {
            return Err("an SQLite URL needs a file path (sqlite:data/vecinal.db)".into());
        }
        Ok(Self::Sqlite(path.to_string()))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// A form safe to log: the password of a PostgreSQL URL is masked.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{path}"),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) if u.password().is_some() => {
                    let _ = u.set_password(Some("***"));
                    u.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Opens connections of the backend the URL names and prepares each SQLite connection.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    /// SQLite: the thread that checkpoints the log in place of the pool's connections; it
    /// stops when the pool, which owns the manager, is dropped.
    checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> anyhow::Result<Self> {
        let checkpointer = checkpoint::Checkpointer::start(&url)?.map(std::sync::Arc::new);
        Ok(Self { url, checkpointer })
    }
}

/// How long a SQLite writer waits for the lock (the `busy_timeout` below).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-connection SQLite settings. `busy_timeout` comes first so that the others wait for
/// a lock instead of failing; WAL is set once, before the pool is built.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA mmap_size = 2147418112;";

pub fn establish(url: &DatabaseUrl) -> diesel::ConnectionResult<DbConn> {
    match url {
        DatabaseUrl::Postgres(u) => Ok(DbConn::Pg(establish_pg(u)?)),
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path)?;
            conn.batch_execute(SQLITE_CONNECTION_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// A PostgreSQL connection. The bundled libpq's OpenSSL is first set up without its exit
/// handler: OpenSSL frees its global state when the process exits, and a pool thread still
/// opening or closing a TLS connection at that moment crashed the process (a test binary
/// ended with SIGSEGV after all its tests had passed). The operating system frees that
/// memory anyway.
pub fn establish_pg(url: &str) -> diesel::ConnectionResult<PgConnection> {
    #[cfg(feature = "bundled-libpq")]
    openssl_sys::init();
    PgConnection::establish(url)
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        let mut conn = establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
        if self.checkpointer.is_some() {
            // The checkpointing thread copies the log back instead (`checkpoint`).
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0").map_err(r2d2::Error::QueryError)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as TransactionManager<DbConn>>::is_broken_transaction_manager(conn)
    }
}

/// Builds the pool. For SQLite the file's folder is created and WAL switched on first.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = establish(url)?;
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager::new(url.clone())?)?;
    Ok(pool)
}

impl DbConn {
    pub fn is_sqlite(&self) -> bool {
        matches!(self, DbConn::Sqlite(_))
    }

    /// Runs `f` in a write transaction. On SQLite this is `BEGIN IMMEDIATE`, which takes the
    /// write lock up front: a deferred transaction that reads and then writes fails with
    /// SQLITE_BUSY instead of waiting when another writer got there first. On PostgreSQL the
    /// transaction takes the audit chain's lock first, which every change needs anyway for
    /// its audit entry: writers queue for it before they lock any row, so two changes cannot
    /// deadlock over the summary rows both update (one moving an application from status a
    /// to b, the other from b to a).
    pub fn write_tx<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        // This process's writers to one SQLite file take their turns in arrival order
        // (`writers`), held until the commit or rollback below.
        let _turn = match self {
            DbConn::Sqlite(c) => {
                let turn = writers::queue_of(c)?.and_then(|q| q.wait(SQLITE_BUSY_TIMEOUT));
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
                turn
            }
            DbConn::Pg(c) => {
                AnsiTransactionManager::begin_transaction(c)?;
                None
            }
        };
        if let Err(e) = dialect::lock_audit_chain(self) {
            let _ = <DbConn as TransactionManager<DbConn>>::rollback_transaction(self);
            return Err(e.into());
        }
        // How long the write lock is held (`RUST_LOG=vecinal::db=debug`): no job may hold
        // it for more than a few milliseconds (docs/PERFORMANCE.md).
        let started = std::time::Instant::now();
        match f(self) {
            Ok(value) => {
                if let Err(commit_err) = <DbConn as TransactionManager<DbConn>>::commit_transaction(self) {
                    // A failed commit leaves the transaction open on PostgreSQL; roll it back
                    // so the pooled connection is usable again.
                    let _ = <DbConn as TransactionManager<DbConn>>::rollback_transaction(self);
                    return Err(commit_err.into());
                }
                tracing::debug!(held_us = started.elapsed().as_micros() as u64, "write transaction committed");
                Ok(value)
            }
            Err(e) => {
                <DbConn as TransactionManager<DbConn>>::rollback_transaction(self)?;
                Err(e)
            }
        }
    }
}

/// Runs `f`, and once more if a parallel request inserted the same row first (a unique
/// violation): the second run sees that row and takes the other branch.
pub fn retry_on_unique_violation<T>(
    conn: &mut DbConn,
    mut f: impl FnMut(&mut DbConn) -> crate::error::AppResult<T>,
) -> crate::error::AppResult<T> {
    match f(conn) {
        Err(e) if e.is_unique_violation() => f(conn),
        other => other,
    }
}

/// Applies pending migrations. On PostgreSQL this holds an advisory lock so that several
/// instances starting at once apply each migration exactly once.
pub fn run_migrations(url: &DatabaseUrl) -> anyhow::Result<Vec<String>> {
    let applied = match url {
        DatabaseUrl::Sqlite(_) => {
            let DbConn::Sqlite(mut conn) = establish(url)? else { unreachable!() };
            apply(&mut conn, SQLITE_MIGRATIONS)?
        }
        DatabaseUrl::Postgres(u) => {
            let mut conn = establish_pg(u)?;
            diesel::sql_query(format!("SELECT pg_advisory_lock({})", dialect::MIGRATION_LOCK_ID)).execute(&mut conn)?;
            let result = apply(&mut conn, POSTGRES_MIGRATIONS);
            let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({})", dialect::MIGRATION_LOCK_ID))
                .execute(&mut conn);
            // A migration error matters more than an unlock error (the lock ends with the
            // connection anyway).
            let applied = result?;
            unlocked?;
            applied
        }
    };
    Ok(applied)
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> anyhow::Result<Vec<String>>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let versions = conn.run_pending_migrations(migrations).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(versions.iter().map(|v| v.to_string()).collect())
}

/// Whether the database answers.
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

#[cfg(test)]
mod tests {
    use diesel::QueryableByName;
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks: a cached statement keeps
    /// its plan whatever is bound (QPSG, no STAT4), connections take no mutexes the pool
    /// already makes useless.
    #[test]
    fn the_bundled_sqlite_is_built_for_the_pool_and_keeps_its_plans() {
        let mut conn = establish(&DatabaseUrl::Sqlite(":memory:".into())).unwrap();
        let DbConn::Sqlite(c) = &mut conn else { unreachable!() };
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(c)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=2"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_STAT4"), "{options:?}");
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    }

    #[derive(QueryableByName)]
    struct AutoCheckpoint {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        wal_autocheckpoint: i32,
    }

    /// The pool's connections leave the log to the checkpointing thread: their commits copy
    /// nothing back, and the database file still receives what they wrote.
    #[test]
    fn the_pool_leaves_checkpoints_to_its_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vecinal.db");
        let pool = build_pool(&DatabaseUrl::Sqlite(path.to_string_lossy().into()), 2).unwrap();
        let mut conn = pool.get().unwrap();
        let DbConn::Sqlite(c) = &mut *conn else { unreachable!() };
        let auto = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<AutoCheckpoint>(c).unwrap();
        assert_eq!(auto.wal_autocheckpoint, 0);
        // 2 000 pages of 4 KiB, past the 1 000 at which a commit would checkpoint itself.
        c.batch_execute(
            "CREATE TABLE t (b BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO t SELECT randomblob(4000) FROM n;",
        )
        .unwrap();
        let deadline = std::time::Instant::now() + checkpoint::CHECKPOINT_EVERY * 10;
        while std::fs::metadata(&path).unwrap().len() < 8_000_000 {
            assert!(std::time::Instant::now() < deadline, "nothing checkpointed the log");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
