//! The kinds of mail the service sends: one struct per kind, holding exactly the values that
//! mail shows, and one template pair per kind, `templates/email/<kind>.html` and
//! `templates/email/<kind>.txt`.
//!
//! Who decides what:
//! - The wording stays in the translation catalogues (`mail.<kind>.*` in
//!   `src/i18n/{es,en}/`): one source for translators, with both languages kept aligned by
//!   the i18n tests.
//! - Each kind's structure (which paragraphs, in which order, which values go where, the
//!   button) lives in its templates, which extend the shared `email/layout.{html,txt}`
//!   (greeting, footer, frame) and build their content from `email/macros.{html,txt}`.
//! - Rust only fills the struct; a service calls `Kind { … }.render(locale, org)` and puts
//!   the result in the outbox.
//!
//! The HTML part escapes every value, texts with values already filled in included; the
//! text part is plain text.

use askama::Template;
use chrono::NaiveDate;

use crate::domain::application::DocumentKind;
use crate::domain::{Locale, Role};
use crate::i18n;
use crate::mail::RenderedMail;
use crate::tk;

/// A kind of mail: renders itself in a language for an organisation.
pub trait MailKind {
    /// The kind's name; its templates are `templates/email/<NAME>.{html,txt}`.
    const NAME: &'static str;

    fn render(&self, locale: Locale, org: &str) -> Result<RenderedMail, askama::Error>;
}

/// What the layout and every kind's template get besides the kind's values: the language,
/// the organisation, the recipient's name and the subject, with the translation helpers.
pub struct MailContext<'a> {
    pub locale: Locale,
    pub org: &'a str,
    /// The recipient's name, for the greeting.
    pub name: &'a str,
    pub subject: String,
}

impl MailContext<'_> {
    /// The text under `key`, with `{org}` filled in.
    pub fn t(&self, key: &str) -> String {
        self.tf(key, &[])
    }

    /// The text under `key` with its `{name}` placeholders filled in; `{org}` always is.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut all = vec![("org", self.org)];
        all.extend_from_slice(args);
        i18n::format(self.locale, key, &all)
    }

    /// The text under `prefix` + `name`, for keys built from data ("role." + role).
    pub fn tp(&self, prefix: &str, name: &str) -> String {
        i18n::t(self.locale, &format!("{prefix}{name}")).to_string()
    }

    /// A date as mails show it.
    pub fn date(&self, date: &NaiveDate) -> String {
        date.format("%d/%m/%Y").to_string()
    }

    /// Document kinds by name, comma-separated.
    pub fn document_kinds(&self, kinds: &[DocumentKind]) -> String {
        kinds.iter().map(|k| i18n::t(self.locale, k.label_key())).collect::<Vec<_>>().join(", ")
    }
}

/// Implements [`MailKind`] for a struct with a `name` field (the recipient) from its subject
/// key and its two templates.
macro_rules! mail_kind {
    ($kind:ident, $name:literal, $subject:expr, $html:literal, $text:literal) => {
        const _: () = {
            #[derive(Template)]
            #[template(path = $html)]
            struct Html<'t> {
                ctx: &'t MailContext<'t>,
                m: &'t $kind<'t>,
            }

            #[derive(Template)]
            #[template(path = $text)]
            struct Text<'t> {
                ctx: &'t MailContext<'t>,
                m: &'t $kind<'t>,
            }

            impl MailKind for $kind<'_> {
                const NAME: &'static str = $name;

                fn render(&self, locale: Locale, org: &str) -> Result<RenderedMail, askama::Error> {
                    let ctx = MailContext {
                        locale,
                        org,
                        name: self.name,
                        subject: i18n::format(locale, $subject, &[("org", org)]),
                    };
                    Ok(RenderedMail {
                        text: Text { ctx: &ctx, m: self }.render()?,
                        html: Html { ctx: &ctx, m: self }.render()?,
                        subject: ctx.subject,
                    })
                }
            }
        };
    };
}

