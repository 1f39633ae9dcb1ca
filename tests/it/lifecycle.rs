//! Privacy and data lifecycle: the retention purge, key rotation and backups.

use chrono::Duration;
use diesel::prelude::*;
use reqwest::{Client, StatusCode};
use vecinal::audit::ChainStatus;
use vecinal::db::models::Document;
use vecinal::db::schema::{application_events, applications, audit_log, document_blobs, documents, tokens, users};
use vecinal::documents::keys::{KEY_FILE, KeyRing};
use vecinal::documents::rotation::{self, RotationOptions};
use vecinal::domain::Role;

use crate::applications::{assign, create_group, submitted_application};
use crate::helpers::*;

const CHECKLIST: [(&str, &str); 4] =
    [("check_address", "on"), ("check_identity", "on"), ("check_certificate_date", "on"), ("check_no_record", "on")];

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = email.to_string();
    app.state.db(move |c| Ok(users::table.filter(users::email.eq(email)).select(users::id).first(c)?)).await.unwrap()
}

/// An officer of `group_id`, signed in.
async fn officer(app: &TestApp, email: &str, group_id: &str) -> Client {
    let c = app.signed_in(Role::Officer, email).await;
    assign(app, &user_id(app, email).await, group_id).await;
    c
}

/// A resident with this name, signed in.
async fn resident(app: &TestApp, email: &str, name: &str) -> Client {
    app.create_user(Role::Resident, email, name).await;
    sign_in(app, email).await
}

