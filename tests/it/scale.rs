//! The queue and the dashboard on a database shaped like a large one (many decided
//! applications, few open, bursts of equal submission times, officers with some of the
//! groups): the query plans the speed depends on, checked with `EXPLAIN` on the SQL the
//! service sends, and paging that returns every open application exactly once whatever the
//! filters.

use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDateTime};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::Client;
use vecinal::db::models::Application;
use vecinal::db::queries::applications::{StatusChange, change_status};
use vecinal::db::schema::applications;
use vecinal::db::{self, DbConn};
use vecinal::domain::Zone;
use vecinal::domain::application::Status;
use vecinal::domain::stats::Period;
use vecinal::domain::{ApplicationId, GroupId, UserId};
use vecinal::services::oversight::dashboard;
use vecinal::services::review::{self, Cursor, QueueFilter};

use crate::helpers::*;

const DECIDED: usize = 12_000;
const OPEN_PER_GROUP: usize = 150;

/// An open application: (submitted_at, id, group, status).
type Open = (NaiveDateTime, String, String, Status);

struct World {
    officer: Client,
    officer_id: UserId,
    /// The officer's two groups, and one that is not theirs.
    mine: [String; 2],
    other: String,
    /// Open applications of the officer's groups, in queue order.
    open: Vec<Open>,
}

/// Decided applications over three years and open ones from the last weeks, submitted in
/// bursts of ten at the same instant, then statistics gathered as the service gathers them.
async fn world(app: &TestApp) -> World {
    let groups = [app.group("norte").await, app.group("sur").await, app.group("oeste").await];
    let officer = app.officer("oficial@policia.example", &groups[0]).await;
    let officer_id = UserId::from_stored(app.user_id("oficial@policia.example").await);
    app.assign(&officer_id, &groups[1]).await;
    let now = app.state.clock.now();
    let gs = groups.clone();
    let open = app
        .state
        .db(move |c| {
            let mut open = Vec::new();
            let mut rows = Vec::new();
            let mut resident_rows = Vec::new();
            let total = DECIDED + OPEN_PER_GROUP * gs.len();
            for i in 0..total {
                let resident = format!("00000000-0000-4000-9000-{i:012}");
                resident_rows.push((resident.clone(), format!("r{i}@vecinos.example")));
                let decided = i < DECIDED;
                let group = &gs[i % gs.len()];
                let submitted_at = if decided {
                    now - Duration::days(1095) + Duration::seconds((i / 10) as i64 * 7_800)
                } else {
                    now - Duration::days(40) + Duration::seconds(((i - DECIDED) / 10) as i64 * 3_600)
                };
                let status = if decided {
                    [Status::Approved, Status::Rejected, Status::Withdrawn][i % 7 % 3]
                } else {
                    [Status::Submitted, Status::NeedsInfo, Status::Submitted, Status::InReview][i % 4]
                };
                let id = ApplicationId::generate();
                if !decided && group != &gs[2] {
                    open.push((submitted_at, id.to_string(), group.clone(), status));
                }
                rows.push(Application {
                    id,
                    resident_id: UserId::from_stored(resident),
                    group_id: GroupId::from_stored(group.clone()),
                    status,
                    street_address: "Calle 1".into(),
                    // Every person their own DNI, but for one in ten open applications,
                    // which types the DNI of the one before: pairs for the duplicates list.
                    dni: format!("{}", 20_000_000 + if !decided && i % 10 == 1 { i - 1 } else { i }),
                    phone: None,
                    certificate_issued_on: submitted_at.date(),
                    requested_kinds: String::new(),
                    version: 1,
                    claimed_by: None,
                    claimed_at: None,
                    first_approver: None,
                    consented_at: submitted_at,
                    submitted_at,
                    decided_at: decided.then(|| submitted_at + Duration::hours(30 + (i % 200) as i64)),
                    created_at: submitted_at,
                    updated_at: submitted_at,
                    renewal_of: None,
                    decided_by: None,
                    taken_by: None,
                    dni_verdict: None,
                    in_pair: false,
                });
            }
            c.write_tx(|c| -> QueryResult<()> {
                for chunk in resident_rows.chunks(500) {
                    let values: Vec<String> = chunk
                        .iter()
                        .map(|(id, email)| {
                            format!(
                                "('{id}', '{email}', 'Vecino', 'resident', 'es', TRUE, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
                            )
                        })
                        .collect();
                    diesel::sql_query(format!(
                        "INSERT INTO users (id, email, full_name, role, locale, active, created_at, updated_at) VALUES {}",
                        values.join(", ")
                    ))
                    .execute(c)?;
                }
                for chunk in rows.chunks(500) {
                    // Multi-row inserts exist per backend only.
                    match c {
                        DbConn::Sqlite(c) => diesel::insert_into(applications::table).values(chunk).execute(c)?,
                        DbConn::Pg(c) => diesel::insert_into(applications::table).values(chunk).execute(c)?,
                    };
                }
                Ok(())
            })?;
            match c {
                DbConn::Sqlite(_) => {
                    db::dialect::optimize(c)?;
                    million_statistics(c)?;
                }
                // Autovacuum's ANALYZE, which would follow such a load on its own.
                DbConn::Pg(_) => {
                    diesel::sql_query("ANALYZE").execute(c)?;
                }
            }
            open.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            Ok(open)
        })
        .await
        .unwrap();
    World { officer, officer_id, mine: [groups[0].clone(), groups[1].clone()], other: groups[2].clone(), open }
}