/// Someone tried to register with the address of an existing account; its owner is told
/// instead of getting a second account.
pub struct AlreadyRegistered<'a> {
    pub name: &'a str,
    /// The sign-in page (the button).
    pub link: &'a str,
    /// The forgotten-password page.
    pub reset_link: &'a str,
}
mail_kind!(
    AlreadyRegistered,
    "already_registered",
    tk!("mail.already_registered.subject"),
    "email/already_registered.html",
    "email/already_registered.txt"
);

/// A resident's application arrived.
pub struct ApplicationReceived<'a> {
    pub name: &'a str,
    pub group: &'a str,
    /// The application's page.
    pub link: &'a str,
}
mail_kind!(
    ApplicationReceived,
    "application_received",
    tk!("mail.application_received.subject"),
    "email/application_received.html",
    "email/application_received.txt"
);

/// An application was approved: the membership's number and period, and the group's chat.
pub struct Approved<'a> {
    pub name: &'a str,
    pub group: &'a str,
    /// The membership number.
    pub number: &'a str,
    pub valid_until: NaiveDate,
    /// The group's chat invitation.
    pub invite_link: &'a str,
    /// The resident's page.
    pub link: &'a str,
}
mail_kind!(Approved, "approved", tk!("mail.approved.subject"), "email/approved.html", "email/approved.txt");

/// A new account's confirmation link.
pub struct Confirm<'a> {
    pub name: &'a str,
    pub link: &'a str,
}
mail_kind!(Confirm, "confirm", tk!("mail.confirm.subject"), "email/confirm.html", "email/confirm.txt");

/// An officer's daily summary of applications in their groups.
pub struct Digest<'a> {
    pub name: &'a str,
    /// Applications submitted since the last summary.
    pub new: i64,
    /// Applications still open.
    pub open: i64,
    /// The review queue.
    pub link: &'a str,
}
mail_kind!(Digest, "digest", tk!("mail.digest.subject"), "email/digest.html", "email/digest.txt");

/// Sent to a new address to confirm it as the account's email.
pub struct EmailChange<'a> {
    pub name: &'a str,
    pub link: &'a str,
}
mail_kind!(
    EmailChange,
    "email_change",
    tk!("mail.email_change.subject"),
    "email/email_change.html",
    "email/email_change.txt"
);

/// Sent to the current address when a change to another one is requested.
pub struct EmailChangeNotice<'a> {
    pub name: &'a str,
    pub new_email: &'a str,
    /// The forgotten-password page.
    pub reset_link: &'a str,
}
mail_kind!(
    EmailChangeNotice,
    "email_change_notice",
    tk!("mail.email_change_notice.subject"),
    "email/email_change_notice.html",
    "email/email_change_notice.txt"
);

/// An invitation to join the staff in a role.
pub struct Invite<'a> {
    pub name: &'a str,
    pub role: Role,
    pub link: &'a str,
}
mail_kind!(Invite, "invite", tk!("mail.invite.subject"), "email/invite.html", "email/invite.txt");

/// A membership's suspension was lifted.
pub struct MembershipReinstated<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub number: &'a str,
    pub reason: Option<&'a str>,
    /// The membership's page.
    pub link: &'a str,
}
mail_kind!(
    MembershipReinstated,
    "membership_reinstated",
    tk!("mail.membership_reinstated.subject"),
    "email/membership_reinstated.html",
    "email/membership_reinstated.txt"
);

/// A membership ends soon and can be renewed.
pub struct MembershipReminder<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub number: &'a str,
    pub valid_until: NaiveDate,
    /// Days left until `valid_until`.
    pub days: i64,
    /// The renewal page.
    pub link: &'a str,
}
mail_kind!(
    MembershipReminder,
    "membership_reminder",
    tk!("mail.membership_reminder.subject"),
    "email/membership_reminder.html",
    "email/membership_reminder.txt"
);

