//! Logging. Request logs come from `tracing-actix-web`, one span per request carrying its
//! request id, which error pages show as their reference.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

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
