//! The command line: `vecinal [serve]`, `migrate`, `create-commissioner`, `audit verify`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::{self, CreateOutcome, NewStaff};
use crate::audit::{self, ChainStatus};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db;
use crate::domain::{Email, Locale, Password, PersonName};
use crate::startup::Application;

#[derive(Parser, Debug)]
#[command(name = "vecinal", version, about = "Verified neighbourhood-watch groups", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a commissioner account; the password is read as one line from standard input.
    CreateCommissioner {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Language of the account: es or en.
        #[arg(long, default_value = "es")]
        locale: String,
    },
    /// Background jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Run every background job once (mail delivery, digests, lapsed claims) and exit.
    Run,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits 1 and names the first broken entry if any row was altered.
    Verify,
}

pub fn run(cli: Cli, settings: Settings) -> ExitCode {
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::CreateCommissioner { email, name, locale } => create_commissioner(&settings, &email, &name, &locale),
        Command::Audit { command: AuditCommand::Verify } => audit_verify(&settings),
        Command::Jobs { command: JobsCommand::Run } => jobs_run(settings),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let app = Application::build(settings.clone(), Clock::system()).await?;
        tracing::info!(address = %settings.bind, base_url = %settings.base_url, "serving");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let applied = db::run_migrations(&settings.database_url)?;
    if applied.is_empty() {
        println!("the database is up to date");
    } else {
        for v in applied {
            println!("applied {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn create_commissioner(settings: &Settings, email: &str, name: &str, locale: &str) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email).map_err(|p| anyhow::anyhow!("--email: {p:?}"))?;
    let full_name = PersonName::parse(name).map_err(|p| anyhow::anyhow!("--name: {p:?}"))?;
    let locale: Locale = locale.parse().map_err(|_| anyhow::anyhow!("--locale: expected es or en"))?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let raw = line.trim_end_matches(['\r', '\n']);
    let password = Password::parse(raw, &[email.as_str(), full_name.as_str()])
        .map_err(|p| anyhow::anyhow!("password refused: {p:?} (12 to 128 characters, not a common or personal one)"))?;

    std::fs::create_dir_all(&settings.data_dir)?;
    db::run_migrations(&settings.database_url)?;
    let mut conn = db::establish(&settings.database_url)?;
    let staff = NewStaff { full_name, email, password, locale };
    match accounts::create_commissioner_now(&mut conn, &staff, Clock::system().now())
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        CreateOutcome::Created { user_id } => {
            println!("created commissioner {} ({user_id})", staff.email);
            Ok(ExitCode::SUCCESS)
        }
        CreateOutcome::EmailTaken => anyhow::bail!("an account with this email already exists"),
        CreateOutcome::Closed => unreachable!("the command line needs no setup link"),
    }
}

fn jobs_run(settings: Settings) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let state = crate::startup::prepare(settings, Clock::system()).await?;
        let report = crate::jobs::run_once(&state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "mails sent: {}, mails failed: {}, digests: {}, claims released: {}",
            report.mails_sent, report.mails_failed, report.digests, report.claims_released
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn audit_verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    if let db::DatabaseUrl::Sqlite(path) = &settings.database_url
        && !std::path::Path::new(path).exists()
    {
        anyhow::bail!("no database at {path} (set VECINAL_DATABASE_URL or VECINAL_DATA_DIR)");
    }
    let mut conn = db::establish(&settings.database_url)?;
    match audit::verify(&mut conn)? {
        ChainStatus::Intact { entries } => {
            println!("audit chain intact: {entries} entries");
            Ok(ExitCode::SUCCESS)
        }
        ChainStatus::Broken { seq, reason } => {
            println!("audit chain BROKEN at entry {seq}: {reason:?}");
            Ok(ExitCode::FAILURE)
        }
    }
}
