//! The layers every route of both servers shares, outermost first: the request id (the
//! caller's `x-request-id`, else a generated UUID, echoed back), the `request` span that every
//! log line of a request carries, response compression, the request-body deadline, request
//! body decoding (`Content-Encoding`), and the panic guard.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Media, Refusal, negotiate};
use futures::FutureExt;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::body::body_deadline;
use crate::config::ServerConfig;
use crate::encoding::{compression, decompression, refuse_undecodable, refuse_unknown_codings};

/// The header that carries a request's id, in and out (and on to the version service).
pub const REQUEST_ID_HEADER: &str = error_catalogue::REQUEST_ID_HEADER;

/// Longest request id taken from a caller: ids go into every log line of the request.
const MAX_CALLER_ID_LEN: usize = 128;

/// The request id as a request extension, for handlers that prefer it to the header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The `x-request-id` a caller sent, kept apart by [`own_request_ids`]: the caller's word,
/// for logs and records that say so, never the request's id.
#[derive(Clone, Debug)]
pub struct CallerRequestId(pub String);

/// The request id `SetRequestIdLayer` put in `headers` (`-` when there is none, which only
/// happens outside [`layers`]).
pub fn request_id(headers: &HeaderMap) -> &str {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// Wraps `router` in the shared layers, with the body deadline and compression of `config`.
pub fn layers(router: Router, config: &ServerConfig) -> Router {
    let router = router
        .layer(from_fn(catch_panic))
        .layer(from_fn(refuse_undecodable))
        .layer(decompression())
        .layer(from_fn(refuse_unknown_codings))
        .layer(from_fn_with_state(
            config.body_read_timeout(),
            body_deadline,
        ));
    let router = if config.compression {
        router.layer(compression(config.compression_min_size()))
    } else {
        router
    };
    router
        .layer(from_fn(expose_request_id))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!(
                        "request",
                        request_id = %request_id(request.headers()),
                        caller_request_id = request
                            .extensions()
                            .get::<CallerRequestId>()
                            .map(|CallerRequestId(id)| tracing::field::display(id)),
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(from_fn(drop_unusable_request_id))
}

/// Whether a caller's id may be kept: 1 to [`MAX_CALLER_ID_LEN`] printable ASCII characters.
fn usable_caller_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_CALLER_ID_LEN && id.iter().all(u8::is_ascii_graphic)
}

/// A caller's id that is empty, longer than [`MAX_CALLER_ID_LEN`] or not printable ASCII is
/// dropped, so that `SetRequestIdLayer` generates one instead.
async fn drop_unusable_request_id(mut request: Request, next: Next) -> Response {
    if let Some(id) = request.headers().get(REQUEST_ID_HEADER)
        && !usable_caller_id(id.as_bytes())
    {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// A middleware for a server whose request ids must be its own (the gateway: its ids go into
/// the audit trail): the caller's `x-request-id` is taken off the request, kept as
/// [`CallerRequestId`] when usable, and the layers of [`layers`] (applied inside this one)
/// generate the id. The `request` span records the caller's id as `caller_request_id`.
pub async fn own_request_ids(mut request: Request, next: Next) -> Response {
    if let Some(id) = request.headers_mut().remove(REQUEST_ID_HEADER)
        && usable_caller_id(id.as_bytes())
        && let Ok(id) = id.to_str()
    {
        request
            .extensions_mut()
            .insert(CallerRequestId(id.to_owned()));
    }
    next.run(request).await
}

/// Puts the id in the request extensions as [`RequestId`].
async fn expose_request_id(mut request: Request, next: Next) -> Response {
    let id = RequestId(request_id(request.headers()).to_owned());
    request.extensions_mut().insert(id);
    next.run(request).await
}

/// A panic anywhere in a handler: logged (inside the request's span, so with its id) and
/// answered with a coded 500 that shows nothing of it but names the request id. Written here
/// rather than with tower-http's `CatchPanicLayer` because its handler never sees the request.
async fn catch_panic(request: Request, next: Next) -> Response {
    let id = request_id(request.headers()).to_owned();
    let media = negotiate(request.headers()).unwrap_or(Media::Json);
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => panic_response(&id, panic.as_ref(), media),
    }
}

fn panic_response(request_id: &str, panic: &(dyn Any + Send), media: Media) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::InternalServerError,
        format!("internal error; the log has the details under request id {request_id}"),
    )
    .in_media(media)
    .into_response()
}
