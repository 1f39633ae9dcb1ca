//! Privacy and data lifecycle: the retention purge, the resident's rights on /account
//! (export, rectification, deletion), key rotation and backups.

use base64::Engine;
use chrono::Duration;
use diesel::prelude::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use vecinal::audit::ChainStatus;
use vecinal::db::DbConn;
use vecinal::db::models::Document;
use vecinal::db::schema::{
    application_events, applications, audit_log, document_blobs, documents, memberships, tokens, users,
};
use vecinal::documents::keys::{KEY_FILE, KeyRing};
use vecinal::domain::Role;
use vecinal::services::key_rotation::{self as rotation, RotationOptions};

use crate::helpers::*;

/// Claims and rejects: the address is outside the group's area.
async fn reject(app: &TestApp, c: &Client, id: &str, internal_note: &str) {
    app.claim(c, id).await;
    let fields =
        [("reason_code", "not_resident"), ("note", "El domicilio queda fuera."), ("internal_note", internal_note)];
    app.reject(c, id, &fields).await;
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

async fn chain_is_intact(app: &TestApp) {
    let status = app.state.db(|c| Ok(vecinal::audit::verify(c)?)).await.unwrap();
    assert!(matches!(status, ChainStatus::Intact { .. }), "{status:?}");
}

async fn purge(app: &TestApp) -> vecinal::services::retention::PurgeReport {
    vecinal::jobs::run_purge(&app.state).await.unwrap()
}

// ----- retention -----

#[tokio::test]
async fn the_purge_deletes_exactly_the_due_files_keeps_the_metadata_and_finds_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    let ana = app.resident("ana@example.com", "Ana Decidida").await;
    let approved = app.submit(&ana, "centro").await;
    app.claim_and_approve(&o, &approved).await;

    app.state.clock.advance(Duration::days(10));
    let o = app.sign_in("o@example.com").await;
    let bea = app.resident("bea@example.com", "Bea Rechazada").await;
    let rejected = app.submit(&bea, "centro").await;
    reject(&app, &o, &rejected, "Nota interna de prueba").await;
    let carla = app.resident("carla@example.com", "Carla Pendiente").await;
    let open = app.submit(&carla, "centro").await;

    // Day 29 after the approval: nothing is due yet.
    app.state.clock.advance(Duration::days(19));
    assert_eq!(purge(&app).await.documents, 0);
    assert_eq!(app.count("document_blobs").await, 9);

    // Day 30: the approved application's three files go, nothing else.
    app.state.clock.advance(Duration::days(1));
    let before = app.documents_of(&approved).await;
    let report = purge(&app).await;
    assert_eq!(report.documents, 3);
    assert_eq!(files_of(&app, &approved).await, 0);
    assert_eq!(files_of(&app, &rejected).await, 3, "decided 20 days ago: not yet");
    assert_eq!(files_of(&app, &open).await, 3, "an open application keeps its files");
    let after = app.documents_of(&approved).await;
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
    let entries = app.audit_count("retention.purged").await;
    assert!(entries >= 1);

    // Run again: nothing left to do, and no audit entry for nothing.
    let again = purge(&app).await;
    assert_eq!(again, vecinal::services::retention::PurgeReport::default());
    assert_eq!(app.audit_count("retention.purged").await, entries);

    // The pages say so, and the file is gone for everyone.
    let ana = app.sign_in("ana@example.com").await;
    let page = app.get_with(&ana, &format!("/applications/{approved}")).await.text().await.unwrap();
    let today = app.today().format("%d/%m/%Y").to_string();
    assert!(page.contains(&format!("Archivo eliminado el {today} según la política de conservación.")), "{page}");
    let o = app.sign_in("o@example.com").await;
    let review = app.get_with(&o, &format!("/officer/applications/{approved}")).await.text().await.unwrap();
    assert!(review.contains(&format!("Archivo eliminado el {today} según la política de conservación.")));
    let doc = &after[0];
    assert_eq!(
        app.get_with(&o, &format!("/applications/{approved}/documents/{}", doc.id)).await.status(),
        StatusCode::NOT_FOUND
    );
    let bea = app.sign_in("bea@example.com").await;
    let page = app.get_with(&bea, &format!("/applications/{rejected}")).await.text().await.unwrap();
    let due = app.state.settings.zone.today(app.state.clock.now() + Duration::days(10)).format("%d/%m/%Y").to_string();
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
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
    for n in 0..3 {
        let c = app.resident(&format!("r{n}@example.com"), "Vecina de Prueba").await;
        let id = app.submit(&c, "centro").await;
        app.claim_and_approve(&o, &id).await;
    }
    app.state.clock.advance(Duration::days(31));
    let (a, b) = tokio::join!(purge(&app), purge(&app));
    assert_eq!(a.documents + b.documents, 9, "{a:?} {b:?}");
    assert_eq!(app.count("document_blobs").await, 0);
    assert!(app.audit_count("retention.purged").await >= 1);
    chain_is_intact(&app).await;
}

