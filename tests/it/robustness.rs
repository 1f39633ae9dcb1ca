//! What an attacker sends instead of what a browser sends: malformed multipart bodies,
//! odd ids and paths, absurd query values, and HTTP/1.1 that bends the rules. The service
//! must answer each with a 4xx (or a page), never a 5xx, a dropped connection or a hang
//! past the body deadline, and be healthy afterwards.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Client, StatusCode};
use vecinal::startup::{CLIENT_DISCONNECT_TIMEOUT, REQUEST_HEAD_TIMEOUT};

use crate::helpers::*;

const B: &str = "RobustnessBoundary7MA4YWxkTrZu0gW";
const DEADLINE: Duration = Duration::from_secs(2);
const SLACK: Duration = Duration::from_millis(2500);
/// How long a GET may take.
const WAIT: Duration = Duration::from_secs(5);
/// Cases sent at once.
const BATCH: usize = 40;

struct World {
    app: TestApp,
    resident: RawSession,
    officer: Client,
    commissioner: Client,
    resident_client: Client,
    /// An application of the resident and one of its documents.
    application: String,
    document: String,
    membership: String,
}

async fn world() -> World {
    let app = TestApp::spawn_with(|s| {
        s.body_timeout = DEADLINE;
        s.max_upload_bytes = 4096;
    })
    .await;
    let g = app.group("centro").await;
    app.group("norte").await;
    let officer = app.officer("oficial@example.com", &g).await;
    let commissioner = app.commissioner("jefa@example.com").await;
    let (resident_client, application) = app.applicant("vecina@example.com", "centro").await;
    let document = app.documents_of(&application).await.remove(0).id.to_string();
    app.claim_and_approve(&officer, &application).await;
    let membership = app.memberships_of(&app.user_id("vecina@example.com").await).await.remove(0).id.to_string();
    let resident = app.raw_session("vecina@example.com").await;
    World { app, resident, officer, commissioner, resident_client, application, document, membership }
}

/// One request written by hand, whether closing without an answer is acceptable (for
/// requests too broken to answer), and by when the answer or the close must come.
struct Case {
    what: String,
    request: Vec<u8>,
    may_close: bool,
    limit: Duration,
}

impl Case {
    fn new(what: impl Into<String>, request: Vec<u8>, may_close: bool) -> Self {
        Case { what: what.into(), request, may_close, limit: DEADLINE + SLACK }
    }
}

/// Sends the cases, at most BATCH at a time (a slow one does not hold up the others), and
/// returns what went wrong.
async fn run(app: &TestApp, cases: Vec<Case>) -> Vec<String> {
    let results: Vec<_> = futures_util::stream::iter(cases)
        .map(|case| async move {
            let wait = case.limit + CLIENT_DISCONNECT_TIMEOUT + Duration::from_secs(1);
            let result = app.raw(&case.request, wait).await;
            (case, result)
        })
        .buffer_unordered(BATCH)
        .collect()
        .await;
    // The answers nearest their limit, to see how close a loaded machine comes.
    let mut near: Vec<_> =
        results.iter().map(|(case, (_, took))| (took.as_secs_f64() / case.limit.as_secs_f64(), case, took)).collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let nearest: Vec<_> =
        near.iter().take(3).map(|(_, case, took)| format!("{} {took:.1?} of {:?}", case.what, case.limit)).collect();
    eprintln!("robustness: {} cases by hand; nearest their limit: {}", results.len(), nearest.join("; "));
    let mut failures = Vec::new();
    for (case, (outcome, took)) in results {
        let bad = match &outcome {
            Outcome::AnsweredAndClosed(s) => *s >= 500 || took > case.limit,
            // Every case asks for Connection: close, or is refused: the server must close.
            Outcome::AnsweredOpen(_) => true,
            Outcome::Closed => !case.may_close || took > case.limit,
            Outcome::Hung => true,
        };
        if bad {
            failures.push(format!("{}: {outcome:?} after {took:?}", case.what));
        }
    }
    failures
}

