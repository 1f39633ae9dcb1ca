//! `VECINAL_TIME_ZONE`: pages show times in the configured zone (never "UTC"), and the
//! dashboard's days are that zone's days, also after the zone changes on a database that
//! already has decisions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use vecinal::db::schema::{application_events, applications, decision_counts};
use vecinal::domain::Zone;

use crate::helpers::*;

fn at(raw: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// An application submitted and approved, with its submission and events moved to
/// `submitted` and its decision to `decided` (UTC). Returns the resident, the officer, and
/// the application's id.
async fn decided_at(app: &TestApp, submitted: &str, decided: &str) -> (reqwest::Client, reqwest::Client, String) {
    let norte = app.group("norte").await;
    let officer = app.officer("ana@policia.example", &norte).await;
    let (resident, id) = app.applicant("vecina@example.com", "norte").await;
    app.claim_and_approve(&officer, &id).await;
    let (submitted, decided, moved) = (at(submitted), at(decided), id.clone());
    app.state
        .db(move |c| {
            diesel::update(applications::table.find(&moved))
                .set((applications::submitted_at.eq(submitted), applications::decided_at.eq(Some(decided))))
                .execute(c)?;
            diesel::update(application_events::table.filter(application_events::application_id.eq(&moved)))
                .set(application_events::at.eq(submitted))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    (resident, officer, id)
}

async fn decision_days(app: &TestApp) -> Vec<NaiveDate> {
    app.state
        .db(|c| {
            Ok(decision_counts::table
                .filter(decision_counts::approved.gt(0))
                .select(decision_counts::day)
                .order(decision_counts::day)
                .load(c)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_show_times_in_rio_grande_by_default() {
    let app = TestApp::spawn().await;
    // 01:30 UTC on the 28th is 22:30 on the 27th in Río Grande (UTC−3).
    let (resident, officer, id) = decided_at(&app, "2026-11-28 01:30:00", "2026-11-28 02:10:00").await;

    let mine = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(mine.contains("27/11/2026 22:30"), "the resident's timeline in local time");
    assert!(mine.contains("datetime=\"2026-11-27T22:30:00-03:00\""), "machine-readable with its offset");
    assert!(!mine.contains("UTC"), "no page says UTC");
    let review = app.page(&officer, &format!("/officer/applications/{id}")).await;
    assert!(review.contains("27/11/2026 22:30"));
    assert!(!review.contains("28/11/2026 01:30") && !review.contains("UTC"));
    let home = app.page(&resident, "/me").await;
    assert!(home.contains("27/11/2026"), "the day it was sent, in Río Grande");

    // The dashboard counts the decision (23:10 on the 27th locally) on the 27th.
    assert_eq!(decision_days(&app).await, vec![NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()]);
}

#[tokio::test]
async fn another_zone_moves_every_time_and_day() {
    let tokyo = Zone::parse("Asia/Tokyo").unwrap();
    let app = TestApp::spawn_with(|s| s.zone = tokyo).await;
    // 20:30 UTC on the 27th is 05:30 on the 28th in Tokyo (UTC+9).
    let (resident, officer, id) = decided_at(&app, "2026-11-27 20:30:00", "2026-11-27 21:00:00").await;
    let mine = app.page(&resident, &format!("/applications/{id}")).await;
    assert!(mine.contains("28/11/2026 05:30"));
    assert!(mine.contains("datetime=\"2026-11-28T05:30:00+09:00\""));
    let review = app.page(&officer, &format!("/officer/applications/{id}")).await;
    assert!(review.contains("28/11/2026 05:30") && !review.contains("27/11/2026 20:30"));
    assert_eq!(decision_days(&app).await, vec![NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()]);
}

/// At 23:30 in Río Grande it is already tomorrow in UTC: a certificate issued "today" is
/// accepted, one dated with UTC's day is in the future.
#[tokio::test]
async fn a_certificate_issued_today_is_accepted_late_in_the_evening() {
    let app = TestApp::spawn().await;
    let zone = app.state.settings.zone;
    let now = app.state.clock.now();
    // The next 23:30 in Río Grande (02:30 UTC).
    let mut evening = zone.today(now).and_hms_opt(23, 30, 0).unwrap() + chrono::Duration::hours(3);
    if evening <= now {
        evening += chrono::Duration::days(1);
    }
    app.state.clock.advance(evening - now);
    let local = app.today();
    let utc_day = app.state.clock.now().date();
    assert_eq!(utc_day, local.succ_opt().unwrap(), "UTC is a day ahead at 23:30 local");

    app.group("norte").await;
    let c = app.signed_in(vecinal::domain::Role::Resident, "vecina@example.com").await;
    let refused = Submission::valid(&app, "norte")
        .set("certificate_issued_on", &utc_day.format("%Y-%m-%d").to_string())
        .send(&app, &c)
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("applications").await, 0);
    let accepted = Submission::valid(&app, "norte")
        .set("certificate_issued_on", &local.format("%Y-%m-%d").to_string())
        .send(&app, &c)
        .await;
    assert_eq!(accepted.status(), reqwest::StatusCode::SEE_OTHER);
}

/// The same database, first counted in Tokyo, then served in Río Grande's zone: the start
/// (here `vecinal stats rebuild`, which starts the same way) installs the zone, moves the
/// decision to its local day, and says so in the audit log; a second start changes nothing.
#[tokio::test]
async fn a_changed_zone_recounts_the_days_once() {
    let tokyo = Zone::parse("Asia/Tokyo").unwrap();
    let app = TestApp::spawn_with(|s| s.zone = tokyo).await;
    decided_at(&app, "2026-11-27 20:30:00", "2026-11-27 21:00:00").await;
    assert_eq!(decision_days(&app).await, vec![NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()]);
    // Installing the first zone on a new database is no change anyone made.
    assert_eq!(app.audit_count("database.time_zone_changed").await, 0);

    let dir = tempfile::tempdir().unwrap();
    let run = |zone: &str| {
        let out = vecinal(&app.state.settings.database_url, dir.path(), &["stats", "rebuild"])
            .env("VECINAL_TIME_ZONE", zone)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let (ok, text) = run("America/Argentina/Ushuaia");
    assert!(ok, "{text}");
    // 21:00 UTC on the 27th is 18:00 on the 27th in Río Grande.
    assert_eq!(decision_days(&app).await, vec![NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()]);
    assert_eq!(app.audit_count("database.time_zone_changed").await, 1);
    let (ok, text) = run("America/Argentina/Ushuaia");
    assert!(ok && text.contains("they were already right"), "{text}");
    assert_eq!(app.audit_count("database.time_zone_changed").await, 1, "the same zone again changes nothing");

    // A zone that does not exist stops the command before it touches anything.
    let (ok, text) = run("America/Rio_Grande");
    assert!(!ok && text.contains("VECINAL_TIME_ZONE"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    assert_eq!(decision_days(&app).await, vec![NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()]);

    // The commissioner reads the change in plain words.
    let boss = app.commissioner("jefa@policia.example").await;
    let html = app.page(&boss, "/commissioner/audit?action=database.time_zone_changed").await;
    assert!(html.contains("America/Argentina/Ushuaia") && html.contains("Asia/Tokyo"), "{html}");
}
