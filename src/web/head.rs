//! `HEAD` is answered by the `GET` route of the same path: same status, same headers, no
//! body. Routes are declared for `GET` only; this middleware, before routing, lets a
//! `HEAD` request through as a `GET`. The body the route produces is never sent: the
//! HTTP/1 encoder knows the request on the wire was `HEAD` and writes only the head
//! (with the `Content-Length` the body would have had). The log line still says `HEAD`.
//!
//! A `HEAD` does what the `GET` does on the server: a page whose opening is audited (an
//! officer's review page) is audited for a `HEAD` too.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
