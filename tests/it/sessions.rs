//! Sessions, cookies, sign-in throttling and who may open which home page.

use reqwest::StatusCode;
use vecinal::domain::Role;
use vecinal::domain::throttle::{FREE_ACCOUNT_FAILURES, FREE_CLIENT_FAILURES};

use crate::helpers::*;

const SESSION: &str = "vecinal_session";

#[tokio::test]
async fn the_session_token_is_new_at_login_and_dead_after_logout() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "fija@example.com", "Vecina Fija").await;

    // A token planted before sign-in (session fixation) is not kept.
    let planted = "A".repeat(43);
    let (csrf_cookie, token) = manual_csrf(&app).await;
    let res = bare_client()
        .post(app.url("/login"))
        .header("cookie", format!("{SESSION}={planted}; vecinal_csrf={csrf_cookie}"))
        .form(&[("csrf_token", token.as_str()), ("email", "fija@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let first = cookie_value(res.headers(), SESSION).expect("a session cookie is set");
    assert_ne!(first, planted);
    let rotated = cookie_value(res.headers(), "vecinal_csrf").expect("a new CSRF cookie at sign-in");
    assert_ne!(rotated, csrf_cookie);

    let res = app.login(&client(), "fija@example.com", PASSWORD).await;
    let second = cookie_value(res.headers(), SESSION).unwrap();
    assert_ne!(first, second, "every sign-in gets its own token");
    assert_eq!(with_session(&app, &first, "/me").await.status(), StatusCode::OK);

    // Sign out with the first session, then replay its token by hand.
    let (csrf_cookie, token) = manual_csrf(&app).await;
    let res = bare_client()
        .post(app.url("/logout"))
        .header("cookie", format!("{SESSION}={first}; vecinal_csrf={csrf_cookie}"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(set_cookies(res.headers(), SESSION)[0].contains("Max-Age=0"), "the cookie is removed");
    assert_eq!(
        with_session(&app, &first, "/me").await.status(),
        StatusCode::SEE_OTHER,
        "a logged-out token opens nothing"
    );
    assert_eq!(with_session(&app, &second, "/me").await.status(), StatusCode::OK, "other sessions live on");
    assert_eq!(app.count("sessions").await, 1);
}

fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A CSRF cookie value and the token that goes with it, for requests that set cookies by hand.
async fn manual_csrf(app: &TestApp) -> (String, String) {
    let res = bare_client().get(app.url("/")).send().await.unwrap();
    let cookie = cookie_value(res.headers(), "vecinal_csrf").unwrap();
    let token = csrf_from(&res.text().await.unwrap()).unwrap();
    (cookie, token)
}

/// GET `path` carrying only this session token.
async fn with_session(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    bare_client().get(app.url(path)).header("cookie", format!("{SESSION}={token}")).send().await.unwrap()
}

#[tokio::test]
async fn the_database_holds_only_a_hash_of_the_session_token() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "hash@example.com", "Vecino Hash").await;
    let res = app.login(&client(), "hash@example.com", PASSWORD).await;
    let token = cookie_value(res.headers(), SESSION).unwrap();
    let ids: Vec<String> = app
        .state
        .db(|c| {
            use diesel::prelude::*;
            use vecinal::db::schema::sessions;
            Ok(sessions::table.select(sessions::id).load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], token);
    assert!(!ids[0].contains(&token));
    assert_eq!(ids[0].len(), 64, "a SHA-256 in hex");
}

#[tokio::test]
async fn cookies_are_http_only_and_same_site() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "galleta@example.com", "Vecina Galleta").await;
    let res = app.login(&client(), "galleta@example.com", PASSWORD).await;
    for name in [SESSION, "vecinal_csrf"] {
        let c = set_cookies(res.headers(), name);
        assert_eq!(c.len(), 1, "{name}");
        assert!(c[0].contains("HttpOnly"), "{}", c[0]);
        assert!(c[0].contains("SameSite=Lax"), "{}", c[0]);
        assert!(c[0].contains("Path=/"), "{}", c[0]);
        assert!(!c[0].contains("Secure"), "plain http cannot carry Secure cookies");
    }
}

#[tokio::test]
async fn under_https_cookies_are_secure_host_cookies_and_hsts_is_sent() {
    let app = TestApp::spawn_with(|s| s.base_url = url::Url::parse("https://vecinal.example.org").unwrap()).await;
    let res = app.get("/").await;
    let c = set_cookies(res.headers(), "__Host-vecinal_csrf");
    assert_eq!(c.len(), 1);
    assert!(c[0].contains("Secure") && c[0].contains("HttpOnly") && c[0].contains("Path=/"));
    assert!(!c[0].contains("Domain="), "__Host- cookies carry no Domain");
    let hsts = res.headers().get("strict-transport-security").unwrap().to_str().unwrap();
    assert!(hsts.contains("max-age="));
}

#[tokio::test]
async fn staff_sessions_end_after_thirty_idle_minutes_residents_do_not() {
    let app = TestApp::spawn().await;
    let officer = app.signed_in(Role::Officer, "oficial@example.com").await;
    let resident = app.signed_in(Role::Resident, "vecino@example.com").await;
    app.state.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(app.get_with(&officer, "/officer").await.status(), StatusCode::OK);
    app.state.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(app.get_with(&officer, "/officer").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&resident, "/me").await.status(), StatusCode::OK);
    // Residents' sessions end after 30 days however active.
    for _ in 0..32 {
        app.state.clock.advance(chrono::Duration::hours(23));
        let _ = app.get_with(&resident, "/me").await;
    }
    assert_eq!(app.get_with(&resident, "/me").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn throttling_kicks_in_and_says_when_to_retry() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "blanco@example.com", "Blanco Ataque").await;
    let c = client();
    for _ in 0..FREE_ACCOUNT_FAILURES {
        assert_eq!(app.login(&c, "blanco@example.com", "guess guess guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The third failure used up the free ones: now even the right password has to wait.
    let res = app.login(&c, "blanco@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    assert!(res.text().await.unwrap().contains("esperá"));
    // An unknown account is throttled the same way (no hint that it does not exist).
    for _ in 0..FREE_ACCOUNT_FAILURES {
        app.login(&c, "ghost@example.com", "guess guess guess").await;
    }
    assert_eq!(app.login(&c, "ghost@example.com", "guess").await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The wait passes.
    app.state.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.login(&c, "blanco@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert!(app.count("login_throttle").await >= 2);
}

#[tokio::test]
async fn each_home_page_admits_only_its_role() {
    let app = TestApp::spawn().await;
    let resident = app.signed_in(Role::Resident, "r@example.com").await;
    let officer = app.signed_in(Role::Officer, "o@example.com").await;
    let commissioner = app.signed_in(Role::Commissioner, "c@example.com").await;
    let anonymous = client();
    let pages = ["/me", "/officer", "/commissioner", "/commissioner/audit/verify", "/account"];
    let who: [(&str, &reqwest::Client, [u16; 5]); 4] = [
        ("anonymous", &anonymous, [303, 303, 303, 303, 303]),
        ("resident", &resident, [200, 403, 403, 403, 200]),
        ("officer", &officer, [403, 200, 403, 403, 200]),
        ("commissioner", &commissioner, [403, 403, 200, 200, 200]),
    ];
    for (name, c, expected) in who {
        for (page, want) in pages.iter().zip(expected) {
            let res = app.get_with(c, page).await;
            assert_eq!(res.status().as_u16(), want, "{name} on {page}");
            if want == 303 {
                assert_eq!(location(&res), format!("/login?next={}", page.replace('/', "%2F")));
            }
        }
    }
    // Each role lands on its own home.
    for (role, email, home) in [
        (Role::Resident, "r@example.com", "/me"),
        (Role::Officer, "o@example.com", "/officer"),
        (Role::Commissioner, "c@example.com", "/commissioner"),
    ] {
        let _ = role;
        assert_eq!(location(&app.login(&client(), email, PASSWORD).await), home);
    }
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Resident, "vuelta@example.com", "Vecina Vuelta").await;
    let c = client();
    let html = app.get_with(&c, "/login?next=%2Faccount").await.text().await.unwrap();
    assert!(html.contains("name=\"next\" value=\"/account\""));
    let res =
        app.post(&c, "/login", &[("email", "vuelta@example.com"), ("password", PASSWORD), ("next", "/account")]).await;
    assert_eq!(location(&res), "/account");
    let res = app
        .post(
            &client(),
            "/login",
            &[("email", "vuelta@example.com"), ("password", PASSWORD), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&res), "/me", "off-site targets are ignored");
}

#[tokio::test]
async fn ending_other_sessions_keeps_this_one() {
    let app = TestApp::spawn().await;
    let this = app.signed_in(Role::Resident, "muchas@example.com").await;
    let other = client();
    app.login(&other, "muchas@example.com", PASSWORD).await;
    let html = app.get_with(&this, "/account").await.text().await.unwrap();
    assert!(html.contains("1 sesión(es)"), "the page counts the other session");
    let res = app.post(&this, "/account/sessions/end-others", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&this, "/me").await.status(), StatusCode::OK);
    assert_eq!(app.get_with(&other, "/me").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_is_throttled_too() {
    let app = TestApp::spawn().await;
    app.create_user(Role::Officer, "objetivo@example.com", "Objetivo Valioso").await;
    let c = client();
    let token = app.csrf_token(&c, "/login").await;
    let attempts = (0..20).map(|i| {
        let c = c.clone();
        let token = token.clone();
        let url = app.url("/login");
        async move {
            let password = format!("guess number {i} here");
            c.post(url)
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", "objetivo@example.com"),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(verified + refused, 20, "{statuses:?}");
    assert_eq!(
        verified, FREE_ACCOUNT_FAILURES as usize,
        "exactly the free attempts reach the password check: {statuses:?}"
    );
}

/// One address guessing at many accounts at once: the client key lets exactly its free
/// failures through; the 21st attempt from that address waits.
#[tokio::test]
async fn a_burst_from_one_address_gets_its_free_failures_and_no_more() {
    let app = TestApp::spawn().await;
    let c = client();
    let token = app.csrf_token(&c, "/login").await;
    let burst = FREE_CLIENT_FAILURES as usize + 5;
    let attempts = (0..burst).map(|i| {
        let (c, token, url) = (c.clone(), token.clone(), app.url("/login"));
        async move {
            let email = format!("cuenta{i}@example.com");
            c.post(url)
                .form(&[("csrf_token", token.as_str()), ("email", email.as_str()), ("password", "guess guess guess")])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((verified, refused), (FREE_CLIENT_FAILURES as usize, 5), "{statuses:?}");
}

#[tokio::test]
async fn current_password_checks_are_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    let c = app.signed_in(Role::Resident, "robada@example.com").await;
    for _ in 0..FREE_ACCOUNT_FAILURES {
        let res = app.change_password(&c, "guess guess guess", "farol ombú llovizna pampa").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The third wrong guess used up the free ones and started the delay; the next one waits.
    let res = app.change_password(&c, PASSWORD, "farol ombú llovizna pampa").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        app.login(&client(), "robada@example.com", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one count for both doors"
    );
    app.state.clock.advance(chrono::Duration::seconds(5));
    let res = app.change_password(&c, PASSWORD, "farol ombú llovizna pampa").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the right password works once the wait is over");
}

#[tokio::test]
async fn registrations_per_client_address_are_capped() {
    let app = TestApp::spawn().await;
    for i in 0..vecinal::domain::throttle::REGISTRATIONS_PER_WINDOW {
        let email = format!("masivo{i}@example.com");
        let res = app.register(&client(), "Cuenta Masiva", &email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = app.register(&client(), "Cuenta Masiva", "una.mas@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("users").await, i64::from(vecinal::domain::throttle::REGISTRATIONS_PER_WINDOW));
}
