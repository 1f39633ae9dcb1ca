//! Registration, confirmation, sign-in, password reset and change, first commissioner.

use reqwest::StatusCode;
use vecinal::domain::Role;

use crate::helpers::*;

#[tokio::test]
async fn register_confirm_login_logout_journey() {
    let app = TestApp::spawn().await;
    let c = client();
    let email = "ana.gomez@example.com";

    let res = app.register(&c, "Ana Gómez", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/register/sent");
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("mail_outbox").await, 1, "the confirmation mail is queued with the account");

    // Not confirmed yet: sign-in is refused even with the right password.
    let res = app.login(&c, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("Todavía no confirmaste tu correo"));

    let mail = app.last_mail_to(email).await;
    assert!(mail.subject.contains("Confirmá tu correo"), "{}", mail.subject);
    assert!(mail.html.contains("/email/confirm/"), "both parts carry the link");
    let path = link_path(&mail.text, "/email/confirm/").unwrap();

    // Opening the link does not confirm by itself (mail scanners open links).
    let res = app.get_with(&c, &path).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.login(&c, email, PASSWORD).await.status(), StatusCode::FORBIDDEN);

    let res = app.post_on(&c, &path, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");

    // The link is single use.
    assert_eq!(app.get_with(&c, &path).await.status(), StatusCode::NOT_FOUND);

    let res = app.login(&c, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/me");
    let me = app.get_with(&c, "/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(me.text().await.unwrap().contains("Ana Gómez"));

    let res = app.post(&c, "/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app.get_with(&c, "/me").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login"));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_alike() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "real@example.com", "Real Persona").await;
    let wrong = app.login(&client(), "real@example.com", "not the password at all").await;
    let unknown = app.login(&client(), "nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let strip = |html: String, email: &str| {
        let html = html.replace(email, "EMAIL");
        // Each client has its own CSRF token; everything else must match.
        let token = csrf_from(&html).unwrap();
        html.replace(&token, "TOKEN")
    };
    assert_eq!(
        strip(wrong.text().await.unwrap(), "real@example.com"),
        strip(unknown.text().await.unwrap(), "nobody@example.com")
    );
}

#[tokio::test]
async fn registering_a_taken_email_looks_the_same_and_tells_the_owner() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "taken@example.com", "Dueña Original").await;
    let res = app.register(&client(), "Impostor", "Taken@Example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/register/sent");
    assert_eq!(app.count("users").await, 1);
    let mail = app.last_mail_to("taken@example.com").await;
    assert!(mail.subject.contains("Intento de registro"), "{}", mail.subject);
    assert!(!mail.text.contains("/email/confirm/"), "no confirmation link for someone else's address");
}

#[tokio::test]
async fn invalid_registration_shows_every_message_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let res = app.register(&client(), "A", "not-an-email", "password1234").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Escribí tu nombre y apellido."));
    assert!(html.contains("Ese correo electrónico no parece válido."));
    assert!(html.contains("demasiado común"));
    assert!(html.contains("value=\"not-an-email\""), "the form keeps what was typed");
    assert!(!html.contains("password1234"), "never echo a password");
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("mail_outbox").await, 0);
    assert_eq!(app.count("audit_log").await, 0);
}

#[tokio::test]
async fn password_reset_sets_a_new_password_and_ends_sessions() {
    let app = TestApp::spawn().await;
    let email = "olvido@example.com";
    let signed_in = app.signed_in(Role::Resident, email).await;

    let res = app.post(&client(), "/password/forgot", &[("email", email)]).await;
    assert_eq!(location(&res), "/password/forgot/sent");
    // Unknown addresses get the same answer and no mail.
    let res = app.post(&client(), "/password/forgot", &[("email", "ghost@example.com")]).await;
    assert_eq!(location(&res), "/password/forgot/sent");
    let mails = app.deliver_mail().await;
    assert_eq!(mails.iter().filter(|m| m.to == "ghost@example.com").count(), 0);

    let path = app.mailed_link(email, "/password/reset/").await;
    let c = client();
    let new_password = "farol ombú llovizna pampa";
    let res = app.choose_password(&c, &path, new_password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    assert_eq!(app.get_with(&signed_in, "/me").await.status(), StatusCode::SEE_OTHER, "old sessions ended");
    assert_eq!(app.login(&client(), email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&client(), email, new_password).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&c, &path).await.status(), StatusCode::NOT_FOUND, "the link is single use");
    let notice = app.last_mail_to(email).await;
    assert!(notice.subject.contains("Tu contraseña cambió"), "{}", notice.subject);
}

