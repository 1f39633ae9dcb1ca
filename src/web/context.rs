//! Per-request context: the signed-in account, language, CSRF token and flash message,
//! loaded once by a middleware and read by extractors. The same middleware refuses
//! state-changing requests without a valid CSRF token before any handler runs.

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;

use crate::app::AppState;
use crate::auth::csrf;
use crate::auth::session::SessionUser;
use crate::domain::Locale;
use crate::domain::token::SecretToken;
use crate::error::AppError;
use crate::i18n;
use crate::web::cookies;

/// Largest urlencoded form body accepted. Account forms are tiny; files come as multipart.
pub const FORM_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub user: Option<SessionUser>,
    pub locale: Locale,
    /// The value of the browser's CSRF cookie (new if it had none).
    pub csrf_cookie: String,
    /// What forms on this page carry.
    pub csrf_token: String,
    pub flash: Option<String>,
    pub client_ip: Option<String>,
    pub path: String,
}

/// How much of a multipart body may be read to find its first field, the CSRF token.
const MULTIPART_PEEK_LIMIT: usize = 8 * 1024;

fn client_ip(req: &ServiceRequest, trust_forwarded: bool) -> Option<String> {
    if trust_forwarded && let Some(ip) = req.connection_info().realip_remote_addr() {
        let ip = ip.trim_start_matches('[');
        let ip = ip.split(']').next().unwrap_or(ip);
        return Some(
            ip.parse::<std::net::IpAddr>()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| ip.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or_else(|| ip.to_string())),
        );
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::internal(anyhow::anyhow!("no app state"))).map_into_right_body());
    };
    // No value of the service may hold a NUL character, and PostgreSQL refuses text that
    // does: a query string carrying one is a bad request, not a database error.
    if has_nul(req.query_string()) {
        return Ok(req.error_response(AppError::BadRequest("NUL in the query string")).map_into_right_body());
    }
    let names = cookies::names(&state.settings);

    // The account behind the session cookie, if it is alive.
    let session_cookie = req.cookie(names.session).map(|c| c.value().to_string());
    let token = session_cookie.as_deref().and_then(SecretToken::from_untrusted);
    let user = match token {
        Some(token) => match crate::services::accounts::session_user(&state, token).await {
            Ok(u) => u,
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        },
        None => None,
    };
    let stale_session_cookie = session_cookie.is_some() && user.is_none();

    let existing_csrf =
        req.cookie(names.csrf).map(|c| c.value().to_string()).filter(|v| SecretToken::from_untrusted(v).is_some());
    let csrf_cookie = existing_csrf.clone().unwrap_or_else(csrf::new_cookie_value);
    let csrf_token = state.csrf.token_for(&csrf_cookie);

    let locale = user
        .as_ref()
        .map(|u| u.locale)
        .or_else(|| req.cookie(names.lang).and_then(|c| c.value().parse().ok()))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default();

    let flash_cookie = req.cookie(names.flash).map(|c| c.value().to_string());
    let flash = flash_cookie
        .as_deref()
        .map(|k| format!("flash.{k}"))
        .filter(|k| i18n::Catalog::get().lookup(locale, k).is_some());

    let ctx = RequestContext {
        user,
        locale,
        csrf_cookie: csrf_cookie.clone(),
        csrf_token,
        flash,
        client_ip: client_ip(&req, state.settings.trust_forwarded),
        path: req.path().to_string(),
    };
    req.extensions_mut().insert(ctx);

    if is_state_changing(req.method())
        && let Err(e) = check_csrf(&mut req, &state, existing_csrf.as_deref()).await
    {
        if matches!(e, AppError::Csrf) {
            let route = req.match_pattern().unwrap_or_default();
            tracing::warn!(route = %route, "refused a state-changing request without a valid CSRF token");
        }
        return Ok(req.error_response(e).map_into_right_body());
    }

    let request_id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    // The same id the log line and the error page show.
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), id);
    }

    let sets = |res: &ServiceResponse<_>, name: &str| res.response().cookies().any(|c| c.name() == name);
    if existing_csrf.is_none() && !sets(&res, names.csrf) {
        let _ = res.response_mut().add_cookie(&cookies::csrf(&state.settings, csrf_cookie));
    }
    if stale_session_cookie && !sets(&res, names.session) {
        let _ = res.response_mut().add_cookie(&cookies::removal(&state.settings, names.session));
    }
    if flash_cookie.is_some() && !sets(&res, names.flash) {
        let _ = res.response_mut().add_cookie(&cookies::removal(&state.settings, names.flash));
    }
    Ok(res.map_into_left_body())
}