/// A membership was revoked for good.
pub struct MembershipRevoked<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub number: &'a str,
    pub reason: Option<&'a str>,
    /// The membership's page.
    pub link: &'a str,
}
mail_kind!(
    MembershipRevoked,
    "membership_revoked",
    tk!("mail.membership_revoked.subject"),
    "email/membership_revoked.html",
    "email/membership_revoked.txt"
);

/// A membership was suspended.
pub struct MembershipSuspended<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub number: &'a str,
    pub reason: Option<&'a str>,
    /// The membership's page.
    pub link: &'a str,
}
mail_kind!(
    MembershipSuspended,
    "membership_suspended",
    tk!("mail.membership_suspended.subject"),
    "email/membership_suspended.html",
    "email/membership_suspended.txt"
);

/// An officer asks the applicant for more: a message and documents to send again.
pub struct NeedsInfo<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub message: &'a str,
    /// At least one.
    pub kinds: &'a [DocumentKind],
    /// The application's page.
    pub link: &'a str,
}
mail_kind!(NeedsInfo, "needs_info", tk!("mail.needs_info.subject"), "email/needs_info.html", "email/needs_info.txt");

/// Tells an officer who asked for immediate notice that an application arrived. Names the
/// group only; the details are behind sign-in.
pub struct NewApplication<'a> {
    pub name: &'a str,
    pub group: &'a str,
    /// The application's review page.
    pub link: &'a str,
}
mail_kind!(
    NewApplication,
    "new_application",
    tk!("mail.new_application.subject"),
    "email/new_application.html",
    "email/new_application.txt"
);

/// The account's password changed.
pub struct PasswordChanged<'a> {
    pub name: &'a str,
    /// The forgotten-password page.
    pub reset_link: &'a str,
}
mail_kind!(
    PasswordChanged,
    "password_changed",
    tk!("mail.password_changed.subject"),
    "email/password_changed.html",
    "email/password_changed.txt"
);

/// An application was rejected.
pub struct Rejected<'a> {
    pub name: &'a str,
    pub group: &'a str,
    /// One of the reason codes (`reject.reason.<code>` in the catalogues).
    pub reason: &'a str,
    /// The officer's note to the applicant, when they wrote one.
    pub note: Option<&'a str>,
    /// The application's page.
    pub link: &'a str,
}
mail_kind!(Rejected, "rejected", tk!("mail.rejected.subject"), "email/rejected.html", "email/rejected.txt");