fn post(app: &TestApp, s: &RawSession, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        host = app.socket_addr(),
        cookie = s.cookie,
        len = body.len(),
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn part(name: &[u8], extra: &str, value: &[u8]) -> Vec<u8> {
    let mut p = format!("--{B}\r\nContent-Disposition: form-data; name=\"").into_bytes();
    p.extend_from_slice(name);
    p.extend_from_slice(format!("\"{extra}\r\n\r\n").as_bytes());
    p.extend_from_slice(value);
    p.extend_from_slice(b"\r\n");
    p
}

fn file_part(name: &str, filename: &str, value: &[u8]) -> Vec<u8> {
    part(name.as_bytes(), &format!("; filename=\"{filename}\"\r\nContent-Type: application/pdf"), value)
}

fn close() -> Vec<u8> {
    format!("--{B}--\r\n").into_bytes()
}

/// The application form to "norte", every field well formed but the certificate too old
/// for the group, so that a complete form is answered 422 and creates nothing: its parts,
/// without the closing boundary.
fn valid_parts(token: &str) -> Vec<Vec<u8>> {
    vec![
        part(b"csrf_token", "", token.as_bytes()),
        part(b"group", "", b"norte"),
        part(b"street_address", "", b"Calle Belgrano 1234"),
        part(b"dni", "", b"30.123.456"),
        part(b"phone", "", b"+54 2964 123456"),
        part(b"certificate_issued_on", "", b"2020-01-01"),
        part(b"consent", "", b"yes"),
        file_part("residency_proof", "luz.pdf", &PDF),
        file_part("criminal_record", "cert.jpg", &JPEG),
        file_part("identity_document", "dni.png", &PNG),
    ]
}

fn multipart_cases(w: &World) -> Vec<Case> {
    let app = &w.app;
    let s = &w.resident;
    let ct = format!("multipart/form-data; boundary={B}");
    let token = s.csrf_token.as_str();
    let mut cases = Vec::new();
    let mut add = |what: String, content_type: &str, body: Vec<u8>, path: &str| {
        cases.push(Case::new(what, post(app, s, path, content_type, &body), false));
    };

    let parts = valid_parts(token);
    let full: Vec<u8> = parts.concat().into_iter().chain(close()).collect();
    add("the whole form (the group's certificate age refuses it)".into(), &ct, full.clone(), "/applications");

    // Truncated at and around every part boundary, with an exact Content-Length.
    let opening = format!("--{B}");
    let mut starts: Vec<usize> =
        full.windows(opening.len()).enumerate().filter(|(_, w)| *w == opening.as_bytes()).map(|(i, _)| i).collect();
    starts.push(full.len());
    for &at in &starts {
        for offset in [0usize, 2, opening.len(), opening.len() + 2] {
            let cut = (at + offset).min(full.len());
            add(format!("cut at byte {cut} (boundary at {at} + {offset})"), &ct, full[..cut].to_vec(), "/applications");
        }
        if let Some(h) = full[at..].windows(4).position(|w| w == b"\r\n\r\n") {
            let cut = at + h + 4;
            add(format!("cut after the headers of the part at {at}"), &ct, full[..cut].to_vec(), "/applications");
            add(format!("cut inside the headers of the part at {at}"), &ct, full[..at + h].to_vec(), "/applications");
        }
    }
    // And every 11 bytes.
    for cut in (1..full.len()).step_by(11) {
        add(format!("cut at byte {cut}"), &ct, full[..cut].to_vec(), "/applications");
    }
    // The same cut, to the other two multipart routes (with real and fake ids).
    let cut = starts[3];
    for path in [
        format!("/applications/{}/resubmit", w.application),
        format!("/memberships/{}/renew", w.membership),
        "/applications/not-a-uuid/resubmit".to_string(),
        "/memberships/..%2F..%2F/renew".to_string(),
        format!("/memberships/{}/renew", uuid::Uuid::new_v4()),
    ] {
        add(format!("cut at {cut} to {path}"), &ct, full[..cut].to_vec(), &path);
        add(format!("whole form to {path}"), &ct, full.clone(), &path);
    }

    // Boundaries.
    for (what, content_type) in [
        ("no boundary", "multipart/form-data".to_string()),
        ("empty boundary", "multipart/form-data; boundary=".to_string()),
        ("quoted empty boundary", "multipart/form-data; boundary=\"\"".to_string()),
        ("another boundary", "multipart/form-data; boundary=SomethingElse".to_string()),
        ("a prefix of the boundary", format!("multipart/form-data; boundary={}", &B[..5])),
        ("a longer boundary", format!("multipart/form-data; boundary={B}x")),
        ("a 300-character boundary", format!("multipart/form-data; boundary={}", "b".repeat(300))),
        ("two boundaries", format!("multipart/form-data; boundary={B}; boundary=other")),
        ("quoted boundary", format!("multipart/form-data; boundary=\"{B}\"")),
        ("multipart/mixed", format!("multipart/mixed; boundary={B}")),
        ("multipart without subtype", format!("multipart/; boundary={B}")),
        ("text/plain", "text/plain".to_string()),
        ("broken content type", "multipart/form-data; boundary=\"unterminated".to_string()),
    ] {
        add(format!("boundary: {what}"), &content_type, full.clone(), "/applications");
    }
    let lf_only: Vec<u8> = String::from_utf8_lossy(&full).replace("\r\n", "\n").into_bytes();
    add("line feeds without carriage returns".into(), &ct, lf_only, "/applications");
    let mut preamble = b"a preamble before the first boundary\r\n".to_vec();
    preamble.extend_from_slice(&full);
    add("a preamble".into(), &ct, preamble, "/applications");
    add("only the closing boundary".into(), &ct, close(), "/applications");
    add("an empty body".into(), &ct, Vec::new(), "/applications");
    add("garbage".into(), &ct, vec![0xAB; 2000], "/applications");
    let mut no_close_dashes = parts.concat();
    no_close_dashes.extend_from_slice(format!("--{B}\r\n").as_bytes());
    add("a last boundary opening nothing".into(), &ct, no_close_dashes, "/applications");
    let mut epilogue = full.clone();
    epilogue.extend_from_slice(b"an epilogue after the end\r\n--nonsense--\r\n");
    add("an epilogue".into(), &ct, epilogue, "/applications");
    let mut tight = parts.concat();
    tight.extend_from_slice(format!("--{B}--").as_bytes());
    add("a closing boundary without its line end".into(), &ct, tight, "/applications");

    // Many fields; odd names; odd parts.
    let with = |extra: Vec<Vec<u8>>| -> Vec<u8> {
        let mut p = valid_parts(token);
        p.splice(1..1, extra);
        p.concat().into_iter().chain(close()).collect()
    };
    add(
        "1000 fields".into(),
        &ct,
        with((0..1000).map(|i| part(format!("f{i}").as_bytes(), "", b"x")).collect()),
        "/applications",
    );
    add(
        "1000 empty fields of one name".into(),
        &ct,
        with((0..1000).map(|_| part(b"group", "", b"")).collect()),
        "/applications",
    );
    add("a non-UTF-8 field name".into(), &ct, with(vec![part(b"\xff\xfe\xfd", "", b"x")]), "/applications");
    add("a non-UTF-8 value".into(), &ct, with(vec![part(b"street_address", "", b"\xff\xfe\xfd")]), "/applications");
    let mut latin1_filename =
        format!("--{B}\r\nContent-Disposition: form-data; name=\"residency_proof\"; filename=\"").into_bytes();
    latin1_filename.extend_from_slice(b"\xff\xfe.pdf\"\r\n\r\n%PDF-1.4\r\n");
    add("a non-UTF-8 file name".into(), &ct, with(vec![latin1_filename]), "/applications");
    add("an empty field name".into(), &ct, with(vec![part(b"", "", b"x")]), "/applications");
    add("a name with a quote".into(), &ct, with(vec![part(b"a\\\"b", "", b"x")]), "/applications");
    add("a name with a NUL".into(), &ct, with(vec![part(b"a\0b", "", b"x")]), "/applications");
    let no_name = format!("--{B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n").into_bytes();
    add("a part without a name".into(), &ct, with(vec![no_name]), "/applications");
    let no_disposition = format!("--{B}\r\nContent-Type: text/plain\r\n\r\nx\r\n").into_bytes();
    add("a part without Content-Disposition".into(), &ct, with(vec![no_disposition]), "/applications");
    let attachment = format!("--{B}\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nx\r\n").into_bytes();
    add("an attachment part".into(), &ct, with(vec![attachment]), "/applications");
    let no_colon = format!("--{B}\r\nContent-Disposition form-data name=x\r\n\r\nx\r\n").into_bytes();
    add("a part header without a colon".into(), &ct, with(vec![no_colon]), "/applications");
    let nested = format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"x\"\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n\r\n"
    )
    .into_bytes();
    add("a nested multipart".into(), &ct, with(vec![nested]), "/applications");
    for length in ["5", "0", "abc", "-1", "99999999999999999999", "3"] {
        let p = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"notes\"\r\nContent-Length: {length}\r\n\r\nabcde\r\n"
        )
        .into_bytes();
        add(format!("a part with Content-Length {length}"), &ct, with(vec![p]), "/applications");
    }
    let huge_header =
        format!("--{B}\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Big: {}\r\n\r\nx\r\n", "h".repeat(100_000))
            .into_bytes();
    add("a 100 kB part header".into(), &ct, with(vec![huge_header]), "/applications");
    let many_headers = format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"x\"\r\n{}\r\nx\r\n",
        (0..100).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
    )
    .into_bytes();
    add("a part with 100 headers".into(), &ct, with(vec![many_headers]), "/applications");
    add("a 9 kB text field".into(), &ct, with(vec![part(b"notes", "", &[b'a'; 9000])]), "/applications");
    add(
        "a file over the limit".into(),
        &ct,
        with(vec![file_part("residency_proof", "big.pdf", &[b'%'; 5000])]),
        "/applications",
    );
    add("a file field twice".into(), &ct, with(vec![file_part("criminal_record", "a.jpg", &JPEG)]), "/applications");
    add("a file in a text field".into(), &ct, with(vec![file_part("group", "group.pdf", b"centro")]), "/applications");
    add("a second CSRF token".into(), &ct, with(vec![part(b"csrf_token", "", b"forged")]), "/applications");

    // Files: empty, and what only claims to be a document.
    let zero: Vec<u8> = [
        part(b"csrf_token", "", token.as_bytes()),
        part(b"group", "", b"centro"),
        file_part("residency_proof", "vacio.pdf", b""),
        file_part("criminal_record", "vacio.jpg", b""),
        file_part("identity_document", "vacio.png", b""),
        close(),
    ]
    .concat();
    add("zero-byte files".into(), &ct, zero, "/applications");
    let mut html_pdf = b"%PDF-1.4\n<html><script>alert(1)</script></html>".to_vec();
    html_pdf.extend_from_slice(&[b' '; 10]);
    let mut png_html = PNG[..8].to_vec();
    png_html.extend_from_slice(b"<html><body>hola</body></html>");
    let mut jpeg_svg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg_svg.extend_from_slice(b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>");
    for (what, bytes) in
        [("PDF header then HTML", html_pdf), ("PNG signature then HTML", png_html), ("JPEG magic then SVG", jpeg_svg)]
    {
        let p = valid_parts(token)
            .into_iter()
            .map(|p| {
                if p.windows(15).any(|w| w == b"residency_proof") {
                    file_part("residency_proof", "x.pdf", &bytes)
                } else {
                    p
                }
            })
            .chain([close()])
            .collect::<Vec<_>>()
            .concat();
        add(format!("polyglot: {what}"), &ct, p, "/applications");
    }
    // No CSRF field first.
    let no_token: Vec<u8> = valid_parts(token)[1..].concat().into_iter().chain(close()).collect();
    add("no CSRF field".into(), &ct, no_token, "/applications");
    cases
}