/// Refuses cross-site posts and posts without the token that matches the browser's
/// cookie. Urlencoded bodies are read here (bounded) and put back for the handler.
async fn check_csrf(req: &mut ServiceRequest, state: &AppState, cookie: Option<&str>) -> Result<(), AppError> {
    if req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Err(AppError::Csrf);
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let forwarded = if state.settings.trust_forwarded { forwarded_host(req.headers()) } else { None };
        if !same_origin(origin.to_str().unwrap_or(""), &state.settings.origin(), forwarded.as_deref()) {
            return Err(AppError::Csrf);
        }
    }
    let Some(cookie) = cookie else { return Err(AppError::Csrf) };

    if let Some(token) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if state.csrf.verify(cookie, token) { Ok(()) } else { Err(AppError::Csrf) };
    }
    let content_type = req.content_type().to_ascii_lowercase();
    if content_type == "multipart/form-data" {
        return check_multipart_csrf(req, state, cookie).await;
    }
    if content_type != "application/x-www-form-urlencoded" {
        return Err(AppError::Csrf);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("unreadable body"))?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    let token = url::form_urlencoded::parse(&body).find(|(k, _)| k == "csrf_token").map(|(_, v)| v.into_owned());
    req.set_payload(Payload::from(body));
    match token {
        Some(t) if state.csrf.verify(cookie, &t) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Whether a form post's `Origin` is this site: the origin of `VECINAL_BASE_URL`, or, only
/// behind a trusted proxy (`VECINAL_TRUST_FORWARDED`), the host that proxy says the browser
/// addressed. Never the request's own `Host`: a client chooses it (and any
/// `X-Forwarded-Host` or `Forwarded: host=` it sends) as freely as `Origin`, so a match
/// between them proves nothing.
fn same_origin(origin: &str, configured: &str, forwarded_host: Option<&str>) -> bool {
    if !origin.is_empty() && origin.eq_ignore_ascii_case(configured) {
        return true;
    }
    let without_scheme = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match (without_scheme, forwarded_host) {
        (Some(h), Some(host)) => !h.is_empty() && h.eq_ignore_ascii_case(host),
        _ => false,
    }
}

/// The host a reverse proxy says the browser addressed: `host=` of the first element of
/// `Forwarded`, else the first `X-Forwarded-Host`. Read only with `VECINAL_TRUST_FORWARDED`,
/// where the proxy replaces both headers.
fn forwarded_host(headers: &header::HeaderMap) -> Option<String> {
    let from_forwarded = headers.get(header::FORWARDED).and_then(|v| v.to_str().ok()).and_then(|v| {
        let first = v.split(',').next()?;
        first.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("host").then(|| v.trim().trim_matches('"').to_string())
        })
    });
    let from_x = || {
        headers
            .get("x-forwarded-host")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|h| h.trim().to_string())
    };
    from_forwarded.or_else(from_x).filter(|h| !h.is_empty())
}

/// Multipart forms (file uploads) must carry `csrf_token` as their first field, as every
/// form of the service does. Only that field is read here, before any file; what was read
/// is put back in front of the rest of the stream for the handler.
async fn check_multipart_csrf(req: &mut ServiceRequest, state: &AppState, cookie: &str) -> Result<(), AppError> {
    let boundary = req
        .mime_type()
        .ok()
        .flatten()
        .and_then(|m| m.get_param(mime_boundary()).map(|b| b.as_str().to_string()))
        .ok_or(AppError::BadRequest("multipart body without a boundary"))?;
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    let token = loop {
        match first_multipart_field(&buf, &boundary) {
            FirstField::Token(t) => break t,
            FirstField::Refused => return Err(AppError::Csrf),
            FirstField::NeedMore if buf.len() > MULTIPART_PEEK_LIMIT => return Err(AppError::Csrf),
            FirstField::NeedMore => match payload.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(_)) => return Err(AppError::BadRequest("unreadable body")),
                None => return Err(AppError::Csrf),
            },
        }
    };
    if !state.csrf.verify(cookie, &token) {
        return Err(AppError::Csrf);
    }
    let head = buf.freeze();
    let stream = futures_util::stream::once(async move { Ok(head) }).chain(payload);
    let boxed: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>> =
        Box::pin(stream);
    req.set_payload(Payload::from(boxed));
    Ok(())
}

fn mime_boundary() -> actix_web::mime::Name<'static> {
    actix_web::mime::BOUNDARY
}

#[derive(Debug, PartialEq, Eq)]
enum FirstField {
    Token(String),
    NeedMore,
    Refused,
}

