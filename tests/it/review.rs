//! Officers review: staff invitations, the queue, decisions, memberships on approval.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::db::models::Membership;
use vecinal::db::schema::{applications, memberships};
use vecinal::domain::Role;
use vecinal::domain::application::Status;

use crate::helpers::*;

#[tokio::test]
async fn an_invited_officer_sets_a_password_and_signs_in() {
    let app = TestApp::spawn().await;
    let group = app.group("centro").await;
    let boss = app.commissioner("jefa@example.com").await;

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
    let path = app.mailed_link("ana.oficial@example.com", "/invite/").await;
    let c = client();
    let res = app.choose_password(&c, &path, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND, "single use");
    let res = app.login(&c, "ana.oficial@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/officer");
    let home = app.get_with(&c, "/officer").await.text().await.unwrap();
    assert!(home.contains("Barrio centro"), "the assigned group is on the officer's page");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"staff.invited".to_string()) && actions.contains(&"staff.invite_accepted".to_string()));
}

#[tokio::test]
async fn officers_see_only_their_groups() {
    let app = TestApp::spawn().await;
    let a = app.group("centro").await;
    let b = app.group("norte").await;
    let (_, id) = app.applicant("vecina@example.com", "norte").await;
    let officer_a = app.officer("a@example.com", &a).await;
    let officer_b = app.officer("b@example.com", &b).await;
    assert_eq!(app.get_with(&officer_a, &format!("/officer/applications/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.act(&officer_a, &id, "claim", 1, &[]).await.status(), StatusCode::NOT_FOUND);
    let doc = app.documents_of(&id).await.remove(0).id;
    assert_eq!(
        app.get_with(&officer_a, &format!("/applications/{id}/documents/{doc}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!app.get_with(&officer_a, "/officer").await.text().await.unwrap().contains(&id));
    assert!(app.get_with(&officer_b, "/officer").await.text().await.unwrap().contains(&id));
    assert_eq!(app.get_with(&officer_b, &format!("/officer/applications/{id}")).await.status(), StatusCode::OK);
    assert_eq!(app.status_of(&id).await, ("submitted".into(), 1), "nothing moved");
}

#[tokio::test]
async fn claim_and_approve_issue_one_membership_and_tell_the_resident() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (resident, id) = app.applicant("vecina@example.com", "centro").await;
    let o = app.officer("o@example.com", &g).await;

    assert_eq!(app.act(&o, &id, "claim", 1, &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await, ("in_review".into(), 2));
    let incomplete = app.act(&o, &id, "approve", 2, &CHECKLIST[..3]).await;
    assert_eq!(incomplete.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.text().await.unwrap().contains("confirmar los cuatro puntos"));
    assert_eq!(app.status_of(&id).await.0, "in_review");

    assert_eq!(app.act(&o, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await, ("approved".into(), 3));
    let ms: Vec<Membership> = app.state.db(|c| Ok(memberships::table.load(c)?)).await.unwrap();
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    assert_eq!(m.status.as_str(), "active");
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
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"application.claimed".to_string()));
    assert!(actions.contains(&"application.approved".to_string()));
    // Approved is final: nothing else moves it, and a member cannot apply again.
    assert_eq!(
        app.act(&o, &id, "reject", 3, &[("reason_code", "other"), ("note", "x")]).await.status(),
        StatusCode::CONFLICT
    );
    let again = Submission::valid(&app, "centro").send(&app, &resident).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Ya sos miembro vigente"));
}

#[tokio::test]
async fn reject_and_request_info_tell_the_resident_and_keep_internal_notes_internal() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (resident, id) = app.applicant("vecina@example.com", "centro").await;
    let o = app.officer("o@example.com", &g).await;
    app.claim(&o, &id).await;

    let no_kinds = app.act(&o, &id, "request-info", 2, &[("message", "Mandá el certificado otra vez")]).await;
    assert_eq!(no_kinds.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .act(&o, &id, "request-info", 2, &[("message", "El certificado está borroso"), ("kinds", "criminal_record")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await, ("needs_info".into(), 3));
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
    let res = app.resubmit(&resident, &id, Submission::answer(3).file("criminal_record", "c.pdf", PDF.to_vec())).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.claim(&o, &id).await;
    let bad = app.act(&o, &id, "reject", 5, &[("reason_code", "made_up")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .act(
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
    assert_eq!(app.status_of(&id).await.0, "rejected");
    let mail = app.last_mail_to("vecina@example.com").await;
    assert!(mail.subject.contains("rechazada"));
    assert!(mail.text.contains("El certificado registra antecedentes"), "the reason in words");
    assert!(mail.text.contains("El certificado registra una causa."), "the note");
    assert!(!mail.text.contains("fiscalía") && !mail.html.contains("fiscalía"), "never the internal note");
    let page = app.get_with(&resident, &format!("/applications/{id}")).await.text().await.unwrap();
    assert!(!page.contains("fiscalía"), "the resident's timeline hides internal notes");
    let officer_page = app.get_with(&o, &format!("/officer/applications/{id}")).await.text().await.unwrap();
    assert!(officer_page.contains("Consultado con fiscalía"), "staff see it");
    assert!(app.audit_actions().await.contains(&"application.rejected".to_string()));
}

#[tokio::test]
async fn two_officers_claiming_at_once_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (_, id) = app.applicant("vecina@example.com", "centro").await;
    let o1 = app.officer("o1@example.com", &g).await;
    let o2 = app.officer("o2@example.com", &g).await;
    let (r1, r2) = tokio::join!(app.act(&o1, &id, "claim", 1, &[]), app.act(&o2, &id, "claim", 1, &[]));
    let mut codes = [r1.status().as_u16(), r2.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [303, 409]);
    assert_eq!(app.status_of(&id).await, ("in_review".into(), 2));
    let claims = app.audit_actions().await.iter().filter(|a| *a == "application.claimed").count();
    assert_eq!(claims, 1);
}

#[tokio::test]
async fn a_stale_version_gets_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (_, id) = app.applicant("vecina@example.com", "centro").await;
    let o = app.officer("o@example.com", &g).await;
    app.claim(&o, &id).await;
    let res = app.act(&o, &id, "approve", 1, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("Recargá la página"));
    assert_eq!(app.status_of(&id).await, ("in_review".into(), 2));
    assert_eq!(app.count("memberships").await, 0);
}

#[tokio::test]
async fn with_two_approvals_another_officer_must_confirm() {
    let app = TestApp::spawn().await;
    let g = app.two_approval_group("doble").await;
    let (_, id) = app.applicant("vecina@example.com", "doble").await;
    let first = app.officer("uno@example.com", &g).await;
    let second = app.officer("dos@example.com", &g).await;
    app.claim(&first, &id).await;
    // Only the claimer decides.
    assert_eq!(app.act(&second, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.act(&first, &id, "approve", 2, &CHECKLIST).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await, ("awaiting_second".into(), 3));
    assert_eq!(app.act(&first, &id, "confirm", 3, &[]).await.status(), StatusCode::FORBIDDEN, "not their own approval");
    assert_eq!(app.status_of(&id).await.0, "awaiting_second");
    assert_eq!(app.count("memberships").await, 0, "no membership before the second approval");
    assert_eq!(app.act(&second, &id, "confirm", 3, &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&id).await.0, "approved");
    assert_eq!(app.count("memberships").await, 1);
}

#[tokio::test]
async fn deactivating_an_officer_ends_the_session_and_releases_claims() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (_, id) = app.applicant("vecina@example.com", "centro").await;
    let o = app.officer("o@example.com", &g).await;
    app.claim(&o, &id).await;
    let boss = app.commissioner("jefa@example.com").await;
    let oid = app.user_id("o@example.com").await;
    let res = app.post(&boss, &format!("/commissioner/staff/{oid}/deactivate"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = app.get_with(&o, "/officer").await;
    assert_eq!(next.status(), StatusCode::SEE_OTHER, "signed out on the next request");
    assert_eq!(app.status_of(&id).await, ("submitted".into(), 3), "the claim went back to the queue");
    assert_eq!(app.login(&client(), "o@example.com", PASSWORD).await.status(), StatusCode::FORBIDDEN);
    // A commissioner cannot lock themselves out.
    let me = app.user_id("jefa@example.com").await;
    assert_eq!(
        app.post(&boss, &format!("/commissioner/staff/{me}/deactivate"), &[]).await.status(),
        StatusCode::CONFLICT
    );
    // Staff pages are for commissioners only.
    let o2 = app.officer("o2@example.com", &g).await;
    assert_eq!(app.get_with(&o2, "/commissioner/staff").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post(&o2, &format!("/commissioner/staff/{oid}/activate"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_lapsed_claim_can_be_taken_by_another_officer() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (_, id) = app.applicant("vecina@example.com", "centro").await;
    let o1 = app.officer("o1@example.com", &g).await;
    let o2 = app.officer("o2@example.com", &g).await;
    app.claim(&o1, &id).await;
    assert_eq!(app.act(&o2, &id, "claim", 2, &[]).await.status(), StatusCode::CONFLICT);
    app.state.clock.advance(chrono::Duration::hours(25));
    // Staff idle out after 30 minutes: sign in again.
    let o2 = app.sign_in("o2@example.com").await;
    assert_eq!(app.act(&o2, &id, "claim", 2, &[]).await.status(), StatusCode::SEE_OTHER);
    let claimer: Option<String> = {
        let id = id.clone();
        app.state
            .db(move |c| Ok(applications::table.find(id).select(applications::claimed_by).first(c)?))
            .await
            .unwrap()
    };
    assert_eq!(claimer, Some(app.user_id("o2@example.com").await));
}

#[tokio::test]
async fn the_lapsed_claims_job_puts_applications_back() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let (_, id) = app.applicant("vecina@example.com", "centro").await;
    let o = app.officer("o@example.com", &g).await;
    app.claim(&o, &id).await;
    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.claims_released, 0);
    app.state.clock.advance(chrono::Duration::hours(24));
    let report = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(report.claims_released, 1);
    assert_eq!(app.status_of(&id).await.0, "submitted");
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().claims_released, 0, "idempotent");
}

#[tokio::test]
async fn officers_are_told_of_new_applications_as_they_chose() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let now_officer = app.officer("ya@example.com", &g).await;
    let daily_officer = app.officer("diario@example.com", &g).await;
    let quiet_officer = app.officer("nada@example.com", &g).await;
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

    let (_, id) = app.applicant("vecina@example.com", "centro").await;
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
    let g = app.group("centro").await;
    let o = app.officer("o@example.com", &g).await;
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
                        id: vecinal::domain::ApplicationId::from_stored(id.clone()),
                        resident_id: vecinal::domain::UserId::from_stored(res_id),
                        group_id: vecinal::domain::GroupId::from_stored(gid.clone()),
                        status: Status::Submitted,
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
                        decided_by: None,
                        taken_by: None,
                        dni_verdict: None,
                        in_pair: false,
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