/// Bodies that stop short of their Content-Length and stall: the deadline answers them.
fn stalled_cases(w: &World) -> Vec<Case> {
    let ct = format!("multipart/form-data; boundary={B}");
    let full: Vec<u8> = valid_parts(&w.resident.csrf_token).concat().into_iter().chain(close()).collect();
    [10usize, 60, 200, 500, full.len() - 3]
        .into_iter()
        .map(|sent| {
            let request = post(&w.app, &w.resident, "/applications", &ct, &full);
            let cut = request.len() - full.len() + sent;
            Case::new(format!("stalled after {sent} body bytes"), request[..cut].to_vec(), false)
        })
        .collect()
}

fn odd_ids() -> Vec<String> {
    vec![
        "not-a-uuid".into(),
        "00000000-0000-0000-0000-000000000000".into(),
        uuid::Uuid::new_v4().to_string().to_uppercase(),
        format!("{{{}}}", uuid::Uuid::new_v4()),
        "%00".into(),
        "..".into(),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%2e%2e".into(),
        "%27%20OR%20%271%27%3D%271".into(),
        "1%3BDROP%20TABLE%20users".into(),
        "%F0%9F%92%A9".into(),
        "%ZZ".into(),
        "%".into(),
        "%C0%AF".into(),
        "%FF%FE".into(),
        "a".repeat(5000),
        "-1".into(),
        "99999999999999999999999".into(),
    ]
}