/// A fresh sign-in (after the clock moved past a session's limits).
async fn sign_in(app: &TestApp, email: &str) -> Client {
    let c = client();
    let res = app.login(&c, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
    c
}

async fn version(app: &TestApp, id: &str) -> i32 {
    let id = id.to_string();
    app.state.db(move |c| Ok(applications::table.find(id).select(applications::version).first(c)?)).await.unwrap()
}

async fn act(app: &TestApp, c: &Client, id: &str, action: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let v = version(app, id).await.to_string();
    let mut fields = vec![("version", v.as_str())];
    fields.extend_from_slice(extra);
    app.post(c, &format!("/officer/applications/{id}/{action}"), &fields).await
}

async fn approve(app: &TestApp, c: &Client, id: &str) {
    assert_eq!(act(app, c, id, "claim", &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(act(app, c, id, "approve", &CHECKLIST).await.status(), StatusCode::SEE_OTHER);
}

async fn reject(app: &TestApp, c: &Client, id: &str, internal_note: &str) {
    assert_eq!(act(app, c, id, "claim", &[]).await.status(), StatusCode::SEE_OTHER);
    let res = act(
        app,
        c,
        id,
        "reject",
        &[("reason_code", "not_resident"), ("note", "El domicilio queda fuera."), ("internal_note", internal_note)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn docs_of(app: &TestApp, application_id: &str) -> Vec<Document> {
    let id = application_id.to_string();
    app.state
        .db(move |c| {
            Ok(documents::table.filter(documents::application_id.eq(id)).order(documents::id.asc()).load(c)?)
        })
        .await
        .unwrap()
}

/// How many of the application's documents still have their file.
async fn files_of(app: &TestApp, application_id: &str) -> i64 {
    let id = application_id.to_string();
    app.state
        .db(move |c| {
            Ok(documents::table
                .inner_join(document_blobs::table)
                .filter(documents::application_id.eq(id))
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap()
}

async fn audit_count(app: &TestApp, action: &'static str) -> i64 {
    app.state
        .db(move |c| Ok(audit_log::table.filter(audit_log::action.eq(action)).count().get_result(c)?))
        .await
        .unwrap()
}

async fn chain_is_intact(app: &TestApp) {
    let status = app.state.db(|c| Ok(vecinal::audit::verify(c)?)).await.unwrap();
    assert!(matches!(status, ChainStatus::Intact { .. }), "{status:?}");
}

async fn purge(app: &TestApp) -> vecinal::retention::PurgeReport {
    vecinal::jobs::run_purge(&app.state).await.unwrap()
}

// ----- retention -----

#[tokio::test]
async fn the_purge_deletes_exactly_the_due_files_keeps_the_metadata_and_finds_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let o = officer(&app, "o@example.com", &g).await;
    let ana = resident(&app, "ana@example.com", "Ana Decidida").await;
    let approved = submitted_application(&app, &ana, "centro").await;
    approve(&app, &o, &approved).await;

    app.state.clock.advance(Duration::days(10));
    let o = sign_in(&app, "o@example.com").await;
    let bea = resident(&app, "bea@example.com", "Bea Rechazada").await;
    let rejected = submitted_application(&app, &bea, "centro").await;
    reject(&app, &o, &rejected, "Nota interna de prueba").await;
    let carla = resident(&app, "carla@example.com", "Carla Pendiente").await;
    let open = submitted_application(&app, &carla, "centro").await;

    // Day 29 after the approval: nothing is due yet.
    app.state.clock.advance(Duration::days(19));
    assert_eq!(purge(&app).await.documents, 0);
    assert_eq!(app.count("document_blobs").await, 9);

    // Day 30: the approved application's three files go, nothing else.
    app.state.clock.advance(Duration::days(1));
    let before = docs_of(&app, &approved).await;
    let report = purge(&app).await;
    assert_eq!(report.documents, 3);
    assert_eq!(files_of(&app, &approved).await, 0);
    assert_eq!(files_of(&app, &rejected).await, 3, "decided 20 days ago: not yet");
    assert_eq!(files_of(&app, &open).await, 3, "an open application keeps its files");
    let after = docs_of(&app, &approved).await;
    assert_eq!(after.len(), 3, "the metadata stays");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&a.sha256, a.size_bytes, &a.kind), (&b.sha256, b.size_bytes, &b.kind));
        assert!(a.purged_at.is_some_and(|t| t <= app.state.clock.now()), "purged_at is set");
    }
    let checklist: String = {
        let id = approved.clone();
        app.state
            .db(move |c| {
                Ok(application_events::table
                    .filter(application_events::application_id.eq(id))
                    .filter(application_events::kind.eq("approved"))
                    .select(application_events::details)
                    .first(c)?)
            })
            .await
            .unwrap()
    };
    assert!(checklist.contains("\"no_record\":true"), "the officer's checklist stays: {checklist}");
    let entries = audit_count(&app, "retention.purged").await;
    assert!(entries >= 1);

    // Run again: nothing left to do, and no audit entry for nothing.
    let again = purge(&app).await;
    assert_eq!(again, vecinal::retention::PurgeReport::default());
    assert_eq!(audit_count(&app, "retention.purged").await, entries);

    // The pages say so, and the file is gone for everyone.
    let ana = sign_in(&app, "ana@example.com").await;
    let page = app.get_with(&ana, &format!("/applications/{approved}")).await.text().await.unwrap();
    let today = app.state.clock.now().format("%d/%m/%Y").to_string();
    assert!(page.contains(&format!("Archivo eliminado el {today} según la política de conservación.")), "{page}");
    let o = sign_in(&app, "o@example.com").await;
    let review = app.get_with(&o, &format!("/officer/applications/{approved}")).await.text().await.unwrap();
    assert!(review.contains(&format!("Archivo eliminado el {today} según la política de conservación.")));
    let doc = &after[0];
    assert_eq!(
        app.get_with(&o, &format!("/applications/{approved}/documents/{}", doc.id)).await.status(),
        StatusCode::NOT_FOUND
    );
    let bea = sign_in(&app, "bea@example.com").await;
    let page = app.get_with(&bea, &format!("/applications/{rejected}")).await.text().await.unwrap();
    let due = (app.state.clock.now() + Duration::days(10)).format("%d/%m/%Y").to_string();
    assert!(page.contains(&format!("los archivos de esta solicitud se borran el {due}")), "{page}");

    // Ten days on, the rejected application's turn.
    app.state.clock.advance(Duration::days(10));
    assert_eq!(purge(&app).await.documents, 3);
    assert_eq!(files_of(&app, &rejected).await, 0);
    assert_eq!(files_of(&app, &open).await, 3);
    assert_eq!(app.count("documents").await, 9);
    chain_is_intact(&app).await;
}

#[tokio::test]
async fn two_purges_at_once_remove_each_file_once() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let o = officer(&app, "o@example.com", &g).await;
    for n in 0..3 {
        let c = resident(&app, &format!("r{n}@example.com"), "Vecina de Prueba").await;
        let id = submitted_application(&app, &c, "centro").await;
        approve(&app, &o, &id).await;
    }
    app.state.clock.advance(Duration::days(31));
    let (a, b) = tokio::join!(purge(&app), purge(&app));
    assert_eq!(a.documents + b.documents, 9, "{a:?} {b:?}");
    assert_eq!(app.count("document_blobs").await, 0);
    assert!(audit_count(&app, "retention.purged").await >= 1);
    chain_is_intact(&app).await;
}

#[tokio::test]
async fn unconfirmed_accounts_sessions_and_tokens_are_purged_when_due() {
    let app = TestApp::spawn().await;
    create_group(&app, "centro", false).await;
    // Never confirmed, nothing else: removed after 7 days.
    let res = app
        .post(
            &client(),
            "/register",
            &[("full_name", "Nadie Confirmó"), ("email", "nadie@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.deliver_mail().await;
    let nadie = user_id(&app, "nadie@example.com").await;
    // Confirmed through the mailed link: its token is used, and the account stays.
    app.register_and_confirm(&client(), "si@example.com", "Sí Confirmó").await;
    // Unconfirmed but with an application (confirmation undone by hand): stays.
    let c = resident(&app, "con.solicitud@example.com", "Con Solicitud").await;
    submitted_application(&app, &c, "centro").await;
    let with_app = user_id(&app, "con.solicitud@example.com").await;
    {
        let id = with_app.clone();
        app.state
            .db(move |c| {
                Ok(diesel::update(users::table.find(id))
                    .set(users::email_confirmed_at.eq(None::<chrono::NaiveDateTime>))
                    .execute(c)?)
            })
            .await
            .unwrap();
    }
    sign_in(&app, "si@example.com").await;
    let sessions_before = app.count("sessions").await;
    assert_eq!(sessions_before, 2);

    let first = purge(&app).await;
    assert_eq!(first.unconfirmed_accounts, 0);
    assert_eq!(first.tokens, 1, "the used confirmation token");
    assert_eq!(first.sessions, 0, "every session is alive");
    let live_links: Vec<String> = app
        .state
        .db(|c| Ok(tokens::table.filter(tokens::purpose.eq("confirm_email")).select(tokens::purpose).load(c)?))
        .await
        .unwrap();
    assert_eq!(live_links.len(), 1, "nadie's unused confirmation link");

    app.state.clock.advance(Duration::days(7));
    let report = purge(&app).await;
    assert_eq!(report.unconfirmed_accounts, 1);
    assert_eq!(report.sessions as i64, sessions_before, "all past their idle limit by now");
    let ids: Vec<String> = app.state.db(|c| Ok(users::table.select(users::id).load(c)?)).await.unwrap();
    assert!(!ids.contains(&nadie));
    assert!(ids.contains(&with_app), "an account with an application is never purged");
    assert_eq!(ids.len(), 2);
    assert_eq!(app.count("tokens").await, 0, "its link went with it");
    assert_eq!(app.count("sessions").await, 0);
    let mails_to_nadie: i64 = app
        .state
        .db(|c| {
            use vecinal::db::schema::mail_outbox;
            Ok(mail_outbox::table.filter(mail_outbox::to_address.eq("nadie@example.com")).count().get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(mails_to_nadie, 0);
    // Its audit entries stay (by id only) and the chain holds.
    let about_nadie: i64 = {
        let id = nadie.clone();
        app.state
            .db(move |c| Ok(audit_log::table.filter(audit_log::subject_id.eq(id)).count().get_result(c)?))
            .await
            .unwrap()
    };
    assert!(about_nadie >= 1);
    chain_is_intact(&app).await;
    let jobs = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(jobs.purged, Some(vecinal::retention::PurgeReport::default()), "the job purges; nothing twice");
    // The address is free again.
    app.register_and_confirm(&client(), "nadie@example.com", "Nadie Volvió").await;
}

// ----- keys -----

async fn key_ids_in_file(app: &TestApp) -> Vec<String> {
    let text = std::fs::read_to_string(app.state.settings.data_dir.join(KEY_FILE)).unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

async fn rotate(app: &TestApp, options: RotationOptions) -> anyhow::Result<rotation::RotationReport> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = vecinal::db::establish(&state.settings.database_url)?;
        rotation::rotate(&mut conn, &state.settings, || state.clock.now(), options)
    })
    .await
    .unwrap()
}

/// Every file of these applications, as served over HTTP to their resident.
async fn assert_all_served(app: &TestApp, c: &Client, ids: &[String]) {
    for id in ids {
        for d in docs_of(app, id).await {
            let res = app.get_with(c, &format!("/applications/{id}/documents/{}", d.id)).await;
            assert_eq!(res.status(), StatusCode::OK, "{} of {id}", d.kind);
            use sha2::Digest;
            assert_eq!(hex::encode(sha2::Sha256::digest(res.bytes().await.unwrap())), d.sha256);
        }
    }
}

#[tokio::test]
async fn an_interrupted_key_rotation_resumes_and_leaves_every_document_readable_under_the_new_key() {
    let app = TestApp::spawn().await;
    create_group(&app, "centro", false).await;
    create_group(&app, "norte", false).await;
    let c = resident(&app, "ana@example.com", "Ana Cifrada").await;
    let mut ids = vec![submitted_application(&app, &c, "centro").await, submitted_application(&app, &c, "norte").await];
    let old_keys = key_ids_in_file(&app).await;
    assert_eq!(old_keys.len(), 1);
    let old = old_keys[0].clone();

    // Crash after the first batch of two.
    let first = rotate(&app, RotationOptions { batch_size: 2, max_batches: Some(1) }).await.unwrap();
    assert!(!first.finished && !first.resumed);
    assert_eq!((first.reencrypted, first.remaining), (2, 4));
    let new = first.key_id.clone();
    assert_eq!(key_ids_in_file(&app).await, [old.clone(), new.clone()], "the old key stays while it is needed");
    // Serving goes on: new uploads use the new key at once (before the server has met
    // it anywhere else), and documents under either key open.
    create_group(&app, "sur", false).await;
    let fresh = submitted_application(&app, &c, "sur").await;
    assert!(docs_of(&app, &fresh).await.iter().all(|d| d.key_id == new), "new files under the new key");
    ids.push(fresh);
    assert_all_served(&app, &c, &ids).await;

    let second = rotate(&app, RotationOptions::default()).await.unwrap();
    assert!(second.finished && second.resumed, "{second:?}");
    assert_eq!(second.key_id, new);
    assert_eq!(second.reencrypted, 4);
    assert_eq!(second.retired, std::slice::from_ref(&old));
    assert_eq!(key_ids_in_file(&app).await, std::slice::from_ref(&new), "the old key left the file");
    let keys: Vec<String> = app.state.db(|c| Ok(documents::table.select(documents::key_id).load(c)?)).await.unwrap();
    assert_eq!(keys.len(), 9);
    assert!(keys.iter().all(|k| *k == new), "no document under the old key");
    assert_all_served(&app, &c, &ids).await;
    // The key file alone opens every document.
    let ring = KeyRing::load(&app.state.settings).unwrap();
    assert_eq!(ring.ids(), std::slice::from_ref(&new));
    for id in &ids {
        for d in docs_of(&app, id).await {
            let ring = ring.clone();
            let bytes = app.state.db(move |c| Ok(vecinal::documents::read(c, &ring, &d).unwrap())).await.unwrap();
            assert!(bytes.is_some());
        }
    }
    assert_eq!(audit_count(&app, "keys.rotation_started").await, 2);
    assert_eq!(audit_count(&app, "keys.rotation_finished").await, 1);

    // Nothing left unfinished: the next run starts a new rotation.
    let third = rotate(&app, RotationOptions::default()).await.unwrap();
    assert!(third.finished && !third.resumed);
    assert_ne!(third.key_id, new);
    assert_eq!((third.reencrypted, third.retired.clone()), (9, vec![new]));
    assert_all_served(&app, &c, &ids).await;
    chain_is_intact(&app).await;
}

#[tokio::test]
async fn rotation_is_refused_with_a_key_from_the_environment() {
    let app = TestApp::spawn_with(|s| s.document_key = Some(vecinal::config::Sensitive([9u8; 32]))).await;
    let err = rotate(&app, RotationOptions::default()).await.unwrap_err().to_string();
    assert!(err.contains("VECINAL_DOCUMENT_KEY") && err.contains("key file"), "{err}");
    let id = vecinal::documents::keys::DocumentKey::from_bytes([9u8; 32]).id;
    assert!(err.contains(&format!("'{id} <the base64 value")), "names the id documents use: {err}");
    assert!(!app.state.settings.data_dir.join(KEY_FILE).exists(), "no key file was made");
    assert_eq!(audit_count(&app, "keys.rotation_started").await, 0);
}

// ----- backups -----

#[tokio::test]
async fn a_backup_taken_during_writes_opens_and_holds_the_data() {
    let app = TestApp::spawn().await;
    create_group(&app, "centro", false).await;
    let c = resident(&app, "ana@example.com", "Ana Respaldo").await;
    let id = submitted_application(&app, &c, "centro").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("respaldo.db");
    let settings = app.state.settings.clone();
    let now = app.state.clock.now();

    if !settings.database_url.is_sqlite() {
        let err = vecinal::backup::backup(&settings, &out, now).unwrap_err().to_string();
        assert!(err.contains("pg_dump"), "{err}");
        assert!(!out.exists());
        return;
    }

    // Writers keep going while the copy is taken.
    let writing = {
        let (app_url, client) = (app.address.clone(), client());
        tokio::spawn(async move {
            for n in 0..30 {
                let page = client.get(format!("{app_url}/register")).send().await.unwrap().text().await.unwrap();
                let token = csrf_from(&page).unwrap();
                let email = format!("vecino{n}@example.com");
                client
                    .post(format!("{app_url}/register"))
                    .form(&[
                        ("full_name", "Vecino Concurrente"),
                        ("email", email.as_str()),
                        ("password", PASSWORD),
                        ("csrf_token", token.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
            }
        })
    };
    // Take it once some registrations are in, with more on the way.
    while app.count("users").await < 6 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (s, o) = (settings.clone(), out.clone());
    let bytes = tokio::task::spawn_blocking(move || vecinal::backup::backup(&s, &o, now)).await.unwrap().unwrap();
    writing.await.unwrap();
    assert!(bytes > 0);
    let live_users = app.count("users").await;
    assert_eq!(live_users, 31);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600, "private");
    }

    // The copy is a database of its own, consistent, with the data and readable files.
    let url = vecinal::db::DatabaseUrl::Sqlite(out.to_string_lossy().into_owned());
    let mut copy = vecinal::db::establish(&url).unwrap();
    let status = vecinal::audit::verify(&mut copy).unwrap();
    assert!(matches!(status, ChainStatus::Intact { entries } if entries > 3), "{status:?}");
    let apps: i64 = applications::table.count().get_result(&mut copy).unwrap();
    assert_eq!(apps, 1);
    let docs: Vec<Document> = documents::table.filter(documents::application_id.eq(&id)).load(&mut copy).unwrap();
    assert_eq!(docs.len(), 3);
    for d in &docs {
        assert!(vecinal::documents::read(&mut copy, &app.state.keys, d).unwrap().is_some());
    }
    let registered: i64 = users::table.count().get_result(&mut copy).unwrap();
    assert!((6..live_users).contains(&registered), "a snapshot taken mid-way: {registered} of {live_users}");
    let registrations: i64 =
        audit_log::table.filter(audit_log::action.eq("account.register")).count().get_result(&mut copy).unwrap();
    assert_eq!(registrations, registered - 1, "rows and audit entries from the same instant");
    assert_eq!(audit_count(&app, "database.backup_created").await, 1);

    // Never over an existing file.
    let before = std::fs::read(&out).unwrap();
    let err = vecinal::backup::backup(&settings, &out, now).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}
