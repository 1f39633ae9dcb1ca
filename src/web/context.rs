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

use crate::auth::csrf;
use crate::auth::session::{self, SessionUser};
use crate::domain::Locale;
use crate::domain::token::SecretToken;
use crate::error::AppError;
use crate::i18n;
use crate::startup::AppState;
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

/// Set on multipart requests, whose CSRF token is checked by the multipart reader as the
/// first field, before any file is read.
#[derive(Debug, Clone)]
pub struct CsrfPending;

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
    let names = cookies::names(&state.settings);

    // The account behind the session cookie, if it is alive.
    let session_cookie = req.cookie(names.session).map(|c| c.value().to_string());
    let token = session_cookie.as_deref().and_then(SecretToken::from_untrusted);
    let now = state.clock.now();
    let user = match token {
        Some(token) => match state.db(move |c| Ok(session::load(c, &token, now)?)).await {
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
            tracing::warn!(path = %req.path(), "refused a state-changing request without a valid CSRF token");
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
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && origin.to_str().ok() != Some(state.settings.origin().as_str())
    {
        return Err(AppError::Csrf);
    }
    let Some(cookie) = cookie else { return Err(AppError::Csrf) };

    if let Some(token) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if state.csrf.verify(cookie, token) { Ok(()) } else { Err(AppError::Csrf) };
    }
    let content_type = req.content_type().to_ascii_lowercase();
    if content_type == "multipart/form-data" {
        req.extensions_mut().insert(CsrfPending);
        return Ok(());
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