/// GETs of every route with an id, with odd ids, as everyone.
fn odd_paths(w: &World) -> Vec<String> {
    let templates = [
        "/applications/{}",
        "/applications/{}/documents/{}",
        "/applications/APP/documents/{}",
        "/memberships/{}",
        "/memberships/{}/qr.svg",
        "/memberships/{}/renew",
        "/officer/applications/{}",
        "/officer/memberships/{}",
        "/officer/desk/{}/receipt",
        "/officer/desk/{}/card",
        "/officer/desk/{}/card/qr.svg",
        "/commissioner/applications/{}",
        "/commissioner/people/{}",
        "/commissioner/groups/{}",
        "/commissioner/staff/{}",
        "/verify/{}",
        "/verify/{}.json",
        "/email/confirm/{}",
        "/password/reset/{}",
        "/invite/{}",
        "/setup/{}",
        "/account/email/confirm/{}",
        "/static/{}/style.css",
        "/static/x/{}",
    ];
    let mut paths = Vec::new();
    for t in templates {
        for id in odd_ids() {
            paths.push(t.replace("APP", &w.application).replace("{}", &id));
        }
    }
    paths.push(format!("/applications/{}/documents/{}", w.application, w.document));
    paths.extend(
        [
            "//",
            "/./me",
            "/me/",
            "/me/.",
            "/ME",
            "/%6De",
            "/static/%2e%2e/%2e%2e/Cargo.toml",
            "/static/../../Cargo.toml",
            "/..%2f..%2fCargo.toml",
            "/%00",
            "/%",
            "/;",
            "/?",
            "/#x",
            "/applications/",
            "/applications//documents/",
        ]
        .map(str::to_string),
    );
    paths.push(format!("/{}", "x".repeat(6000)));
    paths.push(format!("/verify/{}", "%41".repeat(3000)));
    paths
}