/// SQLite plans from the statistics in `sqlite_stat1`. These are the ones the service's own
/// `PRAGMA optimize` gathered on the load script's database of 1 M applications (six groups,
/// 5 % open), so the planner here chooses as it would there: at that size, and not at this
/// one, it once preferred an index on the group and sorted every open application.
fn million_statistics(c: &mut DbConn) -> QueryResult<()> {
    const STATS: [(&str, &str, &str); 20] = [
        ("applications", "applications_claimed", "1000000 667 667"),
        ("applications", "applications_decided", "1000000 1001 1001"),
        ("applications", "applications_decided_at", "1000000 3"),
        ("applications", "applications_one_open", "49992 1 1"),
        ("applications", "applications_open_group", "49992 1001 1 1 1"),
        ("applications", "applications_open_queue", "49992 3 1"),
        ("applications", "applications_queue", "1000000 1001 1001 1 1"),
        ("applications", "applications_resident", "1000000 1 1"),
        ("applications", "sqlite_autoindex_applications_1", "1000000 1"),
        ("decision_counts", "decision_counts", "26047 24 4 1"),
        ("groups", "groups_active", "6 6 1"),
        ("groups", "sqlite_autoindex_groups_1", "6 1"),
        ("groups", "sqlite_autoindex_groups_2", "6 1"),
        ("member_counts", "member_counts", "2186 334 1"),
        ("officer_assignments", "officer_assignments_group", "18 3"),
        ("officer_assignments", "sqlite_autoindex_officer_assignments_1", "18 2 1"),
        ("users", "sqlite_autoindex_users_1", "1000017 1"),
        ("users", "sqlite_autoindex_users_2", "1000017 1"),
        ("users", "users_role", "1000017 334 334"),
        ("users", "users_unconfirmed", "0 0"),
    ];
    for (table, index, stat) in STATS {
        diesel::sql_query("DELETE FROM sqlite_stat1 WHERE tbl = $1 AND idx = $2")
            .bind::<Text, _>(table)
            .bind::<Text, _>(index)
            .execute(c)?;
        diesel::sql_query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)")
            .bind::<Text, _>(table)
            .bind::<Text, _>(index)
            .bind::<Text, _>(stat)
            .execute(c)?;
    }
    // Makes the connections read the statistics again.
    diesel::sql_query("ANALYZE sqlite_schema").execute(c)?;
    Ok(())
}

// ----- plans --------------------------------------------------------------------------------

