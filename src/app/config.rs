//! Settings from `VECINAL_*` environment variables (and an optional `.env`). Every variable
//! has a default that works on one machine; a bad value stops start-up with one line that
//! names the variable.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

pub use crate::domain::Sensitive;
pub use crate::mail::MailTransport;

use base64::Engine;
use lettre::message::Mailbox;
use url::Url;

use crate::db::DatabaseUrl;
use crate::domain::Zone;

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub db_pool_size: u32,
    pub bind: SocketAddr,
    pub base_url: Url,
    pub data_dir: PathBuf,
    pub mail_transport: MailTransport,
    pub mail_from: Mailbox,
    pub org_name: String,
    /// The zone in which dates and times are shown and days counted (`VECINAL_TIME_ZONE`).
    pub zone: Zone,
    pub log_format: LogFormat,
    /// 32-byte document key from `VECINAL_DOCUMENT_KEY`; without it a key file in the data
    /// folder is used.
    pub document_key: Option<Sensitive<[u8; 32]>>,
    /// Open applications older than this many days are highlighted in the queue.
    pub review_sla_days: i64,
    /// A claim on an application lapses after this many hours, so nothing stays stuck.
    pub claim_hours: i64,
    /// Files of an application are deleted this many days after its final decision.
    pub document_retention_days: i64,
    /// Largest accepted upload per file, in bytes.
    pub max_upload_bytes: usize,
    /// How long a request body may take to arrive, and how long it may pause: see
    /// `web::body`.
    pub body_timeout: Duration,
    /// Each byte received extends the body's deadline by 1/this of a second, so a large
    /// upload arriving at least this fast is never cut off.
    pub body_min_bytes_per_sec: u64,
    /// Take the client address from `Forwarded`/`X-Forwarded-For` (behind a proxy only).
    pub trust_forwarded: bool,
    /// Whether background jobs (mail delivery) run in this process. Tests drive them by hand.
    pub run_jobs: bool,
    /// The program the document analysis runs as a child process (`analyse-document`):
    /// this binary unless `VECINAL_ANALYSIS_PROGRAM` names another (tests name the built
    /// `vecinal`, since their own binary is the test runner).
    pub analysis_program: PathBuf,
    /// How long one document's analysis may take before its process is killed.
    pub analysis_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration error: {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { var, message: message.into() }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests can pass a map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        let data_dir = PathBuf::from(var("VECINAL_DATA_DIR").unwrap_or_else(|| "data".into()));

        let database_url = match var("VECINAL_DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse(&raw).map_err(|m| err("VECINAL_DATABASE_URL", m))?,
            None => DatabaseUrl::Sqlite(data_dir.join("vecinal.db").to_string_lossy().into_owned()),
        };

        let db_pool_size =
            match var("VECINAL_DB_POOL_SIZE") {
                Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| {
                    err("VECINAL_DB_POOL_SIZE", format!("expected a number from 1 to 200, got '{raw}'"))
                })?,
                None => 10,
            };

        let bind_raw = var("VECINAL_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_raw.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| {
            err("VECINAL_BIND", format!("expected ADDRESS:PORT such as 0.0.0.0:8080, got '{bind_raw}'"))
        })?;

        let base_url = match var("VECINAL_BASE_URL") {
            Some(raw) => parse_base_url(&raw).map_err(|m| err("VECINAL_BASE_URL", m))?,
            None => Url::parse(&format!("http://{bind}")).map_err(|e| err("VECINAL_BIND", e.to_string()))?,
        };

        let mail_transport = match var("VECINAL_SMTP_URL") {
            Some(raw) => {
                let u = Url::parse(&raw).map_err(|e| err("VECINAL_SMTP_URL", format!("not a URL: {e}")))?;
                if !matches!(u.scheme(), "smtp" | "smtps") || u.host_str().is_none() {
                    return Err(err("VECINAL_SMTP_URL", "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]"));
                }
                MailTransport::Smtp(Sensitive(raw))
            }
            None => MailTransport::Files(data_dir.join("mail")),
        };

        let mail_from_raw = var("VECINAL_MAIL_FROM").unwrap_or_else(|| "Vecinal <no-reply@vecinal.localhost>".into());
        let mail_from: Mailbox = mail_from_raw
            .parse()
            .map_err(|e| err("VECINAL_MAIL_FROM", format!("expected 'Name <address>' or an address: {e}")))?;

        let zone = match var("VECINAL_TIME_ZONE") {
            Some(raw) => Zone::parse(&raw).map_err(|m| err("VECINAL_TIME_ZONE", m))?,
            None => Zone::default(),
        };

        let org_name = var("VECINAL_ORG_NAME").unwrap_or_else(|| "Vecinal".into());
        if org_name.chars().count() > 120 || org_name.chars().any(char::is_control) {
            return Err(err("VECINAL_ORG_NAME", "at most 120 characters, no control characters"));
        }

        let log_format = match var("VECINAL_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(err("VECINAL_LOG_FORMAT", format!("expected 'text' or 'json', got '{other}'"))),
        };

        let document_key = match var("VECINAL_DOCUMENT_KEY") {
            Some(raw) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(&raw)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .map(Sensitive)
                    .ok_or_else(|| {
                        err("VECINAL_DOCUMENT_KEY", "expected 32 bytes in base64 (openssl rand -base64 32)")
                    })?,
            ),
            None => None,
        };

        let max_upload_bytes = match var("VECINAL_MAX_UPLOAD_BYTES") {
            Some(raw) => {
                raw.parse::<usize>().ok().filter(|n| (1024..=100 * 1024 * 1024).contains(n)).ok_or_else(|| {
                    err("VECINAL_MAX_UPLOAD_BYTES", format!("expected bytes from 1024 to 104857600, got '{raw}'"))
                })?
            }
            None => 10 * 1024 * 1024,
        };

        let number = |name: &'static str,
                      default: i64,
                      range: std::ops::RangeInclusive<i64>|
         -> Result<i64, ConfigError> {
            match var(name) {
                Some(raw) => raw.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                    err(name, format!("expected a whole number from {} to {}, got '{raw}'", range.start(), range.end()))
                }),
                None => Ok(default),
            }
        };
        let review_sla_days = number("VECINAL_REVIEW_SLA_DAYS", 5, 1..=365)?;
        let claim_hours = number("VECINAL_CLAIM_HOURS", 24, 1..=720)?;
        // At least a day, so a decision can be looked at again; at most ten years.
        let document_retention_days = number("VECINAL_DOCUMENT_RETENTION_DAYS", 30, 1..=3650)?;

        // Long enough for a person on a slow mobile connection, short enough that stalled
        // bodies cannot pile up.
        let body_timeout = Duration::from_secs(number("VECINAL_BODY_TIMEOUT_SECS", 60, 1..=3600)?.unsigned_abs());
        // 8 KiB/s: a 10 MiB file may take 60 s plus about 21 minutes.
        let body_min_bytes_per_sec =
            number("VECINAL_BODY_MIN_BYTES_PER_SEC", 8 * 1024, 1..=100 * 1024 * 1024)?.unsigned_abs();

        let analysis_program = match var("VECINAL_ANALYSIS_PROGRAM") {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe().map_err(|e| {
                err("VECINAL_ANALYSIS_PROGRAM", format!("this program's path is unknown ({e}); set it"))
            })?,
        };
        let analysis_timeout =
            Duration::from_secs(number("VECINAL_ANALYSIS_TIMEOUT_SECS", 60, 5..=600)?.unsigned_abs());

        let trust_forwarded = match var("VECINAL_TRUST_FORWARDED").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(err("VECINAL_TRUST_FORWARDED", format!("expected true or false, got '{other}'")));
            }
        };

        Ok(Self {
            database_url,
            db_pool_size,
            bind,
            base_url,
            data_dir,
            mail_transport,
            mail_from,
            org_name,
            zone,
            log_format,
            document_key,
            max_upload_bytes,
            body_timeout,
            body_min_bytes_per_sec,
            review_sla_days,
            claim_hours,
            document_retention_days,
            trust_forwarded,
            run_jobs: true,
            analysis_program,
            analysis_timeout,
        })
    }

    /// Whether cookies get `Secure` and the `__Host-` prefix, and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute link for mails and logs: `base_url` joined with `path` ("/setup/…").
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }

    /// `scheme://host[:port]`, compared with the `Origin` header of form posts.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }
}

