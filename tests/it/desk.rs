//! Enrollment at the police station's desk (issue 15): an officer takes an application in
//! person, another officer decides, decisions wait in the desk notices for residents
//! without e-mail, the card prints, and the resident may claim the account later.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::db::models::Membership;
use vecinal::db::schema::{applications, desk_claims, mail_outbox, users};
use vecinal::domain::Role;

use crate::helpers::*;

const DNI: &str = "27.555.111";
const NAME: &str = "Rosa Ñancucheo";

/// An officer named `name`, assigned to `group`, signed in; the client and the id.
async fn officer(app: &TestApp, email: &str, name: &str, group: &str) -> (reqwest::Client, String) {
    let (c, id) = app.person(Role::Officer, email, name).await;
    app.assign(&id, group).await;
    (c, id)
}

/// What the account and application rows hold for a desk application.
async fn desk_rows(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>, String) {
    let id = id.to_string();
    app.state
        .db(move |c| {
            let (resident, taken_by): (String, Option<String>) =
                applications::table.find(&id).select((applications::resident_id, applications::taken_by)).first(c)?;
            let (email, hash): (String, Option<String>) =
                users::table.find(&resident).select((users::email, users::password_hash)).first(c)?;
            let code_hash: String = desk_claims::table.find(&resident).select(desk_claims::code_hash).first(c)?;
            Ok((email, hash, taken_by, code_hash))
        })
        .await
        .unwrap()
}

/// The alert's text on a page: the one message a refused claim shows.
fn alert(html: &str) -> String {
    let start = html.find("role=\"alert\"").expect("an alert");
    html[start..].split("</div>").next().unwrap().to_string()
}

/// The id of the first notice on the desk notices page.
fn first_notice(html: &str) -> Option<String> {
    let start = html.find("data-notice=\"")? + "data-notice=\"".len();
    Some(html[start..].split('"').next()?.to_string())
}

