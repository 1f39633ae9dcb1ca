//! Request bodies are read under a deadline.
//!
//! actix-web reads a body only as fast as the client sends it and has no timeout of its
//! own once the request head is in: a client that stops sending (or sends a few bytes a
//! second) would hold its connection, its descriptor and the handler for as long as it
//! likes. This middleware wraps every request body in a stream with a deadline:
//!
//! - the body must be complete within `VECINAL_BODY_TIMEOUT_SECS` (default 60) of the
//!   request reaching the application, plus one second for every
//!   `VECINAL_BODY_MIN_BYTES_PER_SEC` bytes received (default 8 KiB), so a large upload
//!   arriving at least that fast is never cut off, and a trickle is;
//! - and it may never pause for longer than `VECINAL_BODY_TIMEOUT_SECS`.
//!
//! Past the deadline the stream ends with an error, whoever is reading it (the CSRF check,
//! the `Form` extractor, the multipart reader); the request is answered with 408 and its
//! connection closed. The multipart reader also races the parser against the same
//! deadline (`bound`), so a parser that waits forever on a body that has already ended
//! cannot hold the request either.
//!
//! A request whose body was not read to its end, or was refused as malformed (400, 408,
//! 413), gets `Connection: close`: the rest of such a body is never worth reading.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::app::AppState;
use crate::error::AppError;

tokio::task_local! {
    /// The deadline of the body of the request being handled, for `bound`.
    static CURRENT: BodyWatch;
}

/// The deadline rule: an initial allowance, extended by what arrives.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub timeout: Duration,
    pub min_bytes_per_sec: u64,
}

impl BodyLimits {
    /// When the body must be complete, having started at `start`, received `received`
    /// bytes so far, the last of them at `last`.
    pub fn deadline(&self, start: Instant, received: u64, last: Instant) -> Instant {
        let earned = Duration::from_secs_f64(received as f64 / self.min_bytes_per_sec.max(1) as f64);
        (start + self.timeout + earned).min(last + self.timeout)
    }
}

#[derive(Debug)]
struct WatchState {
    limits: BodyLimits,
    start: Instant,
    last: Cell<Instant>,
    received: Cell<u64>,
    finished: Cell<bool>,
    timed_out: Cell<bool>,
}

/// What the middleware and the readers of one body share: progress and the verdict.
#[derive(Debug, Clone)]
pub struct BodyWatch(Rc<WatchState>);

impl BodyWatch {
    fn new(limits: BodyLimits) -> Self {
        let now = Instant::now();
        Self(Rc::new(WatchState {
            limits,
            start: now,
            last: Cell::new(now),
            received: Cell::new(0),
            finished: Cell::new(false),
            timed_out: Cell::new(false),
        }))
    }

    fn deadline(&self) -> Instant {
        let s = &self.0;
        s.limits.deadline(s.start, s.received.get(), s.last.get())
    }

    fn arrived(&self, n: usize) {
        self.0.received.set(self.0.received.get().saturating_add(n as u64));
        self.0.last.set(Instant::now());
    }

    pub fn timed_out(&self) -> bool {
        self.0.timed_out.get()
    }

