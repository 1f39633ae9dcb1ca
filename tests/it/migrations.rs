//! Migrations apply, revert and re-apply on both backends, and leave the same schema.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use vecinal::db::{self, DatabaseUrl, DbConn, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

use crate::helpers::*;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

type Schema = BTreeMap<String, Vec<String>>;

fn schema(conn: &mut DbConn) -> Schema {
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> '__diesel_schema_migrations'"
        }
        DbConn::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let rows: Vec<Column> = diesel::sql_query(sql).load(conn).unwrap();
    let mut out = Schema::new();
    for r in rows {
        out.entry(r.table_name).or_default().push(r.column_name);
    }
    for cols in out.values_mut() {
        cols.sort();
    }
    out
}

/// Every row struct loads from the migrated database: a column missing from a migration,
/// or typed differently, fails here.
fn models_match(conn: &mut DbConn) {
    use vecinal::db::models::*;
    use vecinal::db::schema::*;
    users::table.select(User::as_select()).limit(1).load(conn).unwrap();
    sessions::table.select(Session::as_select()).limit(1).load(conn).unwrap();
    tokens::table.select(Token::as_select()).limit(1).load(conn).unwrap();
    login_throttle::table.select(Throttle::as_select()).limit(1).load(conn).unwrap();
    audit_log::table.select(AuditEntry::as_select()).limit(1).load(conn).unwrap();
    mail_outbox::table.select(OutboxMail::as_select()).limit(1).load(conn).unwrap();
    server_secrets::table.limit(1).load::<(String, String, chrono::NaiveDateTime)>(conn).unwrap();
    groups::table.select(Group::as_select()).limit(1).load(conn).unwrap();
    applications::table.select(Application::as_select()).limit(1).load(conn).unwrap();
    documents::table.select(Document::as_select()).limit(1).load(conn).unwrap();
    document_blobs::table.select(DocumentBlob::as_select()).limit(1).load(conn).unwrap();
    application_events::table.select(ApplicationEvent::as_select()).limit(1).load(conn).unwrap();
    memberships::table.select(Membership::as_select()).limit(1).load(conn).unwrap();
    officer_assignments::table.limit(1).load::<(String, String, chrono::NaiveDateTime)>(conn).unwrap();
}

fn up_down_up(url: &DatabaseUrl) -> Schema {
    db::run_migrations(url).unwrap();
    let mut conn = db::establish(url).unwrap();
    let first = schema(&mut conn);
    assert!(first.contains_key("users") && first.contains_key("audit_log"));
    match &mut conn {
        DbConn::Sqlite(c) => {
            c.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
        }
        DbConn::Pg(c) => {
            c.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
        }
    }
    assert!(schema(&mut conn).is_empty(), "down.sql removes every table");
    db::run_migrations(url).unwrap();
    let again = schema(&mut conn);
    assert_eq!(first, again, "up → down → up gives the same schema");
    again
}

#[test]
fn migrations_go_up_down_and_up_again_with_the_same_schema_on_both_backends() {
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = up_down_up(&DatabaseUrl::Sqlite(sqlite_dir.path().join("m.db").to_string_lossy().into_owned()));

    let mut conn =
        db::establish(&DatabaseUrl::Sqlite(sqlite_dir.path().join("m.db").to_string_lossy().into_owned())).unwrap();
    models_match(&mut conn);

    let pg = TestDb::create();
    if pg.is_postgres() {
        let postgres = up_down_up(pg.url());
        models_match(&mut db::establish(pg.url()).unwrap());
        assert_eq!(sqlite, postgres, "SQLite and PostgreSQL schemas have the same tables and columns");
    }
}

#[test]
fn migrating_twice_is_harmless() {
    let db = TestDb::create();
    db::run_migrations(db.url()).unwrap();
    assert!(db::run_migrations(db.url()).unwrap().is_empty());
}
