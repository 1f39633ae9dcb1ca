//! Request bodies are read under a deadline: a body that stops short, stalls or trickles
//! in gets an answer (400 or 408) and its connection closed, and the server lets go of
//! the socket. A large body arriving at the minimum rate is not cut off. A connection
//! serves one request, so no second request head can be trickled in untimed.

use std::time::Duration;

use reqwest::StatusCode;
use vecinal::domain::Role;
use vecinal::startup::CLIENT_DISCONNECT_TIMEOUT;

use crate::helpers::*;

const BOUNDARY: &str = "----vecinal-test-boundary";
const DEADLINE: Duration = Duration::from_secs(2);
/// Scheduling slack on a busy machine: answers must come within DEADLINE + SLACK.
const SLACK: Duration = Duration::from_millis(1500);
/// How long a test waits for the answer and the close: after an answer to a body it did not
/// read to the end, the server reads on for at most CLIENT_DISCONNECT_TIMEOUT before closing
/// (so the client sees the answer rather than a reset).
const WAIT: Duration =
    Duration::from_millis(DEADLINE.as_millis() as u64 + CLIENT_DISCONNECT_TIMEOUT.as_millis() as u64 + 1500);

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn app_with_deadline(timeout: Duration, min_bytes_per_sec: u64) -> TestApp {
    TestApp::spawn_with(|s| {
        s.body_timeout = timeout;
        s.body_min_bytes_per_sec = min_bytes_per_sec;
    })
    .await
}

/// A resident of an app whose body deadline is DEADLINE, signed in for raw requests.
async fn resident_app() -> (TestApp, RawSession) {
    let app = app_with_deadline(DEADLINE, 8 * 1024).await;
    app.group("centro").await;
    app.create_user(Role::Resident, "corte@example.com", "Vecina Corte").await;
    let session = app.raw_session("corte@example.com").await;
    // The sign-in's own connections are gone before anything is counted.
    assert_eq!(connections_settle(app.port(), 0, Duration::from_secs(5)).await, 0);
    (app, session)
}

/// The upload form cut off right after a complete field: no closing boundary, and a
/// Content-Length that matches what was sent.
fn truncated_upload(app: &TestApp, session: &RawSession, path: &str) -> Vec<u8> {
    let full =
        multipart_body(BOUNDARY, &session.csrf_token, &[("group", "centro"), ("street_address", "Belgrano 1")], &[]);
    let cut = full.len() - format!("--{BOUNDARY}--\r\n").len();
    raw_post(app, session, path, &multipart_type(), &full[..cut])
}

fn assert_cut_off(outcome: &Outcome, took: Duration, what: &str) {
    assert!(
        matches!(outcome, Outcome::AnsweredAndClosed(400 | 408) | Outcome::Closed),
        "{what}: answered 400/408 and closed, got {outcome:?}"
    );
    assert!(took <= DEADLINE + SLACK, "{what}: within the deadline, took {took:?}");
}

