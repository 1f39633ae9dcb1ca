//! Building the service: database, keys, mail, background jobs and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use base64::Engine;
use diesel::prelude::*;
use tracing_actix_web::TracingLogger;

use crate::app::AppState;
use crate::app::clock::Clock;
use crate::app::config::Settings;
use crate::app::upload_budget::UploadBudget;
use crate::auth::csrf::CsrfKey;
use crate::auth::password::PasswordHasher;
use crate::db::schema::server_secrets;
use crate::db::{self, DbConn};
use crate::documents::keys::KeyRing;
use crate::error::AppError;
use crate::mail::Mailer;
use crate::services::accounts;
use crate::web as routes;

// The server's own timeouts, chosen rather than left to actix-web's defaults. Request
// bodies have their deadline in `web::body` (`VECINAL_BODY_TIMEOUT_SECS`).

/// A connection must deliver its request head (request line and headers) within this time
/// of opening; otherwise 408 and the connection is closed. Heads are a few hundred bytes:
/// this is generous for any real client and cuts off clients that send their headers a
/// byte at a time.
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive is off: every connection serves one request and is closed after its
/// response. actix-http applies the head timeout to a connection's first request only; on
/// a kept-alive connection the keep-alive timer stops at the first byte of the next
/// request, and nothing bounds the rest of that head, so a client trickling a second head
/// could hold its connection for ever. Browsers reach the service through the
/// TLS-terminating reverse proxy, which keeps their connections alive itself; what is lost
/// is only the reuse of connections between the proxy and the service.
pub const KEEP_ALIVE: KeepAlive = KeepAlive::Disabled;
/// After the response (or the decision to close), the connection's shutdown must finish
/// within this time; then the socket is dropped, whether the client read it all or not.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);
// The unread rest of a refused body is held until the connection has been closed.
const _: () = assert!(routes::body::HOLD_UNREAD_BODY.as_secs() > CLIENT_DISCONNECT_TIMEOUT.as_secs());
/// On SIGTERM or Ctrl-C, requests in flight get this long to finish before the workers
/// stop (below the 30 s a container orchestrator usually waits before SIGKILL). An upload
/// still arriving then is cut off.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Application {
    server: Server,
    port: u16,
    state: Arc<AppState>,
    setup_link: Option<String>,
}

impl Application {
    /// Prepares everything and binds `settings.bind`.
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        Self::build_with_listener(settings, clock, listener).await
    }

    /// As `build`, on a listener the caller bound (tests bind port 0).
    pub async fn build_with_listener(settings: Settings, clock: Clock, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = Arc::new(prepare(settings, clock).await?);

        let now = state.clock.now();
        let s = state.clone();
        let setup_link =
            state.db(move |conn| accounts::ensure_setup_link(conn, &s.settings, now)).await.map_err(anyhow_of)?;
        if let Some(link) = &setup_link {
            tracing::warn!(
                "no commissioner account exists yet; create the first one at {link} (the link works once, for 24 hours)"
            );
        }

        if state.settings.run_jobs {
            tokio::spawn(crate::jobs::run_worker(state.clone()));
        }

        let data = web::Data::from(state.clone());
        let settings = state.settings.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::FormConfig::default().limit(routes::context::FORM_LIMIT))
                .configure(routes::configure)
                .default_service(web::to(routes::public::not_found))
                .wrap(from_fn(routes::head::middleware))
                .wrap(from_fn(routes::context::middleware))
                .wrap(from_fn(routes::body::middleware))
                .wrap(ErrorHandlers::new().default_handler(routes::errors::render_error_page))
                .wrap(routes::security::headers(&settings))
                .wrap(TracingLogger::<crate::app::telemetry::RedactedRootSpan>::new())
        })
        .client_request_timeout(REQUEST_HEAD_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
        .listen(listener)?
        .run();

        Ok(Self { server, port, state, setup_link })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// The first-commissioner link printed at start, while no commissioner exists.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn anyhow_of(e: AppError) -> anyhow::Error {
    match e {
        AppError::Internal(e) => e,
        other => anyhow::anyhow!("{other}"),
    }
}

/// Creates the data folder, applies migrations, opens the pool and loads the keys.
pub async fn prepare(settings: Settings, clock: Clock) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data folder {}", settings.data_dir.display()))?;
    let url = settings.database_url.clone();
    let applied = tokio::task::spawn_blocking(move || db::run_migrations(&url)).await??;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied database migrations");
    }
    let pool = db::build_pool(&settings.database_url, settings.db_pool_size)?;
    {
        let (pool, zone, now) = (pool.clone(), settings.zone, clock.now());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            use_zone(&mut conn, zone, now)?;
            Ok(db::dialect::optimize(&mut conn)?)
        })
        .await??;
    }
    let csrf = {
        let pool = pool.clone();
        let now = clock.now();
        tokio::task::spawn_blocking(move || -> anyhow::Result<CsrfKey> {
            let mut conn = pool.get()?;
            Ok(CsrfKey::from_bytes(server_secret(&mut conn, "csrf", now)?))
        })
        .await??
    };
    let keys = KeyRing::load(settings.document_key.as_ref().map(|k| k.0), &settings.data_dir)?;
    let mailer = Mailer::new(&settings.mail_transport)?;
    tracing::info!(
        database = %settings.database_url.redacted(),
        mail = %mailer.describe(),
        "prepared"
    );
    let hasher = PasswordHasher::new()?;
    let uploads = UploadBudget::new(crate::web::resident::applications::max_form_bytes(settings.max_upload_bytes));
    // Like the uploads' file work, document analysis leaves a core to the pages.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let analysers = tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1));
    Ok(AppState {
        settings,
        pool,
        clock,
        hasher,
        mailer,
        csrf,
        keys,
        uploads,
        analysers,
        analysis_wake: tokio::sync::Notify::new(),
    })
}

/// Makes the database count days in the configured zone (`VECINAL_TIME_ZONE`), saying so
/// when that rebuilt the summary rows.
pub fn use_zone(conn: &mut DbConn, zone: crate::domain::Zone, now: chrono::NaiveDateTime) -> anyhow::Result<()> {
    if let Some((from, rows)) = crate::services::oversight::summary::use_zone(conn, zone, now).map_err(anyhow_of)? {
        tracing::info!(from = %from, to = zone.name(), corrected = rows, "the database now counts days in the configured time zone");
    }
    Ok(())
}

/// A 32-byte secret shared by every instance through the database, created on first use.
fn server_secret(conn: &mut DbConn, name: &str, now: chrono::NaiveDateTime) -> anyhow::Result<[u8; 32]> {
    let engine = base64::engine::general_purpose::STANDARD;
    let read = |conn: &mut DbConn| -> anyhow::Result<Option<[u8; 32]>> {
        let value: Option<String> =
            server_secrets::table.find(name).select(server_secrets::value).first(conn).optional()?;
        value
            .map(|v| {
                let bytes = engine.decode(v)?;
                bytes.try_into().map_err(|_| anyhow::anyhow!("server secret '{name}' is not 32 bytes"))
            })
            .transpose()
    };
    if let Some(secret) = read(conn)? {
        return Ok(secret);
    }
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(engine.encode(fresh)),
            server_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(fresh),
        // Another instance created it first: use theirs.
        Err(e) if crate::error::is_unique_violation(&e) => read(conn)?.context("server secret vanished"),
        Err(e) => Err(e.into()),
    }
}
