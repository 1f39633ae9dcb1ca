//! Memberships over time: the card and its QR, public verification, expiry and reminders,
//! suspension and revocation, the removal list, renewal and moving.

use diesel::prelude::*;
use reqwest::StatusCode;
use vecinal::db::models::Membership;
use vecinal::db::schema::audit_log;
use vecinal::domain::Role;

use crate::helpers::*;

struct World {
    app: TestApp,
    resident: reqwest::Client,
    officer: reqwest::Client,
    membership: Membership,
    group_id: String,
}

/// A resident who is an approved member of "centro", and the group's officer.
async fn member() -> World {
    let app = TestApp::spawn().await;
    let group_id = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &group_id).await;
    let (resident, _) = app.member("juan.perez@example.com", "centro", &officer).await;
    let membership = app.memberships_of(&app.user_id("juan.perez@example.com").await).await.remove(0);
    World { app, resident, officer, membership, group_id }
}

async fn verify_json(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let res = app.get(&format!("/verify/{token}.json")).await;
    let status = res.status();
    (status, serde_json::from_str(&res.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn the_card_carries_a_qr_code_of_the_verification_link() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    let page = app.get_with(&w.resident, &format!("/memberships/{}", m.id)).await.text().await.unwrap();
    let link = app.url(&format!("/verify/{}", m.verification_token));
    assert!(page.contains(&link));
    assert!(page.contains(&m.number) && page.contains("https://chat.example.org/invite/centro"));
    let svg = app.get_with(&w.resident, &format!("/memberships/{}/qr.svg", m.id)).await;
    assert_eq!(svg.headers().get("content-type").unwrap(), "image/svg+xml");
    let svg = svg.text().await.unwrap();
    let expected = qrcode::QrCode::new(link.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    assert_eq!(svg, expected, "the QR encodes exactly the verification link");
    let (status, body) = verify_json(app, &m.verification_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "valid");
    // Only the member sees the card.
    let other = app.signed_in(Role::Resident, "otra@example.com").await;
    assert_eq!(app.get_with(&other, &format!("/memberships/{}", m.id)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&other, &format!("/memberships/{}/qr.svg", m.id)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn verification_reveals_only_status_group_masked_name_and_date() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    let res = app.get(&format!("/verify/{}", m.verification_token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("x-robots-tag").unwrap().to_str().unwrap().contains("noindex"));
    let html = res.text().await.unwrap();
    assert!(html.contains("Credencial vigente") && html.contains("Barrio centro") && html.contains("Cuenta P."));
    assert!(html.contains("noindex"));
    for secret in ["juan.perez@example.com", "30.123.456", "30123456", "Belgrano", "Prueba", m.id.as_str(), "2964"] {
        assert!(!html.contains(secret), "the page leaks {secret}");
    }
    let (_, json) = verify_json(app, &m.verification_token).await;
    assert_eq!(json.as_object().unwrap().len(), 4, "{json}");
    assert_eq!(json["name"], "Cuenta P.");
    assert_eq!(json["group"], "Barrio centro");
    assert_eq!(json["valid_until"], m.valid_until.format("%Y-%m-%d").to_string());

    // Unknown tokens: same shape, 404.
    let (status, unknown) = verify_json(app, &"x".repeat(43)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown["status"], "not_found");
    assert_eq!(
        unknown.as_object().unwrap().keys().collect::<Vec<_>>(),
        json.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    let page = app.get("/verify/not-a-token").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("No existe una credencial"));
}

#[tokio::test]
async fn verification_is_rate_limited_per_client() {
    let w = member().await;
    let mut last = StatusCode::OK;
    for _ in 0..125 {
        last = w.app.get(&format!("/verify/{}.json", w.membership.verification_token)).await.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn suspend_reinstate_and_revoke_with_the_removal_list() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    let base = format!("/officer/memberships/{}", m.id);

    let no_reason = app.post(&w.officer, &format!("{base}/suspend"), &[("reason", "")]).await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.post(&w.officer, &format!("{base}/suspend"), &[("reason", "Mensajes agresivos en el grupo")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify_json(app, &m.verification_token).await.1["status"], "suspended");
    let card = app.get_with(&w.resident, &format!("/memberships/{}", m.id)).await.text().await.unwrap();
    assert!(!card.contains("https://chat.example.org/invite/centro"), "no invite link while suspended");
    let me = app.get_with(&w.resident, "/me").await.text().await.unwrap();
    assert!(!me.contains("https://chat.example.org/invite/centro"));
    let mail = app.last_mail_to("juan.perez@example.com").await;
    assert!(mail.subject.contains("suspendida") && mail.text.contains("Mensajes agresivos"));
    let removals = app.get_with(&w.officer, "/officer/removals").await.text().await.unwrap();
    assert!(removals.contains(&m.number), "the suspended member is on the removal list");

    let res = app.post(&w.officer, &format!("{base}/reinstate"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify_json(app, &m.verification_token).await.1["status"], "valid");
    assert!(
        app.get_with(&w.resident, &format!("/memberships/{}", m.id))
            .await
            .text()
            .await
            .unwrap()
            .contains("https://chat.example.org/invite/centro")
    );
    assert!(!app.get_with(&w.officer, "/officer/removals").await.text().await.unwrap().contains(&m.number));

    let res = app.post(&w.officer, &format!("{base}/revoke"), &[("reason", "Uso indebido del grupo")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify_json(app, &m.verification_token).await.1["status"], "revoked");
    // Final: nothing brings it back.
    assert_eq!(app.post(&w.officer, &format!("{base}/reinstate"), &[]).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.post(&w.officer, &format!("{base}/suspend"), &[("reason", "x")]).await.status(),
        StatusCode::CONFLICT
    );

    // Marked removed, it leaves the list; the step is audited.
    let res = app.post(&w.officer, &format!("/officer/removals/{}/done", m.id), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!app.get_with(&w.officer, "/officer/removals").await.text().await.unwrap().contains(&m.number));
    let actions: Vec<String> = app.state.db(|c| Ok(audit_log::table.select(audit_log::action).load(c)?)).await.unwrap();
    for a in ["membership.suspended", "membership.reinstated", "membership.revoked", "membership.removed_from_chat"] {
        assert!(actions.contains(&a.to_string()), "{a}");
    }
}

#[tokio::test]
async fn other_groups_officers_and_residents_cannot_touch_a_membership() {
    let w = member().await;
    let app = &w.app;
    let norte = app.group("norte").await;
    let other = app.officer("norte@example.com", &norte).await;
    let base = format!("/officer/memberships/{}", w.membership.id);
    assert_eq!(app.get_with(&other, &base).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.post(&other, &format!("{base}/suspend"), &[("reason", "x")]).await.status(), StatusCode::NOT_FOUND);
    assert!(!app.get_with(&other, "/officer/memberships").await.text().await.unwrap().contains(&w.membership.number));
    assert_eq!(
        app.post(&w.resident, &format!("{base}/suspend"), &[("reason", "x")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(verify_json(app, &w.membership.verification_token).await.1["status"], "valid");
    // Commissioners act on any membership.
    let boss = app.commissioner("jefa@example.com").await;
    let res = app
        .post(&boss, &format!("/commissioner/memberships/{}/suspend", w.membership.id), &[("reason", "Revisión")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.get_with(&boss, "/commissioner/removals").await.text().await.unwrap().contains(&w.membership.number));
}

#[tokio::test]
async fn the_expiry_job_marks_due_memberships_and_reminds_once() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    // Nothing is due yet.
    let r = vecinal::jobs::run_once(&app.state).await.unwrap();
    assert_eq!((r.memberships_expired, r.reminders), (0, 0));
    // 30 days before the end: one reminder, and only one even when the job runs twice.
    let days_to_30 = (m.valid_until - app.today()).num_days() - 30;
    app.state.clock.advance(chrono::Duration::days(days_to_30));
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 1);
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 0);
    let mail = app.last_mail_to("juan.perez@example.com").await;
    assert!(mail.subject.contains("vence pronto") && mail.text.contains("30 días"), "{}", mail.text);
    assert!(mail.text.contains(&format!("/memberships/{}/renew", m.id)));
    app.state.clock.advance(chrono::Duration::days(10));
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().reminders, 0, "no second 30-day reminder");
    app.state.clock.advance(chrono::Duration::days(13)); // 7 days left
    let (a, b) = tokio::join!(vecinal::jobs::run_once(&app.state), vecinal::jobs::run_once(&app.state));
    assert_eq!(a.unwrap().reminders + b.unwrap().reminders, 1, "two runs at once send one 7-day reminder");
    assert_eq!(verify_json(app, &m.verification_token).await.1["status"], "valid");
    // Past the last day: expired, on the removal list, invite link gone.
    app.state.clock.advance(chrono::Duration::days(8));
    assert_eq!(
        verify_json(app, &m.verification_token).await.1["status"],
        "expired",
        "expired even before the job runs"
    );
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().memberships_expired, 1);
    assert_eq!(vecinal::jobs::run_once(&app.state).await.unwrap().memberships_expired, 0);
    let now = app.memberships_of(&m.user_id).await.remove(0);
    assert_eq!(now.status.as_str(), "expired");
    // Officers idle out after 30 minutes; sign in again.
    let officer = app.sign_in("oficial@example.com").await;
    assert!(app.get_with(&officer, "/officer/removals").await.text().await.unwrap().contains(&m.number));
    let resident = app.sign_in("juan.perez@example.com").await;
    assert!(
        !app.get_with(&resident, "/me").await.text().await.unwrap().contains("https://chat.example.org/invite/centro")
    );
}

#[tokio::test]
async fn renewal_keeps_the_number_and_extends_the_date() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    assert_eq!(
        app.get_with(&w.resident, &format!("/memberships/{}/renew", m.id)).await.status(),
        StatusCode::NOT_FOUND,
        "not yet"
    );
    let days = (m.valid_until - app.today()).num_days() - 20;
    app.state.clock.advance(chrono::Duration::days(days));
    let resident = app.sign_in("juan.perez@example.com").await;
    let form = app.get_with(&resident, &format!("/memberships/{}/renew", m.id)).await.text().await.unwrap();
    assert!(form.contains("value=\"Calle Belgrano 1234\""), "the address is prefilled");

    let renew = format!("/memberships/{}/renew", m.id);
    // A new address needs a new proof of address.
    let res = Submission::renewal(app, "Calle Nueva 99").send_to(app, &resident, &renew).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = Submission::renewal(app, "Calle Belgrano 1234").send_to(app, &resident, &renew).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let application = application_id(&res);
    let officer = app.sign_in("oficial@example.com").await;
    let review = app.get_with(&officer, &format!("/officer/applications/{application}")).await.text().await.unwrap();
    assert!(review.contains("Renovación de una membresía existente"));
    app.claim_and_approve(&officer, &application).await;
    let after = app.memberships_of(&m.user_id).await;
    assert_eq!(after.len(), 1, "no second membership");
    assert_eq!(after[0].number, m.number);
    assert_eq!(after[0].status.as_str(), "active");
    assert_eq!(after[0].valid_until, m.valid_until + chrono::Duration::days(365));
    let _ = w.group_id;
}

#[tokio::test]
async fn moving_to_another_group_ends_the_old_membership() {
    let w = member().await;
    let app = &w.app;
    let norte = app.group("norte").await;
    app.assign(&app.user_id("oficial@example.com").await, &norte).await;
    let id = app.submit(&w.resident, "norte").await;
    app.claim_and_approve(&w.officer, &id).await;
    let ms = app.memberships_of(&w.membership.user_id).await;
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].status.as_str(), "ended");
    assert_eq!(ms[0].status_reason.as_deref(), Some("moved"));
    assert_eq!(ms[1].status.as_str(), "active");
    assert_eq!(ms[1].number, "NORTE-000001");
    let removals = app.get_with(&w.officer, "/officer/removals").await.text().await.unwrap();
    assert!(removals.contains(&w.membership.number), "the old group's chat must drop the person");
}

#[tokio::test]
async fn rotating_the_invite_link_shows_members_the_new_one() {
    let w = member().await;
    let app = &w.app;
    let boss = app.commissioner("jefa@example.com").await;
    let res = app
        .post(
            &boss,
            "/commissioner/groups/centro",
            &[
                ("name", "Barrio centro"),
                ("slug", "centro"),
                ("description", "Un barrio de prueba"),
                ("area", "Entre Av. San Martín y calle Belgrano"),
                ("invite_link", "https://chat.example.org/invite/centro-nuevo"),
                ("validity_days", "365"),
                ("certificate_max_age_days", "90"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let card = app.get_with(&w.resident, &format!("/memberships/{}", w.membership.id)).await.text().await.unwrap();
    assert!(card.contains("https://chat.example.org/invite/centro-nuevo"));
    assert!(!card.contains("https://chat.example.org/invite/centro\""), "the old link is gone");
    let changed: Vec<String> = app
        .state
        .db(|c| {
            Ok(audit_log::table.filter(audit_log::action.eq("group.updated")).select(audit_log::details).load(c)?)
        })
        .await
        .unwrap();
    assert!(changed.iter().any(|d| d.contains("invite_link")), "the rotation is audited: {changed:?}");
}

#[tokio::test]
async fn a_pending_renewal_cannot_undo_a_revocation() {
    let w = member().await;
    let app = &w.app;
    let m = &w.membership;
    let days = (m.valid_until - app.today()).num_days() - 20;
    app.state.clock.advance(chrono::Duration::days(days));
    let resident = app.sign_in("juan.perez@example.com").await;
    let res = Submission::renewal(app, "Calle Belgrano 1234")
        .send_to(app, &resident, &format!("/memberships/{}/renew", m.id))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewal = application_id(&res);
    let officer = app.sign_in("oficial@example.com").await;
    let res = app.post(&officer, &format!("/officer/memberships/{}/revoke", m.id), &[("reason", "Uso indebido")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.claim(&officer, &renewal).await;
    let res = app.act(&officer, &renewal, "approve", 2, &CHECKLIST).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.memberships_of(&m.user_id).await[0].status.as_str(), "revoked", "revocation is final");
    assert_eq!(verify_json(app, &m.verification_token).await.1["status"], "revoked");
}
