//! The one error type of request handling.
//!
//! Policy: a person sees what they can act on (not found, not allowed, sign in, try again
//! later) in their language, with a reference id; never a cause, a query or a path. The
//! log line of the same request carries the full chain under that id. Form mistakes are
//! not errors: handlers re-render the form with its messages and status 422.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Not signed in: the response sends the browser to the sign-in page.
    #[error("sign-in required")]
    Unauthenticated { next: Option<String> },
    /// The request lacked a valid CSRF token or came from another site.
    #[error("request refused: missing or invalid CSRF token")]
    Csrf,
    #[error("conflict")]
    Conflict,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("payload too large")]
    PayloadTooLarge,
    /// The request body did not arrive within its deadline (see `web::body`).
    #[error("request body not received in time")]
    RequestTimeout,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(e.into())
    }

    /// Whether a database unique constraint refused the write: another request inserted
    /// the same row first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, AppError::Internal(e) if e.downcast_ref::<diesel::result::Error>().is_some_and(is_unique_violation))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("no database connection"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("template"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated { .. } => StatusCode::SEE_OTHER,
            AppError::Conflict => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bare status; the error-page middleware turns it into a page in the visitor's
    /// language, which needs the request this method does not get.
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::new(self.status_code());
        match self {
            AppError::Unauthenticated { next } => {
                let target = match next {
                    Some(n) => format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
                    ),
                    None => "/login".to_string(),
                };
                if let Ok(v) = HeaderValue::from_str(&target) {
                    res.headers_mut().insert(header::LOCATION, v);
                }
            }
            AppError::TooManyRequests { retry_after_secs } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(&1).to_owned()));
            }
            _ => {}
        }
        res
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Whether the database refused a write for a unique constraint (both backends report it
/// as the same diesel error kind).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(err, Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}