fn absurd_queries(w: &World) -> Vec<String> {
    let long = "q".repeat(6000);
    let mut q = vec![
        "/officer?group=%00&status=nonsense&mine=2&after=xyz".to_string(),
        "/officer?after=2024-13-45T99:99:99".into(),
        "/officer?after=%FF%FE&after=1&group=centro&group=norte".into(),
        "/officer?status=submitted&status=in_review&status=".into(),
        format!("/officer?group={long}"),
        "/officer/memberships?q=%&after=-1".into(),
        format!("/officer/memberships?q={long}&after={long}"),
        "/officer/memberships?after=99999999999999999999999".into(),
        "/commissioner?days=0".into(),
        "/commissioner?days=-1".into(),
        "/commissioner?days=99999999999999999999".into(),
        "/commissioner?days=30&days=90".into(),
        "/commissioner?days=%FF".into(),
        "/commissioner/audit?before=9223372036854775807".into(),
        "/commissioner/audit?before=-9223372036854775808".into(),
        "/commissioner/audit?before=99999999999999999999".into(),
        "/commissioner/audit?actor=..&action=%00&subject_type=%27&subject_id=%FF".into(),
        "/commissioner/audit?from=2024-02-30&to=0000-00-00".into(),
        "/commissioner/audit?from=not-a-date&to=".into(),
        "/commissioner/audit?from=-262143-01-01".into(),
        "/commissioner/memberships?q=%25%25%25&group=%00".into(),
        "/commissioner/decisions.csv?days=1e9".into(),
        "/commissioner/decisions.csv?days=-5".into(),
        "/commissioner/decisions.csv?days=99999999999999999999".into(),
        "/commissioner/memberships.csv?q=%00".into(),
        "/applications/new?group=%FF%FE".into(),
        format!("/applications/new?group={long}"),
        "/login?next=//evil.example".into(),
        "/login?next=%0d%0aSet-Cookie:%20x=y".into(),
        "/login?next=https://evil.example/".into(),
        "/?lang=xx&a=%&b=%ZZ".into(),
        format!("/?{}", "a=1&".repeat(2000)),
    ];
    q.push(format!("/memberships/{}?x=%FF", w.membership));
    q
}

