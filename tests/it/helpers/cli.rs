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

/// `vecinal stats rebuild` on the app's database; what it printed.
pub fn stats_rebuild(app: &super::TestApp) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = vecinal(&app.state.settings.database_url, dir.path(), &["stats", "rebuild"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    stdout
}