#[tokio::test]
async fn unconfirmed_accounts_sessions_and_tokens_are_purged_when_due() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    // Never confirmed, nothing else: removed after 7 days.
    let res = app.register(&client(), "Nadie Confirmó", "nadie@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.deliver_mail().await;
    let nadie = app.user_id("nadie@example.com").await;
    // Confirmed through the mailed link: its token is used, and the account stays.
    app.register_and_confirm(&client(), "si@example.com", "Sí Confirmó").await;
    // Unconfirmed but with an application (confirmation undone by hand): stays.
    let c = app.resident("con.solicitud@example.com", "Con Solicitud").await;
    app.submit(&c, "centro").await;
    let with_app = app.user_id("con.solicitud@example.com").await;
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
    app.sign_in("si@example.com").await;
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
    assert_eq!(
        jobs.purged,
        Some(vecinal::services::retention::PurgeReport::default()),
        "the job purges; nothing twice"
    );
    // The address is free again.
    app.register_and_confirm(&client(), "nadie@example.com", "Nadie Volvió").await;
}

// ----- access -----

#[tokio::test]
async fn the_export_holds_the_residents_data_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let centro = app.group("centro").await;
    let norte = app.group("norte").await;
    let o = app.officer("o@example.com", &centro).await;
    app.assign(&app.user_id("o@example.com").await, &norte).await;

    let ana = app.resident("ana.export@example.com", "Ana Exportadora").await;
    let ana_centro = app.submit(&ana, "centro").await;
    app.claim_and_approve(&o, &ana_centro).await;
    let res = Submission::valid(&app, "norte")
        .set("street_address", "Avenida Belgrano 555")
        .set("dni", "31.222.333")
        .set("phone", "+54 2964 111222")
        .send(&app, &ana)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ana_norte = application_id(&res);
    reject(&app, &o, &ana_norte, "Consultado con fiscalía").await;

    let beto = app.resident("beto.ajeno@example.com", "Beto Ajeno").await;
    let res = Submission::valid(&app, "centro")
        .set("street_address", "Calle Ajena 999")
        .set("dni", "40.999.888")
        .set("phone", "+54 2964 999888")
        .send(&app, &beto)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let beto_app = application_id(&res);
    let beto_id = app.user_id("beto.ajeno@example.com").await;
    let officer_id = app.user_id("o@example.com").await;

    let res = app.get_with(&ana, "/account/export").await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"vecinal-export-"), "{disposition}");
    assert!(res.headers().get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let text = res.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();

    assert_eq!(export["account"]["email"], "ana.export@example.com");
    assert_eq!(export["account"]["full_name"], "Ana Exportadora");
    let apps = export["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    let norte_app = apps.iter().find(|a| a["id"] == ana_norte.as_str()).unwrap();
    assert_eq!(norte_app["street_address"], "Avenida Belgrano 555");
    assert_eq!(norte_app["dni"], "31222333");
    assert_eq!(norte_app["phone"], "+54 2964 111222");
    assert_eq!(norte_app["status"], "rejected");
    let timeline = norte_app["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(|e| e["kind"] == "rejected" && e["message"] == "El domicilio queda fuera."));
    assert!(timeline.iter().any(|e| e["kind"] == "submitted" && e["by"] == "you"));
    // Every file comes back byte for byte.
    let b64 = base64::engine::general_purpose::STANDARD;
    for a in apps {
        let docs = a["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 3);
        for d in docs {
            let bytes = b64.decode(d["content_base64"].as_str().unwrap()).unwrap();
            let expected = uploaded(d["kind"].as_str().unwrap());
            assert_eq!(bytes, expected);
            use sha2::Digest;
            assert_eq!(d["sha256"], hex::encode(sha2::Sha256::digest(expected)));
        }
    }
    let ms = export["memberships"].as_array().unwrap();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0]["number"], "CENTRO-000001");
    let actions: Vec<&str> =
        export["audit_log"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"account.login") && actions.contains(&"application.submitted"), "{actions:?}");

    // Nothing internal, nothing about Beto, no staff ids.
    for absent in [
        "Consultado con fiscalía",
        "Beto Ajeno",
        "beto.ajeno@example.com",
        "Calle Ajena 999",
        "40999888",
        "40.999.888",
        "+54 2964 999888",
        beto_id.as_str(),
        beto_app.as_str(),
        officer_id.as_str(),
        "o@example.com",
    ] {
        assert!(!text.contains(absent), "the export must not contain {absent:?}");
    }
    assert_eq!(app.audit_count("account.exported").await, 1);

    // Staff ask headquarters; visitors sign in first.
    let res = app.get_with(&o, "/account/export").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("comunicate con la jefatura"));
    let res = app.get_with(&client(), "/account/export").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
    assert_eq!(app.audit_count("account.exported").await, 1);
}

