//! The outbox: mails survive a mail-server outage and go out exactly once; delivery through
//! a real SMTP server.

use diesel::prelude::*;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use vecinal::app::config::{MailTransport, Sensitive};
use vecinal::db::schema::mail_outbox;
use vecinal::mail::outbox::DeliveryReport;

use crate::helpers::*;

async fn register(app: &TestApp, email: &str) {
    let res = app.register(&client(), "Vecina Correo", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_outbox_retries_after_a_failure_and_sends_exactly_once() {
    let app = TestApp::spawn().await;
    register(&app, "reintento@example.com").await;
    app.mailbox().fail_next(1);

    let report = vecinal::jobs::deliver_mail(&app.state).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 0, failed: 1 });
    assert!(app.mailbox().sent().is_empty());
    let (attempts, error): (i32, Option<String>) = app
        .state
        .db(|c| Ok(mail_outbox::table.select((mail_outbox::attempts, mail_outbox::last_error)).first(c)?))
        .await
        .unwrap();
    assert_eq!(attempts, 1);
    assert!(error.unwrap().contains("simulated"));

    // Not due yet: the back-off holds it.
    assert_eq!(vecinal::jobs::deliver_mail(&app.state).await.unwrap(), DeliveryReport::default());

    app.state.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(vecinal::jobs::deliver_mail(&app.state).await.unwrap(), DeliveryReport { sent: 1, failed: 0 });
    // Running again, or later, sends nothing more.
    assert_eq!(vecinal::jobs::deliver_mail(&app.state).await.unwrap(), DeliveryReport::default());
    app.state.clock.advance(chrono::Duration::hours(7));
    assert_eq!(vecinal::jobs::deliver_mail(&app.state).await.unwrap(), DeliveryReport::default());
    let sent = app.mailbox().sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "reintento@example.com");
}

#[tokio::test]
async fn concurrent_workers_never_send_a_mail_twice() {
    let app = TestApp::spawn().await;
    for i in 0..12 {
        register(&app, &format!("lote{i}@example.com")).await;
    }
    let (a, b, c) = tokio::join!(
        vecinal::jobs::deliver_mail(&app.state),
        vecinal::jobs::deliver_mail(&app.state),
        vecinal::jobs::deliver_mail(&app.state)
    );
    let total = a.unwrap().sent + b.unwrap().sent + c.unwrap().sent;
    assert_eq!(total, 12);
    let mut to: Vec<String> = app.mailbox().sent().into_iter().map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 12);
}

#[tokio::test]
async fn mail_is_written_in_the_recipients_language() {
    let app = TestApp::spawn().await;
    let c = client();
    app.post(&c, "/language", &[("lang", "en"), ("next", "/")]).await;
    let res = app.register(&c, "Jane Doe", "jane@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = app.last_mail_to("jane@example.com").await;
    assert!(mail.subject.starts_with("Confirm your email"), "{}", mail.subject);
    assert!(mail.text.contains("Hello Jane Doe"));
    assert!(mail.html.contains("<html lang=\"en\">"));
}

/// A minimal SMTP receiver for machines without a mail server: enough of RFC 5321 for one
/// client session. CI runs the same test against a real server (aiosmtpd).
async fn smtp_sink() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                    // The client may keep the connection open for more mail.
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(std::mem::take(&mut data));
                    }
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (url, rx)
}

#[tokio::test]
async fn mail_is_delivered_through_smtp() {
    let real = std::env::var("TEST_SMTP_URL").ok().filter(|v| !v.is_empty());
    let maildir = std::env::var("TEST_SMTP_MAILDIR").ok().filter(|v| !v.is_empty());
    assert!(
        !services_required() || (real.is_some() && maildir.is_some()),
        "TEST_REQUIRE_SERVICES=1 needs TEST_SMTP_URL and TEST_SMTP_MAILDIR"
    );
    let (url, sink) = match &real {
        Some(u) => (u.clone(), None),
        None => {
            let (u, h) = smtp_sink().await;
            (u, Some(h))
        }
    };
    let app = TestApp::spawn_with(|s| s.mail_transport = MailTransport::Smtp(Sensitive(url))).await;
    let recipient = format!("smtp-{}@example.com", uuid::Uuid::new_v4().simple());
    register(&app, &recipient).await;
    let report = vecinal::jobs::deliver_mail(&app.state).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 1, failed: 0 });

    let message = match (sink, maildir) {
        (Some(rx), _) => {
            tokio::time::timeout(std::time::Duration::from_secs(10), rx).await.expect("the sink got a message").unwrap()
        }
        (None, Some(dir)) => {
            let new = std::path::Path::new(&dir).join("new");
            let mut found = None;
            for _ in 0..50 {
                found = std::fs::read_dir(&new)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .find(|m| m.contains(&recipient));
                if found.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            found.expect("the SMTP server stored the message")
        }
        (None, None) => unreachable!("TEST_SMTP_URL without TEST_SMTP_MAILDIR"),
    };
    assert!(message.contains(&format!("To: {recipient}")), "{message}");
    assert!(message.contains("multipart/alternative"), "text and HTML parts");
    assert!(message.contains("text/html") && message.contains("text/plain"));
    let sent_at: Option<chrono::NaiveDateTime> =
        app.state.db(|c| Ok(mail_outbox::table.select(mail_outbox::sent_at).first(c)?)).await.unwrap();
    assert!(sent_at.is_some());
}