/// Mails queued to any address in the `.invalid` domain (accounts made without e-mail).
async fn mails_to_nowhere(app: &TestApp) -> i64 {
    app.state
        .db(|c| Ok(mail_outbox::table.filter(mail_outbox::to_address.like("%@invalid")).count().get_result(c)?))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_desk_application_makes_one_account_without_a_password_and_one_submitted_application() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, ana_id) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let users_before = app.count("users").await;

    let (id, code) = app.take_at_desk(&ana, "centro", DNI, NAME).await;

    assert_eq!(app.count("users").await, users_before + 1, "one account");
    assert_eq!(app.count("applications").await, 1, "one application");
    assert_eq!(app.status_of(&id).await.0, "submitted");
    let docs = app.documents_of(&id).await;
    assert_eq!(docs.len(), 3, "the three documents");
    assert_eq!(app.count("document_blobs").await, 3, "stored encrypted like any upload");
    let (email, password_hash, taken_by, code_hash) = desk_rows(&app, &id).await;
    assert!(password_hash.is_none(), "no password");
    assert!(email.ends_with("@invalid"), "no e-mail: an address that receives nothing");
    assert_eq!(taken_by.as_deref(), Some(ana_id.as_str()));
    assert!(code_hash.starts_with("$argon2id$"), "the code is stored as an argon2id hash");
    let plain: String = code.chars().filter(|c| *c != '-').collect();
    assert!(!code_hash.contains(&plain));
    assert_eq!(plain.len(), 10);
    assert!(plain.chars().all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c)), "{code}");

    // The code is shown once; the receipt stays printable without it.
    let again = app.page(&ana, &format!("/officer/desk/{id}/receipt")).await;
    assert!(claim_code_on(&again).is_none(), "shown once");
    assert!(again.contains(NAME) && again.contains("Barrio centro") && again.contains("27.555.111"));
    assert!(again.contains("Emitir un código nuevo"));

    // An account without a password never signs in.
    for password in [PASSWORD, "", "cualquier-cosa-larga"] {
        assert_eq!(app.login(&client(), &email, password).await.status(), StatusCode::UNAUTHORIZED);
    }
    // …nor gets a reset link: its way in is the code.
    let res = app.post(&client(), "/password/forgot", &[("email", &email)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let resets: i64 = app
        .state
        .db(|c| {
            use vecinal::db::schema::tokens;
            Ok(tokens::table.filter(tokens::purpose.eq("reset_password")).count().get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(resets, 0, "no reset link for an account made at the desk");
    assert_eq!(app.audit_count("account.password_reset_requested").await, 0);

    assert_eq!(app.audit_count("account.desk_created").await, 1);
    assert_eq!(app.audit_count("application.submitted").await, 1);
    let review = app.page(&bruno, &format!("/officer/applications/{id}")).await;
    assert!(review.contains("Tomada en mostrador por Ana Gómez"), "the application says who took it");
    app.deliver_mail().await;
    assert_eq!(mails_to_nowhere(&app).await, 0);
}

#[tokio::test]
async fn the_officer_who_took_it_never_approves_another_does_the_card_prints_and_the_notice_waits() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, bruno_id) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (id, _) = app.take_at_desk(&ana, "centro", DNI, NAME).await;

    // Ana may claim it, but not approve it, even in a group with one approval.
    app.claim(&ana, &id).await;
    let review = app.page(&ana, &format!("/officer/applications/{id}")).await;
    assert!(!review.contains(&format!("/officer/applications/{id}/approve")), "no approval form for her");
    let res = app.act(&ana, &id, "approve", app.version(&id).await, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.status_of(&id).await.0, "in_review", "nothing changed");
    app.decide(&ana, &id, "release", &[]).await;

    // Bruno approves.
    app.claim_and_approve(&bruno, &id).await;
    assert_eq!(app.status_of(&id).await.0, "approved");

    // The card, print-styled, with its QR code, for the officers of the group.
    for c in [&ana, &bruno] {
        let card = app.page(c, &format!("/officer/desk/{id}/card")).await;
        assert!(card.contains(NAME) && card.contains("CENTRO-000001"), "{card}");
        assert!(card.contains(&format!("/officer/desk/{id}/card/qr.svg")));
        assert!(card.contains("class=\"member-card\""));
        assert!(card.contains("https://chat.example.org/invite/centro"), "the chat link is on the paper");
        let qr = app.get_with(c, &format!("/officer/desk/{id}/card/qr.svg")).await;
        assert_eq!(qr.status(), StatusCode::OK);
        assert_eq!(qr.headers()["content-type"], "image/svg+xml");
        assert!(qr.text().await.unwrap().contains("<svg"));
    }
    let css = app.get(&link_path(&app.page(&ana, "/").await, "/static/").unwrap()).await.text().await.unwrap();
    assert!(css.contains("@media print") && css.contains(".receipt"), "a print style for the receipt and the card");

    // No mail: the decision waits in the desk notices, with the phone, until someone tells her.
    app.deliver_mail().await;
    assert_eq!(mails_to_nowhere(&app).await, 0);
    let notices = app.page(&ana, "/officer/desk/notices").await;
    assert!(notices.contains(NAME) && notices.contains("2964 555123") && notices.contains("Fue aprobada"));
    let notice = first_notice(&notices).unwrap();
    let res = app.post(&bruno, &format!("/officer/desk/notices/{notice}/told"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!app.page(&ana, "/officer/desk/notices").await.contains(NAME), "gone once told");
    assert_eq!(app.audit_count("desk.notice_told").await, 1);
    let res = app.post(&ana, &format!("/officer/desk/notices/{notice}/told"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "told once");
    assert_eq!(app.audit_count("desk.notice_told").await, 1);
    let told_by: Option<String> = app
        .state
        .db(move |c| {
            use vecinal::db::schema::desk_notices;
            Ok(desk_notices::table.find(&notice).select(desk_notices::told_by).first(c)?)
        })
        .await
        .unwrap();
    assert_eq!(told_by, Some(bruno_id));
}

#[tokio::test]
async fn in_two_approval_groups_the_desk_officer_neither_approves_first_nor_confirms() {
    let app = TestApp::spawn().await;
    let g = app.two_approval_group("doble").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (carla, _) = officer(&app, "carla@policia.example", "Carla Ruiz", &g).await;
    let (id, _) = app.take_at_desk(&ana, "doble", DNI, NAME).await;

    app.claim(&ana, &id).await;
    let res = app.act(&ana, &id, "approve", app.version(&id).await, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "not even the first approval");
    app.decide(&ana, &id, "release", &[]).await;
    app.claim_and_approve(&bruno, &id).await;
    assert_eq!(app.status_of(&id).await.0, "awaiting_second");
    let res = app.act(&ana, &id, "confirm", app.version(&id).await, &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "nor the confirmation");
    assert_eq!(app.status_of(&id).await.0, "awaiting_second");
    app.confirm(&carla, &id).await;
    assert_eq!(app.status_of(&id).await.0, "approved");
}

#[tokio::test]
async fn the_desk_form_reports_every_mistake_at_once_and_stores_nothing() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 64 * 1024).await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let tables = ["users", "applications", "documents", "document_blobs", "desk_claims", "mail_outbox", "audit_log"];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }

    let res = Submission::desk(&app, "centro", DNI, NAME)
        .set("full_name", "")
        .set("dni", "12")
        .set("email", "no-es-un-correo")
        .set("phone", "abc")
        .set("certificate_issued_on", "2001-01-01")
        .set("paper_consent", "")
        .file("criminal_record", "certificado.pdf", b"<html><script>alert(1)</script></html>".to_vec())
        .without_file("identity_document")
        .send_to(&app, &ana, "/officer/desk")
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for field in [
        "full_name",
        "dni",
        "email",
        "phone",
        "certificate_issued_on",
        "criminal_record",
        "identity_document",
        "paper_consent",
    ] {
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{field} reported");
    }
    assert!(html.contains("Calle") || html.contains("Pasaje Los Ñires 55"), "the typed values stay");

    // A file over the limit: 413, before anything is stored.
    let res = Submission::desk(&app, "centro", DNI, NAME)
        .file("residency_proof", "grande.pdf", pdf_of_size(80 * 1024))
        .send_to(&app, &ana, "/officer/desk")
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Without the CSRF token first, refused before anything is read.
    let form = reqwest::multipart::Form::new().text("group", "centro");
    let res = ana.post(app.url("/officer/desk")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    for (t, n) in tables.iter().zip(before) {
        assert_eq!(app.count(t).await, n, "{t} unchanged");
    }
}

#[tokio::test]
async fn an_existing_dni_or_email_is_refused_with_a_link_to_the_record() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    // Online with DNI 30.123.456 (the application form's).
    let (_, existing) = app.applicant("vecina@example.com", "centro").await;
    let tables = ["users", "applications", "documents", "desk_claims"];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }

    for submission in [
        Submission::desk(&app, "centro", "30123456", "Otra Persona"),
        Submission::desk(&app, "centro", "29.000.111", "Otra Persona").set("email", "Vecina@Example.com"),
    ] {
        let res = submission.send_to(&app, &ana, "/officer/desk").await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let html = res.text().await.unwrap();
        assert!(html.contains("Ya existe una cuenta"), "said so");
        assert!(html.contains(&format!("href=\"/officer/applications/{existing}\"")), "links to the record");
    }
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(app.count(t).await, n, "{t}: no second account");
    }

    // A desk account counts too: a second desk application for the same DNI is refused.
    let (id, _) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    let res = Submission::desk(&app, "centro", DNI, NAME).send_to(&app, &ana, "/officer/desk").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains(&format!("/officer/applications/{id}")));
}