fn parse_base_url(raw: &str) -> Result<Url, String> {
    let u = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("expected http://HOST or https://HOST, got '{raw}'"));
    }
    if u.query().is_some() || u.fragment().is_some() || u.path() != "/" {
        return Err("the service must be served at the root of its host: no path, query or fragment".into());
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("data/vecinal.db".into()));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.mail_transport, MailTransport::Files(PathBuf::from("data/mail")));
        assert!(!s.is_https());
        assert_eq!(s.link("/setup/x"), "http://127.0.0.1:8080/setup/x");
    }

    #[test]
    fn the_url_scheme_selects_the_backend() {
        let s = settings(&[("VECINAL_DATABASE_URL", "postgres://u:p@db/vecinal")]).unwrap();
        assert!(matches!(s.database_url, DatabaseUrl::Postgres(_)));
        let s = settings(&[("VECINAL_DATABASE_URL", "sqlite:/var/lib/vecinal/v.db")]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("/var/lib/vecinal/v.db".into()));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("VECINAL_DATABASE_URL", "mysql://x"),
            ("VECINAL_BIND", "not an address"),
            ("VECINAL_BASE_URL", "ftp://example.com"),
            ("VECINAL_BASE_URL", "https://example.com/vecinal"),
            ("VECINAL_SMTP_URL", "http://mail"),
            ("VECINAL_MAIL_FROM", "not a mailbox"),
            ("VECINAL_LOG_FORMAT", "xml"),
            ("VECINAL_DB_POOL_SIZE", "0"),
            ("VECINAL_DOCUMENT_KEY", "c2hvcnQ="),
            ("VECINAL_TRUST_FORWARDED", "maybe"),
            ("VECINAL_MAX_UPLOAD_BYTES", "ten"),
            ("VECINAL_MAX_UPLOAD_BYTES", "100"),
            ("VECINAL_REVIEW_SLA_DAYS", "0"),
            ("VECINAL_CLAIM_HOURS", "soon"),
            ("VECINAL_BODY_TIMEOUT_SECS", "0"),
            ("VECINAL_BODY_TIMEOUT_SECS", "3601"),
            ("VECINAL_BODY_TIMEOUT_SECS", "1m"),
            ("VECINAL_BODY_MIN_BYTES_PER_SEC", "0"),
            ("VECINAL_BODY_MIN_BYTES_PER_SEC", "-5"),
            ("VECINAL_BODY_MIN_BYTES_PER_SEC", "fast"),
            ("VECINAL_TIME_ZONE", "UTC-3"),
            ("VECINAL_TIME_ZONE", "America/Rio_Grande"),
        ] {
            let e = settings(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{value}");
            assert!(e.to_string().contains(var));
        }
    }

    #[test]
    fn the_time_zone_defaults_to_rio_grandes() {
        assert_eq!(settings(&[]).unwrap().zone.name(), "America/Argentina/Ushuaia");
        assert_eq!(settings(&[("VECINAL_TIME_ZONE", " Europe/Madrid ")]).unwrap().zone.name(), "Europe/Madrid");
    }

    #[test]
    fn document_retention_days_defaults_to_30_and_is_checked() {
        assert_eq!(settings(&[]).unwrap().document_retention_days, 30);
        assert_eq!(
            settings(&[("VECINAL_DOCUMENT_RETENTION_DAYS", "7")]).unwrap().document_retention_days,
            7,
            "a shorter period is allowed"
        );
        assert_eq!(settings(&[("VECINAL_DOCUMENT_RETENTION_DAYS", "3650")]).unwrap().document_retention_days, 3650);
        for bad in ["0", "-1", "3651", "30d", "1.5", "treinta"] {
            let e = settings(&[("VECINAL_DOCUMENT_RETENTION_DAYS", bad)]).unwrap_err();
            assert_eq!(e.var, "VECINAL_DOCUMENT_RETENTION_DAYS", "{bad}");
            assert!(e.to_string().contains("1 to 3650"), "{e}");
        }
    }

    #[test]
    fn body_deadline_settings_default_and_parse() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.body_timeout, Duration::from_secs(60));
        assert_eq!(s.body_min_bytes_per_sec, 8192);
        let s = settings(&[("VECINAL_BODY_TIMEOUT_SECS", "5"), ("VECINAL_BODY_MIN_BYTES_PER_SEC", "100000")]).unwrap();
        assert_eq!(s.body_timeout, Duration::from_secs(5));
        assert_eq!(s.body_min_bytes_per_sec, 100_000);
    }

    #[test]
    fn https_base_url_turns_on_secure_cookies() {
        let s = settings(&[("VECINAL_BASE_URL", "https://vecinal.example.org")]).unwrap();
        assert!(s.is_https());
        assert_eq!(s.origin(), "https://vecinal.example.org");
    }

    #[test]
    fn secrets_do_not_print() {
        let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
        let s =
            settings(&[("VECINAL_SMTP_URL", "smtp://user:hunter2@mail:587"), ("VECINAL_DOCUMENT_KEY", &key)]).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("42, 42"));
        assert_eq!(s.document_key.unwrap().0, [42u8; 32]);
    }

    #[test]
    fn database_url_passwords_are_masked_in_logs() {
        let u = DatabaseUrl::parse("postgres://vecinal:s3cret@db:5432/vecinal").unwrap();
        assert!(!u.redacted().contains("s3cret"));
    }
}
