//! The `vecinal` binary, run against a test database.

use std::path::Path;
use std::process::Command;

use vecinal::db::DatabaseUrl;

use super::TestDb;

/// `vecinal <args>` on the database at `url`, with its files in `data_dir`.
pub fn vecinal(url: &DatabaseUrl, data_dir: &Path, args: &[&str]) -> Command {
    let url = match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite:{p}"),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_vecinal"));
    command.args(args).env("VECINAL_DATABASE_URL", url).env("VECINAL_DATA_DIR", data_dir);
    command
}

/// A new installation: an empty database and data folder, and no server yet.
pub struct Installation {
    pub db: TestDb,
    data: tempfile::TempDir,
}

impl Installation {
    pub fn create() -> Self {
        Self { db: TestDb::create(), data: tempfile::tempdir().expect("temp dir") }
    }

    /// `vecinal <args>` on this installation.
    pub fn command(&self, args: &[&str]) -> Command {
        vecinal(self.db.url(), self.data.path(), args)
    }
}
