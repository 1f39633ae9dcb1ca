//! Officers review: staff invitations, the queue, decisions, memberships on approval.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::db::models::Membership;
use vecinal::db::schema::{applications, audit_log, memberships, users};
use vecinal::domain::Role;

use crate::applications::{assign, create_group, submitted_application};
use crate::helpers::*;

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = email.to_string();
    app.state.db(move |c| Ok(users::table.filter(users::email.eq(email)).select(users::id).first(c)?)).await.unwrap()
}

async fn status_of(app: &TestApp, id: &str) -> (String, i32) {
    let id = id.to_string();
    app.state
        .db(move |c| Ok(applications::table.find(id).select((applications::status, applications::version)).first(c)?))
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.state.db(|c| Ok(audit_log::table.select(audit_log::action).order(audit_log::seq.asc()).load(c)?)).await.unwrap()
}

/// An officer signed in and assigned to `group_id`.
async fn officer(app: &TestApp, email: &str, group_id: &str) -> reqwest::Client {
    let c = app.signed_in(Role::Officer, email).await;
    assign(app, &user_id(app, email).await, group_id).await;
    c
}

async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    id: &str,
    action: &str,
    version: i32,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let v = version.to_string();
    let mut fields = vec![("version", v.as_str())];
    fields.extend_from_slice(extra);
    app.post(c, &format!("/officer/applications/{id}/{action}"), &fields).await
}

const CHECKLIST: [(&str, &str); 4] =
    [("check_address", "on"), ("check_identity", "on"), ("check_certificate_date", "on"), ("check_no_record", "on")];

/// A resident with a submitted application to the group `slug`.
async fn application(app: &TestApp, slug: &str, email: &str) -> String {
    let c = app.signed_in(Role::Resident, email).await;
    submitted_application(app, &c, slug).await
}

