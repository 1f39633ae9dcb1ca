//! No log line carries personal data. This test binary installs the service's own log layers
//! (text and JSON, `vecinal::app::telemetry`) as the process-wide subscriber, writing to a
//! buffer, so every line the server writes from any of its threads is captured; it then runs
//! people's journeys through HTTP and fails on any DNI, e-mail address, name, street address,
//! phone, message, token, claim code, password or file name of its own test data in the output.
//!
//! A binary of its own (not a module of `tests/it`) so that no other test's server writes
//! into the buffer: the subscriber is global to the process.

#[path = "it/helpers/mod.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::sync::{Arc, LazyLock, Mutex};

use reqwest::StatusCode;
use tracing_subscriber::layer::SubscriberExt;
use vecinal::app::config::LogFormat;
use vecinal::app::telemetry;
use vecinal::domain::Role;

use helpers::*;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the service logged since the process started.
static LOGS: LazyLock<Buffer> = LazyLock::new(|| {
    let buffer = Buffer::default();
    let (text, json) = (buffer.clone(), buffer.clone());
    // The production filter (RUST_LOG or `info`), and everything the service itself says.
    let filter = telemetry::filter().add_directive("vecinal=trace".parse().unwrap());
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(telemetry::layer(LogFormat::Text, false, move || text.clone()))
        .with(telemetry::layer(LogFormat::Json, false, move || json.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this process");
    buffer
});

fn captured() -> String {
    String::from_utf8_lossy(&LOGS.0.lock().unwrap()).into_owned()
}

const RESIDENT_EMAIL: &str = "rosaura.olmedo@correo.example";
const RESIDENT_NAME: &str = "Rosaura Benítez Olmedo";
const DNI: &str = "27.845.613";
const DNI_DIGITS: &str = "27845613";
const ADDRESS: &str = "Pasaje Los Ñires 4471";
const PHONE: &str = "+54 2964 558812";
const DESK_NAME: &str = "Teodora Quiroga Paillalef";
const DESK_DNI: &str = "31.777.888";
const DESK_ADDRESS: &str = "Calle Los Calafates 120";
const DESK_PHONE: &str = "2964 447120";
const DESK_EMAIL: &str = "teodora.quiroga@correo.example";
const NEW_PASSWORD: &str = "cormorán lenga turba escarcha";
const OFFICER_EMAIL: &str = "brigida.zarate@policia.example";
const OFFICER_NAME: &str = "Brígida Zárate Ocampo";
const BOSS_EMAIL: &str = "etelvina.quintana@policia.example";
const BOSS_NAME: &str = "Etelvina Quintana Ruiz";
const OFFICER_MESSAGE: &str = "La factura de Pasaje Los Ñires no se lee, Rosaura.";
const RESIDENT_MESSAGE: &str = "Adjunto la factura escaneada otra vez.";
const FILES: [&str; 5] =
    ["dni-rosaura-olmedo", "factura-luz-olmedo", "antecedentes-olmedo", "nueva-factura-olmedo", "falsa-olmedo"];

/// The last path segment of a mailed link: its token.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn journeys_leave_no_personal_data_in_the_log() {
    LazyLock::force(&LOGS);
    let mut secrets: Vec<String> = Vec::new();
    let app = TestApp::spawn().await;
    let group = app.group("centro").await;
    let (officer, officer_id) = app.person(Role::Officer, OFFICER_EMAIL, OFFICER_NAME).await;
    app.assign(&officer_id, &group).await;
    let (boss, _) = app.person(Role::Commissioner, BOSS_EMAIL, BOSS_NAME).await;

    // Registration: a form mistake, the real one, a second try with the same address, the
    // confirmation link.
    let r = client();
    let home = r.get(app.url("/")).send().await.unwrap();
    secrets.extend(cookie_value(home.headers(), "vecinal_csrf"));
    secrets.push(app.csrf_token(&r, "/register").await);
    let bad = app.register(&r, RESIDENT_NAME, "rosaura.olmedo(at)correo", PASSWORD).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.register(&r, RESIDENT_NAME, RESIDENT_EMAIL, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let confirm = app.mailed_link(RESIDENT_EMAIL, "/email/confirm/").await;
    secrets.push(token_of(&confirm));
    assert_eq!(app.register(&client(), RESIDENT_NAME, RESIDENT_EMAIL, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&r, &confirm).await.status(), StatusCode::OK);
    assert_eq!(app.post_on(&r, &confirm, &[]).await.status(), StatusCode::SEE_OTHER);

    // Sign-in: wrong passwords until the throttle answers, then the right one.
    let guesser = client();
    for _ in 0..4 {
        app.login(&guesser, RESIDENT_EMAIL, "una contraseña equivocada").await;
    }
    app.state.clock.advance(chrono::Duration::minutes(1));
    let res = app.login(&r, RESIDENT_EMAIL, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    secrets.extend(cookie_value(res.headers(), "vecinal_session"));

    // Applying: a file that only starts like a PDF is refused, then the real submission.
    let fake = [b"%PDF-1.7\n".as_slice(), b"<html><script>alert(1)</script></html>"].concat();
    let submission = |proof: Vec<u8>| {
        Submission::valid(&app, "centro")
            .set("street_address", ADDRESS)
            .set("dni", DNI)
            .set("phone", PHONE)
            .file("residency_proof", "factura-luz-olmedo.pdf", proof)
            .file("criminal_record", "antecedentes-olmedo.jpg", JPEG.to_vec())
            .file("identity_document", "dni-rosaura-olmedo.png", PNG.to_vec())
    };
    let res = submission(PDF.to_vec()).file("residency_proof", "falsa-olmedo.pdf", fake).send(&app, &r).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = submission(PDF.to_vec()).send(&app, &r).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = application_id(&res);
    let page = app.page(&r, &format!("/applications/{id}")).await;
    assert!(page.contains("dni-rosaura-olmedo.png"));

    // The officer's review: queue, review page, a document, a request for information, the
    // answer with a new file, the approval.
    app.page(&officer, "/officer").await;
    let review = app.page(&officer, &format!("/officer/applications/{id}")).await;
    let doc = link_path(&review, &format!("/applications/{id}/documents/")).expect("a document link");
    let doc = doc.trim_end_matches('"').to_string();
    assert_eq!(app.get_with(&officer, &doc).await.status(), StatusCode::OK);
    app.claim(&officer, &id).await;
    app.request_info(&officer, &id, OFFICER_MESSAGE, "residency_proof").await;
    let answer = Submission::answer(app.version(&id).await).set("message", RESIDENT_MESSAGE).file(
        "residency_proof",
        "nueva-factura-olmedo.pdf",
        pdf(2, 0),
    );
    assert_eq!(app.resubmit(&r, &id, answer).await.status(), StatusCode::SEE_OTHER);
    app.claim_and_approve(&officer, &id).await;
    let user_id = app.user_id(RESIDENT_EMAIL).await;
    let membership = app.memberships_of(&user_id).await.remove(0);
    secrets.push(membership.verification_token.clone());
    app.page(&r, &format!("/memberships/{}", membership.id)).await;
    assert_eq!(app.get(&format!("/verify/{}", membership.verification_token)).await.status(), StatusCode::OK);

    // A mail that fails once and goes out on the next turn.
    app.mailbox().fail_next(1);
    app.deliver_mail().await;

    // The commissioner looks the person up by DNI, e-mail and name, opens the records and
    // exports; the officer searches the members.
    for path in [
        format!("/commissioner/memberships?q={DNI}"),
        format!("/commissioner/memberships?q={DNI_DIGITS}"),
        "/commissioner/memberships?q=Olmedo".to_string(),
        format!("/commissioner/audit?actor={RESIDENT_EMAIL}"),
        format!("/commissioner/people/{user_id}"),
        format!("/commissioner/applications/{id}"),
    ] {
        app.page(&boss, &path).await;
    }
    let csv = app.get_with(&boss, &format!("/commissioner/memberships.csv?q={DNI_DIGITS}")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    app.page(&officer, "/officer/memberships?q=Olmedo").await;

    // A password reset through the mailed link.
    let reset = app.post(&client(), "/password/forgot", &[("email", RESIDENT_EMAIL)]).await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    let link = app.mailed_link(RESIDENT_EMAIL, "/password/reset/").await;
    secrets.push(token_of(&link));
    assert_eq!(app.choose_password(&client(), &link, NEW_PASSWORD).await.status(), StatusCode::SEE_OTHER);

    // At the desk: a form mistake, an application for a person without e-mail, the receipt
    // with its code, a wrong and a right claim, the address and password, the notice told.
    let desk = || {
        Submission::desk(&app, "centro", DESK_DNI, DESK_NAME)
            .set("street_address", DESK_ADDRESS)
            .set("phone", DESK_PHONE)
            .file("residency_proof", "boleta-quiroga.pdf", PDF.to_vec())
    };
    let res = desk().set("email", "teodora(at)correo").send_to(&app, &officer, "/officer/desk").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (desk_id, code) = app.take_at_desk(&officer, "centro", DESK_DNI, DESK_NAME).await;
    secrets.push(code.clone());
    secrets.push(code.replace('-', ""));
    let claimer = client();
    let wrong = app.post(&claimer, "/claim", &[("dni", DESK_DNI), ("code", "AAAAA-BBBBB")]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.post(&claimer, "/claim", &[("dni", DESK_DNI), ("code", &code)]).await.status(), StatusCode::OK);
    let fields = [("dni", DESK_DNI), ("code", code.as_str()), ("email", DESK_EMAIL), ("password", PASSWORD)];
    assert_eq!(app.post(&claimer, "/claim/account", &fields).await.status(), StatusCode::SEE_OTHER);
    let (second, second_id) = app.person(Role::Officer, "segundo.oficial@policia.example", "Segundo Oficial").await;
    app.assign(&second_id, &group).await;
    app.claim(&second, &desk_id).await;
    app.request_info(&second, &desk_id, OFFICER_MESSAGE, "residency_proof").await;
    let notices = app.page(&officer, "/officer/desk/notices").await;
    let notice = notices.split("data-notice=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    let told = app.post(&officer, &format!("/officer/desk/notices/{notice}/told"), &[]).await;
    assert_eq!(told.status(), StatusCode::SEE_OTHER);

    // Refused and unknown requests that carry personal data in the body, path or query.
    let no_token = client().post(app.url("/login")).form(&[("email", RESIDENT_EMAIL), ("password", NEW_PASSWORD)]);
    assert_eq!(no_token.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let unknown = app.get(&format!("/buscar/{DNI_DIGITS}?email={RESIDENT_EMAIL}&nombre=Rosaura")).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // Staff sessions time out on a search; the next page sends them to sign in.
    app.state.clock.advance(chrono::Duration::minutes(31));
    let res = app.get_with(&boss, &format!("/commissioner/memberships?q={DNI}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login?next="), "the browser keeps where it was");
    let res = app.get_with(&officer, &format!("/officer/memberships?q={RESIDENT_EMAIL}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Request lines are written when a response has gone out.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = captured();
    assert!(logs.lines().count() > 50, "the server's lines were captured:\n{logs}");
    assert!(logs.contains("http.route=/commissioner/memberships"), "text lines name the route:\n{logs}");
    assert!(logs.contains("\"http.route\":\"/commissioner/memberships\""), "JSON lines too:\n{logs}");
    assert!(logs.contains("http.status_code=303"), "the expired session's request is logged:\n{logs}");

    let mut forbidden: Vec<String> = [
        RESIDENT_EMAIL,
        "rosaura.olmedo",
        "correo.example",
        OFFICER_EMAIL,
        BOSS_EMAIL,
        "policia.example",
        RESIDENT_NAME,
        "Rosaura",
        "Olmedo",
        "Benítez",
        OFFICER_NAME,
        "Brígida",
        "Zárate",
        BOSS_NAME,
        "Etelvina",
        "Quintana",
        DNI,
        DNI_DIGITS,
        "27%2E845",
        ADDRESS,
        "Ñires",
        "%C3%91ires",
        PHONE,
        "558812",
        OFFICER_MESSAGE,
        RESIDENT_MESSAGE,
        PASSWORD,
        NEW_PASSWORD,
        DESK_NAME,
        "Teodora",
        "Quiroga",
        DESK_DNI,
        "31777888",
        DESK_ADDRESS,
        "Calafates",
        DESK_PHONE,
        "447120",
        "555123",
        "Paillalef",
        DESK_EMAIL,
        "boleta-quiroga",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    forbidden.extend(FILES.iter().map(|s| s.to_string()));
    forbidden.extend(secrets.into_iter().filter(|s| s.len() >= 16));
    let leaks: Vec<String> = forbidden
        .iter()
        .filter(|needle| {
            let lower = needle.to_lowercase();
            logs.contains(needle.as_str()) || logs.to_lowercase().contains(&lower)
        })
        .map(|needle| {
            let line = logs.lines().find(|l| l.to_lowercase().contains(&needle.to_lowercase())).unwrap_or("");
            format!("{needle:?} in: {line}")
        })
        .collect();
    assert!(leaks.is_empty(), "personal data in the log:\n{}", leaks.join("\n"));
    // The one secret logged on purpose: the first-commissioner link, at start, while no
    // commissioner exists (README, "First start"); the operator has no other way to get it
    // but `vecinal create-commissioner`.
    let setup = token_of(app.setup_link.as_deref().expect("this installation started without a commissioner"));
    let with_setup: Vec<&str> = logs.lines().filter(|l| l.contains(&setup)).collect();
    assert_eq!(with_setup.len(), 2, "the start-up warning, as text and as JSON: {with_setup:?}");
    assert!(with_setup.iter().all(|l| l.contains("no commissioner account exists yet")), "{with_setup:?}");
    let errors: Vec<&str> = logs.lines().filter(|l| l.contains("\"level\":\"ERROR\"")).collect();
    assert!(errors.is_empty(), "no client's mistake or expired session is an ERROR:\n{}", errors.join("\n"));
}