#[tokio::test]
async fn reset_links_expire_after_an_hour() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "lento@example.com", "Lento Lentísimo").await;
    app.post(&client(), "/password/forgot", &[("email", "lento@example.com")]).await;
    let path = app.mailed_link("lento@example.com", "/password/reset/").await;
    app.state.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let email = "cambio@example.com";
    let this = app.signed_in(Role::Resident, email).await;
    let other = client();
    assert_eq!(app.login(&other, email, PASSWORD).await.status(), StatusCode::SEE_OTHER);

    let res = app.change_password(&this, "wrong wrong wrong", "farol ombú llovizna pampa").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("La contraseña actual no es correcta."));

    let res = app.change_password(&this, PASSWORD, "farol ombú llovizna pampa").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&this, "/account").await.status(), StatusCode::OK, "this browser stays signed in");
    assert_eq!(app.get_with(&other, "/account").await.status(), StatusCode::SEE_OTHER, "the other one is out");
    assert!(app.last_mail_to(email).await.subject.contains("Tu contraseña cambió"));
}

#[tokio::test]
async fn the_profile_changes_name_and_language() {
    let app = TestApp::spawn().await;
    let c = app.signed_in(Role::Resident, "perfil@example.com").await;
    let res = app.post(&c, "/account/profile", &[("full_name", "Nombre Nuevo"), ("locale", "en")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_with(&c, "/account").await.text().await.unwrap();
    assert!(html.contains("My account"), "the account's language wins");
    assert!(html.contains("value=\"Nombre Nuevo\""));
    let bad = app.post(&c, "/account/profile", &[("full_name", ""), ("locale", "fr")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_setup_link_creates_the_first_commissioner_once() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().expect("a fresh database prints a setup link");
    let path = link_path(&link, "/setup/").unwrap();
    let c = client();
    assert_eq!(app.get_with(&c, &path).await.status(), StatusCode::OK);
    let form = [("full_name", "Comisaria Mayor"), ("email", "jefa@example.com"), ("password", PASSWORD)];
    let res = app.post_on(&c, &path, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app.login(&c, "jefa@example.com", PASSWORD).await;
    assert_eq!(location(&res), "/commissioner");
    // Used: the link is gone, and nobody can make a second one through it.
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    let c2 = client();
    let res =
        app.post(&c2, &path, &[("full_name", "Otro"), ("email", "otro@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn create_commissioner_command_reads_the_password_from_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let installation = Installation::create();
    let run = |password: &str, email: &str| {
        let mut child = installation
            .command(&["create-commissioner", "--email", email, "--name", "Comisario Línea"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("123456789012", "cli@example.com");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password refused"));
    let ok = run(PASSWORD, "cli@example.com");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let again = run(PASSWORD, "cli@example.com");
    assert!(!again.status.success(), "the email is taken now");

    let out = installation.command(&["audit", "verify"]).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("intact: 1 entries"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn language_follows_account_then_cookie_then_browser() {
    let app = TestApp::spawn().await;
    let c = client();
    let es = app.get_with(&c, "/login").await.text().await.unwrap();
    assert!(es.contains("lang=\"es-AR\"") && es.contains("Ingresar"));
    let en = c
        .get(app.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Sign in"));

    // The switch sets a cookie that beats the browser's header.
    let res = app.post(&c, "/language", &[("lang", "en"), ("next", "/login")]).await;
    assert_eq!(location(&res), "/login");
    let html = c.get(app.url("/login")).header("accept-language", "es").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Sign in"));
    // Only local paths are followed afterwards.
    let res = app.post(&c, "/language", &[("lang", "es"), ("next", "//evil.example/")]).await;
    assert_eq!(location(&res), "/");
}

#[tokio::test]
async fn the_public_forms_cannot_flood_a_mailbox() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "victima@example.com", "Víctima Paciente").await;
    for _ in 0..8 {
        let res = app.post(&client(), "/password/forgot", &[("email", "victima@example.com")]).await;
        assert_eq!(location(&res), "/password/forgot/sent", "the answer never changes");
        app.register(&client(), "Otra Persona", "victima@example.com", PASSWORD).await;
    }
    let mails = app.deliver_mail().await;
    assert_eq!(mails.iter().filter(|m| m.to == "victima@example.com").count(), 5, "five account mails an hour at most");
    app.state.clock.advance(chrono::Duration::minutes(61));
    app.post(&client(), "/password/forgot", &[("email", "victima@example.com")]).await;
    assert_eq!(app.deliver_mail().await.iter().filter(|m| m.to == "victima@example.com").count(), 6);
}
