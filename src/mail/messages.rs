//! The inline mail builder, kept until every call site uses [`crate::mail::kinds`]; then
//! this file goes. A mail is a subject, paragraphs and an optional button, rendered with
//! the shared layout into a text and an HTML part in the recipient's language.

use askama::Template;

use crate::domain::Locale;
use crate::i18n;
use crate::mail::kinds::MailContext;

pub use crate::mail::RenderedMail;

#[derive(Debug, Clone)]
pub struct MailAction {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub locale: Locale,
    pub org_name: String,
    pub subject: String,
    /// The recipient's name, for the greeting.
    pub name: String,
    pub paragraphs: Vec<String>,
    pub action: Option<MailAction>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"{% extends "email/layout.html" %}{% import "email/macros.html" as mail %}{% block content -%}
{% for p in m.paragraphs %}{% call mail::para(p) %}{% endcall %}{% endfor -%}
{% if let Some(a) = m.action %}{% call mail::action(a.label, a.url) %}{% endcall %}{% endif -%}
{% endblock %}"#
)]
struct HtmlMail<'a> {
    ctx: MailContext<'a>,
    m: &'a Mail,
}

#[derive(Template)]
#[template(
    ext = "txt",
    source = r#"{% extends "email/layout.txt" %}{% import "email/macros.txt" as mail %}{% block content -%}
{% for p in m.paragraphs %}{% call mail::para(p) %}{% endcall %}{% endfor -%}
{% if let Some(a) = m.action %}{% call mail::action(a.label, a.url) %}{% endcall %}{% endif -%}
{% endblock %}"#
)]
struct TextMail<'a> {
    ctx: MailContext<'a>,
    m: &'a Mail,
}

impl Mail {
    /// A mail whose subject is the text under `subject_key`, greeting `name`.
    pub fn new(locale: Locale, org_name: &str, subject_key: &str, name: &str) -> Self {
        Self {
            locale,
            org_name: org_name.to_string(),
            subject: i18n::format(locale, subject_key, &[("org", org_name)]),
            name: name.to_string(),
            paragraphs: Vec::new(),
            action: None,
        }
    }

    pub fn para(mut self, key: &str, args: &[(&str, &str)]) -> Self {
        let mut all = vec![("org", self.org_name.as_str())];
        all.extend_from_slice(args);
        self.paragraphs.push(i18n::format(self.locale, key, &all));
        self
    }

    pub fn action(mut self, label_key: &str, url: String) -> Self {
        self.action = Some(MailAction { label: i18n::t(self.locale, label_key).to_string(), url });
        self
    }

