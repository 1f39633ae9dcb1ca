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
}