/// Every statement `f` sends, with its bind values as diesel prints them.
fn statements_of(conn: &mut DbConn, f: impl FnOnce(&mut DbConn)) -> Vec<(String, String)> {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    f(conn);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    let out = seen.lock().unwrap().clone();
    out.into_iter()
        .map(|q| match q.split_once(" -- binds: ") {
            Some((sql, binds)) => (sql.to_string(), binds.to_string()),
            None => (q, "[]".into()),
        })
        .collect()
}

/// The statements `f` sends, run twice on a new connection, that diesel does not keep
/// prepared: parsed and planned again on every call (diesel announces only the statements
/// it caches, so any other one sent is one of these).
fn uncached(url: &vecinal::db::DatabaseUrl, f: impl Fn(&mut DbConn)) -> Vec<String> {
    let mut conn = db::establish(url).unwrap();
    let cached = cached_by(&mut conn, &f);
    let sent = statements_of(&mut conn, &f);
    sent.into_iter().map(|(sql, _)| sql).filter(|sql| !cached.contains(sql)).collect()
}

/// The statements `f` sends that diesel keeps prepared for the next call.
fn cached_by(conn: &mut DbConn, f: impl FnOnce(&mut DbConn)) -> Vec<String> {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            sink.lock().unwrap().push(sql.to_string());
        }
    });
    f(conn);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    seen.lock().unwrap().clone()
}

/// `["abc", 2026-01-01T00:00:00, 51]` → `'abc'`, `'2026-01-01T00:00:00'`, `'51'`: literals
/// PostgreSQL casts to each parameter's type.
fn literals(binds: &str) -> Vec<String> {
    let inner = binds.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            ' ' | ',' => {}
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(format!("'{}'", s.replace('\'', "''")));
            }
            c => {
                let mut s = String::from(c);
                while let Some(c) = chars.peek().filter(|c| **c != ',') {
                    s.push(*c);
                    chars.next();
                }
                // Enums print their variant (`NeedsInfo`); the database holds `needs_info`.
                let s = s.trim();
                let s = if s.starts_with(char::is_uppercase) && s.chars().all(char::is_alphabetic) {
                    s.chars().fold(String::new(), |mut out, c| {
                        if c.is_uppercase() && !out.is_empty() {
                            out.push('_');
                        }
                        out.push(c.to_ascii_lowercase());
                        out
                    })
                } else {
                    s.to_string()
                };
                out.push(format!("'{s}'"));
            }
        }
    }
    out
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of a statement with its own values, one line per step.
fn plan(conn: &mut DbConn, sql: &str, binds: &str) -> Vec<String> {
    match conn {
        DbConn::Sqlite(_) => {
            // SQLite plans at prepare time; unbound parameters do not change the plan.
            let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(conn).unwrap();
            rows.into_iter().map(|r| r.detail).collect()
        }
        DbConn::Pg(_) => {
            diesel::sql_query(format!("PREPARE plan_check AS {sql}")).execute(conn).unwrap();
            let args = literals(binds);
            let sql = if args.is_empty() {
                "EXPLAIN EXECUTE plan_check".to_string()
            } else {
                format!("EXPLAIN EXECUTE plan_check({})", args.join(", "))
            };
            let rows: Vec<PgPlanRow> = diesel::sql_query(sql).load(conn).unwrap();
            diesel::sql_query("DEALLOCATE plan_check").execute(conn).unwrap();
            rows.into_iter().map(|r| r.line).collect()
        }
    }
}

/// The plan of the one statement `f` sends that reads `table`.
fn plan_reading(conn: &mut DbConn, table: &str, f: impl FnOnce(&mut DbConn)) -> Vec<String> {
    let statements = statements_of(conn, f);
    let (sql, binds) = statements
        .iter()
        .find(|(sql, _)| {
            sql.split(" FROM ").nth(1).is_some_and(|from| {
                let from = from.trim_start_matches('(');
                [format!("`{table}`"), format!("\"{table}\""), format!("{table} ")].iter().any(|t| from.starts_with(t))
            })
        })
        .unwrap_or_else(|| panic!("no statement reads {table}: {statements:?}"));
    plan(conn, sql, binds)
}