#[tokio::test]
async fn an_invited_officer_sets_a_password_and_signs_in() {
    let app = TestApp::spawn().await;
    let group = create_group(&app, "centro", false).await;
    let boss = app.signed_in(Role::Commissioner, "jefa@example.com").await;

    let bad = app
        .post(
            &boss,
            "/commissioner/staff",
            &[("full_name", "Ana Oficial"), ("email", "ana.oficial@example.com"), ("role", "officer")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "an officer needs a group");
    let res = app
        .post(
            &boss,
            "/commissioner/staff",
            &[
                ("full_name", "Ana Oficial"),
                ("email", "ana.oficial@example.com"),
                ("role", "officer"),
                ("groups", &group),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let taken = app
        .post(
            &boss,
            "/commissioner/staff",
            &[("full_name", "Otra"), ("email", "ana.oficial@example.com"), ("role", "officer"), ("groups", &group)],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // No password yet: nobody can sign in as the invited account.
    assert_eq!(app.login(&client(), "ana.oficial@example.com", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let mail = app.last_mail_to("ana.oficial@example.com").await;
    let path = link_path(&mail.text, "/invite/").expect("invitation link");
    let c = client();
    let token = app.csrf_token(&c, &path).await;
    let weak = c
        .post(app.url(&path))
        .form(&[("csrf_token", token.as_str()), ("password", "123456789012")])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res =
        c.post(app.url(&path)).form(&[("csrf_token", token.as_str()), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND, "single use");
    let res = app.login(&c, "ana.oficial@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/officer");
    let home = app.get_with(&c, "/officer").await.text().await.unwrap();
    assert!(home.contains("Barrio centro"), "the assigned group is on the officer's page");
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"staff.invited".to_string()) && actions.contains(&"staff.invite_accepted".to_string()));
}

#[tokio::test]
async fn officers_see_only_their_groups() {
    let app = TestApp::spawn().await;
    let a = create_group(&app, "centro", false).await;
    let b = create_group(&app, "norte", false).await;
    let id = application(&app, "norte", "vecina@example.com").await;
    let officer_a = officer(&app, "a@example.com", &a).await;
    let officer_b = officer(&app, "b@example.com", &b).await;
    assert_eq!(app.get_with(&officer_a, &format!("/officer/applications/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(act(&app, &officer_a, &id, "claim", 1, &[]).await.status(), StatusCode::NOT_FOUND);
    let doc: String = {
        let id = id.clone();
        app.state
            .db(move |c| {
                use vecinal::db::schema::documents;
                Ok(documents::table.filter(documents::application_id.eq(id)).select(documents::id).first(c)?)
            })
            .await
            .unwrap()
    };
    assert_eq!(
        app.get_with(&officer_a, &format!("/applications/{id}/documents/{doc}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!app.get_with(&officer_a, "/officer").await.text().await.unwrap().contains(&id));
    assert!(app.get_with(&officer_b, "/officer").await.text().await.unwrap().contains(&id));
    assert_eq!(app.get_with(&officer_b, &format!("/officer/applications/{id}")).await.status(), StatusCode::OK);
    assert_eq!(status_of(&app, &id).await, ("submitted".into(), 1), "nothing moved");
}

#[tokio::test]
async fn claim_and_approve_issue_one_membership_and_tell_the_resident() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let resident = app.signed_in(Role::Resident, "vecina@example.com").await;
    let id = submitted_application(&app, &resident, "centro").await;
    let o = officer(&app, "o@example.com", &g).await;

    assert_eq!(act(&app, &o, &id, "claim", 1, &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, ("in_review".into(), 2));
    let incomplete = act(&app, &o, &id, "approve", 2, &CHECKLIST[..3]).await;
    assert_eq!(incomplete.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.text().await.unwrap().contains("confirmar los cuatro puntos"));
    assert_eq!(status_of(&app, &id).await.0, "in_review");

    assert_eq!(act(&app, &o, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, ("approved".into(), 3));
    let ms: Vec<Membership> = app.state.db(|c| Ok(memberships::table.load(c)?)).await.unwrap();
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    assert_eq!(m.status, "active");
    assert_eq!(m.number, "CENTRO-000001");
    let today = app.today();
    assert_eq!(m.valid_from, today);
    assert_eq!(m.valid_until, today + chrono::Duration::days(364));
    assert_eq!(m.application_id, id);

    let mail = app.last_mail_to("vecina@example.com").await;
    assert!(mail.subject.contains("aprobada"), "{}", mail.subject);
    assert!(mail.text.contains("CENTRO-000001"));
    assert!(mail.text.contains("https://chat.example.org/invite/centro"));
    let me = app.get_with(&resident, "/me").await.text().await.unwrap();
    assert!(me.contains("CENTRO-000001") && me.contains("https://chat.example.org/invite/centro"));
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"application.claimed".to_string()));
    assert!(actions.contains(&"application.approved".to_string()));
    // Approved is final: nothing else moves it, and a member cannot apply again.
    assert_eq!(
        act(&app, &o, &id, "reject", 3, &[("reason_code", "other"), ("note", "x")]).await.status(),
        StatusCode::CONFLICT
    );
    let again = Submission::valid(&app, "centro").send(&app, &resident).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Ya sos miembro vigente"));
}

#[tokio::test]
async fn reject_and_request_info_tell_the_resident_and_keep_internal_notes_internal() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let resident = app.signed_in(Role::Resident, "vecina@example.com").await;
    let id = submitted_application(&app, &resident, "centro").await;
    let o = officer(&app, "o@example.com", &g).await;
    act(&app, &o, &id, "claim", 1, &[]).await;

    let no_kinds = act(&app, &o, &id, "request-info", 2, &[("message", "Mandá el certificado otra vez")]).await;
    assert_eq!(no_kinds.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = act(
        &app,
        &o,
        &id,
        "request-info",
        2,
        &[("message", "El certificado está borroso"), ("kinds", "criminal_record")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, ("needs_info".into(), 3));
    let mail = app.last_mail_to("vecina@example.com").await;
    assert!(mail.text.contains("El certificado está borroso"));
    assert!(mail.text.contains("Certificado de antecedentes penales"));
    assert!(
        app.get_with(&resident, &format!("/applications/{id}"))
            .await
            .text()
            .await
            .unwrap()
            .contains("El certificado está borroso")
    );

    // The resident answers; the officer claims again and rejects.
    let res = Submission::answer(3)
        .file("criminal_record", "c.pdf", PDF.to_vec())
        .send_to(&app, &resident, &format!("/applications/{id}/resubmit"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    act(&app, &o, &id, "claim", 4, &[]).await;
    let bad = act(&app, &o, &id, "reject", 5, &[("reason_code", "made_up")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = act(
        &app,
        &o,
        &id,
        "reject",
        5,
        &[
            ("reason_code", "record_found"),
            ("note", "El certificado registra una causa."),
            ("internal_note", "Consultado con fiscalía"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await.0, "rejected");
    let mail = app.last_mail_to("vecina@example.com").await;
    assert!(mail.subject.contains("rechazada"));
    assert!(mail.text.contains("El certificado registra antecedentes"), "the reason in words");
    assert!(mail.text.contains("El certificado registra una causa."), "the note");
    assert!(!mail.text.contains("fiscalía") && !mail.html.contains("fiscalía"), "never the internal note");
    let page = app.get_with(&resident, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(!page.contains("fiscalía"), "the resident's timeline hides internal notes");
    let officer_page = app.get_with(&o, &format!("/officer/applications/{id}")).await.text().await.unwrap();
    assert!(officer_page.contains("Consultado con fiscalía"), "staff see it");
    assert!(audit_actions(&app).await.contains(&"application.rejected".to_string()));
}

#[tokio::test]
async fn two_officers_claiming_at_once_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let id = application(&app, "centro", "vecina@example.com").await;
    let o1 = officer(&app, "o1@example.com", &g).await;
    let o2 = officer(&app, "o2@example.com", &g).await;
    let (r1, r2) = tokio::join!(act(&app, &o1, &id, "claim", 1, &[]), act(&app, &o2, &id, "claim", 1, &[]));
    let mut codes = [r1.status().as_u16(), r2.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [303, 409]);
    assert_eq!(status_of(&app, &id).await, ("in_review".into(), 2));
    let claims = audit_actions(&app).await.iter().filter(|a| *a == "application.claimed").count();
    assert_eq!(claims, 1);
}

#[tokio::test]
async fn a_stale_version_gets_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let id = application(&app, "centro", "vecina@example.com").await;
    let o = officer(&app, "o@example.com", &g).await;
    act(&app, &o, &id, "claim", 1, &[]).await;
    let res = act(&app, &o, &id, "approve", 1, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("Recargá la página"));
    assert_eq!(status_of(&app, &id).await, ("in_review".into(), 2));
    let n: i64 = app.state.db(|c| Ok(memberships::table.count().get_result(c)?)).await.unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn with_two_approvals_another_officer_must_confirm() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "doble", true).await;
    let id = application(&app, "doble", "vecina@example.com").await;
    let first = officer(&app, "uno@example.com", &g).await;
    let second = officer(&app, "dos@example.com", &g).await;
    act(&app, &first, &id, "claim", 1, &[]).await;
    // Only the claimer decides.
    assert_eq!(act(&app, &second, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(act(&app, &first, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, ("awaiting_second".into(), 3));
    assert_eq!(
        act(&app, &first, &id, "confirm", 3, &[]).await.status(),
        StatusCode::FORBIDDEN,
        "not their own approval"
    );
    assert_eq!(status_of(&app, &id).await.0, "awaiting_second");
    let n: i64 = app.state.db(|c| Ok(memberships::table.count().get_result(c)?)).await.unwrap();
    assert_eq!(n, 0, "no membership before the second approval");
    assert_eq!(act(&app, &second, &id, "confirm", 3, &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await.0, "approved");
    let n: i64 = app.state.db(|c| Ok(memberships::table.count().get_result(c)?)).await.unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn deactivating_an_officer_ends_the_session_and_releases_claims() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let id = application(&app, "centro", "vecina@example.com").await;
    let o = officer(&app, "o@example.com", &g).await;
    act(&app, &o, &id, "claim", 1, &[]).await;
    let boss = app.signed_in(Role::Commissioner, "jefa@example.com").await;
    let oid = user_id(&app, "o@example.com").await;
    let res = app.post(&boss, &format!("/commissioner/staff/{oid}/deactivate"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = app.get_with(&o, "/officer").await;
    assert_eq!(next.status(), StatusCode::SEE_OTHER, "signed out on the next request");
    assert_eq!(status_of(&app, &id).await, ("submitted".into(), 3), "the claim went back to the queue");
    assert_eq!(app.login(&client(), "o@example.com", PASSWORD).await.status(), StatusCode::FORBIDDEN);
    // A commissioner cannot lock themselves out.
    let me = user_id(&app, "jefa@example.com").await;
    assert_eq!(
        app.post(&boss, &format!("/commissioner/staff/{me}/deactivate"), &[]).await.status(),
        StatusCode::CONFLICT
    );
    // Staff pages are for commissioners only.
    let o2 = officer(&app, "o2@example.com", &g).await;
    assert_eq!(app.get_with(&o2, "/commissioner/staff").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&o2, &format!("/commissioner/staff/{oid}/activate"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_lapsed_claim_can_be_taken_by_another_officer() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let id = application(&app, "centro", "vecina@example.com").await;
    let o1 = officer(&app, "o1@example.com", &g).await;
    let o2 = officer(&app, "o2@example.com", &g).await;
    act(&app, &o1, &id, "claim", 1, &[]).await;
    assert_eq!(act(&app, &o2, &id, "claim", 2, &[]).await.status(), StatusCode::CONFLICT);
    app.state.clock.advance(chrono::Duration::hours(25));
    // Staff idle out after 30 minutes: sign in again.
    let o2 = client();
    app.login(&o2, "o2@example.com", PASSWORD).await;
    assert_eq!(act(&app, &o2, &id, "claim", 2, &[]).await.status(), StatusCode::SEE_OTHER);
    let claimer: Option<String> = {
        let id = id.clone();
        app.state
            .db(move |c| Ok(applications::table.find(id).select(applications::claimed_by).first(c)?))
            .await
            .unwrap()
    };
    assert_eq!(claimer, Some(user_id(&app, "o2@example.com").await));
}

#[tokio::test]
async fn the_lapsed_claims_job_puts_applications_back() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let id = application(&app, "centro", "vecina@example.com").await;
    let o = officer(&app, "o@example.com", &g).await;
    act(&app, &o, &id, "claim", 1, &[]).await;
    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.claims_released, 0);
    app.state.clock.advance(chrono::Duration::hours(24));
    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.claims_released, 1);
    assert_eq!(status_of(&app, &id).await.0, "submitted");
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().claims_released, 0, "idempotent");
}

#[tokio::test]
async fn officers_are_told_of_new_applications_as_they_chose() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let now_officer = officer(&app, "ya@example.com", &g).await;
    let daily_officer = officer(&app, "diario@example.com", &g).await;
    let quiet_officer = officer(&app, "nada@example.com", &g).await;
    let _ = now_officer;
    assert_eq!(
        app.post(&daily_officer, "/account/notifications", &[("notify", "daily")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(&quiet_officer, "/account/notifications", &[("notify", "off")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(&quiet_officer, "/account/notifications", &[("notify", "hourly")]).await.status(),
        StatusCode::BAD_REQUEST
    );

    let id = application(&app, "centro", "vecina@example.com").await;
    let mails = app.deliver_mail().await;
    let to = |who: &str| mails.iter().filter(|m| m.to == who).count();
    assert_eq!(to("ya@example.com"), 1);
    assert_eq!(to("diario@example.com"), 0);
    assert_eq!(to("nada@example.com"), 0);
    let immediate = mails.iter().find(|m| m.to == "ya@example.com").unwrap();
    assert!(immediate.text.contains(&format!("/officer/applications/{id}")));
    assert!(!immediate.text.contains("30.123.456"), "no personal data in the notice");

    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.digests, 1);
    let digest = app.last_mail_to("diario@example.com").await;
    assert!(digest.text.contains("llegaron 1 solicitudes nuevas"), "{}", digest.text);
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().digests, 0, "once a day");
    // Residents cannot choose officer notices.
    let resident = app.signed_in(Role::Resident, "r@example.com").await;
    assert_eq!(
        app.post(&resident, "/account/notifications", &[("notify", "off")]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_queue_paginates_oldest_first_across_equal_timestamps() {
    let app = TestApp::spawn().await;
    let g = create_group(&app, "centro", false).await;
    let o = officer(&app, "o@example.com", &g).await;
    let resident = app.create_user(Role::Resident, "muchos@example.com", "Vecino Muchos").await;
    // 120 applications: three distinct times, 40 each, ids in random order.
    let base = app.state.clock.now() - chrono::Duration::days(10);
    let (gid, rid) = (g.clone(), resident.clone());
    let mut expected: Vec<(chrono::NaiveDateTime, String)> = app
        .state
        .db(move |c| {
            let mut out = Vec::new();
            for i in 0..120 {
                let at = base + chrono::Duration::hours(i / 40);
                let id = uuid::Uuid::new_v4().to_string();
                // Distinct residents per row keep the one-open-application rule.
                let res_id = if i == 0 { rid.clone() } else { format!("{rid}-{i}") };
                if i > 0 {
                    diesel::sql_query(format!(
                        "INSERT INTO users (id, email, full_name, role, locale, active, created_at, updated_at, notify_pref) \
                         SELECT '{res_id}', 'r{i}@example.com', 'Vecino {i}', 'resident', 'es', TRUE, created_at, updated_at, 'immediate' FROM users WHERE id = '{rid}'"
                    ))
                    .execute(c)?;
                }
                diesel::insert_into(applications::table)
                    .values(vecinal::db::models::Application {
                        id: id.clone(),
                        resident_id: res_id,
                        group_id: gid.clone(),
                        status: "submitted".into(),
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
                        decided_at: None,
                        created_at: at,
                        updated_at: at,
                        renewal_of: None,
                    })
                    .execute(c)?;
                out.push((at, id));
            }
            Ok(out)
        })
        .await
        .unwrap();
    expected.sort();
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/officer".to_string();
    let mut pages = 0;
    loop {
        let html = app.get_with(&o, &path).await.text().await.unwrap();
        pages += 1;
        let mut rest = html.as_str();
        while let Some(i) = rest.find("/officer/applications/") {
            rest = &rest[i + "/officer/applications/".len()..];
            seen.push(rest[..36].to_string());
        }
        match html.find("/officer?after=") {
            Some(i) => {
                let tail = &html[i..];
                path = tail[..tail.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
            }
            None => break,
        }
        assert!(pages < 10, "pagination must end");
    }
    assert_eq!(pages, 3);
    let expected_ids: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(seen, expected_ids, "every application exactly once, oldest first");
    // Overdue ones are highlighted (all are 10 days old; the SLA is 5).
    let first = app.get_with(&o, "/officer").await.text().await.unwrap();
    assert!(first.contains("class=\"overdue\""));
    // Filters keep working with the cursor.
    let mine = app.get_with(&o, "/officer?mine=1").await.text().await.unwrap();
    assert!(!mine.contains("/officer/applications/"), "nothing claimed by me");
}
