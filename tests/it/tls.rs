//! TLS to PostgreSQL through the service's own pool. TEST_PG_TLS_URL is a PostgreSQL URL
//! with `sslmode=verify-full` and the `sslrootcert` of the server's CA (CI makes both);
//! without it these tests do nothing, unless TEST_REQUIRE_SERVICES=1 demands it.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use vecinal::db::{self, DatabaseUrl};

use crate::helpers::*;

#[derive(QueryableByName)]
struct SslState {
    #[diesel(sql_type = Bool)]
    ssl: bool,
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

fn tls_url() -> Option<String> {
    match std::env::var("TEST_PG_TLS_URL") {
        Ok(url) if !url.is_empty() => {
            let parsed = url::Url::parse(&url).expect("TEST_PG_TLS_URL is a URL");
            let mode = parsed.query_pairs().find(|(k, _)| k == "sslmode").map(|(_, v)| v.into_owned());
            assert_eq!(mode.as_deref(), Some("verify-full"), "TEST_PG_TLS_URL must ask for sslmode=verify-full");
            Some(url)
        }
        _ => {
            assert!(!services_required(), "TEST_REQUIRE_SERVICES=1 but TEST_PG_TLS_URL is not set");
            None
        }
    }
}

/// The URL with its `sslmode` replaced.
fn with_sslmode(url: &str, mode: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> =
        parsed.query_pairs().filter(|(k, _)| k != "sslmode").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs).append_pair("sslmode", mode);
    parsed.to_string()
}

/// Whether the session of a connection from the pool is encrypted, as the server sees it.
fn ssl_state(url: &str) -> SslState {
    let url = DatabaseUrl::parse(url).expect("a postgres:// URL");
    let pool = db::build_pool(&url, 1).unwrap_or_else(|e| panic!("connect to {url:?}: {e}"));
    let mut conn = pool.get().expect("a pooled connection");
    diesel::sql_query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut *conn)
        .expect("read pg_stat_ssl")
}

#[test]
fn postgres_connections_verify_the_server_and_are_encrypted() {
    let Some(url) = tls_url() else { return };
    let state = ssl_state(&url);
    assert!(state.ssl, "the connection with sslmode=verify-full is not encrypted");
    let version = state.version.unwrap_or_default();
    assert!(version.starts_with("TLSv1.2") || version.starts_with("TLSv1.3"), "TLS version {version}");
}

#[test]
fn postgres_connections_without_tls_still_work() {
    let Some(url) = tls_url() else { return };
    let state = ssl_state(&with_sslmode(&url, "disable"));
    assert!(!state.ssl, "sslmode=disable gave an encrypted connection");
}
