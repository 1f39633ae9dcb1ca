//! The one error type of request handling.
//!
//! Policy: a person sees what they can act on (not found, not allowed, sign in, try again
//! later) in their language, with a reference id; never a cause, a query or a path. The
//! log line of the same request carries the full chain under that id. Form mistakes are
//! not errors: handlers re-render the form with its messages and status 422.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

#[derive(thiserror::Error)]
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

/// Written by hand so that no variant prints request data: `Unauthenticated` holds the path
/// and query to return to (`/commissioner/memberships?q=30.123.456`), which must not reach a
/// log. `Internal` prints its chain of causes, as `Display` does.
impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::NotFound => f.write_str("NotFound"),
            AppError::Forbidden => f.write_str("Forbidden"),
            AppError::Unauthenticated { .. } => f.write_str("Unauthenticated"),
            AppError::Csrf => f.write_str("Csrf"),
            AppError::Conflict => f.write_str("Conflict"),
            AppError::BadRequest(what) => f.debug_tuple("BadRequest").field(what).finish(),
            AppError::PayloadTooLarge => f.write_str("PayloadTooLarge"),
            AppError::RequestTimeout => f.write_str("RequestTimeout"),
            AppError::TooManyRequests { retry_after_secs } => {
                f.debug_struct("TooManyRequests").field("retry_after_secs", retry_after_secs).finish()
            }
            AppError::Unavailable => f.write_str("Unavailable"),
            AppError::Internal(e) => f.debug_tuple("Internal").field(&format_args!("{e:#}")).finish(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neither_debug_nor_display_prints_the_path_to_return_to() {
        let e = AppError::Unauthenticated { next: Some("/commissioner/memberships?q=30.123.456".into()) };
        assert_eq!(format!("{e:?}"), "Unauthenticated");
        assert_eq!(e.to_string(), "sign-in required");
        let location = e.error_response().headers().get(header::LOCATION).unwrap().to_str().unwrap().to_string();
        assert_eq!(location, "/login?next=%2Fcommissioner%2Fmemberships%3Fq%3D30.123.456", "the browser still gets it");
    }

    #[test]
    fn internal_errors_print_their_causes() {
        let e = AppError::internal(anyhow::anyhow!("disk full").context("saving"));
        assert_eq!(format!("{e:?}"), "Internal(saving: disk full)");
        assert_eq!(format!("{:?}", AppError::BadRequest("version")), "BadRequest(\"version\")");
    }
}
