//! Error pages. Every 4xx/5xx response that is not already a finished page (see
//! `RenderedPage`) becomes a page in the visitor's language naming the request id, which
//! is also on the request's log line.

use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpRequest};
use askama::Template;
use tracing_actix_web::RequestId;

use crate::domain::Locale;
use crate::web::context::RequestContext;
use crate::web::page::{PageContext, RenderedPage};

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    ctx: PageContext,
    status: u16,
    title_key: &'static str,
    message_key: &'static str,
    reference: String,
}

fn keys(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("error.400.title", "error.400.message"),
        401 | 403 => ("error.403.title", "error.403.message"),
        404 | 405 => ("error.404.title", "error.404.message"),
        409 => ("error.409.title", "error.409.message"),
        408 => ("error.408.title", "error.408.message"),
        413 => ("error.413.title", "error.413.message"),
        422 => ("error.422.title", "error.422.message"),
        429 => ("error.429.title", "error.429.message"),
        503 => ("error.503.title", "error.503.message"),
        s if s < 500 => ("error.400.title", "error.400.message"),
        _ => ("error.500.title", "error.500.message"),
    }
}

fn page_context(req: &HttpRequest) -> PageContext {
    let (org, zone) = crate::web::page::frame_settings(req);
    match req.extensions().get::<RequestContext>() {
        Some(c) => PageContext::new(c, &org, zone),
        None => {
            let locale = req
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
                .unwrap_or_default();
            PageContext::bare(locale, &org, zone)
        }
    }
}

pub fn render_error_page<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.response().extensions().get::<RenderedPage>().is_some() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, old) = res.into_parts();
    let status = old.status();
    let reference = req.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
    let (title_key, message_key) = keys(status);
    let page = ErrorPage { ctx: page_context(&req), status: status.as_u16(), title_key, message_key, reference };
    let html = page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page template failed");
        format!("Error {}", status.as_u16())
    });
    let mut new = HttpResponse::build(status);
    // Keep what the failed response said beyond its body: cookies, Retry-After, Location,
    // and that the connection is to be closed (`web::body`).
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.append_header((name.clone(), value.clone()));
        }
    }
    if old.head().connection_type() == actix_web::http::ConnectionType::Close {
        new.force_close();
    }
    let new = new.content_type("text/html; charset=utf-8").body(html);
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}