// ----- rectification -----

#[tokio::test]
async fn the_phone_is_corrected_on_every_application_and_a_bad_one_changes_nothing() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.resident("ana@example.com", "Ana Teléfono").await;
    let page = app.get_with(&c, "/account").await.text().await.unwrap();
    assert!(page.contains("Todavía no tenés solicitudes"), "no form without applications");
    let id = app.submit(&c, "centro").await;
    let page = app.get_with(&c, "/account").await.text().await.unwrap();
    assert!(page.contains("value=\"+54 2964 123456\""));
    assert!(page.contains("Descargar mis datos") && page.contains("Eliminar mi cuenta definitivamente"));

    let res = app.post(&c, "/account/phone", &[("phone", "llamame")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("El teléfono no parece válido") && body.contains("value=\"llamame\""));
    let phone = |app: &TestApp| {
        let id = id.clone();
        let state = app.state.clone();
        async move {
            state
                .db(move |c| Ok(applications::table.find(id).select(applications::phone).first::<Option<String>>(c)?))
                .await
                .unwrap()
        }
    };
    assert_eq!(phone(&app).await, Some("+54 2964 123456".to_string()), "unchanged");

    let res = app.post(&c, "/account/phone", &[("phone", "+54 2964 555000")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(phone(&app).await, Some("+54 2964 555000".to_string()));
    assert_eq!(app.audit_count("account.phone_updated").await, 1);
    let page = app.get_with(&c, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("Actualizaste tu teléfono."));
    // Saving the same number again changes nothing and records nothing.
    app.post(&c, "/account/phone", &[("phone", "+54 2964 555000")]).await;
    assert_eq!(app.audit_count("account.phone_updated").await, 1);
    // Staff have no applications to correct.
    let o = app.signed_in(Role::Officer, "o@example.com").await;
    assert_eq!(app.post(&o, "/account/phone", &[("phone", "+54 2964 1")]).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_email_change_happens_only_when_the_link_is_followed() {
    let app = TestApp::spawn().await;
    let c = client();
    app.register_and_confirm(&c, "vieja@example.com", "Ana Mudanza").await;
    assert_eq!(app.login(&c, "vieja@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let uid = app.user_id("vieja@example.com").await;
    let email_of = || {
        let uid = uid.clone();
        let state = app.state.clone();
        async move { state.db(move |c| Ok(users::table.find(uid).select(users::email).first::<String>(c)?)).await.unwrap() }
    };
    let tokens_now = || async { app.count("tokens").await };
    let sent_before = app.deliver_mail().await.len();
    let tokens_before = tokens_now().await;

    // Mistakes re-render with 422 and change nothing.
    for (fields, message) in [
        (
            vec![("new_email", "nueva@example.com"), ("email_password", "no es esta")],
            "La contraseña actual no es correcta.",
        ),
        (
            vec![("new_email", "no es un correo"), ("email_password", PASSWORD)],
            "Ese correo electrónico no parece válido.",
        ),
        (vec![("new_email", "VIEJA@example.com"), ("email_password", PASSWORD)], "Ese ya es el correo de tu cuenta."),
    ] {
        let res = app.post(&c, "/account/email", &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(app.deliver_mail().await.len(), sent_before);
    assert_eq!(tokens_now().await, tokens_before);

    let res = app.post(&c, "/account/email", &[("new_email", "Nueva@Example.com"), ("email_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link_mail = app.last_mail_to("nueva@example.com").await;
    let notice = app.last_mail_to("vieja@example.com").await;
    assert!(notice.text.contains("nueva@example.com"), "the old address hears of it: {}", notice.text);
    assert!(link_mail.text.contains("Ana Mudanza"));
    let path = link_path(&link_mail.text, "/account/email/confirm/").expect("a confirmation link");
    assert_eq!(email_of().await, "vieja@example.com", "nothing changes before the link is followed");
    assert_eq!(app.login(&client(), "nueva@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    // Opening the link (as a mail scanner would) changes nothing either.
    let other_browser = client();
    let page = app.get_with(&other_browser, &path).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Confirmar el correo nuevo"));
    assert_eq!(email_of().await, "vieja@example.com");

    // A second request makes the first link useless.
    let res = app.post(&c, "/account/email", &[("new_email", "otra@example.com"), ("email_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&other_browser, &path).await.status(), StatusCode::NOT_FOUND);
    let path = app.mailed_link("otra@example.com", "/account/email/confirm/").await;

    let token = app.csrf_token(&other_browser, &path).await;
    let res = app.post_form(&other_browser, &path, &token, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Tu correo cambió"));
    assert_eq!(email_of().await, "otra@example.com");
    let again = app.post_form(&other_browser, &path, &token, &[]).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "single use");
    assert_eq!(app.login(&client(), "vieja@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&client(), "otra@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("account.email_change_requested").await, 2);
    assert_eq!(app.audit_count("account.email_changed").await, 1);

    // An address that has an account: the same answer, no link, no mail to it.
    app.create_user(Role::Resident, "ocupada@example.com", "Otra Persona").await;
    let c = app.sign_in("otra@example.com").await;
    let sent = app.deliver_mail().await.len();
    let res =
        app.post(&c, "/account/email", &[("new_email", "ocupada@example.com"), ("email_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.deliver_mail().await.len(), sent);
    let pending: i64 = app
        .state
        .db(|c| {
            Ok(tokens::table
                .filter(tokens::purpose.eq("change_email"))
                .filter(tokens::used_at.is_null())
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(email_of().await, "otra@example.com");
}

// ----- deletion -----

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Every (table, column, needle) where a column of any table holds the needle as text.
fn find_anywhere(conn: &mut DbConn, needles: &[&str]) -> Vec<String> {
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        DbConn::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public'"
        }
    };
    let columns: Vec<Column> = diesel::sql_query(sql).load(conn).unwrap();
    assert!(columns.len() > 50, "the schema query found the columns");
    let mut found = Vec::new();
    for c in &columns {
        for needle in needles {
            let q = format!(
                "SELECT COUNT(*) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE $1",
                c.table_name, c.column_name
            );
            let q = if conn.is_sqlite() { q.replace("$1", "?") } else { q };
            let n: Count = diesel::sql_query(q)
                .bind::<diesel::sql_types::Text, _>(format!("%{needle}%"))
                .get_result(conn)
                .unwrap();
            if n.n > 0 {
                found.push(format!("{}.{}: {needle}", c.table_name, c.column_name));
            }
        }
    }
    found
}

#[tokio::test]
async fn deleting_an_account_leaves_no_trace_of_the_person_and_the_audit_chain_holds() {
    let app = TestApp::spawn().await;
    let centro = app.group("centro").await;
    let norte = app.group("norte").await;
    let o = app.officer("o@example.com", &centro).await;
    app.assign(&app.user_id("o@example.com").await, &norte).await;
    let name = "Zulema Quiroga";
    let (old_email, email) = ("zulema.vieja@example.com", "zulema.quiroga@example.com");
    let (address, dni, dni_digits, phone) = ("Pasaje Los Ñires 4321", "27.654.321", "27654321", "+54 2964 765432");

    // She registers, confirms, changes her address once, and applies to two groups.
    let z = client();
    app.register_and_confirm(&z, old_email, name).await;
    app.login(&z, old_email, PASSWORD).await;
    app.post(&z, "/account/email", &[("new_email", email), ("email_password", PASSWORD)]).await;
    let path = app.mailed_link(email, "/account/email/confirm/").await;
    app.post_on(&z, &path, &[]).await;
    let zid = app.user_id(email).await;
    let submit = |slug: &'static str| {
        Submission::valid(&app, slug).set("street_address", address).set("dni", dni).set("phone", phone).file(
            "identity_document",
            "dni Zulema Quiroga.png",
            PNG.to_vec(),
        )
    };
    let res = submit("centro").send(&app, &z).await;
    let member_app = application_id(&res);
    app.claim_and_approve(&o, &member_app).await;
    let res = submit("norte").send(&app, &z).await;
    let open_app = application_id(&res);
    // The officer quotes her details; she answers with hers.
    app.claim(&o, &open_app).await;
    let message = format!("Zulema, el domicilio {address} no figura; confirmá el DNI {dni}.");
    app.request_info(&o, &open_app, &message, "residency_proof").await;
    let answer = Submission::answer(app.version(&open_app).await)
        .set("message", &format!("Soy {name}, mi teléfono es {phone}."))
        .file("residency_proof", "factura Quiroga.pdf", PDF.to_vec());
    assert_eq!(app.resubmit(&z, &open_app, answer).await.status(), StatusCode::SEE_OTHER);
    app.claim(&o, &open_app).await;
    // A failed sign-in leaves a throttle row keyed by her address; she downloads her data.
    app.login(&client(), email, "una contraseña equivocada").await;
    assert_eq!(app.get_with(&z, "/account/export").await.status(), StatusCode::OK);
    app.deliver_mail().await;
    // Someone else's data, which must survive.
    let other = app.resident("otro@example.com", "Otro Vecino").await;
    let other_app = app.submit(&other, "centro").await;

    let needles = [name, "Quiroga", old_email, email, address, dni, dni_digits, phone];
    let found = app.state.db(move |c| Ok(find_anywhere(c, &needles))).await.unwrap();
    assert!(found.iter().any(|f| f.starts_with("users.")), "the scan works: {found:?}");

    // Officers cannot delete themselves here; a wrong password changes nothing.
    let res = app.post(&o, "/account/delete", &[("delete_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("comunicate con la jefatura"));
    let res = app.post(&z, "/account/delete", &[("delete_password", "no es la contraseña")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("La contraseña actual no es correcta."));
    assert_eq!(files_of(&app, &member_app).await, 3);
    assert_eq!(app.get_with(&z, "/account").await.status(), StatusCode::OK, "still signed in");

    let blobs_before = app.count("document_blobs").await;
    let res = app.post(&z, "/account/delete", &[("delete_password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");

    // No trace of her anywhere.
    let found = app.state.db(move |c| Ok(find_anywhere(c, &needles))).await.unwrap();
    assert!(found.is_empty(), "personal data left behind: {found:#?}");
    chain_is_intact(&app).await;

    // What stays is the pseudonymous skeleton.
    let user: vecinal::db::models::User = {
        let zid = zid.clone();
        app.state.db(move |c| Ok(users::table.find(zid).first(c)?)).await.unwrap()
    };
    assert_eq!(user.email, format!("deleted-{zid}@invalid"));
    assert!(user.password_hash.is_none() && !user.active && user.deleted_at.is_some());
    let statuses: Vec<(String, String)> = app
        .state
        .db(|c| Ok(applications::table.select((applications::id, applications::status)).load(c)?))
        .await
        .unwrap();
    assert!(statuses.contains(&(open_app.clone(), "withdrawn".to_string())));
    assert!(statuses.contains(&(member_app.clone(), "approved".to_string())));
    let m: vecinal::db::models::Membership = {
        let zid = zid.clone();
        app.state.db(move |c| Ok(memberships::table.filter(memberships::user_id.eq(zid)).first(c)?)).await.unwrap()
    };
    assert_eq!((m.status.as_str(), m.status_reason.as_deref()), ("ended", Some("account_deleted")));
    assert_eq!(files_of(&app, &member_app).await + files_of(&app, &open_app).await, 0);
    assert_eq!(app.count("document_blobs").await, blobs_before - 7);
    assert_eq!(app.documents_of(&member_app).await.len(), 3, "the metadata stays");
    assert!(app.documents_of(&open_app).await.iter().all(|d| d.purged_at.is_some()));
    assert_eq!(files_of(&app, &other_app).await, 3, "other people's files are untouched");
    for action in ["account.deleted", "membership.ended"] {
        assert_eq!(app.audit_count(action).await, 1, "{action}");
    }
    // Officers see who left, without her name.
    let o = app.sign_in("o@example.com").await;
    let review = app.get_with(&o, &format!("/officer/applications/{member_app}")).await.text().await.unwrap();
    assert!(review.contains("Cuenta eliminada") && review.contains("Hay que quitarlo del grupo."), "{review}");

    // Her browser is signed out, her password opens nothing, and she can start again.
    let res = app.get_with(&z, "/account").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login(&client(), email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.register_and_confirm(&client(), email, name).await;
    assert_ne!(app.user_id(email).await, zid, "a new account");
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
        for d in app.documents_of(id).await {
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
    app.group("centro").await;
    app.group("norte").await;
    let c = app.resident("ana@example.com", "Ana Cifrada").await;
    let mut ids = vec![app.submit(&c, "centro").await, app.submit(&c, "norte").await];
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
    app.group("sur").await;
    let fresh = app.submit(&c, "sur").await;
    assert!(app.documents_of(&fresh).await.iter().all(|d| d.key_id == new), "new files under the new key");
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
    let ring = KeyRing::load(None, &app.state.settings.data_dir).unwrap();
    assert_eq!(ring.ids(), std::slice::from_ref(&new));
    for id in &ids {
        for d in app.documents_of(id).await {
            let ring = ring.clone();
            let bytes = app.state.db(move |c| Ok(vecinal::documents::read(c, &ring, &d).unwrap())).await.unwrap();
            assert!(bytes.is_some());
        }
    }
    assert_eq!(app.audit_count("keys.rotation_started").await, 2);
    assert_eq!(app.audit_count("keys.rotation_finished").await, 1);

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
    let app = TestApp::spawn_with(|s| s.document_key = Some(vecinal::app::config::Sensitive([9u8; 32]))).await;
    let err = rotate(&app, RotationOptions::default()).await.unwrap_err().to_string();
    assert!(err.contains("VECINAL_DOCUMENT_KEY") && err.contains("key file"), "{err}");
    let id = vecinal::documents::keys::DocumentKey::from_bytes([9u8; 32]).id;
    assert!(err.contains(&format!("'{id} <the base64 value")), "names the id documents use: {err}");
    assert!(!app.state.settings.data_dir.join(KEY_FILE).exists(), "no key file was made");
    assert_eq!(app.audit_count("keys.rotation_started").await, 0);
}

// ----- backups -----

#[tokio::test]
async fn a_backup_taken_during_writes_opens_and_holds_the_data() {
    let app = TestApp::spawn().await;
    app.group("centro").await;
    let c = app.resident("ana@example.com", "Ana Respaldo").await;
    let id = app.submit(&c, "centro").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("respaldo.db");
    let settings = app.state.settings.clone();
    let now = app.state.clock.now();

    if !settings.database_url.is_sqlite() {
        let err = vecinal::services::backup::backup(&settings, &out, now).unwrap_err().to_string();
        assert!(err.contains("pg_dump"), "{err}");
        assert!(!out.exists());
        return;
    }

    // Writers keep going while the copy is taken.
    let writing = {
        let (app_url, client) = (app.address.clone(), client());
        tokio::spawn(async move {
            // 20: the registrations one client address may make in an hour.
            for n in 0..20 {
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
    let bytes =
        tokio::task::spawn_blocking(move || vecinal::services::backup::backup(&s, &o, now)).await.unwrap().unwrap();
    writing.await.unwrap();
    assert!(bytes > 0);
    let live_users = app.count("users").await;
    assert_eq!(live_users, 21);
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
    assert_eq!(app.audit_count("database.backup_created").await, 1);

    // Never over an existing file.
    let before = std::fs::read(&out).unwrap();
    let err = vecinal::services::backup::backup(&settings, &out, now).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}
