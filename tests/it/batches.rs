//! Background jobs past their batch sizes: the lapsed-claims job and the retention purge
//! read their work outside the write transaction and write it in small batches; every due
//! row must still be handled, each exactly once, and nothing else touched. The rows are
//! inserted directly (a thousand applications through the forms would take minutes).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use vecinal::db::DbConn;
use vecinal::db::models::{Application, NewUser};
use vecinal::db::schema::{
    application_events, applications, audit_log, document_blobs, document_chunks, documents, sessions, users,
};
use vecinal::domain::application::Status;
use vecinal::domain::{ApplicationId, GroupId, UserId};

use crate::helpers::*;

/// More than one read of 1000 and many write batches.
const MANY: usize = 1_030;

/// `n` residents with one application each in `group`, built by `shape(i, application)`.
async fn insert_applications(
    app: &TestApp,
    group: &str,
    prefix: &'static str,
    n: usize,
    shape: impl Fn(usize, &mut Application) + Send + 'static,
) {
    let now = app.state.clock.now();
    let group = group.to_string();
    app.state
        .db(move |c: &mut DbConn| {
            c.write_tx(|c| -> QueryResult<()> {
                for i in 0..n {
                    let rid = format!("{prefix}-r{i:05}");
                    let email = format!("{prefix}{i}@batch.test");
                    diesel::insert_into(users::table)
                        .values(NewUser {
                            id: &rid,
                            email: &email,
                            full_name: "Vecino",
                            password_hash: None,
                            role: "resident",
                            locale: "es",
                            email_confirmed_at: Some(now),
                            active: true,
                            created_at: now,
                            updated_at: now,
                        })
                        .execute(c)?;
                    let mut a = Application {
                        id: ApplicationId::from_stored(format!("{prefix}-a{i:05}")),
                        resident_id: UserId::from_stored(rid),
                        group_id: GroupId::from_stored(group.clone()),
                        status: Status::Submitted,
                        street_address: "Calle 1".into(),
                        dni: "30123456".into(),
                        phone: None,
                        certificate_issued_on: now.date(),
                        requested_kinds: String::new(),
                        version: 3,
                        claimed_by: None,
                        claimed_at: None,
                        first_approver: None,
                        consented_at: now,
                        submitted_at: now,
                        decided_at: None,
                        created_at: now,
                        updated_at: now,
                        renewal_of: None,
                        decided_by: None,
                        taken_by: None,
                        dni_verdict: None,
                        in_pair: false,
                    };
                    shape(i, &mut a);
                    diesel::insert_into(applications::table).values(&a).execute(c)?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn count_where_status(app: &TestApp, prefix: &'static str, status: Status) -> i64 {
    app.state
        .db(move |c| {
            Ok(applications::table
                .filter(applications::id.like(format!("{prefix}-%")))
                .filter(applications::status.eq(status))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn every_lapsed_claim_is_released_once_across_batches_and_no_other() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let _o = app.officer("o@example.com", &g).await;
    let officer = UserId::from_stored(app.user_id("o@example.com").await);
    let now = app.state.clock.now();
    let claim_hours = app.state.settings.claim_hours;
    let lapsed_at = now - Duration::hours(claim_hours) - Duration::minutes(1);
    let fresh_at = now - Duration::hours(claim_hours) + Duration::minutes(5);
    let o = officer.clone();
    insert_applications(&app, &g, "lapsed", MANY, move |i, a| {
        a.status = Status::InReview;
        a.claimed_by = Some(o.clone());
        // Many with the very same claim time, the rest spread.
        a.claimed_at = Some(if i % 2 == 0 { lapsed_at } else { lapsed_at - Duration::minutes(i as i64) });
    })
    .await;
    let o = officer.clone();
    insert_applications(&app, &g, "fresh", 40, move |_, a| {
        a.status = Status::InReview;
        a.claimed_by = Some(o.clone());
        a.claimed_at = Some(fresh_at);
    })
    .await;
    // Decided ones keep their old claim time and are no business of the job.
    let o = officer.clone();
    insert_applications(&app, &g, "decided", 30, move |_, a| {
        a.status = Status::Approved;
        a.claimed_by = Some(o.clone());
        a.claimed_at = Some(lapsed_at);
        a.decided_at = Some(lapsed_at);
    })
    .await;

    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.claims_released, MANY);
    assert_eq!(count_where_status(&app, "lapsed", Status::Submitted).await, MANY as i64);
    assert_eq!(count_where_status(&app, "fresh", Status::InReview).await, 40);
    assert_eq!(count_where_status(&app, "decided", Status::Approved).await, 30);
    let (unclaimed, events, audited): (i64, i64, Vec<String>) = app
        .state
        .db(|c| {
            let unclaimed = applications::table
                .filter(applications::id.like("lapsed-%"))
                .filter(applications::claimed_by.is_null())
                .filter(applications::claimed_at.is_null())
                .filter(applications::version.eq(4))
                .count()
                .get_result(c)?;
            let events =
                application_events::table.filter(application_events::kind.eq("released")).count().get_result(c)?;
            let audited = audit_log::table
                .filter(audit_log::action.eq("application.claims_lapsed"))
                .select(audit_log::details)
                .load::<String>(c)?;
            Ok((unclaimed, events, audited))
        })
        .await
        .unwrap();
    assert_eq!(unclaimed, MANY as i64, "released, unclaimed and one version on");
    assert_eq!(events, MANY as i64, "one timeline entry each");
    let audited_total: u64 = audited
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap()["released"].as_u64().unwrap())
        .sum();
    assert_eq!(audited_total, MANY as u64, "every batch audited with its own count: {audited:?}");
    assert!(audited.len() > 1, "written in more than one transaction");

    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().claims_released, 0, "nothing left");
}

async fn insert_documents(app: &TestApp, prefix: &'static str) {
    let now = app.state.clock.now();
    app.state
        .db(move |c: &mut DbConn| {
            c.write_tx(|c| -> QueryResult<()> {
                let ids: Vec<String> = applications::table
                    .filter(applications::id.like(format!("{prefix}-%")))
                    .select(applications::id)
                    .load(c)?;
                for id in ids {
                    let doc = format!("{id}-doc");
                    diesel::insert_into(documents::table)
                        .values((
                            documents::id.eq(&doc),
                            documents::application_id.eq(&id),
                            documents::kind.eq("residency_proof"),
                            documents::media_type.eq("application/pdf"),
                            documents::size_bytes.eq(4_i64),
                            documents::sha256.eq("00"),
                            documents::original_name.eq("f.pdf"),
                            documents::key_id.eq("k"),
                            documents::uploaded_at.eq(now),
                        ))
                        .execute(c)?;
                    diesel::insert_into(document_blobs::table)
                        .values((document_blobs::document_id.eq(&doc), document_blobs::nonce.eq(vec![0u8; 24])))
                        .execute(c)?;
                    diesel::insert_into(document_chunks::table)
                        .values((
                            document_chunks::document_id.eq(&doc),
                            document_chunks::seq.eq(0),
                            document_chunks::bytes.eq(vec![1u8; 4]),
                        ))
                        .execute(c)?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn files_left(app: &TestApp, prefix: &'static str) -> (i64, i64) {
    app.state
        .db(move |c| {
            let blobs = document_blobs::table
                .inner_join(documents::table)
                .filter(documents::application_id.like(format!("{prefix}-%")))
                .count()
                .get_result(c)?;
            let unpurged = documents::table
                .filter(documents::application_id.like(format!("{prefix}-%")))
                .filter(documents::purged_at.is_null())
                .count()
                .get_result(c)?;
            Ok((blobs, unpurged))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_purge_removes_every_due_file_and_session_across_batches_and_nothing_else() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let now = app.state.clock.now();
    let days = app.state.settings.document_retention_days;
    let old: NaiveDateTime = now - Duration::days(days) - Duration::hours(1);
    let recent: NaiveDateTime = now - Duration::days(days) + Duration::hours(1);
    insert_applications(&app, &g, "due", MANY, move |i, a| {
        a.status = [Status::Approved, Status::Rejected, Status::Withdrawn][i % 3];
        a.decided_at = Some(old);
    })
    .await;
    insert_applications(&app, &g, "recent", 25, move |_, a| {
        a.status = Status::Approved;
        a.decided_at = Some(recent);
    })
    .await;
    insert_applications(&app, &g, "open", 25, |_, _| {}).await;
    for prefix in ["due", "recent", "open"] {
        insert_documents(&app, prefix).await;
    }
    // Sessions: more than a read's worth past their expiry, some alive.
    let user = app.user_id("due0@batch.test").await;
    app.state
        .db(move |c: &mut DbConn| {
            c.write_tx(|c| -> QueryResult<()> {
                for i in 0..MANY + 40 {
                    let expired = i < MANY;
                    diesel::insert_into(sessions::table)
                        .values((
                            sessions::id.eq(format!("s{i:05}")),
                            sessions::user_id.eq(&user),
                            sessions::created_at.eq(now),
                            sessions::last_seen_at.eq(now),
                            sessions::expires_at.eq(if expired {
                                now - Duration::minutes(1)
                            } else {
                                now + Duration::days(1)
                            }),
                            sessions::idle_timeout_secs.eq(3600),
                        ))
                        .execute(c)?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
        .unwrap();
    let mails_before = app.count("mail_outbox").await;

    let report = vecinal::jobs::run_purge(&app.state).await.unwrap();
    assert_eq!(report.documents, MANY);
    assert_eq!(report.sessions, MANY);
    assert_eq!(files_left(&app, "due").await, (0, 0), "every due file deleted and marked purged");
    assert_eq!(files_left(&app, "recent").await, (25, 25));
    assert_eq!(files_left(&app, "open").await, (25, 25));
    // The bytes went too: the purge swept the pieces it had queued, and only the kept
    // files' pieces are left.
    assert_eq!(app.count("document_chunks").await, 50);
    assert_eq!(app.count("document_sweeps").await, 0);
    assert_eq!(app.count("sessions").await, 40);
    assert_eq!(app.count("documents").await, (MANY + 50) as i64, "the metadata stays");
    assert_eq!(app.count("mail_outbox").await, mails_before);
    let again = vecinal::jobs::run_purge(&app.state).await.unwrap();
    assert_eq!(again.total(), 0, "{again}");
}
