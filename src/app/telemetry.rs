//! Logging. Request logs come from `tracing-actix-web`, one span per request carrying its
//! request id, which error pages show as their reference.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::app::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Closing a request span prints one line per request: method, path, status, request
    // id and duration.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_span_events(FmtSpan::CLOSE);
    // `try_init`: tests build several apps in one process.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
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
            exception.details = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
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
        tracing::subscriber::with_default(subscriber, || {
            let span = RedactedRootSpan::on_request_start(&req);
            drop(span.enter());
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("http.method=GET"), "the span is logged: {out}");
        assert!(!out.contains("SECRETTOKEN123") && !out.contains("30123456"), "{out}");
    }
}