    /// Resolves once the deadline (which moves while the body arrives) has passed.
    async fn expired(&self) {
        loop {
            let deadline = self.deadline();
            if Instant::now() >= deadline {
                self.0.timed_out.set(true);
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Runs `reading` (the whole of a body's parsing) under the current request's body
/// deadline: 408 once it passes. Outside a request (unit tests) it just runs `reading`.
pub async fn bound<T>(reading: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let Ok(watch) = CURRENT.try_with(BodyWatch::clone) else { return reading.await };
    tokio::select! {
        result = reading => result,
        () = watch.expired() => Err(AppError::RequestTimeout),
    }
}

/// How long the unread rest of a refused body is held: longer than the server's client
/// disconnect timeout (`startup.rs` checks), after which the connection is closed and
/// nothing reads it any more.
pub const HOLD_UNREAD_BODY: Duration = Duration::from_secs(5);

/// The body stream with the deadline. Once the deadline passes it ends with `TimedOut`.
///
/// Dropped before the body's end (refused, timed out, or not read), it keeps the receiving
/// end of the body alive for a while, so that actix-web closes the connection after the
/// answer (reading on for at most its disconnect timeout) rather than draining the rest:
/// actix-http 3.20 drains a dropped chunked body with no time limit, which would let a
/// client that stops sending hold the connection for ever after its 408.
struct DeadlineStream {
    inner: Payload,
    watch: BodyWatch,
    sleep: Pin<Box<Sleep>>,
    done: bool,
}

impl DeadlineStream {
    fn new(inner: Payload, watch: BodyWatch) -> Self {
        let sleep = Box::pin(tokio::time::sleep_until(watch.deadline()));
        Self { inner, watch, sleep, done: false }
    }
}

impl Drop for DeadlineStream {
    fn drop(&mut self) {
        if self.watch.0.finished.get() {
            return;
        }
        let rest = std::mem::replace(&mut self.inner, Payload::None);
        if matches!(rest, Payload::None) {
            return;
        }
        actix_web::rt::spawn(async move {
            tokio::time::sleep(HOLD_UNREAD_BODY).await;
            drop(rest);
        });
    }
}

impl Stream for DeadlineStream {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.watch.arrived(chunk.len());
                let deadline = this.watch.deadline();
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.done = true;
                this.watch.0.finished.set(true);
                Poll::Ready(None)
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.done = true;
                    this.watch.0.timed_out.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body not received in time",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Whether the request comes with a body: a non-zero `Content-Length`, or chunked.
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get_all(header::CONTENT_LENGTH)
            .any(|v| v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) != Some(0))
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !has_body(&req) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let Some(state) = req.app_data::<Data<AppState>>() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let limits =
        BodyLimits { timeout: state.settings.body_timeout, min_bytes_per_sec: state.settings.body_min_bytes_per_sec };
    let watch = BodyWatch::new(limits);
    let payload = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(DeadlineStream::new(payload, watch.clone()));
    req.set_payload(Payload::from(stream));

    let mut res = CURRENT.scope(watch.clone(), async move { next.call(req).await }).await?.map_into_left_body();
    if watch.timed_out() && res.status() != StatusCode::REQUEST_TIMEOUT {
        // Whoever read the body answered its error (400); the cause was the deadline. The
        // error page comes from the middleware around this one.
        let (req, _) = res.into_parts();
        res = ServiceResponse::new(req, HttpResponse::new(StatusCode::REQUEST_TIMEOUT)).map_into_right_body();
    }
    if watch.timed_out() || !watch.0.finished.get() || matches!(res.status().as_u16(), 400 | 408 | 413) {
        res.response_mut().head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
        tracing::info!(
            status = res.status().as_u16(),
            received = watch.0.received.get(),
            timed_out = watch.timed_out(),
            "closing the connection of a request whose body was refused or not read to its end"
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_grows_with_what_arrives_but_not_past_a_pause() {
        let limits = BodyLimits { timeout: Duration::from_secs(60), min_bytes_per_sec: 1000 };
        let t0 = Instant::now();
        assert_eq!(limits.deadline(t0, 0, t0), t0 + Duration::from_secs(60));
        // 100 kB arriving within the first 10 s earned 100 s, but the last byte at 10 s
        // allows only a pause until 70 s.
        let t10 = t0 + Duration::from_secs(10);
        assert_eq!(limits.deadline(t0, 100_000, t10), t10 + Duration::from_secs(60));
        // 100 kB arriving steadily until 150 s: each byte kept the deadline ahead.
        let t150 = t0 + Duration::from_secs(150);
        assert_eq!(limits.deadline(t0, 100_000, t150), t0 + Duration::from_secs(160));
        // A trickle of 3 bytes a second earns almost nothing.
        let t50 = t0 + Duration::from_secs(50);
        assert!(limits.deadline(t0, 150, t50) < t0 + Duration::from_secs(61));
    }
}