#[tokio::test]
async fn desk_routes_are_for_the_officers_of_the_group_only() {
    let app = TestApp::spawn().await;
    let centro = app.group("centro").await;
    let norte = app.group("norte").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &centro).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &centro).await;
    let (nora, _) = officer(&app, "nora@policia.example", "Nora Paz", &norte).await;
    let resident = app.signed_in(Role::Resident, "vecino@example.com").await;
    let boss = app.commissioner("jefa@example.com").await;

    // Another group's neighbourhood: not found, nothing stored.
    let res = Submission::desk(&app, "centro", DNI, NAME).send_to(&app, &nora, "/officer/desk").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("applications").await, 0);
    assert!(!app.page(&nora, "/officer/desk").await.contains("Barrio centro"), "only her groups are offered");

    let (id, _) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    app.claim(&bruno, &id).await;
    app.request_info(&bruno, &id, "Traiga la boleta de luz original.", "residency_proof").await;
    let notice = first_notice(&app.page(&ana, "/officer/desk/notices").await).expect("a notice");
    assert!(app.page(&nora, "/officer/desk/notices").await.contains("No hay avisos"), "not her group's");

    for path in [
        format!("/officer/desk/{id}/receipt"),
        format!("/officer/desk/{id}/card"),
        format!("/officer/desk/{id}/card/qr.svg"),
        "/officer/desk/not-an-id/receipt".to_string(),
    ] {
        assert_eq!(app.get_with(&nora, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Not approved yet: no card, even for the group.
    assert_eq!(app.get_with(&ana, &format!("/officer/desk/{id}/card")).await.status(), StatusCode::NOT_FOUND);
    for path in [format!("/officer/desk/{id}/code"), format!("/officer/desk/notices/{notice}/told")] {
        assert_eq!(app.post(&nora, &path, &[]).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.audit_count("desk.notice_told").await, 0);
    assert_eq!(app.audit_count("desk.code_issued").await, 0);

    // An online application has no desk receipt.
    let (_, online) = app.applicant("vecina@example.com", "centro").await;
    assert_eq!(app.get_with(&ana, &format!("/officer/desk/{online}/receipt")).await.status(), StatusCode::NOT_FOUND);

    // Residents and commissioners are refused; visitors are sent to sign in.
    let gets = [
        "/officer/desk".to_string(),
        "/officer/desk/notices".to_string(),
        format!("/officer/desk/{id}/receipt"),
        format!("/officer/desk/{id}/card"),
        format!("/officer/desk/{id}/card/qr.svg"),
    ];
    let posts = [format!("/officer/desk/{id}/code"), format!("/officer/desk/notices/{notice}/told")];
    for (who, c, status) in
        [("resident", &resident, StatusCode::FORBIDDEN), ("commissioner", &boss, StatusCode::FORBIDDEN)]
    {
        for path in &gets {
            assert_eq!(app.get_with(c, path).await.status(), status, "{who} GET {path}");
        }
        for path in &posts {
            assert_eq!(app.post(c, path, &[]).await.status(), status, "{who} POST {path}");
        }
        let res = Submission::desk(&app, "centro", "28.111.222", "X Y").send_to(&app, c, "/officer/desk").await;
        assert_eq!(res.status(), status, "{who} POST /officer/desk");
    }
    let visitor = client();
    for path in &gets {
        let res = app.get_with(&visitor, path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login"));
    }
    for path in &posts {
        let res = app.post(&visitor, path, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login"));
    }
    assert_eq!(app.count("applications").await, 2);

    // Any officer of the group may issue a new code; the old one stops working.
    let res = app.post(&bruno, &format!("/officer/desk/{id}/code"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let receipt = app.page(&bruno, &location(&res)).await;
    assert!(claim_code_on(&receipt).is_some(), "the new code, shown once");
    assert_eq!(app.audit_count("desk.code_issued").await, 1);
}

#[tokio::test]
async fn a_resident_claims_the_desk_account_and_then_uses_it_online() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (id, code) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    let visitor = client();

    let res = app.post(&visitor, "/claim", &[("dni", "27555112"), ("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a wrong DNI");
    let refused = alert(&res.text().await.unwrap());
    assert!(refused.contains("no son válidos"));

    // Typed as people do: dots in the DNI, lower case, without the hyphen.
    let typed = code.replace('-', " ").to_lowercase();
    let res = app.post(&visitor, "/claim", &[("dni", DNI), ("code", &typed)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = res.text().await.unwrap();
    assert!(second.contains("action=\"/claim/account\""), "the form for address and password");

    // Address and password are checked like at registration; nothing is used up by a mistake.
    let res = app
        .post(&visitor, "/claim/account", &[("dni", DNI), ("code", &typed), ("email", "rosa"), ("password", "corta")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"email-error\"") && html.contains("id=\"password-error\""));
    let taken = app.create_user(Role::Resident, "ocupado@example.com", "Otra").await;
    let res = app
        .post(
            &visitor,
            "/claim/account",
            &[("dni", DNI), ("code", &typed), ("email", "ocupado@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{taken}'s address");

    let res = app
        .post(
            &visitor,
            "/claim/account",
            &[("dni", DNI), ("code", &typed), ("email", "rosa@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    assert_eq!(app.audit_count("account.claimed").await, 1);
    // The address is confirmed by mail, as at registration.
    assert_eq!(app.login(&visitor, "rosa@example.com", PASSWORD).await.status(), StatusCode::FORBIDDEN);
    let link = app.mailed_link("rosa@example.com", "/email/confirm/").await;
    assert_eq!(app.post_on(&visitor, &link, &[]).await.status(), StatusCode::SEE_OTHER);
    let res = app.login(&visitor, "rosa@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/me");
    let me = app.page(&visitor, "/me").await;
    assert!(me.contains("Barrio centro") && me.contains(&format!("/applications/{id}")), "with the application");
    assert_eq!(app.get_with(&visitor, &format!("/applications/{id}")).await.status(), StatusCode::OK);

    // The code worked once: used, it fails with the same message as a wrong DNI.
    let other = client();
    let res = app.post(&other, "/claim", &[("dni", DNI), ("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(alert(&res.text().await.unwrap()), refused);
    let res = app
        .post(
            &other,
            "/claim/account",
            &[("dni", DNI), ("code", &code), ("email", "x@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // From now on decisions reach her by mail, not through the desk.
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    app.claim_and_approve(&bruno, &id).await;
    assert!(app.last_mail_to("rosa@example.com").await.subject.contains("aprob"));
    assert_eq!(app.count("desk_notices").await, 0);
}

#[tokio::test]
async fn an_expired_code_fails_like_a_wrong_one() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (_, code) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    let wrong = app.post(&client(), "/claim", &[("dni", "27555112"), ("code", &code)]).await;
    let refused = alert(&wrong.text().await.unwrap());

    // 90 days and a minute later.
    app.state.clock.advance(chrono::Duration::days(90) + chrono::Duration::minutes(1));
    let res = app.post(&client(), "/claim", &[("dni", DNI), ("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(alert(&res.text().await.unwrap()), refused);
    assert_eq!(app.audit_count("account.claimed").await, 0);
}

#[tokio::test]
async fn wrong_claim_codes_are_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (_, code) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    let wrong = if code.starts_with('A') { "BBBBB-BBBBB" } else { "AAAAA-AAAAA" };
    let c = client();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.post(&c, "/claim", &[("dni", DNI), ("code", wrong)]).await.status());
    }
    assert_eq!(&statuses[..3], &[StatusCode::UNAUTHORIZED; 3], "three free attempts, as for an account");
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    // While blocked, even the right code waits.
    let res = app.post(&c, "/claim", &[("dni", DNI), ("code", &code)]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert!(app.audit_count("account.claim_failed").await >= 3);
}

#[tokio::test]
async fn oversight_counts_desk_and_online_and_names_who_took_it() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, ana_id) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, bruno_id) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (boss, _) = app.person(Role::Commissioner, "jefa@policia.example", "Marta Jefa").await;
    let (_, online) = app.applicant("vecina@example.com", "centro").await;
    app.claim_and_approve(&bruno, &online).await;
    let (desk, _) = app.take_at_desk(&ana, "centro", DNI, NAME).await;
    app.claim_and_approve(&bruno, &desk).await;
    let (other_desk, _) = app.take_at_desk(&ana, "centro", "28.999.000", "Juan Otro").await;
    let resident_id: String = app
        .state
        .db(move |c| Ok(applications::table.find(&desk).select(applications::resident_id).first(c)?))
        .await
        .unwrap();

    let page = app.page(&boss, "/commissioner?days=30").await;
    let row = |attr: &str, id: &str| -> String {
        let start = page.find(&format!("{attr}=\"{id}\"")).unwrap_or_else(|| panic!("{attr} {id}"));
        page[start..].split("</tr>").next().unwrap().to_string()
    };
    let figure = |row: &str, k: &str| -> i64 {
        let start = row.find(&format!("data-k=\"{k}\" data-v=\"")).unwrap() + format!("data-k=\"{k}\" data-v=\"").len();
        row[start..].split('"').next().unwrap().parse().unwrap()
    };
    let group = row("data-channels-group", &g);
    assert_eq!((figure(&group, "online"), figure(&group, "desk")), (1, 2));
    let a = row("data-channels-officer", &ana_id);
    assert_eq!((figure(&a, "taken"), figure(&a, "decided_desk"), figure(&a, "decided_online")), (2, 0, 0));
    let b = row("data-channels-officer", &bruno_id);
    assert_eq!((figure(&b, "taken"), figure(&b, "decided_desk"), figure(&b, "decided_online")), (0, 1, 1));

    // The audit log and the person's record say who took it, in both languages.
    let log = app.page(&boss, &format!("/commissioner/audit?subject_type=application&subject_id={other_desk}")).await;
    assert!(log.contains("Ana Gómez tomó en el mostrador la solicitud"), "{log}");
    let person = app.page(&boss, &format!("/commissioner/people/{resident_id}")).await;
    assert!(person.contains("Tomada en mostrador por Ana Gómez"));
    assert!(person.contains("creó en el mostrador la cuenta de"));
    let res = app.post(&boss, "/language", &[("lang", "en")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let log = app.page(&boss, &format!("/commissioner/audit?subject_type=application&subject_id={other_desk}")).await;
    assert!(log.contains("Ana Gómez took at the desk the application"), "{log}");
    let person = app.page(&boss, &format!("/commissioner/people/{resident_id}")).await;
    assert!(person.contains("Taken at the desk by Ana Gómez"));
}

// ----- membership changes and reminders for members without e-mail -----

/// The untold notices of each kind, as (kind, membership id) pairs, oldest first.
async fn notice_rows(app: &TestApp) -> Vec<(String, Option<String>, bool)> {
    app.state
        .db(|c| {
            use vecinal::db::schema::desk_notices;
            Ok(desk_notices::table
                .order((desk_notices::created_at.asc(), desk_notices::id.asc()))
                .select((desk_notices::kind, desk_notices::membership_id, desk_notices::told_at.is_not_null()))
                .load::<(String, Option<String>, bool)>(c)?)
        })
        .await
        .unwrap()
}

/// The notice cards on the list, each as its id, kind and text.
fn notice_cards(html: &str) -> Vec<(String, String, String)> {
    html.split("data-notice=\"")
        .skip(1)
        .map(|card| {
            let id = card.split('"').next().unwrap().to_string();
            let kind = card.split("data-kind=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            (id, kind, card.split("</li>").next().unwrap().to_string())
        })
        .collect()
}

/// A member without e-mail: `ana` takes Rosa's application at the desk, `bruno` approves
/// it and tells her (the approval's notice marked told). Her user id and membership.
async fn desk_member(app: &TestApp, ana: &reqwest::Client, bruno: &reqwest::Client) -> (String, Membership) {
    let (id, _) = app.take_at_desk(ana, "centro", DNI, NAME).await;
    app.claim_and_approve(bruno, &id).await;
    let notice = first_notice(&app.page(bruno, "/officer/desk/notices").await).expect("the approval's notice");
    assert_eq!(
        app.post(bruno, &format!("/officer/desk/notices/{notice}/told"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let resident: String = app
        .state
        .db(move |c| Ok(applications::table.find(&id).select(applications::resident_id).first(c)?))
        .await
        .unwrap();
    let m = app.memberships_of(&resident).await.remove(0);
    (resident, m)
}

#[tokio::test]
async fn suspension_reinstatement_and_revocation_of_a_desk_member_are_desk_notices_not_mail() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let norte = app.group("norte").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (nora, _) = officer(&app, "nora@policia.example", "Nora Paz", &norte).await;
    let boss = app.commissioner("jefa@policia.example").await;
    let (_, m) = desk_member(&app, &ana, &bruno).await;
    let base = format!("/officer/memberships/{}", m.id);
    let outbox = app.count("mail_outbox").await;

    // Suspended: one notice with the reason, the membership's number and its page.
    let res = app.post(&bruno, &format!("{base}/suspend"), &[("reason", "Mensajes agresivos en el grupo")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let untold = |rows: &[(String, Option<String>, bool)]| -> Vec<String> {
        rows.iter().filter(|r| !r.2).map(|r| r.0.clone()).collect()
    };
    let rows = notice_rows(&app).await;
    assert_eq!(untold(&rows), ["suspended"]);
    assert_eq!(rows.last().unwrap().1.as_deref(), Some(m.id.as_str()), "the notice names the membership");
    let list = app.page(&ana, "/officer/desk/notices").await;
    let cards = notice_cards(&list);
    assert_eq!(cards.len(), 1);
    let (suspended, kind, card) = &cards[0];
    assert_eq!(kind, "suspended");
    assert!(
        card.contains(&format!("Membresía {} suspendida. Motivo: Mensajes agresivos en el grupo.", m.number)),
        "{card}"
    );
    assert!(card.contains("2964 555123") && card.contains(NAME) && card.contains("Barrio centro"));
    assert!(card.contains(&format!("href=\"/officer/memberships/{}\"", m.id)), "links to the membership");
    assert!(card.contains(&format!("href=\"/officer/applications/{}\"", m.application_id)), "and to the application");
    assert_eq!(app.get_with(&ana, &format!("/officer/memberships/{}", m.id)).await.status(), StatusCode::OK);

    // Another group's officer neither sees nor marks it.
    assert!(app.page(&nora, "/officer/desk/notices").await.contains("No hay avisos"));
    assert_eq!(
        app.post(&nora, &format!("/officer/desk/notices/{suspended}/told"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // Reinstated, then revoked by a commissioner: one notice each.
    assert_eq!(app.post(&bruno, &format!("{base}/reinstate"), &[]).await.status(), StatusCode::SEE_OTHER);
    let res =
        app.post(&boss, &format!("/commissioner/memberships/{}/revoke", m.id), &[("reason", "Condena firme")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(untold(&notice_rows(&app).await), ["suspended", "reinstated", "revoked"]);
    let list = app.page(&ana, "/officer/desk/notices").await;
    let cards = notice_cards(&list);
    assert!(
        cards[0].2.contains("la membresía cambió desde entonces"),
        "the reason of a suspension since lifted is not given"
    );
    assert!(cards[1].2.contains(&format!("Se levantó la suspensión de la membresía {}", m.number)));
    assert!(
        cards[2].2.contains(&format!("Membresía {} revocada de forma definitiva. Motivo: Condena firme.", m.number))
    );

    // No mail to the address that receives nothing.
    app.deliver_mail().await;
    assert_eq!(mails_to_nowhere(&app).await, 0);
    assert_eq!(app.count("mail_outbox").await, outbox, "no mail at all");

    // Told: gone from the list, audited about the membership.
    for (id, _, _) in &cards {
        assert_eq!(
            app.post(&ana, &format!("/officer/desk/notices/{id}/told"), &[]).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert!(app.page(&bruno, "/officer/desk/notices").await.contains("No hay avisos"));
    assert_eq!(app.audit_count("desk.notice_told").await, 4, "the approval's and the three changes'");
    let log = app.page(&boss, &format!("/commissioner/audit?subject_type=membership&subject_id={}", m.id)).await;
    assert!(
        log.contains(&format!("avisó a {NAME} por teléfono o en el mostrador del cambio en la membresía {}", m.number)),
        "{log}"
    );
}

#[tokio::test]
async fn the_reminder_job_leaves_one_renewal_notice_for_a_desk_member_and_mails_a_member_with_email() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (_, m) = desk_member(&app, &ana, &bruno).await;
    let (_, online) = app.member("vecina@example.com", "centro", &bruno).await;
    let online_member = app.memberships_of(&app.user_id("vecina@example.com").await).await.remove(0);
    assert_eq!(online_member.application_id.as_str(), online);

    // 30 days before the end: a mail for her, a notice for Rosa.
    let days_to_30 = (m.valid_until - app.today()).num_days() - 30;
    app.state.clock.advance(chrono::Duration::days(days_to_30));
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 2);
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 0, "once");
    let mail = app.last_mail_to("vecina@example.com").await;
    assert!(mail.subject.contains("vence pronto"), "{}", mail.subject);
    let untold: Vec<_> = notice_rows(&app).await.into_iter().filter(|r| !r.2).collect();
    assert_eq!(untold, [("renewal_due".to_string(), Some(m.id.to_string()), false)], "only Rosa's");
    let until = m.valid_until.format("%d/%m/%Y").to_string();
    let ana = app.sign_in("ana@policia.example").await;
    let list = app.page(&ana, "/officer/desk/notices").await;
    assert!(
        list.contains(&format!(
            "La membresía {} vence el {until} (faltan 30 días): puede renovarla en el mostrador",
            m.number
        )),
        "{list}"
    );

    // 7 days before: the reminder is sent, but the notice still waiting says it already,
    // with the days counted from today.
    app.state.clock.advance(chrono::Duration::days(23));
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 2);
    assert_eq!(app.audit_count("membership.reminded").await, 4);
    assert_eq!(notice_rows(&app).await.iter().filter(|r| !r.2).count(), 1, "one notice");
    let ana = app.sign_in("ana@policia.example").await;
    let list = app.page(&ana, "/officer/desk/notices").await;
    assert!(list.contains(&format!("vence el {until} (faltan 7 días)")), "{list}");
    app.deliver_mail().await;
    assert_eq!(mails_to_nowhere(&app).await, 0);

    // After the last day it says so.
    app.state.clock.advance(chrono::Duration::days(8));
    vecinal::jobs::run_once(&app.state).await.unwrap();
    let ana = app.sign_in("ana@policia.example").await;
    let list = app.page(&ana, "/officer/desk/notices").await;
    assert!(list.contains(&format!("La membresía {} venció el {until}", m.number)), "{list}");
    let notice = first_notice(&list).unwrap();
    assert_eq!(
        app.post(&ana, &format!("/officer/desk/notices/{notice}/told"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(app.page(&ana, "/officer/desk/notices").await.contains("No hay avisos"));
}

#[tokio::test]
async fn a_member_with_a_confirmed_address_is_mailed_the_changes_and_gets_no_notice() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    app.member("vecina@example.com", "centro", &bruno).await;
    let m = app.memberships_of(&app.user_id("vecina@example.com").await).await.remove(0);
    let base = format!("/officer/memberships/{}", m.id);
    assert_eq!(
        app.post(&bruno, &format!("{base}/suspend"), &[("reason", "Revisión")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(app.last_mail_to("vecina@example.com").await.subject.contains("suspendida"));
    assert_eq!(app.post(&bruno, &format!("{base}/reinstate"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.post(&bruno, &format!("{base}/revoke"), &[("reason", "Fin")]).await.status(), StatusCode::SEE_OTHER);
    assert!(app.last_mail_to("vecina@example.com").await.subject.contains("revocada"));
    assert_eq!(app.count("desk_notices").await, 0);
}

// ----- renewal at the desk -----

#[tokio::test]
async fn a_desk_member_renews_at_the_desk_and_another_officer_approves() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let norte = app.group("norte").await;
    let (ana, _) = officer(&app, "ana@policia.example", "Ana Gómez", &g).await;
    let (bruno, _) = officer(&app, "bruno@policia.example", "Bruno Díaz", &g).await;
    let (_, m) = desk_member(&app, &ana, &bruno).await;
    app.member("vecina@example.com", "centro", &bruno).await;
    let online = app.memberships_of(&app.user_id("vecina@example.com").await).await.remove(0);
    let renew = format!("/officer/desk/renew/{}", m.id);
    assert_eq!(app.get_with(&ana, &renew).await.status(), StatusCode::NOT_FOUND, "not yet in its renewal window");

    // 20 days before the last day.
    let days = (m.valid_until - app.today()).num_days() - 20;
    app.state.clock.advance(chrono::Duration::days(days));
    let ana = app.sign_in("ana@policia.example").await;
    let bruno = app.sign_in("bruno@policia.example").await;
    let (nora, _) = officer(&app, "nora@policia.example", "Nora Paz", &norte).await;
    let boss = app.commissioner("jefa@policia.example").await;

    // The desk form offers it for her DNI; her membership's page too, to officers.
    let res = Submission::desk(&app, "centro", DNI, NAME).send_to(&app, &ana, "/officer/desk").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains(&format!("href=\"{renew}\"")), "the renewal is offered");
    assert!(app.page(&ana, &format!("/officer/memberships/{}", m.id)).await.contains(&format!("href=\"{renew}\"")));
    assert!(!app.page(&boss, &format!("/officer/memberships/{}", m.id)).await.contains(&renew));
    // Not for someone who can renew online, nor for another group's officer.
    let online_renew = format!("/officer/desk/renew/{}", online.id);
    assert_eq!(app.get_with(&ana, &online_renew).await.status(), StatusCode::NOT_FOUND);
    assert!(!app.page(&ana, &format!("/officer/memberships/{}", online.id)).await.contains(&online_renew));
    assert_eq!(app.get_with(&nora, &renew).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&boss, &renew).await.status(), StatusCode::FORBIDDEN);
    let form = app.page(&ana, &renew).await;
    assert!(form.contains("value=\"Pasaje Los Ñires 55\"") && form.contains(&m.number) && form.contains("27.555.111"));

    // The online renewal's checks, plus the paper consent; nothing stored on a mistake.
    let before = (app.count("applications").await, app.count("documents").await);
    let res = Submission::renewal(&app, "Calle Nueva 99").set("paper_consent", "yes").send_to(&app, &ana, &renew).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a new address needs a new proof");
    let res = Submission::renewal(&app, "Pasaje Los Ñires 55").send_to(&app, &ana, &renew).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"paper_consent-error\""));
    assert_eq!((app.count("applications").await, app.count("documents").await), before);
    let res =
        Submission::renewal(&app, "Pasaje Los Ñires 55").set("paper_consent", "yes").send_to(&app, &nora, &renew).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "another group's officer");
    assert_eq!((app.count("applications").await, app.count("documents").await), before);

    let submitted = app.audit_count("application.submitted").await;
    let res =
        Submission::renewal(&app, "Pasaje Los Ñires 55").set("paper_consent", "yes").send_to(&app, &ana, &renew).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = location(&res);
    let id = to.trim_start_matches("/officer/desk/").trim_end_matches("/receipt").to_string();
    let (renewal_of, taken_by, resident): (Option<String>, Option<String>, String) = {
        let id = id.clone();
        app.state
            .db(move |c| {
                Ok(applications::table
                    .find(&id)
                    .select((applications::renewal_of, applications::taken_by, applications::resident_id))
                    .first(c)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(renewal_of.as_deref(), Some(m.id.as_str()));
    assert!(taken_by.is_some());
    assert_eq!(resident, m.user_id.as_str(), "the same account");
    assert_eq!(app.status_of(&id).await.0, "submitted");
    assert_eq!(app.documents_of(&id).await.len(), 1, "the new certificate");
    assert_eq!(app.audit_count("application.submitted").await, submitted + 1);
    let receipt = app.page(&ana, &to).await;
    assert!(receipt.contains(&m.number) && receipt.contains(NAME) && receipt.contains("Ana Gómez"));
    let review = app.page(&bruno, &format!("/officer/applications/{id}")).await;
    assert!(
        review.contains("Renovación de una membresía existente")
            && review.contains("Tomada en mostrador por Ana Gómez")
    );

    // One open application at a time.
    let res =
        Submission::renewal(&app, "Pasaje Los Ñires 55").set("paper_consent", "yes").send_to(&app, &ana, &renew).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains(&format!("/officer/applications/{id}")));

    // Ana took it, so she cannot approve it; Bruno does. The number stays, the period grows,
    // and Rosa is told at the desk, with the card to print again.
    app.claim(&ana, &id).await;
    let res = app.act(&ana, &id, "approve", app.version(&id).await, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.decide(&ana, &id, "release", &[]).await;
    app.claim_and_approve(&bruno, &id).await;
    let after = app.memberships_of(m.user_id.as_str()).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].number, m.number);
    assert_eq!(after[0].valid_until, m.valid_until + chrono::Duration::days(365));
    let cards = notice_cards(&app.page(&ana, "/officer/desk/notices").await);
    assert!(cards.iter().any(|(_, kind, text)| kind == "approved" && text.contains(NAME)), "{cards:?}");
    let card = app.page(&ana, &format!("/officer/desk/{id}/card")).await;
    assert!(card.contains(&m.number) && card.contains(&after[0].valid_until.format("%d/%m/%Y").to_string()), "{card}");
    app.deliver_mail().await;
    assert_eq!(mails_to_nowhere(&app).await, 0);
    assert_eq!(app.get_with(&ana, &renew).await.status(), StatusCode::NOT_FOUND, "renewed: closed again");
}