#[tokio::test]
async fn fifty_truncated_uploads_are_answered_and_their_connections_released() {
    let (app, session) = resident_app().await;
    let before = server_connection_fds(app.port());
    let id = uuid::Uuid::new_v4();
    let paths =
        ["/applications".to_string(), format!("/applications/{id}/resubmit"), format!("/memberships/{id}/renew")];

    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, request, path) = (app.clone(), truncated_upload(&app, &session, &paths[i % 3]), paths[i % 3].clone());
        tasks.push(tokio::spawn(async move {
            let (outcome, took) = app.raw(&request, WAIT).await;
            (path, outcome, took)
        }));
    }
    for t in tasks {
        let (path, outcome, took) = t.await.unwrap();
        assert_cut_off(&outcome, took, &path);
    }

    let after = connections_settle(app.port(), before, Duration::from_secs(3)).await;
    assert_eq!(after, before, "the server holds no descriptor for the 50 connections");
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/login").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_a_closed_connection() {
    let (app, session) = resident_app().await;
    let before = server_connection_fds(app.port());
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();

    // Multipart: the head and the start of the CSRF field, then nothing; the client stays.
    let body = multipart_body(BOUNDARY, &session.csrf_token, &[("group", "centro")], &[]);
    let request = raw_post(&app, &session, "/applications", &multipart_type(), &body);
    cases.push(("multipart, in the CSRF field", request[..request.len() - body.len() + 20].to_vec()));

    // Past the CSRF field: the multipart reader is waiting for the rest of a file.
    let body =
        multipart_body(BOUNDARY, &session.csrf_token, &[("group", "centro")], &[("residency_proof", "luz.pdf", &PDF)]);
    let request = raw_post(&app, &session, "/applications", &multipart_type(), &body);
    cases.push(("multipart, in a file", request[..request.len() - 30].to_vec()));

    // An urlencoded form (read by the CSRF check, then the Form extractor).
    let form = format!("csrf_token={}&full_name=Ana", session.csrf_token);
    let request = raw_post(&app, &session, "/account/profile", "application/x-www-form-urlencoded", form.as_bytes());
    cases.push(("urlencoded", request[..request.len() - 5].to_vec()));

    // The token in a header: the Form extractor reads the body itself.
    let request = format!(
        "POST /account/profile HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nfull_name=Ana",
        session.cookie, session.csrf_token
    );
    cases.push(("urlencoded, token in a header", request.into_bytes()));

    // Chunked: actix-http drains a dropped chunked body without a time limit, unless the
    // body's receiving end is still held when the answer goes out (web::body does).
    let request = format!(
        "POST /applications HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nContent-Type: {}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n--{BOUNDARY}\r\nCont\r\n",
        session.cookie,
        multipart_type(),
        BOUNDARY.len() + 8
    );
    cases.push(("chunked multipart", request.into_bytes()));

    let results = futures_util::future::join_all(cases.iter().map(|(_, r)| app.raw(r, WAIT))).await;
    for ((what, _), (outcome, took)) in cases.iter().zip(results) {
        assert_eq!(outcome, Outcome::AnsweredAndClosed(408), "{what}");
        assert!(took >= DEADLINE - Duration::from_millis(100) && took <= DEADLINE + SLACK, "{what} took {took:?}");
    }

    assert_eq!(connections_settle(app.port(), before, Duration::from_secs(3)).await, before);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_dripping_a_few_bytes_a_second_is_cut_off_at_the_deadline() {
    let (app, session) = resident_app().await;
    let before = server_connection_fds(app.port());
    let body =
        multipart_body(BOUNDARY, &session.csrf_token, &[("group", "centro")], &[("residency_proof", "luz.pdf", &PDF)]);
    let request = raw_post(&app, &session, "/applications", &multipart_type(), &body);
    let (head, body) = request.split_at(request.len() - body.len());
    // 4 bytes every 200 ms: 20 bytes a second, never a pause the idle limit would catch.
    let (outcome, took) = app.raw_drip(head, body, 4, Duration::from_millis(200), WAIT).await;
    assert_eq!(outcome, Outcome::AnsweredAndClosed(408));
    assert!(took >= DEADLINE - Duration::from_millis(100) && took <= DEADLINE + SLACK, "took {took:?}");
    assert_eq!(connections_settle(app.port(), before, Duration::from_secs(3)).await, before);
}

#[tokio::test]
async fn a_body_arriving_at_the_minimum_rate_may_take_longer_than_the_timeout() {
    // 2 s to start with, then a millisecond more for every byte: a 6 kB form sent at
    // 2 kB/s takes 3 s and earns 6 s.
    let app = app_with_deadline(DEADLINE, 1000).await;
    app.group("centro").await;
    app.create_user(Role::Resident, "lenta@example.com", "Vecina Lenta").await;
    let session = app.raw_session("lenta@example.com").await;
    let today = app.today().format("%Y-%m-%d").to_string();
    let padding = "x".repeat(5000);
    let body = multipart_body(
        BOUNDARY,
        &session.csrf_token,
        &[
            ("group", "centro"),
            ("street_address", "Calle Belgrano 1234"),
            ("dni", "30.123.456"),
            ("phone", "+54 2964 123456"),
            ("certificate_issued_on", &today),
            ("consent", "yes"),
            ("notes", &padding),
        ],
        &[
            ("residency_proof", "factura-luz.pdf", uploaded("residency_proof")),
            ("criminal_record", "certificado.jpg", uploaded("criminal_record")),
            ("identity_document", "dni.png", uploaded("identity_document")),
        ],
    );
    assert!(body.len() > 6000);
    let request = raw_post(&app, &session, "/applications", &multipart_type(), &body);
    let (head, body) = request.split_at(request.len() - body.len());
    let (outcome, took) = app.raw_drip(head, body, 500, Duration::from_millis(250), Duration::from_secs(10)).await;
    assert_eq!(outcome.status(), Some(303), "{outcome:?} after {took:?}");
    assert!(took > DEADLINE, "the upload outlasted the initial allowance ({took:?})");
    assert_eq!(app.count("applications").await, 1);
}

#[tokio::test]
async fn a_connection_serves_one_request_so_no_second_head_can_be_trickled() {
    let app = TestApp::spawn().await;
    // A quick first request, then a second head a byte every 200 ms: actix-http would time
    // only the first head; the connection is closed after the first response instead.
    let (outcome, took) = app
        .raw_drip(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            1,
            Duration::from_millis(200),
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(outcome, Outcome::AnsweredAndClosed(200), "closed after the first response ({took:?})");
}