fn sorts(plan: &[String]) -> bool {
    plan.iter().any(|l| l.contains("TEMP B-TREE") || l.trim_start().trim_start_matches("->  ").starts_with("Sort"))
}

fn uses(plan: &[String], index: &str) -> bool {
    plan.iter().any(|l| l.contains(index))
}

#[tokio::test]
async fn the_queue_walks_the_open_indexes_in_order_and_the_dashboard_reads_no_history() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut conn = db::establish(&app.state.settings.database_url).unwrap();
    let officer = w.officer_id.clone();
    let queue = |filter: QueueFilter, after: Option<Cursor>| {
        let officer = officer.clone();
        move |c: &mut DbConn| {
            review::queue(c, &officer, &filter, after.as_ref()).unwrap();
        }
    };
    let (at, id, _, _) = w.open[w.open.len() / 2].clone();
    let deep = Cursor { at, id: ApplicationId::from_stored(id) };
    // (what, the query): each reads its groups' queues in order from an index that starts
    // with the group, without sorting.
    let cases = vec![
        ("first page", queue(QueueFilter::default(), None)),
        ("a deep page", queue(QueueFilter::default(), Some(deep.clone()))),
        ("one group", queue(QueueFilter { group_id: Some(w.mine[1].clone()), ..Default::default() }, None)),
        ("one group, deep", queue(QueueFilter { group_id: Some(w.mine[1].clone()), ..Default::default() }, Some(deep))),
        ("one status", queue(QueueFilter { status: Some(Status::NeedsInfo), ..Default::default() }, None)),
        ("claimed by me", queue(QueueFilter { claimed_by_me: true, ..Default::default() }, None)),
    ];
    // Every statement of a queue page is parsed and planned once per connection, then
    // reused (the SQL pieces diesel cannot write keep them cacheable): each group's read,
    // the page's rows, the counts.
    let cached = cached_by(&mut conn, |c| {
        review::queue(c, &officer, &QueueFilter::default(), None).unwrap();
        review::counts(c, &officer).unwrap();
    });
    // Each group's read has the page size written in: PostgreSQL plans a statement with a
    // bound LIMIT again on every execution.
    let group_read = "ORDER BY applications.submitted_at, applications.id LIMIT 51";
    assert!(cached.iter().any(|sql| sql.ends_with(group_read)), "{cached:#?}");
    assert!(cached.iter().any(|sql| sql.contains("full_name")), "the page's rows: {cached:#?}");
    assert!(cached.iter().any(|sql| sql.contains("application_counts")), "the counts: {cached:#?}");
    // The marks come with the page's rows (the DNI verdict and whether the application is
    // in a recorded pair, kept on it); only the rows in a pair are checked again, one
    // statement each: the pair's sides current and its reason holding (here the open
    // applications that share a DNI).
    let mut page = None;
    let statements = statements_of(&mut conn, |c| {
        page = Some(review::queue(c, &officer, &QueueFilter::default(), None).unwrap());
    });
    let page = page.unwrap();
    let marked = page.rows.iter().filter(|r| r.marks.duplicate).count();
    assert!(marked > 0 && marked < page.rows.len(), "{marked}");
    let ids: Vec<String> = page.rows.iter().map(|r| r.id.to_string()).collect();
    let in_pair: i64 = applications::table
        .filter(applications::id.eq_any(&ids))
        .filter(applications::in_pair)
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(in_pair as usize >= marked, "{in_pair}");
    let rows_sql = &statements.iter().find(|(sql, _)| sql.contains("full_name")).unwrap().0;
    assert!(rows_sql.contains("dni_verdict") && rows_sql.contains("in_pair"), "{rows_sql}");
    assert!(!rows_sql.contains("duplicate_pairs"), "no probe per row: {rows_sql}");
    let checks: Vec<_> = statements.iter().filter(|(sql, _)| sql.contains("SELECT p.first_id AS id")).collect();
    assert_eq!(checks.len(), in_pair as usize, "{statements:#?}");
    // The officer's groups, each group's ordered read, the rows, the checks.
    assert_eq!(statements.len(), 1 + w.mine.len() + 1 + checks.len(), "{statements:#?}");
    let url = &app.state.settings.database_url;
    let again = uncached(url, |c| drop(review::queue(c, &officer, &QueueFilter::default(), None).unwrap()));
    assert!(again.is_empty(), "a page's statements, the checks too, stay prepared: {again:#?}");
    let p = plan(&mut conn, &checks[0].0, &checks[0].1);
    if conn.is_sqlite() {
        assert!(uses(&p, "sqlite_autoindex_duplicate_pairs_1 (first_id=?)"), "{p:#?}");
        assert!(uses(&p, "duplicate_pairs_second (second_id=?)"), "{p:#?}");
    }
    // Each side, its membership and its files by key: no table of the history read whole
    // (PostgreSQL reads tables as small as this world's `duplicate_pairs`, `memberships` and
    // `documents` whole as it sees fit, but must never hash every current file).
    assert!(!p.iter().any(|l| l.contains("SCAN applications") || l.contains("Seq Scan on applications")), "{p:#?}");
    if conn.is_sqlite() {
        assert!(!p.iter().any(|l| l.contains("SCAN memberships") || l.contains("SCAN documents")), "{p:#?}");
    } else {
        assert!(!p.iter().any(|l| l.contains("hashed SubPlan")), "{p:#?}");
    }
    // PostgreSQL plans the first five executions for their values, then keeps the generic
    // plan: both are checked (SQLite's plan never depends on the values, QPSG).
    let modes: &[&str] = if conn.is_sqlite() { &["auto"] } else { &["auto", "force_generic_plan"] };
    for mode in modes {
        if !conn.is_sqlite() {
            diesel::sql_query(format!("SET plan_cache_mode = {mode}")).execute(&mut conn).unwrap();
        }
        for (name, f) in &cases {
            let p = plan_reading(&mut conn, "applications", f);
            let by_group = ["applications_open_group", "applications_queue", "applications_claimed_queue"];
            assert!(by_group.iter().any(|i| uses(&p, i)), "{name} ({mode}): {p:#?}");
            if conn.is_sqlite() {
                assert!(!sorts(&p), "{name} must not sort: {p:#?}");
            } else {
                // PostgreSQL sorts when it expects few rows (one status of one group, or
                // the rows after a cursor, which it underestimates: it takes open and recent
                // to be independent, and every open application is recent). The scan must
                // still be bounded by the group, and by the cursor on deep pages.
                assert!(
                    p.iter().any(|l| l.contains("Cond: (") && l.contains("group_id = ")),
                    "{name} ({mode}): {p:#?}"
                );
                if name.contains("deep") {
                    assert!(
                        p.iter().any(|l| l.contains("Cond:") && l.contains("submitted_at >=")),
                        "{name} ({mode}): {p:#?}"
                    );
                } else if *name == "first page" || *name == "one group" {
                    assert!(!sorts(&p), "{name} ({mode}) must not sort: {p:#?}");
                }
            }
        }
    }
    if !conn.is_sqlite() {
        diesel::sql_query("SET plan_cache_mode = auto").execute(&mut conn).unwrap();
    }

    // A status change, whatever it changes, is one statement text prepared once per
    // connection: on SQLite preparing an UPDATE of applications compiles its triggers.
    let now = app.state.clock.now();
    let (_, id, _, _) = w.open[0].clone();
    let id = ApplicationId::from_stored(id);
    let version = |c: &mut DbConn, id: &ApplicationId| -> Application {
        applications::table.find(id.to_string()).first(c).unwrap()
    };
    let before = version(&mut conn, &id);
    let claim = StatusChange::to(Status::InReview);
    let claim = StatusChange { claimed_by: Some(Some(officer.clone())), claimed_at: Some(Some(now)), ..claim };
    let claimed = cached_by(&mut conn, |c| assert!(change_status(c, &id, before.version, claim, now).unwrap()));
    let after_claim = version(&mut conn, &id);
    assert_eq!((after_claim.claimed_by.as_deref(), after_claim.version), (Some(officer.as_str()), before.version + 1));
    assert_eq!(after_claim.first_approver, before.first_approver, "a field the change leaves alone");
    assert!(!change_status(&mut conn, &id, before.version, StatusChange::to(Status::Submitted), now).unwrap(), "stale");
    let release = StatusChange::to(Status::Submitted).unclaimed();
    let released = cached_by(&mut conn, |c| assert!(change_status(c, &id, after_claim.version, release, now).unwrap()));
    let after_release = version(&mut conn, &id);
    assert_eq!(
        (after_release.status, after_release.claimed_by, after_release.claimed_at),
        (Status::Submitted, None, None)
    );
    assert_eq!(after_release.submitted_at, before.submitted_at);
    let update: Vec<&String> = claimed.iter().filter(|sql| sql.starts_with("UPDATE applications")).collect();
    assert_eq!(update.len(), 1, "{claimed:#?}");
    assert!(released.is_empty(), "the release reuses the claim's prepared statement: {released:#?}");

    // The dashboard: nothing reads the applications but the one seek per group for the
    // oldest open application; everything else comes from the summary rows.
    for days in ["30", "90", "365"] {
        let statements = statements_of(&mut conn, |c| {
            drop(dashboard::dashboard(c, now, Zone::default(), Period::parse(Some(days))).unwrap())
        });
        assert!(statements.len() <= 8, "{statements:#?}");
        let again = uncached(&app.state.settings.database_url, |c| {
            drop(dashboard::dashboard(c, now, Zone::default(), Period::parse(Some(days))).unwrap())
        });
        assert!(again.is_empty(), "the dashboard's statements stay prepared: {again:#?}");
        if days == "365" {
            for months in ["decision_months", "channel_months"] {
                assert!(statements.iter().any(|(sql, _)| sql.contains(months)), "a year reads {months}");
            }
        }
        for (sql, binds) in &statements {
            let p = plan(&mut conn, sql, binds);
            let reads_applications = p.iter().any(|l| l.contains("applications") && !l.contains("application_counts"));
            if reads_applications {
                assert!(uses(&p, "applications_open_group"), "{sql}\n{p:#?}");
                assert!(
                    !p.iter().any(|l| l.contains("SCAN applications") || l.contains("Seq Scan on applications")),
                    "{p:#?}"
                );
            }
            assert!(!p.iter().any(|l| l.contains("memberships ") || l.contains("application_events")), "{sql}\n{p:#?}");
            // Summary rows are read by day or month ranges of their keys, not whole: a year
            // reads its whole months from the monthly rows (SQLite names the scans;
            // PostgreSQL reads these small tables whole as it sees fit).
            assert!(
                !p.iter().any(|l| ["decision_", "channel_"]
                    .iter()
                    .any(|t| l.starts_with(&format!("SCAN {t}")) || l.contains(&format!(" SCAN {t}")))),
                "{sql}\n{p:#?}"
            );
        }
    }
    let _ = (&w.officer, &w.other);
}

