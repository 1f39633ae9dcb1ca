//! `HEAD` on every `GET` route: the same status and headers as the `GET`, and no body.

use reqwest::{Client, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// Headers that differ between any two responses, whatever the method.
const PER_RESPONSE: [&str; 2] = ["date", "x-request-id"];

/// `HEAD path` answers as `GET path` does, for this client, with an empty body. A first
/// `GET` uses up what a page shows once (a flash message), so the two compared see the same.
async fn assert_head_like_get(app: &TestApp, c: &Client, path: &str) -> StatusCode {
    c.get(app.url(path)).send().await.unwrap();
    let get = c.get(app.url(path)).send().await.unwrap();
    let head = c.head(app.url(path)).send().await.unwrap();
    assert_eq!(head.status(), get.status(), "{path}");
    let names = |h: &reqwest::header::HeaderMap| {
        let mut n: Vec<String> =
            h.keys().map(|k| k.as_str().to_string()).filter(|k| !PER_RESPONSE.contains(&k.as_str())).collect();
        n.sort();
        n.dedup();
        n
    };
    assert_eq!(names(head.headers()), names(get.headers()), "{path}: the same headers");
    for (name, value) in get.headers() {
        if PER_RESPONSE.contains(&name.as_str()) || name == "set-cookie" {
            continue;
        }
        let head_values: Vec<_> = head.headers().get_all(name).iter().collect();
        assert!(head_values.contains(&value), "{path}: {name} is {value:?} on GET, {head_values:?} on HEAD");
    }
    let cookie_names = |r: &reqwest::Response| {
        let mut n: Vec<String> = r.cookies().map(|c| c.name().to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(cookie_names(&head), cookie_names(&get), "{path}: the same cookies");
    let status = head.status();
    assert!(head.bytes().await.unwrap().is_empty(), "{path}: no body");
    status
}

#[tokio::test]
async fn head_answers_like_get_on_public_and_signed_in_pages() {
    let app = TestApp::spawn().await;
    let g = app.group("centro").await;
    let officer = app.officer("oficial@example.com", &g).await;
    let (resident, id) = app.applicant("vecina@example.com", "centro").await;
    let doc = app.documents_of(&id).await.remove(0);
    app.claim_and_approve(&officer, &id).await;
    let m = app.memberships_of(&app.user_id("vecina@example.com").await).await.remove(0);
    let commissioner = app.commissioner("jefa@example.com").await;
    let visitor = client();
    let home = app.page(&visitor, "/").await;
    let css = link_path(&home, "/static/").unwrap();

    for path in ["/", "/privacy", "/login", "/register", "/password/forgot", "/claim", "/healthz", "/readyz", &css] {
        assert_eq!(assert_head_like_get(&app, &visitor, path).await, StatusCode::OK, "{path}");
    }
    let verify = format!("/verify/{}", m.verification_token);
    assert_eq!(assert_head_like_get(&app, &visitor, &verify).await, StatusCode::OK);
    // Pages behind a session send a visitor to sign in, the same way for HEAD.
    assert_eq!(assert_head_like_get(&app, &visitor, "/me").await, StatusCode::SEE_OTHER);

    let application = format!("/applications/{id}");
    let document = format!("/applications/{id}/documents/{}", doc.id);
    let card = format!("/memberships/{}", m.id);
    let qr = format!("/memberships/{}/qr.svg", m.id);
    for path in ["/me", "/account", &application, &document, &card, &qr] {
        assert_eq!(assert_head_like_get(&app, &resident, path).await, StatusCode::OK, "{path}");
    }
    let unknown = format!("/applications/{}", uuid::Uuid::new_v4());
    assert_eq!(assert_head_like_get(&app, &resident, &unknown).await, StatusCode::NOT_FOUND);
    assert_eq!(assert_head_like_get(&app, &resident, "/officer").await, StatusCode::FORBIDDEN);

    for path in ["/officer", "/officer/memberships", "/officer/removals", "/officer/desk", "/officer/desk/notices"] {
        assert_eq!(assert_head_like_get(&app, &officer, path).await, StatusCode::OK, "{path}");
    }
    for path in ["/commissioner", "/commissioner/groups", "/commissioner/staff", "/commissioner/memberships.csv"] {
        assert_eq!(assert_head_like_get(&app, &commissioner, path).await, StatusCode::OK, "{path}");
    }

    for path in ["/no-such-page", "/static/0/nothing.css", "/verify/not-a-token"] {
        assert_eq!(assert_head_like_get(&app, &visitor, path).await, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_head_response_carries_no_body_on_the_wire() {
    let app = TestApp::spawn().await;
    let get = app.get("/login").await;
    let length = get.headers().get("content-length").unwrap().to_str().unwrap().to_string();
    assert!(length.parse::<usize>().unwrap() > 0);

    // Only the head arrives: the connection closes right after it, with no body.
    let mut s = tokio::net::TcpStream::connect(app.socket_addr()).await.unwrap();
    s.write_all(b"HEAD /login HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut got)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let end_of_head = text.find("\r\n\r\n").unwrap() + 4;
    assert!(text[..end_of_head].to_ascii_lowercase().contains(&format!("content-length: {length}\r\n")), "{text}");
    assert_eq!(end_of_head, got.len(), "nothing after the head: {text}");
}
