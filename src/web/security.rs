//! Security headers on every response. Routes that serve documents set their own, stricter
//! `Content-Security-Policy` (`sandbox`); these defaults never overwrite a header a
//! handler set.

use actix_web::middleware::DefaultHeaders;

use crate::app::config::Settings;

/// Pages use only their own CSS, images and script files (`static/upload.js`): no inline
/// scripts or styles, no other origin, no frames.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn headers(settings: &Settings) -> DefaultHeaders {
    let mut h = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"))
        // Pages show personal data: no shared or back-button caches keep them.
        .add(("Cache-Control", "no-store"));
    if settings.is_https() {
        h = h.add(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"));
    }
    h
}