#[tokio::test]
async fn the_duplicates_list_walks_its_pairs_in_order_and_reads_each_side_by_key() {
    use vecinal::db::duplicates::{self, PairKey};
    let app = TestApp::spawn().await;
    let _w = world(&app).await;
    let mut conn = db::establish(&app.state.settings.database_url).unwrap();
    let first = duplicates::current(&mut conn, None, 51).unwrap();
    assert_eq!(first.len(), 45, "one pair per ten open applications");
    let key = PairKey {
        found_at: first[20].found_at,
        first: first[20].first.id.clone(),
        second: first[20].second.id.clone(),
    };
    let pages: [(&str, Option<PairKey>); 2] = [("first page", None), ("a deep page", Some(key))];
    for (name, after) in pages {
        let statements = statements_of(&mut conn, |c| drop(duplicates::current(c, after.as_ref(), 51).unwrap()));
        assert_eq!(statements.len(), 1);
        let again =
            uncached(&app.state.settings.database_url, |c| drop(duplicates::current(c, after.as_ref(), 51).unwrap()));
        assert!(again.is_empty(), "{name}: prepared once per connection: {again:#?}");
        let p = plan(&mut conn, &statements[0].0, &statements[0].1);
        // Each side of a pair by its key: the applications and their accounts never read whole.
        for table in ["applications", "users"] {
            assert!(
                !p.iter().any(|l| l.contains(&format!("SCAN {table}")) || l.contains(&format!("Seq Scan on {table}"))),
                "{name}: {table} read whole: {p:#?}"
            );
        }
        if conn.is_sqlite() {
            // The pairs in the list's order from their index, no sort, and a membership by
            // its application.
            assert!(uses(&p, "duplicate_pairs_found"), "{name}: {p:#?}");
            assert!(!sorts(&p), "{name} must not sort: {p:#?}");
            assert!(!p.iter().any(|l| l.contains("SCAN memberships") || l.contains("SCAN groups")), "{name}: {p:#?}");
        }
        // PostgreSQL reads the 45 pairs (and the three groups, and the world's empty
        // memberships) whole and sorts them, as it does with small tables; what must hold at
        // any size is that the applications and accounts are read by key.
    }
}

