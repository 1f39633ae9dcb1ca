//! Logging. Request logs come from `tracing-actix-web`, one span per request carrying its
//! request id, which error pages show as their reference.
//!
//! What a log line may hold: the method, the matched route pattern (never the path or
//! query), the status, the request id, the duration, and for an error the service's own
//! words for it (`sign-in required`, `bad request: version`, the chain of an internal
//! error). Never a query string, a form value, a token, a name, an address or a file name:
//! logs are read by more people, and kept longer, than the records they would copy.
//! `tests/logs.rs` runs journeys through the service with these layers capturing and fails
//! on any of its own people's data in the output.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::app::config::LogFormat;

/// `RUST_LOG` (default `info`), with the PDF parser silenced whatever it says: lopdf logs
/// what it could not read in an uploaded file, at ERROR, sometimes quoting it.
pub fn filter() -> EnvFilter {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    filter.add_directive("lopdf=off".parse().expect("a valid directive"))
}

/// The layer that writes log lines, text or JSON, to `writer`, coloured only for a
/// terminal. Closing a request span prints one line per request.
pub fn layer<S, W>(format: LogFormat, ansi: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Json => base.json().flatten_event(true).boxed(),
        LogFormat::Text => base.boxed(),
    }
}

pub fn init(format: LogFormat) {
    // `try_init`: tests build several apps in one process. It also routes the `log` crate's
    // records (from dependencies) through the same filter.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::registry().with(filter()).with(layer(format, ansi, std::io::stdout)).try_init();
}

/// The request span, without the raw path: paths carry one-time tokens (invitations,
/// password resets, e-mail changes, setup) and queries carry searched names and DNIs, and
/// logs are read by more people than the database. The matched route pattern
/// (`/invite/{token}`) says what was asked without the secret.
pub struct RedactedRootSpan;

impl tracing_actix_web::RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        let request_id =
            request.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()).unwrap_or_default();
        tracing::info_span!(
            "request",
            http.method = %request.method(),
            http.route = %route,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    }

    /// The status, and for an error what the service calls it. Not the error's `Debug`
    /// (tracing-actix-web's default), and for errors that are not the service's own (a
    /// query or form that did not deserialize) not even their `Display`, which may quote
    /// what was sent. A server error is also an ERROR event; anything else is a client's
    /// mistake or an expired session, which the INFO line of the request records.
    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(res) => (res.status(), res.response().error()),
            Err(e) => (e.as_response_error().status_code(), Some(e)),
        };
        span.record("http.status_code", status.as_u16());
        span.record("otel.status_code", if status.is_server_error() { "ERROR" } else { "OK" });
        let Some(error) = error else { return };
        let message = match error.as_error::<crate::error::AppError>() {
            Some(e) => e.to_string(),
            None => format!("{} ({})", status.canonical_reason().unwrap_or("error"), status.as_u16()),
        };
        span.record("exception.message", message.as_str());
        if status.is_server_error() {
            tracing::error!(parent: &span, error = %message, "request failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_actix_web::RootSpanBuilder;

    #[actix_web::test]
    async fn request_spans_name_the_route_not_the_path() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt;

        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_span_events(FmtSpan::CLOSE)
                .with_ansi(false),
        );
        let req = actix_web::test::TestRequest::get().uri("/password/reset/SECRETTOKEN123?q=30123456").to_srv_request();
        let expired =
            actix_web::test::TestRequest::get().uri("/commissioner/memberships?q=30.123.456").to_srv_request();
        let crashed =
            actix_web::test::TestRequest::get().uri("/commissioner/people/x?q=ana@example.com").to_srv_request();
        tracing::subscriber::with_default(subscriber, || {
            let span = RedactedRootSpan::on_request_start(&req);
            drop(span.enter());
            // A session that ran out on a search: a 303 to sign-in, at INFO, without `next`.
            let span = RedactedRootSpan::on_request_start(&expired);
            let next = Some("/commissioner/memberships?q=30.123.456".to_string());
            let res = expired.error_response(crate::error::AppError::Unauthenticated { next });
            RedactedRootSpan::on_request_end(span, &Ok(res));
            let span = RedactedRootSpan::on_request_start(&crashed);
            let res = crashed.error_response(crate::error::AppError::internal(anyhow::anyhow!("pool timed out")));
            RedactedRootSpan::on_request_end(span, &Ok(res));
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("http.method=GET"), "the span is logged: {out}");
        assert!(!out.contains("SECRETTOKEN123") && !out.contains("30123456"), "{out}");
        assert!(!out.contains("30.123.456") && !out.contains("ana@example.com") && !out.contains("q="), "{out}");
        assert!(out.contains("http.status_code=303") && out.contains("sign-in required"), "{out}");
        assert!(
            !out.contains("ERROR") || out.lines().filter(|l| l.contains("ERROR")).all(|l| l.contains("pool timed out"))
        );
        assert!(out.lines().any(|l| l.contains("ERROR") && l.contains("request failed")), "a 500 is an ERROR: {out}");
    }
}
