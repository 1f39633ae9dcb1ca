//! A running Vecinal per test: its own database (a temporary SQLite file, or a fresh
//! PostgreSQL database when TEST_DATABASE_URL is set), port 0, an in-memory mailer, and an
//! HTTP client that keeps cookies and does not follow redirects. Plus what a test needs to
//! speak HTTP to it: forms with their CSRF token, links out of mails, cookies, redirects.

use std::net::TcpListener;
use std::sync::Arc;

use diesel::prelude::*;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use vecinal::app::AppState;
use vecinal::app::clock::Clock;
use vecinal::app::config::{MailTransport, Settings};
use vecinal::db::DatabaseUrl;
use vecinal::mail::SentMail;
use vecinal::startup::Application;

pub const PASSWORD: &str = "glaciar tortuga bandoneón mate";

/// Whether CI demands the external services (PostgreSQL, SMTP) instead of skipping them.
pub fn services_required() -> bool {
    std::env::var("TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A database that exists for one test.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: DatabaseUrl },
    Postgres { admin_url: String, name: String, url: DatabaseUrl },
}

impl TestDb {
    pub fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = vecinal::db::establish_pg(&admin_url).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb::Postgres { admin_url, name, url: DatabaseUrl::Postgres(url.to_string()) }
            }
            _ => {
                assert!(!services_required(), "TEST_REQUIRE_SERVICES=1 but TEST_DATABASE_URL is not set");
                let dir = tempfile::tempdir().expect("temp dir");
                let url = DatabaseUrl::Sqlite(dir.path().join("vecinal.db").to_string_lossy().into_owned());
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self
            && let Ok(mut admin) = vecinal::db::establish_pg(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub state: Arc<AppState>,
    pub setup_link: Option<String>,
    /// Kept for its lifetime: a PostgreSQL test database is dropped with the app.
    _db: TestDb,
    _data: tempfile::TempDir,
}

pub fn client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with settings adjusted by `tweak` (base URL, organisation name …).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create();
        let data = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let mut settings = Settings::from_lookup(|_| None).expect("default settings");
        settings.database_url = db.url().clone();
        settings.data_dir = data.path().to_path_buf();
        settings.bind = listener.local_addr().unwrap();
        settings.base_url = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        settings.mail_transport = MailTransport::Memory;
        settings.db_pool_size = 4;
        settings.run_jobs = false;
        // The document analysis runs the service's own binary as a child process; the
        // test runner is another program.
        settings.analysis_program = env!("CARGO_BIN_EXE_vecinal").into();
        tweak(&mut settings);
        let app = Application::build_with_listener(settings, Clock::system(), listener).await.expect("app builds");
        let state = app.state();
        let setup_link = app.setup_link().map(str::to_string);
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: client(),
            state,
            setup_link,
            _db: db,
            _data: data,
        }
    }

    /// Today in the service's time zone, by the app's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.state.today()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    /// The CSRF token a page hands this client.
    pub async fn csrf_token(&self, client: &Client, page: &str) -> String {
        let html = self.get_with(client, page).await.text().await.unwrap();
        csrf_from(&html).unwrap_or_else(|| panic!("no csrf_token on {page}"))
    }

    /// The body of a page this client may see (200).
    pub async fn page(&self, client: &Client, path: &str) -> String {
        let res = self.get_with(client, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.text().await.unwrap()
    }

    /// Posts a form with this client's CSRF token (read from `/`).
    pub async fn post(&self, client: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token(client, "/").await;
        self.post_form(client, path, &token, fields).await
    }

    /// Posts a form to the page it is on (a link from a mail), with the token that page hands
    /// out.
    pub async fn post_on(&self, client: &Client, page: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token(client, page).await;
        self.post_form(client, page, &token, fields).await
    }

    /// Posts a form with `token` as its CSRF token, first as on the service's own forms.
    pub async fn post_form(&self, client: &Client, path: &str, token: &str, fields: &[(&str, &str)]) -> Response {
        let mut form = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        client.post(self.url(path)).form(&form).send().await.expect("POST")
    }

    /// The form on /account that changes the password.
    pub async fn change_password(&self, client: &Client, current: &str, new: &str) -> Response {
        self.post(client, "/account/password", &[("current_password", current), ("new_password", new)]).await
    }

    /// The registration form, filled in.
    pub async fn register(&self, client: &Client, full_name: &str, email: &str, password: &str) -> Response {
        self.post(client, "/register", &[("full_name", full_name), ("email", email), ("password", password)]).await
    }

    /// Delivers every queued mail through the in-memory mailer and returns all mails sent
    /// so far.
    pub async fn deliver_mail(&self) -> Vec<SentMail> {
        vecinal::jobs::deliver_mail(&self.state).await.expect("delivery runs");
        self.mailbox().sent()
    }

    pub fn mailbox(&self) -> &vecinal::mail::MemoryMailbox {
        self.state.mailer.memory().expect("tests use the memory mailer")
    }

    /// The newest mail to `to`, after delivering the outbox.
    pub async fn last_mail_to(&self, to: &str) -> SentMail {
        self.deliver_mail().await.into_iter().rev().find(|m| m.to == to).unwrap_or_else(|| panic!("no mail to {to}"))
    }

    /// The path of the link starting with `prefix` in the newest mail to `to`.
    pub async fn mailed_link(&self, to: &str, prefix: &str) -> String {
        let mail = self.last_mail_to(to).await;
        link_path(&mail.text, prefix).unwrap_or_else(|| panic!("no {prefix} link in the mail to {to}"))
    }

    pub async fn login(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post(client, "/login", &[("email", email), ("password", password)]).await
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        self.state
            .db(move |c| {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let n: N = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(c)?;
                Ok(n.n)
            })
            .await
            .unwrap()
    }
}

pub fn csrf_from(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// The path of the first absolute link in `text` whose path starts with `prefix`.
pub fn link_path(text: &str, prefix: &str) -> Option<String> {
    let i = text.find(prefix)?;
    let rest = &text[i..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// The values of the `Set-Cookie` headers naming `name`.
pub fn set_cookies<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(&format!("{name}=")))
        .collect()
}

/// The value a `Set-Cookie` header gives `name`.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers, name).last().map(|c| c[name.len() + 1..].split(';').next().unwrap_or("").to_string())
}

pub fn location(res: &Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}