    pub fn render(&self) -> Result<RenderedMail, askama::Error> {
        let ctx = || MailContext {
            locale: self.locale,
            org: &self.org_name,
            name: &self.name,
            subject: self.subject.clone(),
        };
        Ok(RenderedMail {
            subject: self.subject.clone(),
            text: TextMail { ctx: ctx(), m: self }.render()?,
            html: HtmlMail { ctx: ctx(), m: self }.render()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tk;

    #[test]
    fn both_parts_carry_the_content_and_html_is_escaped() {
        let m = Mail::new(Locale::En, "Vecinal", tk!("mail.confirm.subject"), "<b>Ana</b>")
            .para(tk!("mail.confirm.body"), &[])
            .action(tk!("mail.confirm.action"), "https://example.org/email/confirm/abc?x=1&y=2".into())
            .render()
            .unwrap();
        assert!(m.text.contains("https://example.org/email/confirm/abc?x=1&y=2"));
        assert!(m.text.contains("<b>Ana</b>"), "the text part is not HTML");
        assert!(m.html.contains("&#60;b&#62;Ana&#60;/b&#62;"), "{}", m.html);
        assert!(!m.html.contains("<b>Ana</b>"));
        assert!(m.html.contains("https://example.org/email/confirm/abc?x=1&#38;y=2"));
    }

    #[test]
    fn the_language_follows_the_recipient() {
        let es = Mail::new(Locale::Es, "Vecinal", tk!("mail.confirm.subject"), "Ana").render().unwrap();
        let en = Mail::new(Locale::En, "Vecinal", tk!("mail.confirm.subject"), "Ana").render().unwrap();
        assert_ne!(es.subject, en.subject);
        assert_ne!(es.text, en.text);
    }

    /// Each call site's builder chain and the kind that replaces it give the same mail.
    /// Goes with the builder once the call sites use `kinds`.
    #[test]
    fn every_kind_renders_as_its_builder_chain_did() {
        use chrono::NaiveDate;

        use crate::domain::Role;
        use crate::domain::application::DocumentKind;
        use crate::mail::kinds::*;

        let org = "Comisaría 3ª <Norte>";
        let name = "<b>Ana</b> O'Brien";
        let group = "Barrio Norte & Sur";
        let number = "VN-2025-000123";
        let link = "https://vecinal.example/x/7f3a?tab=docs&x=\"1\"";
        let other = "https://vecinal.example/password/forgot?y=2";
        let until = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        let until_s = until.format("%d/%m/%Y").to_string();
        let kinds = [DocumentKind::CriminalRecord, DocumentKind::IdentityDocument];
        for l in Locale::ALL {
            let new = |subject: &str| Mail::new(l, org, subject, name);
            let cases: Vec<(&str, RenderedMail, RenderedMail)> = vec![
                (
                    "already_registered",
                    new(tk!("mail.already_registered.subject"))
                        .para(tk!("mail.already_registered.body"), &[])
                        .para(tk!("mail.already_registered.reset"), &[("link", other)])
                        .action(tk!("mail.already_registered.action"), link.into())
                        .render()
                        .unwrap(),
                    AlreadyRegistered { name, link, reset_link: other }.render(l, org).unwrap(),
                ),
                (
                    "application_received",
                    new(tk!("mail.application_received.subject"))
                        .para(tk!("mail.application_received.body"), &[("group", group)])
                        .para(tk!("mail.application_received.next"), &[])
                        .action(tk!("mail.application_received.action"), link.into())
                        .render()
                        .unwrap(),
                    ApplicationReceived { name, group, link }.render(l, org).unwrap(),
                ),
                (
                    "approved",
                    new(tk!("mail.approved.subject"))
                        .para(tk!("mail.approved.body"), &[("group", group)])
                        .para(tk!("mail.approved.number"), &[("number", number), ("until", &until_s)])
                        .para(tk!("mail.approved.invite"), &[("link", other)])
                        .action(tk!("mail.approved.action"), link.into())
                        .render()
                        .unwrap(),
                    Approved { name, group, number, valid_until: until, invite_link: other, link }
                        .render(l, org)
                        .unwrap(),
                ),
                (
                    "confirm",
                    new(tk!("mail.confirm.subject"))
                        .para(tk!("mail.confirm.body"), &[])
                        .action(tk!("mail.confirm.action"), link.into())
                        .para(tk!("mail.confirm.expiry"), &[])
                        .render()
                        .unwrap(),
                    Confirm { name, link }.render(l, org).unwrap(),
                ),
                (
                    "digest",
                    new(tk!("mail.digest.subject"))
                        .para(tk!("mail.digest.body"), &[("new", "17"), ("open", "42")])
                        .action(tk!("mail.digest.action"), link.into())
                        .para(tk!("mail.new_application.settings"), &[])
                        .render()
                        .unwrap(),
                    Digest { name, new: 17, open: 42, link }.render(l, org).unwrap(),
                ),
                (
                    "email_change",
                    new(tk!("mail.email_change.subject"))
                        .para(tk!("mail.email_change.body"), &[])
                        .action(tk!("mail.email_change.action"), link.into())
                        .para(tk!("mail.email_change.expiry"), &[])
                        .render()
                        .unwrap(),
                    EmailChange { name, link }.render(l, org).unwrap(),
                ),
                (
                    "email_change_notice",
                    new(tk!("mail.email_change_notice.subject"))
                        .para(tk!("mail.email_change_notice.body"), &[("email", "ana.nueva@example.org")])
                        .para(tk!("mail.email_change_notice.not_you"), &[("link", other)])
                        .render()
                        .unwrap(),
                    EmailChangeNotice { name, new_email: "ana.nueva@example.org", reset_link: other }
                        .render(l, org)
                        .unwrap(),
                ),
                (
                    "invite",
                    new(tk!("mail.invite.subject"))
                        .para(tk!("mail.invite.body"), &[("role", i18n::t(l, "role.officer"))])
                        .action(tk!("mail.invite.action"), link.into())
                        .para(tk!("mail.invite.expiry"), &[])
                        .render()
                        .unwrap(),
                    Invite { name, role: Role::Officer, link }.render(l, org).unwrap(),
                ),
                (
                    "membership_reminder",
                    new(tk!("mail.membership_reminder.subject"))
                        .para(
                            tk!("mail.membership_reminder.body"),
                            &[("group", group), ("number", number), ("days", "30"), ("date", &until_s)],
                        )
                        .action(tk!("mail.membership_reminder.action"), link.into())
                        .render()
                        .unwrap(),
                    MembershipReminder { name, group, number, valid_until: until, days: 30, link }
                        .render(l, org)
                        .unwrap(),
                ),
                (
                    "needs_info",
                    new(tk!("mail.needs_info.subject"))
                        .para(tk!("mail.needs_info.body"), &[("group", group)])
                        .para(tk!("mail.needs_info.message"), &[("message", "Falta <la> página & \"2\"")])
                        .para(
                            tk!("mail.needs_info.kinds"),
                            &[("kinds", &kinds.map(|k| i18n::t(l, k.label_key())).join(", "))],
                        )
                        .action(tk!("mail.needs_info.action"), link.into())
                        .render()
                        .unwrap(),
                    NeedsInfo { name, group, message: "Falta <la> página & \"2\"", kinds: &kinds, link }
                        .render(l, org)
                        .unwrap(),
                ),
                (
                    "new_application",
                    new(tk!("mail.new_application.subject"))
                        .para(tk!("mail.new_application.body"), &[("group", group)])
                        .action(tk!("mail.new_application.action"), link.into())
                        .para(tk!("mail.new_application.settings"), &[])
                        .render()
                        .unwrap(),
                    NewApplication { name, group, link }.render(l, org).unwrap(),
                ),
                (
                    "password_changed",
                    new(tk!("mail.password_changed.subject"))
                        .para(tk!("mail.password_changed.body"), &[])
                        .para(tk!("mail.password_changed.not_you"), &[("link", other)])
                        .render()
                        .unwrap(),
                    PasswordChanged { name, reset_link: other }.render(l, org).unwrap(),
                ),
                (
                    "reset",
                    new(tk!("mail.reset.subject"))
                        .para(tk!("mail.reset.body"), &[])
                        .action(tk!("mail.reset.action"), link.into())
                        .para(tk!("mail.reset.ignore"), &[])
                        .render()
                        .unwrap(),
                    Reset { name, link }.render(l, org).unwrap(),
                ),
            ];
            let mut cases = cases;
            for note in ["", "Fuera de 'la zona'"] {
                let mut m = new(tk!("mail.rejected.subject"))
                    .para(tk!("mail.rejected.body"), &[("group", group)])
                    .para(tk!("mail.rejected.reason"), &[("reason", i18n::t(l, "reject.reason.record_found"))]);
                if !note.is_empty() {
                    m = m.para(tk!("mail.rejected.note"), &[("note", note)]);
                }
                let old = m.para(tk!("mail.rejected.again"), &[]).action(tk!("mail.rejected.action"), link.into());
                let kind =
                    Rejected { name, group, reason: "record_found", note: (!note.is_empty()).then_some(note), link };
                cases.push(("rejected", old.render().unwrap(), kind.render(l, org).unwrap()));
            }
            for reason in [None, Some("Mensajes <fuera> & cadenas")] {
                let status = |subject: &str, body: &str| {
                    let mut m = new(subject).para(body, &[("group", group), ("number", number)]);
                    if let Some(r) = reason {
                        m = m.para(tk!("mail.membership_reason"), &[("reason", r)]);
                    }
                    m.action(tk!("mail.membership_action"), link.into()).render().unwrap()
                };
                cases.extend([
                    (
                        "membership_suspended",
                        status(tk!("mail.membership_suspended.subject"), tk!("mail.membership_suspended.body")),
                        MembershipSuspended { name, group, number, reason, link }.render(l, org).unwrap(),
                    ),
                    (
                        "membership_reinstated",
                        status(tk!("mail.membership_reinstated.subject"), tk!("mail.membership_reinstated.body")),
                        MembershipReinstated { name, group, number, reason, link }.render(l, org).unwrap(),
                    ),
                    (
                        "membership_revoked",
                        status(tk!("mail.membership_revoked.subject"), tk!("mail.membership_revoked.body")),
                        MembershipRevoked { name, group, number, reason, link }.render(l, org).unwrap(),
                    ),
                ]);
            }
            for (kind, old, new) in cases {
                assert_eq!(old.subject, new.subject, "{kind}");
                assert_eq!(old.text, new.text, "{kind}");
                assert_eq!(old.html, new.html, "{kind}");
            }
        }
    }
}
