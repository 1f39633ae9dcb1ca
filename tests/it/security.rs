//! CSRF, security headers, error pages and health checks.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let c = client();
    let _ = app.get_with(&c, "/register").await; // the browser holds a CSRF cookie
    let fields = [("full_name", "Sin Token"), ("email", "sin.token@example.com"), ("password", PASSWORD)];

    let none = c.post(app.url("/register")).form(&fields).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    assert!(none.text().await.unwrap().contains("Acceso denegado"), "a real error page");

    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged-token"));
    assert_eq!(c.post(app.url("/register")).form(&forged).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // A token that belongs to another browser's cookie is worth nothing here.
    let other_token = app.csrf_token(&client(), "/").await;
    let mut stolen = fields.to_vec();
    stolen.push(("csrf_token", &other_token));
    assert_eq!(c.post(app.url("/register")).form(&stolen).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // A right token from a page on another site is refused by its Origin.
    let token = app.csrf_token(&c, "/register").await;
    let mut good = fields.to_vec();
    good.push(("csrf_token", &token));
    let cross = c.post(app.url("/register")).header("origin", "https://evil.example").form(&good).send().await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let cross = c.post(app.url("/register")).header("sec-fetch-site", "cross-site").form(&good).send().await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    // JSON or other bodies cannot slip past the form check.
    let json = c.post(app.url("/register")).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(json.status(), StatusCode::FORBIDDEN);

    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("mail_outbox").await, 0);
    assert_eq!(app.count("audit_log").await, 0);

    // The same form with its own token and this site's Origin goes through.
    let ok = c.post(app.url("/register")).header("origin", app.address.clone()).form(&good).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("users").await, 1);
}

/// A language switch (a harmless form) with this client's token and the given headers.
async fn post_with_headers(app: &TestApp, c: &reqwest::Client, headers: &[(&str, &str)]) -> StatusCode {
    let token = app.csrf_token(c, "/").await;
    let mut req = c.post(app.url("/language")).form(&[("csrf_token", token.as_str()), ("lang", "en"), ("next", "/")]);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn the_origin_is_compared_with_the_base_url_not_with_hosts_the_client_names() {
    let app = TestApp::spawn().await;
    let c = client();
    let evil = "http://evil.example";
    for spoof in [
        vec![("origin", evil), ("host", "evil.example")],
        vec![("origin", evil), ("x-forwarded-host", "evil.example")],
        vec![("origin", evil), ("forwarded", "host=evil.example;proto=http")],
    ] {
        assert_eq!(post_with_headers(&app, &c, &spoof).await, StatusCode::FORBIDDEN, "{spoof:?}");
    }
    // The base URL's origin passes, whatever Host says.
    let own = app.address.clone();
    assert_eq!(post_with_headers(&app, &c, &[("origin", own.as_str())]).await, StatusCode::SEE_OTHER);
    let with_other_host = [("origin", own.as_str()), ("host", "evil.example")];
    assert_eq!(post_with_headers(&app, &c, &with_other_host).await, StatusCode::SEE_OTHER);
    // No Origin at all (older browsers, the tests' own client) is left to the token.
    assert_eq!(post_with_headers(&app, &c, &[]).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn behind_a_trusted_proxy_its_forwarded_host_is_accepted_too() {
    let app = TestApp::spawn_with(|s| s.trust_forwarded = true).await;
    let c = client();
    let proxied = [("origin", "https://vecinal.example.org"), ("x-forwarded-host", "vecinal.example.org")];
    assert_eq!(post_with_headers(&app, &c, &proxied).await, StatusCode::SEE_OTHER);
    let proxied = [("origin", "https://vecinal.example.org"), ("forwarded", "host=\"vecinal.example.org\"")];
    assert_eq!(post_with_headers(&app, &c, &proxied).await, StatusCode::SEE_OTHER);
    // Host is still the client's word, proxy or not.
    let host_only = [("origin", "http://evil.example"), ("host", "evil.example")];
    assert_eq!(post_with_headers(&app, &c, &host_only).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_needs_a_csrf_token_too() {
    let app = TestApp::spawn().await;
    let c = app.signed_in(vecinal::domain::Role::Resident, "salida@example.com").await;
    let res = c.post(app.url("/logout")).form(&[("x", "y")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&c, "/me").await.status(), StatusCode::OK, "still signed in");
}

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("CSP on {what}")).to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self';"), "{what}: {csp}");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{what}");
    assert!(h.get("referrer-policy").is_some(), "{what}");
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{what}");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http ({what})");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/login", "/register", "/does-not-exist", "/healthz", "/me"] {
        let res = app.get(path).await;
        assert_security_headers(&res, path);
    }
    let html = app.get("/").await.text().await.unwrap();
    let css = link_path(&html, "/static/").unwrap();
    let res = app.get(&css).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res, &css);
    assert!(res.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert_eq!(app.get("/").await.headers().get("cache-control").unwrap(), "no-store", "pages are not cached");
}

#[tokio::test]
async fn error_pages_speak_both_languages_and_name_the_request() {
    let app = TestApp::spawn().await;
    let es = app.get("/nada/por/aqui").await;
    assert_eq!(es.status(), StatusCode::NOT_FOUND);
    let id = es.headers().get("x-request-id").expect("request id header").to_str().unwrap().to_string();
    let html = es.text().await.unwrap();
    assert!(html.contains("Página no encontrada"));
    assert!(html.contains(&id), "the page shows the same reference as the log");

    let en = app.client.get(app.url("/nada")).header("accept-language", "en").send().await.unwrap();
    assert_eq!(en.status(), StatusCode::NOT_FOUND);
    let html = en.text().await.unwrap();
    assert!(html.contains("Page not found") && html.contains("lang=\"en\""));

    let c = app.signed_in(vecinal::domain::Role::Resident, "prohibido@example.com").await;
    let forbidden = app.get_with(&c, "/commissioner").await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert!(forbidden.text().await.unwrap().contains("Acceso denegado"));

    let wrong_method = app.client.put(app.url("/login")).send().await.unwrap();
    assert!(wrong_method.status().is_client_error());
}

#[tokio::test]
async fn oversized_forms_get_413() {
    let app = TestApp::spawn().await;
    let c = client();
    let token = app.csrf_token(&c, "/register").await;
    let big = "x".repeat(100 * 1024);
    let res = c
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("full_name", big.as_str()),
            ("email", "a@b.co"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("demasiado grande"));
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn multipart_posts_need_the_token_as_their_first_field() {
    use reqwest::multipart::{Form, Part};
    let app = TestApp::spawn().await;
    let c = app.signed_in(vecinal::domain::Role::Resident, "multi@example.com").await;

    let no_token = Form::new().text("x", "y");
    let res = c.post(app.url("/logout")).multipart(no_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let token = app.csrf_token(&c, "/").await;
    let file_first = Form::new()
        .part("file", Part::bytes(b"%PDF-1.4".to_vec()).file_name("a.pdf"))
        .text("csrf_token", token.clone());
    let res = c.post(app.url("/logout")).multipart(file_first).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&c, "/me").await.status(), StatusCode::OK, "still signed in");

    let token_first =
        Form::new().text("csrf_token", token).part("file", Part::bytes(vec![7u8; 64 * 1024]).file_name("b.png"));
    let res = c.post(app.url("/logout")).multipart(token_first).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a valid token first lets the request through");
    assert_eq!(app.get_with(&c, "/me").await.status(), StatusCode::SEE_OTHER);
}