/// A password-reset link.
pub struct Reset<'a> {
    pub name: &'a str,
    pub link: &'a str,
}
mail_kind!(Reset, "reset", tk!("mail.reset.subject"), "email/reset.html", "email/reset.txt");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::i18n::Catalog;

    const ORG: &str = "Comisaría 3ª <Norte>";
    const NAME: &str = "<b>Ana</b> O'Brien";
    const GROUP: &str = "Barrio Norte & Sur";
    const NUMBER: &str = "VN-2025-000123";
    const LINK: &str = "https://vecinal.example/applications/7f3a?tab=docs&x=\"1\"";
    const OTHER_LINK: &str = "https://vecinal.example/password/forgot?from=mail&y=2";
    const INVITE_LINK: &str = "https://chat.example/join/AbC_123?ref=vecinal&z=3";
    const REASON: &str = "Mensajes <fuera de tema> & cadenas";
    const MESSAGE: &str = "Falta la página 2 del certificado \"de antecedentes\"";
    const NOTE: &str = "El domicilio queda fuera de 'la zona'";
    const NEW_EMAIL: &str = "ana.nueva@example.org";
    const KINDS: &[DocumentKind] = &[DocumentKind::CriminalRecord, DocumentKind::IdentityDocument];

    fn until() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
    }

    /// As askama escapes HTML.
    fn escape(s: &str) -> String {
        s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
    }

    /// Renders `kind` in both languages and checks both parts carry `values` (and the texts
    /// under `keys`), escaped in the HTML part, with no template syntax, placeholder or
    /// catalogue key left over. Returns the kind's name.
    fn check<K: MailKind>(kind: K, values: &[&str], keys: &[&str]) -> &'static str {
        let mut values = values.to_vec();
        values.extend([ORG, NAME]);
        let [es, en] = Locale::ALL.map(|locale| {
            let m = kind.render(locale, ORG).unwrap_or_else(|e| panic!("{}: {e}", K::NAME));
            let at = format!("{} ({})", K::NAME, locale.as_str());
            assert!(!m.subject.trim().is_empty() && !m.text.trim().is_empty() && !m.html.trim().is_empty(), "{at}");
            assert!(m.subject.contains(ORG) && !m.subject.contains('\n'), "{at}: {}", m.subject);
            let translated: Vec<&str> = keys.iter().map(|k| i18n::t(locale, k)).collect();
            for v in values.iter().chain(&translated) {
                assert!(m.text.contains(v), "{at}: {v:?} missing in the text part:\n{}", m.text);
                assert!(m.html.contains(&escape(v)), "{at}: {v:?} missing in the HTML part:\n{}", m.html);
                if escape(v) != *v {
                    assert!(!m.html.contains(v), "{at}: {v:?} unescaped in the HTML part");
                }
            }
            for part in [&m.subject, &m.text, &m.html] {
                for syntax in ["{{", "}}", "{%", "%}", "{#", "#}"] {
                    assert!(!part.contains(syntax), "{at}: template syntax {syntax} left in:\n{part}");
                }
                let placeholder = part.split('{').skip(1).find_map(|rest| {
                    let (name, _) = rest.split_once('}')?;
                    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
                });
                assert!(placeholder.is_none(), "{at}: placeholder {placeholder:?} not filled in:\n{part}");
                // A missing key renders as itself; the prefixes of the keys mails use.
                for prefix in ["mail.", "role.", "reject.reason.", "document.kind."] {
                    let leak = part.match_indices(prefix).any(|(i, _)| {
                        let before = part[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric());
                        let after = part[i + prefix.len()..].chars().next().is_some_and(|c| c.is_ascii_lowercase());
                        !before && after
                    });
                    assert!(!leak, "{at}: a catalogue key ({prefix}…) in:\n{part}");
                }
                let key = Catalog::get().keys(locale).into_iter().find(|k| part.contains(k));
                assert!(key.is_none(), "{at}: catalogue key {key:?} in:\n{part}");
            }
            m
        });
        assert_ne!(es.subject, en.subject, "{}", K::NAME);
        assert_ne!(es.text, en.text, "{}", K::NAME);
        assert_ne!(es.html, en.html, "{}", K::NAME);
        assert!(es.html.contains("lang=\"es-AR\"") && en.html.contains("lang=\"en\""), "{}", K::NAME);
        K::NAME
    }

    /// One case per kind. A kind added without a case here fails `every_kind_has_a_case`,
    /// since its templates have no case to match.
    fn every_kind() -> Vec<&'static str> {
        vec![
            check(AlreadyRegistered { name: NAME, link: LINK, reset_link: OTHER_LINK }, &[LINK, OTHER_LINK], &[]),
            check(ApplicationReceived { name: NAME, group: GROUP, link: LINK }, &[GROUP, LINK], &[]),
            check(
                Approved {
                    name: NAME,
                    group: GROUP,
                    number: NUMBER,
                    valid_until: until(),
                    invite_link: INVITE_LINK,
                    link: LINK,
                },
                &[GROUP, NUMBER, "31/03/2026", INVITE_LINK, LINK],
                &[],
            ),
            check(Confirm { name: NAME, link: LINK }, &[LINK], &[]),
            check(Digest { name: NAME, new: 17, open: 42, link: LINK }, &["17", "42", LINK], &[]),
            check(EmailChange { name: NAME, link: LINK }, &[LINK], &[]),
            check(
                EmailChangeNotice { name: NAME, new_email: NEW_EMAIL, reset_link: OTHER_LINK },
                &[NEW_EMAIL, OTHER_LINK],
                &[],
            ),
            check(Invite { name: NAME, role: Role::Officer, link: LINK }, &[LINK], &["role.officer"]),
            check(
                MembershipReinstated { name: NAME, group: GROUP, number: NUMBER, reason: Some(REASON), link: LINK },
                &[GROUP, NUMBER, REASON, LINK],
                &[],
            ),
            check(
                MembershipReminder {
                    name: NAME,
                    group: GROUP,
                    number: NUMBER,
                    valid_until: until(),
                    days: 30,
                    link: LINK,
                },
                &[GROUP, NUMBER, "31/03/2026", "30", LINK],
                &[],
            ),
            check(
                MembershipRevoked { name: NAME, group: GROUP, number: NUMBER, reason: Some(REASON), link: LINK },
                &[GROUP, NUMBER, REASON, LINK],
                &[],
            ),
            check(
                MembershipSuspended { name: NAME, group: GROUP, number: NUMBER, reason: Some(REASON), link: LINK },
                &[GROUP, NUMBER, REASON, LINK],
                &[],
            ),
            check(
                NeedsInfo { name: NAME, group: GROUP, message: MESSAGE, kinds: KINDS, link: LINK },
                &[GROUP, MESSAGE, LINK],
                &[DocumentKind::CriminalRecord.label_key(), DocumentKind::IdentityDocument.label_key()],
            ),
            check(NewApplication { name: NAME, group: GROUP, link: LINK }, &[GROUP, LINK], &[]),
            check(PasswordChanged { name: NAME, reset_link: OTHER_LINK }, &[OTHER_LINK], &[]),
            check(
                Rejected { name: NAME, group: GROUP, reason: "record_found", note: Some(NOTE), link: LINK },
                &[GROUP, NOTE, LINK],
                &["reject.reason.record_found"],
            ),
            check(Reset { name: NAME, link: LINK }, &[LINK], &[]),
        ]
    }

    #[test]
    fn every_kind_renders_in_both_languages_with_its_values() {
        every_kind();
    }

    #[test]
    fn every_kind_has_a_case() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/email");
        let mut files: BTreeSet<String> = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            files.insert(entry.unwrap().file_name().to_string_lossy().into_owned());
        }
        let shared = ["layout", "macros"];
        for stem in shared {
            assert!(files.contains(&format!("{stem}.html")) && files.contains(&format!("{stem}.txt")));
        }
        let mut kinds: BTreeSet<&str> = BTreeSet::new();
        for name in every_kind() {
            assert!(kinds.insert(name), "{name} has two cases");
        }
        let stems: BTreeSet<&str> = files
            .iter()
            .filter_map(|f| f.split_once('.').map(|(stem, _)| stem))
            .filter(|s| !shared.contains(s))
            .collect();
        assert_eq!(stems, kinds, "every template pair in templates/email/ is a kind with a case in every_kind()");
        for kind in kinds {
            for ext in ["html", "txt"] {
                assert!(files.contains(&format!("{kind}.{ext}")), "templates/email/{kind}.{ext} is missing");
            }
        }
        assert_eq!(files.len(), 2 * (stems.len() + shared.len()), "only .html and .txt templates: {files:?}");
    }

    #[test]
    fn optional_paragraphs_show_only_with_their_value() {
        for locale in Locale::ALL {
            let with = Rejected { name: NAME, group: GROUP, reason: "other", note: Some(NOTE), link: LINK };
            let without = Rejected { note: None, ..with };
            let note = i18n::format(locale, tk!("mail.rejected.note"), &[("note", "")]);
            assert!(with.render(locale, ORG).unwrap().text.contains(&note));
            assert!(!without.render(locale, ORG).unwrap().text.contains(&note));

            let with =
                MembershipSuspended { name: NAME, group: GROUP, number: NUMBER, reason: Some(REASON), link: LINK };
            let without = MembershipSuspended { reason: None, ..with };
            let reason = i18n::format(locale, tk!("mail.membership_reason"), &[("reason", "")]);
            assert!(with.render(locale, ORG).unwrap().text.contains(&reason));
            assert!(!without.render(locale, ORG).unwrap().text.contains(&reason));
        }
    }
}
