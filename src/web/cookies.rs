//! The service's cookies. Under https they are `Secure` and carry the `__Host-` prefix,
//! which binds them to this exact host and path: a neighbouring subdomain cannot set or
//! overwrite them.

use actix_web::cookie::{Cookie, SameSite, time::Duration};

use crate::app::config::Settings;

pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub lang: &'static str,
    pub flash: &'static str,
    pub desk_code: &'static str,
}

pub fn names(settings: &Settings) -> CookieNames {
    if settings.is_https() {
        CookieNames {
            session: "__Host-vecinal_session",
            csrf: "__Host-vecinal_csrf",
            lang: "__Host-vecinal_lang",
            flash: "__Host-vecinal_flash",
            desk_code: "__Host-vecinal_desk_code",
        }
    } else {
        CookieNames {
            session: "vecinal_session",
            csrf: "vecinal_csrf",
            lang: "vecinal_lang",
            flash: "vecinal_flash",
            desk_code: "vecinal_desk_code",
        }
    }
}

fn base(settings: &Settings, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value).path("/").http_only(true).secure(settings.is_https()).same_site(SameSite::Lax).finish()
}

/// The session cookie: no `Max-Age`, so the browser drops it when closed; the server
/// enforces the idle and absolute limits either way.
pub fn session(settings: &Settings, token: &str) -> Cookie<'static> {
    base(settings, names(settings).session, token.to_string())
}

pub fn csrf(settings: &Settings, value: String) -> Cookie<'static> {
    let mut c = base(settings, names(settings).csrf, value);
    c.set_max_age(Duration::days(30));
    c
}

pub fn lang(settings: &Settings, value: &str) -> Cookie<'static> {
    let mut c = base(settings, names(settings).lang, value.to_string());
    c.set_max_age(Duration::days(365));
    c
}

/// A one-shot message for the next page, by translation key only: never user text.
pub fn flash(settings: &Settings, key: &str) -> Cookie<'static> {
    let mut c = base(settings, names(settings).flash, key.to_string());
    c.set_max_age(Duration::minutes(5));
    c
}

/// The claim code of a desk application just taken, `APPLICATION_ID:CODE`, carried from the
/// desk form's redirect to its receipt, which shows it once and deletes the cookie: the
/// database holds only the code's hash. Strict, so no other site's link brings it along.
pub fn desk_code(settings: &Settings, value: String) -> Cookie<'static> {
    let mut c = base(settings, names(settings).desk_code, value);
    c.set_same_site(SameSite::Strict);
    c.set_max_age(Duration::minutes(10));
    c
}

/// A cookie that deletes `name`.
pub fn removal(settings: &Settings, name: &'static str) -> Cookie<'static> {
    let mut c = base(settings, name, String::new());
    c.make_removal();
    c
}
