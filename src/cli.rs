//! The command line: `vecinal [serve]`, `migrate`, `create-commissioner`, `seed-demo`,
//! `audit verify`, `jobs run`, `purge`, `keys rotate`, `backup`, `stats rebuild`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::prelude::*;
use rand::Rng;
use serde_json::json;

use crate::app::clock::Clock;
use crate::app::config::Settings;
use crate::audit::{self, Actor, ChainStatus, Subject};
use crate::db;
use crate::db::models::NewUser;
use crate::db::schema::{groups, officer_assignments, users};
use crate::domain::group::{GroupSettings, RawGroup};
use crate::domain::{Email, Locale, Password, PersonName, Role};
use crate::services::accounts::{self, CreateOutcome, NewStaff};
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
    /// Fill an empty database with six sample neighbourhoods, an officer assigned to all of
    /// them and a commissioner, and print their sign-in details. Refuses a database that
    /// has any account or group.
    SeedDemo,
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Delete now what the retention rules say is due (document files of applications
    /// decided VECINAL_DOCUMENT_RETENTION_DAYS ago, unconfirmed accounts older than 7 days,
    /// dead sessions, used or expired tokens, stale throttle rows, old mails) and print
    /// what was removed. The server does this once a day by itself.
    Purge,
    /// Document encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE while the service runs
    /// (refuses an existing FILE; on PostgreSQL use pg_dump). The document key file is not
    /// in the copy: back it up separately.
    Backup {
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Internal: reads one document from standard input and writes what it found as JSON
    /// (the server runs this in a child process, limited in memory and time).
    #[command(name = "analyse-document", hide = true)]
    AnalyseDocument {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        media: String,
        #[arg(long)]
        seconds: u64,
    },
    /// Summary figures (the counts behind the officers' queue and the dashboard).
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum StatsCommand {
    /// Recompute every summary row from the applications and memberships, in one
    /// transaction, and print how many were wrong. Needed after loading rows by other means
    /// or restoring a copy; the service keeps them right by itself otherwise.
    Rebuild,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a new key to the key file, re-encrypt every stored document under it in
    /// batches (the server keeps serving), then remove the keys no document needs. An
    /// interrupted rotation is finished by running this again.
    Rotate {
        /// Documents re-encrypted per transaction.
        #[arg(long, default_value_t = 50)]
        batch_size: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Run every background job once (mail delivery, officers' digests, lapsed claims, membership
    /// expiry and reminders, retention purge) and exit.
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
        Command::SeedDemo => seed_demo(&settings),
        Command::Audit { command: AuditCommand::Verify } => audit_verify(&settings),
        Command::Jobs { command: JobsCommand::Run } => jobs_run(settings),
        Command::Purge => purge(&settings),
        Command::Keys { command: KeysCommand::Rotate { batch_size } } => keys_rotate(&settings, batch_size),
        Command::Backup { out } => backup(&settings, &out),
        Command::Stats { command: StatsCommand::Rebuild } => stats_rebuild(&settings),
        Command::AnalyseDocument { kind, media, seconds } => {
            Ok(crate::documents::analysis::isolate::child_main(&kind, &media, seconds))
        }
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
    crate::startup::use_zone(&mut db::establish(&settings.database_url)?, settings.zone, Clock::system().now())?;
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
            "documents analysed: {}, mails sent: {}, mails failed: {}, digests: {}, claims released: {}, memberships expired: {}, reminders: {}",
            report.documents_analysed,
            report.mails_sent,
            report.mails_failed,
            report.digests,
            report.claims_released,
            report.memberships_expired,
            report.reminders
        );
        if let Some(purged) = report.purged {
            println!("purged: {purged}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn purge(settings: &Settings) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&settings.data_dir)?;
    db::run_migrations(&settings.database_url)?;
    let mut conn = db::establish(&settings.database_url)?;
    let report = crate::services::retention::purge(&mut conn, settings, Clock::system().now(), "cli")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("removed {purged}", purged = report);
    if report.total() == 0 {
        println!("nothing was due");
    }
    Ok(ExitCode::SUCCESS)
}

fn stats_rebuild(settings: &Settings) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&settings.data_dir)?;
    db::run_migrations(&settings.database_url)?;
    let mut conn = db::establish(&settings.database_url)?;
    crate::startup::use_zone(&mut conn, settings.zone, Clock::system().now())?;
    let corrected = crate::services::oversight::summary::rebuild(&mut conn, Clock::system().now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match corrected {
        0 => println!("summary rows rebuilt; they were already right"),
        n => println!("summary rows rebuilt; {n} rows were wrong and are now corrected"),
    }
    Ok(ExitCode::SUCCESS)
}

fn keys_rotate(settings: &Settings, batch_size: i64) -> anyhow::Result<ExitCode> {
    use crate::services::key_rotation::{self as rotation, RotationOptions};
    std::fs::create_dir_all(&settings.data_dir)?;
    db::run_migrations(&settings.database_url)?;
    let mut conn = db::establish(&settings.database_url)?;
    let clock = Clock::system();
    let report =
        rotation::rotate(&mut conn, settings, || clock.now(), RotationOptions { batch_size, max_batches: None })?;
    if report.resumed {
        println!("finished an earlier, unfinished rotation to key {} (run again for a new key)", report.key_id);
    } else {
        println!("rotated to the new key {}", report.key_id);
    }
    println!("documents re-encrypted: {}", report.reencrypted);
    if report.retired.is_empty() {
        println!("no key was retired");
    } else {
        println!("retired from the key file: {}", report.retired.join(", "));
    }
    println!(
        "back up {} now; backups of the database taken before this rotation can only be read with the key file \
         saved with them",
        crate::documents::keys::key_file_path(&settings.data_dir).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn backup(settings: &Settings, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let bytes = crate::services::backup::backup(settings, out, Clock::system().now())?;
    println!("backup written to {} ({bytes} bytes), checked with PRAGMA quick_check", out.display());
    println!(
        "the documents in it are encrypted: back up the key file {} separately, never next to the backup",
        crate::documents::keys::key_file_path(&settings.data_dir).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The demo neighbourhoods: slug, name, area. Spanish, as the people trying the demo read it.
const DEMO_GROUPS: [(&str, &str, &str); 6] = [
    (
        "centro",
        "Centro",
        "Casco céntrico, desde la costanera hasta la avenida San Martín, entre la avenida Belgrano y la calle Rosales.",
    ),
    (
        "chacra-ii",
        "Chacra II",
        "Manzanas de la Chacra II, entre la avenida Santa Fe, la avenida Perito Moreno y la ruta 3.",
    ),
    (
        "chacra-iv",
        "Chacra IV",
        "Manzanas de la Chacra IV, entre la avenida Perito Moreno, la calle Mackinlay y la avenida Islas Malvinas.",
    ),
    (
        "chacra-xi",
        "Chacra XI",
        "Manzanas de la Chacra XI, al oeste de la ruta 3, entre la calle Luis Piedrabuena y el límite de la ciudad.",
    ),
    (
        "margen-sur",
        "Margen Sur",
        "Los barrios al sur del río Grande, del puente hasta la costa, a ambos lados de la ruta 3.",
    ),
    ("austral", "Austral", "Barrio Austral, entre la avenida San Martín, la calle Ameghino y la costanera norte."),
];
/// The demo group that shows the two-approval rule.
const DEMO_TWO_APPROVALS: &str = "centro";

struct DemoAccount {
    role: Role,
    email: Email,
    name: PersonName,
    password: Password,
}

impl DemoAccount {
    fn new(role: Role, email: &str, name: &str) -> anyhow::Result<Self> {
        let email = Email::parse(email).map_err(|p| anyhow::anyhow!("demo email: {p:?}"))?;
        let name = PersonName::parse(name).map_err(|p| anyhow::anyhow!("demo name: {p:?}"))?;
        // 20 random letters and digits: about 119 bits, which the policy always accepts;
        // the loop only guards against zxcvbn spotting a pattern by chance.
        for _ in 0..10 {
            let raw: String =
                rand::rngs::OsRng.sample_iter(&rand::distributions::Alphanumeric).take(20).map(char::from).collect();
            if let Ok(password) = Password::parse(&raw, &[email.as_str(), name.as_str()]) {
                return Ok(Self { role, email, name, password });
            }
        }
        anyhow::bail!("could not generate a password the policy accepts")
    }

    /// Inserts the confirmed, active account with its audit entry; returns its id.
    fn insert(
        &self,
        conn: &mut db::DbConn,
        hash: &str,
        now: chrono::NaiveDateTime,
        actor: &Actor,
    ) -> anyhow::Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(users::table)
            .values(NewUser {
                id: &id,
                email: self.email.as_str(),
                full_name: self.name.as_str(),
                password_hash: Some(hash),
                role: self.role.as_str(),
                locale: Locale::Es.as_str(),
                email_confirmed_at: Some(now),
                active: true,
                created_at: now,
                updated_at: now,
            })
            .execute(conn)?;
        let action = format!("account.{}_created", self.role.as_str());
        audit::record(conn, now, actor, &action, Some(Subject::user(&id)), json!({ "role": self.role.as_str() }))?;
        Ok(id)
    }
}

fn seed_demo(settings: &Settings) -> anyhow::Result<ExitCode> {
    let demo_groups = DEMO_GROUPS
        .iter()
        .map(|(slug, name, area)| {
            let invite_link = format!("https://chat.example.org/invite/{slug}");
            GroupSettings::parse(&RawGroup {
                name,
                slug,
                description: "Barrio de ejemplo, creado para probar Vecinal.",
                area,
                invite_link: &invite_link,
                validity_days: "365",
                certificate_max_age_days: "90",
                two_approvals: *slug == DEMO_TWO_APPROVALS,
            })
            .map_err(|p| anyhow::anyhow!("demo group {slug}: {p:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let officer = DemoAccount::new(Role::Officer, "oficial.demo@example.org", "Oficial de Demostración")?;
    let commissioner = DemoAccount::new(Role::Commissioner, "comisario.demo@example.org", "Comisario de Demostración")?;
    // Hashing takes a while; do it before the transaction holds the database lock.
    let officer_hash = crate::auth::password::hash_now(&officer.password)?;
    let commissioner_hash = crate::auth::password::hash_now(&commissioner.password)?;

    std::fs::create_dir_all(&settings.data_dir)?;
    db::run_migrations(&settings.database_url)?;
    let mut conn = db::establish(&settings.database_url)?;
    let now = Clock::system().now();
    let actor = Actor::system("seed-demo");
    conn.write_tx(|conn| -> anyhow::Result<()> {
        // Groups count too: demo groups mixed into real ones would confuse residents.
        let accounts: i64 = users::table.count().get_result(conn)?;
        let existing_groups: i64 = groups::table.count().get_result(conn)?;
        if accounts > 0 || existing_groups > 0 {
            anyhow::bail!(
                "the database is not empty ({accounts} accounts, {existing_groups} groups); \
                 seed-demo only fills a new database"
            );
        }
        let officer_id = officer.insert(conn, &officer_hash, now, &actor)?;
        commissioner.insert(conn, &commissioner_hash, now, &actor)?;
        for settings in &demo_groups {
            let group_id = crate::services::groups::insert(&mut crate::app::Tx::new(conn, now), settings, &actor)?;
            diesel::insert_into(officer_assignments::table)
                .values((
                    officer_assignments::officer_id.eq(&officer_id),
                    officer_assignments::group_id.eq(&group_id),
                    officer_assignments::created_at.eq(now),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &actor,
                "group.officer_assigned",
                Some(Subject { kind: "group", id: &group_id }),
                json!({ "officer_id": officer_id }),
            )?;
        }
        Ok(())
    })?;

    println!(
        "demo data created: {} neighbourhoods, an officer assigned to all of them, a commissioner",
        demo_groups.len()
    );
    println!("sign in at {}", settings.link("/login"));
    for a in [&commissioner, &officer] {
        println!("  {:<13} {:<28} {}", a.role.as_str(), a.email.as_str(), a.password.expose());
    }
    println!("the passwords are stored only as hashes: note them now");
    Ok(ExitCode::SUCCESS)
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
