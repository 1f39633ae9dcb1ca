//! `vecinal backup --out FILE`: a consistent copy of the SQLite database, taken while the
//! service runs.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is a snapshot of
//! one instant (WAL lets writers go on meanwhile), and writes a compact, self-contained
//! file (no `-wal` beside it). Copying the database file itself is not safe while the
//! service runs: the newest pages may be in the `-wal` file, and a copy taken mid-write is
//! torn. PostgreSQL has its own tools (`pg_dump`); this command refuses it.
//!
//! The copy holds the documents encrypted; the key file is not in it and must be backed up
//! separately.

use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;

use crate::app::config::Settings;
use crate::audit::{self, Actor};
use crate::db::{self, DatabaseUrl};

pub const POSTGRES_REFUSAL: &str = "the database is PostgreSQL: back it up with pg_dump, for example \
     'pg_dump --format=custom --file=vecinal.dump \"$VECINAL_DATABASE_URL\"' (restore with pg_restore), \
     and back up the document key file (DATA_DIR/document-keys) separately";

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    quick_check: String,
}

/// Writes a consistent copy of the SQLite database to `out`, which must not exist, checks
/// that the copy opens and is sound, and records the backup in the audit log. Returns the
/// size of the copy in bytes.
pub fn backup(settings: &Settings, out: &Path, now: NaiveDateTime) -> anyhow::Result<u64> {
    let DatabaseUrl::Sqlite(source) = &settings.database_url else {
        bail!(POSTGRES_REFUSAL);
    };
    if !Path::new(source).exists() {
        bail!("no database at {source} (set VECINAL_DATABASE_URL or VECINAL_DATA_DIR)");
    }
    let out_text = out.to_str().context("the output path is not valid UTF-8")?;
    // Created here, empty and private (it will hold personal data), and never over an
    // existing file: `create_new` fails if anything is there, even under a race.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!("{} already exists; a backup never overwrites a file, choose a new name", out.display())
        }
        _ => anyhow::Error::new(e).context(format!("creating {}", out.display())),
    })?;

    let result = (|| -> anyhow::Result<u64> {
        let mut conn = db::establish(&settings.database_url)?;
        // SQLite accepts an empty existing file as the target of VACUUM INTO.
        diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(out_text).execute(&mut conn).context("VACUUM INTO")?;
        let mut copy = diesel::SqliteConnection::establish(out_text)?;
        let check: Check = diesel::sql_query("PRAGMA quick_check").get_result(&mut copy)?;
        if check.quick_check != "ok" {
            bail!("the copy does not pass PRAGMA quick_check: {}", check.quick_check);
        }
        drop(copy);
        let bytes = std::fs::metadata(out)?.len();
        conn.write_tx(|c| {
            audit::record(c, now, &Actor::system("cli"), "database.backup_created", None, json!({ "bytes": bytes }))
        })?;
        Ok(bytes)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(out);
    }
    result
}
