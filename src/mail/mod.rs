//! Outgoing mail. A change that must tell someone writes the mail into the outbox in its own
//! transaction (`Tx::mail`, from a typed kind in `kinds`); a worker delivers it later through one of the
//! transports below, retrying with back-off, so a mail server outage delays mail but
//! loses none and never fails the change.

pub mod kinds;
pub mod outbox;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::models::OutboxMail;
use crate::domain::Sensitive;

/// A mail ready for the outbox: its subject and its text and HTML parts, in the
/// recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where mail goes (`VECINAL_SMTP_URL`, else files in the data folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// SMTP URL as lettre reads it: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`.
    Smtp(Sensitive<String>),
    /// `.eml` files in a folder.
    Files(PathBuf),
    /// Kept in memory; for tests.
    Memory,
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
    Memory(MemoryMailbox),
}

/// A mailbox in memory; tests read what was sent and can make sends fail.
#[derive(Clone, Default)]
pub struct MemoryMailbox {
    sent: Arc<Mutex<Vec<SentMail>>>,
    failures_to_simulate: Arc<AtomicUsize>,
}

#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MemoryMailbox {
    pub fn sent(&self) -> Vec<SentMail> {
        self.sent.lock().expect("mailbox lock").clone()
    }

    /// The next `n` sends fail as if the server were down.
    pub fn fail_next(&self, n: usize) {
        self.failures_to_simulate.store(n, Ordering::SeqCst);
    }
}

impl Mailer {
    pub fn new(transport: &MailTransport) -> anyhow::Result<Self> {
        Ok(match transport {
            MailTransport::Smtp(url) => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
                    .context("VECINAL_SMTP_URL")?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            MailTransport::Files(dir) => {
                std::fs::create_dir_all(dir).with_context(|| format!("creating mail folder {}", dir.display()))?;
                Mailer::Files(AsyncFileTransport::new(dir), dir.clone())
            }
            MailTransport::Memory => Mailer::Memory(MemoryMailbox::default()),
        })
    }

    pub fn memory(&self) -> Option<&MemoryMailbox> {
        match self {
            Mailer::Memory(m) => Some(m),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP".into(),
            Mailer::Files(_, dir) => format!(".eml files in {}", dir.display()),
            Mailer::Memory(_) => "memory".into(),
        }
    }

    /// Sends one outbox mail as a text + HTML message.
    pub async fn send(&self, mail: &OutboxMail, from: &Mailbox) -> anyhow::Result<()> {
        if let Mailer::Memory(m) = self {
            let fail =
                m.failures_to_simulate.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if fail {
                anyhow::bail!("simulated mail server failure");
            }
            m.sent.lock().expect("mailbox lock").push(SentMail {
                to: mail.to_address.clone(),
                subject: mail.subject.clone(),
                text: mail.text_body.clone(),
                html: mail.html_body.clone(),
            });
            return Ok(());
        }
        let to: Mailbox = mail.to_address.parse().context("recipient address")?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@vecinal>", mail.id)))
            .multipart(MultiPart::alternative_plain_html(mail.text_body.clone(), mail.html_body.clone()))
            .context("building message")?;
        match self {
            Mailer::Smtp(t) => {
                t.send(message).await.context("SMTP delivery")?;
            }
            Mailer::Files(t, _) => {
                t.send(message).await.context("writing .eml file")?;
            }
            Mailer::Memory(_) => unreachable!("handled above"),
        }
        Ok(())
    }
}