// ----- paging ---------------------------------------------------------------------------------

/// The ids of the applications listed on a queue page, and the next page's link.
fn listed(html: &str) -> (Vec<String>, Option<String>) {
    let mut ids = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("/officer/applications/") {
        rest = &rest[i + "/officer/applications/".len()..];
        ids.push(rest[..36].to_string());
    }
    let next = html.find("/officer?").and_then(|_| {
        html.match_indices("href=\"/officer?").find_map(|(i, _)| {
            let tail = &html[i + 6..];
            let link = tail[..tail.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
            link.contains("after=").then_some(link)
        })
    });
    (ids, next)
}

async fn every_page(app: &TestApp, c: &Client, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = Some(first.to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let html = app.page(c, &p).await;
        let (ids, next) = listed(&html);
        seen.extend(ids);
        path = next;
        pages += 1;
        assert!(pages < 50, "paging ends");
    }
    seen
}

#[tokio::test]
async fn paging_lists_every_open_application_once_in_order_across_equal_times_and_filters() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let ids = |keep: &dyn Fn(&Open) -> bool| -> Vec<String> {
        w.open.iter().filter(|a| keep(a)).map(|a| a.1.clone()).collect()
    };
    assert!(w.open.windows(2).any(|p| p[0].0 == p[1].0), "the data has equal submission times");

    assert_eq!(every_page(&app, &w.officer, "/officer").await, ids(&|_| true), "all open, oldest first");
    for g in &w.mine {
        let path = format!("/officer?group={g}");
        assert_eq!(every_page(&app, &w.officer, &path).await, ids(&|a| &a.2 == g), "group {g}");
    }
    let path = "/officer?status=needs_info";
    assert_eq!(every_page(&app, &w.officer, path).await, ids(&|a| a.3 == Status::NeedsInfo));
    // A group that is not the officer's lists nothing, however it is asked for.
    assert!(every_page(&app, &w.officer, &format!("/officer?group={}", w.other)).await.is_empty());

    // A cursor taken in one listing continues another: the group's open applications after
    // that position, none skipped or repeated.
    let first = app.page(&w.officer, "/officer").await;
    let (page_one, next) = listed(&first);
    let next = next.expect("more than one page");
    let cursor = next.split("after=").nth(1).unwrap().to_string();
    let last_seen = w.open.iter().position(|a| a.1 == *page_one.last().unwrap()).unwrap();
    let g = &w.mine[1];
    let expected: Vec<String> = w.open[last_seen + 1..].iter().filter(|a| &a.2 == g).map(|a| a.1.clone()).collect();
    assert_eq!(every_page(&app, &w.officer, &format!("/officer?group={g}&after={cursor}")).await, expected);

    // The counts beside the queue agree with the rows.
    let html = app.page(&w.officer, "/officer").await;
    for s in [Status::Submitted, Status::NeedsInfo, Status::InReview] {
        let n = w.open.iter().filter(|a| a.3 == s).count();
        assert!(html.contains(&format!("data-count=\"{}\" data-n=\"{n}\"", s.as_str())), "{s:?} {n}");
    }
}