/// The value of the first part of a multipart body if that part is the `csrf_token` field.
fn first_multipart_field(buf: &[u8], boundary: &str) -> FirstField {
    let opening = format!("--{boundary}\r\n");
    let opening = opening.as_bytes();
    if buf.len() < opening.len() {
        return if opening.starts_with(buf) { FirstField::NeedMore } else { FirstField::Refused };
    }
    if !buf.starts_with(opening) {
        return FirstField::Refused;
    }
    let rest = &buf[opening.len()..];
    let Some(headers_end) = find(rest, b"\r\n\r\n") else { return FirstField::NeedMore };
    let Ok(headers) = std::str::from_utf8(&rest[..headers_end]) else { return FirstField::Refused };
    let is_token = headers.lines().any(|line| {
        let l = line.to_ascii_lowercase();
        l.starts_with("content-disposition:") && l.contains("name=\"csrf_token\"") && !l.contains("filename")
    });
    if !is_token {
        return FirstField::Refused;
    }
    let body = &rest[headers_end + 4..];
    let closing = format!("\r\n--{boundary}");
    let Some(end) = find(body, closing.as_bytes()) else { return FirstField::NeedMore };
    match std::str::from_utf8(&body[..end]) {
        Ok(v) => FirstField::Token(v.to_string()),
        Err(_) => FirstField::Refused,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl FromRequest for RequestContext {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<RequestContext>()
                .cloned()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("request context middleware is not installed"))),
        )
    }
}

/// Whether a query string holds a NUL character, raw or percent-encoded.
fn has_nul(query: &str) -> bool {
    query.contains('\0') || query.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_nul_character_is_found_raw_or_encoded() {
        assert!(super::has_nul("q=%00"));
        assert!(super::has_nul("group=a%00b&x=1"));
        assert!(super::has_nul("q=a\0b"));
        assert!(!super::has_nul("q=%25%25%25&group=100"));
        assert!(!super::has_nul("q=30.123.456"));
    }

    use super::*;

    const B: &str = "XyZ";

    #[test]
    fn origins_must_be_the_base_url() {
        assert!(same_origin("https://v.example.org", "https://v.example.org", None));
        assert!(same_origin("https://V.Example.org", "https://v.example.org", None));
        assert!(!same_origin("https://evil.example", "https://v.example.org", None));
        assert!(!same_origin("http://v.example.org", "https://v.example.org", None), "another scheme");
        assert!(!same_origin("https://v.example.org:8443", "https://v.example.org", None), "another port");
        assert!(!same_origin("null", "https://v.example.org", None));
        assert!(!same_origin("https://v.example.org.evil.example", "https://v.example.org", None));
        assert!(!same_origin("", "https://x", None));
    }

    #[test]
    fn a_trusted_proxy_may_name_another_host() {
        assert!(same_origin("https://vecinal.internal", "https://v.example.org", Some("vecinal.internal")));
        assert!(!same_origin("https://evil.example", "https://v.example.org", Some("vecinal.internal")));
        assert!(!same_origin("null", "https://v.example.org", Some("null")));
        assert!(!same_origin("https://", "https://v.example.org", Some("")));
    }

    #[test]
    fn the_forwarded_host_comes_from_the_proxy_headers_only() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = header::HeaderMap::new();
            for (k, v) in pairs {
                h.append(header::HeaderName::from_static(k), header::HeaderValue::from_static(v));
            }
            h
        };
        assert_eq!(forwarded_host(&headers(&[("host", "evil.example")])), None, "never Host");
        assert_eq!(
            forwarded_host(&headers(&[("forwarded", "for=1.2.3.4;host=\"a.example\";proto=https, host=b.example")])),
            Some("a.example".into())
        );
        assert_eq!(forwarded_host(&headers(&[("x-forwarded-host", "c.example, d.example")])), Some("c.example".into()));
        assert_eq!(
            forwarded_host(&headers(&[("forwarded", "for=1.2.3.4"), ("x-forwarded-host", "c.example")])),
            Some("c.example".into())
        );
    }

    #[test]
    fn the_token_is_read_from_the_first_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF";
        assert_eq!(first_multipart_field(body, B), FirstField::Token("abc123".into()));
    }

    #[test]
    fn partial_bodies_ask_for_more() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc";
        for n in 0..body.len() {
            assert_eq!(first_multipart_field(&body[..n], B), FirstField::NeedMore, "{n}");
        }
    }

    #[test]
    fn anything_else_first_is_refused() {
        let file_first = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\ndata\r\n--XyZ";
        assert_eq!(first_multipart_field(file_first, B), FirstField::Refused);
        let named_file =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"; filename=\"t\"\r\n\r\nx\r\n--XyZ";
        assert_eq!(first_multipart_field(named_file, B), FirstField::Refused);
        assert_eq!(first_multipart_field(b"garbage that is long enough", B), FirstField::Refused);
        assert_eq!(first_multipart_field(b"--Other\r\n", B), FirstField::Refused);
    }
}
