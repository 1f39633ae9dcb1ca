//! What every page template gets, and the helpers that turn templates into responses.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;

use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::domain::{Locale, Role, Zone};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::web::context::RequestContext;

/// The page frame's data: who is signed in, the language, the CSRF token for forms, a
/// flash message, the organisation's name and the time zone pages show times in.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub locale: Locale,
    pub user: Option<SessionUser>,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub path: String,
    pub org_name: String,
    pub zone: Zone,
}

impl PageContext {
    pub fn new(ctx: &RequestContext, org_name: &str, zone: Zone) -> Self {
        Self {
            locale: ctx.locale,
            user: ctx.user.clone(),
            csrf_token: ctx.csrf_token.clone(),
            flash: ctx.flash.clone(),
            path: ctx.path.clone(),
            org_name: org_name.to_string(),
            zone,
        }
    }

    /// For pages rendered without the middleware's context (early errors).
    pub fn bare(locale: Locale, org_name: &str, zone: Zone) -> Self {
        Self {
            locale,
            user: None,
            csrf_token: String::new(),
            flash: None,
            path: "/".into(),
            org_name: org_name.to_string(),
            zone,
        }
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.locale, key)
    }

    /// A text with one `{name}` placeholder filled in.
    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        i18n::format(self.locale, key, &[(name, value), ("org", &self.org_name)])
    }

    /// A text with two placeholders filled in.
    pub fn tf2(&self, key: &str, a: (&str, &str), b: (&str, &str)) -> String {
        i18n::format(self.locale, key, &[a, b, ("org", &self.org_name)])
    }

    /// The text under `prefix` + `name`, for keys built from data ("status." + status).
    pub fn tp(&self, prefix: &str, name: &str) -> String {
        i18n::t(self.locale, &format!("{prefix}{name}")).to_string()
    }

    /// An instant (stored in UTC) as the page's readers tell time: `27/11/2026 22:30`.
    pub fn when(&self, at: impl Instant) -> String {
        self.zone.local(at.instant()).format("%d/%m/%Y %H:%M").to_string()
    }

    /// The local calendar day of an instant: `27/11/2026`.
    pub fn day_of(&self, at: impl Instant) -> String {
        self.zone.local(at.instant()).format("%d/%m/%Y").to_string()
    }

    /// An instant for a `<time datetime>` attribute: ISO 8601 with the local offset.
    pub fn iso(&self, at: impl Instant) -> String {
        self.zone.local(at.instant()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    pub fn lang(&self) -> &'static str {
        self.locale.html_lang()
    }

    pub fn locales(&self) -> [Locale; 2] {
        Locale::ALL
    }

    pub fn is_role(&self, role: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.as_str() == role)
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn user_name(&self) -> &str {
        self.user.as_ref().map(|u| u.full_name.as_str()).unwrap_or("")
    }

    pub fn home(&self) -> &'static str {
        self.user.as_ref().map(|u| u.role.home()).unwrap_or("/")
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }
}

impl FromRequest for PageContext {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (org, zone) = frame_settings(req);
        ready(
            req.extensions()
                .get::<RequestContext>()
                .map(|c| PageContext::new(c, &org, zone))
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("request context middleware is not installed"))),
        )
    }
}

/// A stored UTC instant, however many references templates wrap it in.
pub trait Instant {
    fn instant(&self) -> NaiveDateTime;
}

impl Instant for NaiveDateTime {
    fn instant(&self) -> NaiveDateTime {
        *self
    }
}

impl<T: Instant + ?Sized> Instant for &T {
    fn instant(&self) -> NaiveDateTime {
        (**self).instant()
    }
}

/// The organisation's name and the time zone, from the app's settings.
pub(crate) fn frame_settings(req: &HttpRequest) -> (String, Zone) {
    req.app_data::<Data<AppState>>().map(|s| (s.settings.org_name.clone(), s.settings.zone)).unwrap_or_default()
}

/// Marks a response as a finished page, so the error-page middleware leaves it alone (a
/// form re-rendered with status 422 is such a page).
#[derive(Debug, Clone, Copy)]
pub struct RenderedPage;

pub fn render<T: askama::Template>(status: StatusCode, template: &T) -> AppResult<HttpResponse> {
    let html = template.render()?;
    let mut res = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html);
    res.extensions_mut().insert(RenderedPage);
    Ok(res)
}

pub fn ok<T: askama::Template>(template: &T) -> AppResult<HttpResponse> {
    render(StatusCode::OK, template)
}

/// 303 See Other: after a form post the browser fetches `to` with GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// A local path to return to after sign-in or a language switch; anything that could leave
/// the site (`//host`, `/\host`, a scheme) falls back to `/`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.starts_with("/\\")
        && !n.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| n.to_string())
}

impl PageContext {
    /// The versioned URL of a static file.
    pub fn asset(&self, name: &str) -> String {
        format!("/static/{}/{name}", *crate::web::assets::VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/me")), Some("/me".into()));
        assert_eq!(safe_next(Some("/applications/1?x=2")), Some("/applications/1?x=2".into()));
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "evil", "", "/a\\b", "/\r\nx"] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }
}
