//! Review queue and dashboard-style counts on a large database: 200 000 applications in
//! six groups, one officer assigned to three of them. Prints timings per query; the
//! figures go to docs/PERFORMANCE.md. Run: `cargo bench --bench queue` (SQLite), or with
//! `BENCH_DATABASE_URL=postgres://…` against an empty PostgreSQL database.

use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use vecinal::db::models::{Application, Group, NewUser};
use vecinal::db::schema::{applications, groups, officer_assignments, users};
use vecinal::db::{self, DatabaseUrl, DbConn};
use vecinal::domain::application::Status;
use vecinal::domain::{ApplicationId, GroupId, UserId};
use vecinal::services::review::{self, Cursor, QueueFilter};

const APPLICATIONS: usize = 200_000;
/// One in this many applications is still open; the rest were decided.
const OPEN_EVERY: usize = 20;

fn seed(conn: &mut DbConn, now: NaiveDateTime) -> String {
    let officer = "00000000-0000-4000-8000-000000000001".to_string();
    conn.write_tx(|c| -> QueryResult<()> {
        let user = |id: &'static str, email: &'static str, role: &'static str| NewUser {
            id,
            email,
            full_name: "Bench",
            password_hash: None,
            role,
            locale: "es",
            email_confirmed_at: Some(now),
            active: true,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(users::table)
            .values(user("00000000-0000-4000-8000-000000000001", "officer@bench.test", "officer"))
            .execute(c)?;
        for g in 0..6 {
            let gid = format!("00000000-0000-4000-8000-0000000001{g:02}");
            diesel::insert_into(groups::table)
                .values(Group {
                    id: GroupId::from_stored(gid.clone()),
                    slug: format!("g{g}"),
                    name: format!("Group {g}"),
                    description: String::new(),
                    area: "area".into(),
                    invite_link: "https://chat.example.org/x".into(),
                    validity_days: 365,
                    certificate_max_age_days: 90,
                    two_approvals: false,
                    active: true,
                    created_at: now,
                    updated_at: now,
                    member_seq: 0,
                })
                .execute(c)?;
            if g < 3 {
                diesel::insert_into(officer_assignments::table)
                    .values((
                        officer_assignments::officer_id.eq(&officer),
                        officer_assignments::group_id.eq(&gid),
                        officer_assignments::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
        }
        Ok(())
    })
    .unwrap();
    // Residents and applications in batches of 1000 rows per statement.
    let mut batch_users = Vec::new();
    let mut batch_apps = Vec::new();
    for i in 0..APPLICATIONS {
        let rid = format!("r{i:08}");
        let email = format!("r{i}@bench.test");
        batch_users.push((rid.clone(), email));
        let at = now - Duration::minutes((APPLICATIONS - i) as i64);
        let open = i % OPEN_EVERY == 0;
        batch_apps.push(Application {
            id: ApplicationId::from_stored(format!("{:08x}-0000-4000-8000-{:012x}", i, i)),
            resident_id: UserId::from_stored(rid),
            group_id: GroupId::from_stored(format!("00000000-0000-4000-8000-0000000001{:02}", i % 6)),
            status: if open {
                Status::Submitted
            } else if i % 3 == 0 {
                Status::Rejected
            } else {
                Status::Approved
            },
            street_address: "Calle 1".into(),
            dni: "30123456".into(),
            phone: None,
            certificate_issued_on: at.date(),
            requested_kinds: String::new(),
            version: 1,
            claimed_by: None,
            claimed_at: None,
            first_approver: None,
            consented_at: at,
            submitted_at: at,
            decided_at: (!open).then_some(at + Duration::days(2)),
            created_at: at,
            updated_at: at,
            renewal_of: None,
            decided_by: None,
            taken_by: None,
            dni_verdict: None,
            in_pair: false,
        });
        if batch_apps.len() == 1000 || i + 1 == APPLICATIONS {
            conn.write_tx(|c| -> QueryResult<()> {
                let rows: Vec<NewUser> = batch_users
                    .iter()
                    .map(|(id, email)| NewUser {
                        id,
                        email,
                        full_name: "Vecino",
                        password_hash: None,
                        role: "resident",
                        locale: "es",
                        email_confirmed_at: Some(now),
                        active: true,
                        created_at: now,
                        updated_at: now,
                    })
                    .collect();
                // Row by row: diesel's multi-backend connection has no batch insert.
                for row in &rows {
                    diesel::insert_into(users::table).values(row).execute(c)?;
                }
                for row in &batch_apps {
                    diesel::insert_into(applications::table).values(row).execute(c)?;
                }
                Ok(())
            })
            .unwrap();
            batch_users.clear();
            batch_apps.clear();
        }
    }
    officer
}

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) -> T {
    let mut out = f();
    let start = Instant::now();
    for _ in 0..runs {
        out = f();
    }
    let per = start.elapsed() / runs;
    println!("{label:<48} {:>9.3} ms", per.as_secs_f64() * 1000.0);
    out
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(u) if !u.is_empty() => DatabaseUrl::parse(&u).unwrap(),
        _ => DatabaseUrl::Sqlite(dir.path().join("bench.db").to_string_lossy().into_owned()),
    };
    db::run_migrations(&url).unwrap();
    let pool = db::build_pool(&url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let started = Instant::now();
    let officer = UserId::from_stored(seed(&mut conn, now));
    println!("seeded {APPLICATIONS} applications in {:.1} s ({})", started.elapsed().as_secs_f64(), url.redacted());
    if std::env::var("BENCH_NO_OPTIMIZE").is_err() {
        // What the service's jobs do every minute.
        db::dialect::optimize(&mut conn).unwrap();
    }

    let filter = QueueFilter::default();
    let first =
        time("queue, first page (50 of ~5000 open)", 50, || review::queue(&mut conn, &officer, &filter, None).unwrap());
    assert_eq!(first.rows.len(), 50);
    // Walk to a deep page, then time fetching the page after it.
    let mut cursor: Option<Cursor> = first.next.clone();
    for _ in 0..40 {
        cursor = review::queue(&mut conn, &officer, &filter, cursor.as_ref()).unwrap().next;
    }
    let deep = cursor.expect("more than 40 pages");
    time("queue, page 42 by keyset cursor", 50, || review::queue(&mut conn, &officer, &filter, Some(&deep)).unwrap());
    let one_group =
        QueueFilter { group_id: Some("00000000-0000-4000-8000-000000000100".into()), ..QueueFilter::default() };
    time("queue, one group filter", 50, || review::queue(&mut conn, &officer, &one_group, None).unwrap());
    let mine = QueueFilter { claimed_by_me: true, ..QueueFilter::default() };
    time("queue, claimed by me (empty)", 50, || review::queue(&mut conn, &officer, &mine, None).unwrap());
    time("counts per status (officer's groups)", 50, || review::counts(&mut conn, &officer).unwrap());
    time("load one application for review", 200, || {
        review::load_review(
            &mut conn,
            &ApplicationId::from_stored("00000014-0000-4000-8000-000000000014".into()),
            Some(&officer),
        )
        .unwrap()
    });
}