async fn get_all(app: &TestApp, clients: &[(&str, &Client)], paths: &[String]) -> Vec<String> {
    let mut failures = Vec::new();
    for (who, c) in clients {
        let results: Vec<_> = futures_util::stream::iter(paths)
            .map(|p| async move { (p, tokio::time::timeout(WAIT, c.get(app.url(p)).send()).await) })
            .buffer_unordered(BATCH)
            .collect()
            .await;
        for (p, r) in results {
            let shown: String = p.chars().take(80).collect();
            match r {
                Ok(Ok(res)) if res.status().is_server_error() => {
                    failures.push(format!("{who} GET {shown}: {}", res.status()))
                }
                Ok(Ok(_)) => {}
                // reqwest refuses some URLs itself; a dropped connection is a failure.
                Ok(Err(e)) if e.is_builder() => {}
                Ok(Err(e)) => failures.push(format!("{who} GET {shown}: {e}")),
                Err(_) => failures.push(format!("{who} GET {shown}: no answer within {WAIT:?}")),
            }
        }
    }
    failures
}

fn http_oddities(w: &World) -> Vec<Case> {
    let host = w.app.socket_addr();
    let cookie = &w.resident.cookie;
    let form = format!("csrf_token={}&full_name=Ana+G", w.resident.csrf_token);
    let len = form.len();
    let raw = |what: &str, request: String, may_close: bool| Case::new(what, request.into_bytes(), may_close);
    let cases = vec![
        raw(
            "duplicate Content-Length, same value",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{form}"
            ),
            true,
        ),
        raw(
            "duplicate Content-Length, different values",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{form}"
            ),
            true,
        ),
        raw(
            "Content-Length: 5, 6",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5, 6\r\nConnection: close\r\n\r\nabcdef"
            ),
            true,
        ),
        raw(
            "Transfer-Encoding and Content-Length",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\nConnection: close\r\n\r\n{len:x}\r\n{form}\r\n0\r\n\r\n"
            ),
            true,
        ),
        raw(
            "chunked form",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{len:x}\r\n{form}\r\n0\r\n\r\n"
            ),
            false,
        ),
        raw(
            "chunked, bad chunk size",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            ),
            true,
        ),
        raw(
            "chunked, enormous chunk size",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc"
            ),
            true,
        ),
        raw(
            "chunked multipart, stalled",
            format!(
                "POST /applications HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={B}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n--{B}\r\nCont\r\n",
                B.len() + 8
            ),
            false,
        ),
        raw(
            "Transfer-Encoding: gzip, chunked",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"
            ),
            true,
        ),
        raw("missing Host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n".into(), true),
        raw(
            "two Hosts",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw("HTTP/1.0 without Host", "GET /healthz HTTP/1.0\r\n\r\n".into(), true),
        raw("garbage request line", "\u{1}\u{2}GARBAGE\r\n\r\n".into(), true),
        raw("request line without version", "GET /\r\n\r\n".into(), true),
        raw("HTTP/9.9", format!("GET / HTTP/9.9\r\nHost: {host}\r\n\r\n"), true),
        raw("lowercase method", format!("get / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw("unknown method", format!("FOO / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw(
            "CONNECT",
            "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nConnection: close\r\n\r\n".to_string(),
            true,
        ),
        raw("OPTIONS *", format!("OPTIONS * HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw("TRACE", format!("TRACE / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw(
            "absolute-form target",
            format!("GET http://evil.example/me HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw("target without a slash", format!("GET me HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw(
            "raw dot segments",
            format!("GET /static/../../../etc/passwd HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw("a space in the target", format!("GET /a b HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), true),
        raw(
            "a 20 kB target",
            format!("GET /{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", "a".repeat(20_000)),
            true,
        ),
        raw(
            "header without colon",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nNoColonHere\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "header with empty name",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n: value\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "space before colon",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-A : b\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "folded header",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-A: b\r\n  continued\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "NUL in a header",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-A: a\0b\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "a 100 kB header",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "b".repeat(100_000)),
            true,
        ),
        raw(
            "200 headers",
            format!(
                "GET / HTTP/1.1\r\nHost: {host}\r\n{}Connection: close\r\n\r\n",
                (0..200).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
            ),
            true,
        ),
        raw("bare line feeds", format!("GET / HTTP/1.1\nHost: {host}\nConnection: close\n\n"), true),
        raw(
            "a huge cookie",
            format!(
                "GET /me HTTP/1.1\r\nHost: {host}\r\nCookie: vecinal_session={}\r\nConnection: close\r\n\r\n",
                "s".repeat(30_000)
            ),
            true,
        ),
        raw(
            "a broken cookie",
            format!(
                "GET /me HTTP/1.1\r\nHost: {host}\r\nCookie: ;;=;vecinal_session=%FF%00;=\r\nConnection: close\r\n\r\n"
            ),
            true,
        ),
        raw(
            "an odd Accept-Language",
            format!(
                "GET / HTTP/1.1\r\nHost: {host}\r\nAccept-Language: {}\r\nConnection: close\r\n\r\n",
                "es-AR;q=x,".repeat(500)
            ),
            true,
        ),
        raw(
            "an odd Origin",
            format!(
                "POST /language HTTP/1.1\r\nHost: {host}\r\nOrigin: \u{7f}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ),
            true,
        ),
        raw(
            "Forwarded junk",
            format!(
                "GET / HTTP/1.1\r\nHost: {host}\r\nForwarded: for=\"[::1\r\nX-Forwarded-For: ,,,\r\nConnection: close\r\n\r\n"
            ),
            true,
        ),
        raw(
            "Expect: 100-continue",
            format!(
                "POST /account/profile HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{form}"
            ),
            true,
        ),
        raw(
            "Expect: nonsense",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nExpect: nonsense\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "a negative Content-Length",
            format!("POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\nConnection: close\r\n\r\n"),
            true,
        ),
        raw(
            "an enormous Content-Length",
            format!(
                "POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 99999999999999999999\r\nConnection: close\r\n\r\n"
            ),
            true,
        ),
        raw(
            "a GET with a body",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
            true,
        ),
        raw(
            "a GET with a body that never comes",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 500\r\nConnection: close\r\n\r\nhello"),
            true,
        ),
        raw("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".into(), true),
        raw(
            "TLS client hello",
            String::from_utf8_lossy(&[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]).into_owned(),
            true,
        ),
        raw(
            "pipelined, the second broken",
            format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\nBROKEN\r\n\r\n"),
            true,
        ),
    ];
    cases
}

/// Request heads that never end: the server's head timeout answers or closes them.
fn unfinished_heads(w: &World) -> Vec<Case> {
    let host = w.app.socket_addr();
    let limit = REQUEST_HEAD_TIMEOUT + SLACK;
    [
        ("nothing at all", String::new()),
        ("only a line end", "\r\n".to_string()),
        ("half a request line", "GET /me HT".to_string()),
        ("an unfinished header", format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: ")),
    ]
    .into_iter()
    .map(|(what, head)| Case { limit, ..Case::new(format!("unfinished head: {what}"), head.into_bytes(), true) })
    .collect()
}

#[tokio::test]
async fn malformed_requests_get_4xx_never_5xx_a_drop_or_a_hang() {
    let started = std::time::Instant::now();
    let w = world().await;
    let visitor = client();
    let _ = visitor.get(w.app.url("/")).send().await;

    // Requests written by hand (the unfinished heads wait for the server's head timeout)
    // and requests through a client, at the same time.
    let raw =
        unfinished_heads(&w).into_iter().chain(stalled_cases(&w)).chain(http_oddities(&w)).chain(multipart_cases(&w));
    let (mut failures, others) = tokio::join!(run(&w.app, raw.collect()), through_clients(&w, &visitor));
    failures.extend(others);

    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(w.app.get("/readyz").await.status(), StatusCode::OK, "healthy afterwards");
    assert_eq!(w.app.get_with(&w.resident_client, "/me").await.status(), StatusCode::OK, "sessions survive");
    // No connection is left half-closed: every one the clients gave up on, the server closed.
    assert_eq!(close_wait_settles(w.app.port(), Duration::from_secs(5)).await, 0, "sockets left in CLOSE-WAIT");
    eprintln!("robustness: done in {:?}", started.elapsed());
}

/// Odd paths and queries as a visitor, a resident, an officer and a commissioner; odd ids
/// in officers' posts.
async fn through_clients(w: &World, visitor: &Client) -> Vec<String> {
    let mut failures = Vec::new();
    let clients: [(&str, &Client); 4] = [
        ("visitor", visitor),
        ("resident", &w.resident_client),
        ("officer", &w.officer),
        ("commissioner", &w.commissioner),
    ];
    let paths = odd_paths(w);
    let queries = absurd_queries(w);
    failures.extend(get_all(&w.app, &clients, &paths).await);
    failures.extend(get_all(&w.app, &clients, &queries).await);

    // State-changing routes with odd ids, with a valid token.
    let token = w.app.csrf_token(&w.officer, "/").await;
    let mut posts = 0;
    for id in odd_ids() {
        for path in [
            format!("/officer/applications/{id}/approve"),
            format!("/officer/applications/{}/{id}", w.application),
            format!("/officer/memberships/{id}/suspend"),
            format!("/officer/removals/{id}/done"),
            format!("/officer/desk/{id}/code"),
            format!("/officer/desk/notices/{id}/told"),
        ] {
            posts += 1;
            let res = w.app.post_form(&w.officer, &path, &token, &[("version", "1")]).await;
            if res.status().is_server_error() {
                failures.push(format!("officer POST {}: {}", &path[..path.len().min(80)], res.status()));
            }
        }
    }
    eprintln!(
        "robustness: {} multipart bodies, {} stalled, {} HTTP/1.1 oddities, {} odd paths and {} odd queries as 4 visitors, {posts} odd posts",
        multipart_cases(w).len(),
        stalled_cases(w).len(),
        http_oddities(w).len(),
        paths.len(),
        queries.len(),
    );
    failures
}
