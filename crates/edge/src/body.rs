//! The request-body deadline: a body must arrive in full within `body_read_timeout` of its
//! headers. Past it, whatever the handler made of the failed read is replaced by 408
//! `REQUEST_TIMEOUT` with `Connection: close`.
//!
//! The same watch also tells whether the handler answered without reading the whole body (a
//! 401, a 415, a 413): hyper then closes the connection rather than read the rest, so the
//! response says `Connection: close` and the client does not reuse a dead connection.
//!
//! Under HTTP/2 the same holds per stream: the 408 ends its stream (hyper resets a stream whose
//! body was not read), and the connection, with its other streams, carries on. HTTP/2 has no
//! `Connection` header, so none is added there.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Media, Refusal, negotiate};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// What became of a request body, shared between the body and the middleware.
#[derive(Debug, Default)]
struct Watch {
    timed_out: AtomicBool,
    finished: AtomicBool,
}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    watch: Arc<Watch>,
}

/// The error a [`DeadlineBody`] ends with: the handler's read fails instead of waiting on.
#[derive(Debug)]
struct TimedOut(Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} ms",
            self.0.as_millis()
        )
    }
}

impl std::error::Error for TimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.watch.finished.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if this.inner.is_end_stream() {
                    this.watch.finished.store(true, Ordering::Relaxed);
                }
                Poll::Ready(Some(frame))
            }
            Poll::Pending => {
                // Checked only while waiting: a body that is all there is never cut short.
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.watch.timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(TimedOut(this.timeout)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware: gives the request body its deadline, then fixes the response up.
pub(crate) async fn body_deadline(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let media = negotiate(&parts.headers).unwrap_or(Media::Json);
    let version = parts.version;
    let has_body = !http_body::Body::is_end_stream(&body);
    let watch = Arc::new(Watch::default());
    let body = Body::new(DeadlineBody {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        timeout,
        watch: watch.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if watch.timed_out.load(Ordering::Relaxed) {
        tracing::info!(
            timeout_ms = timeout.as_millis() as u64,
            "request body too slow: answered 408 and closed"
        );
        if response.status() != StatusCode::REQUEST_TIMEOUT {
            response = timeout_response(timeout, media);
        }
        close(&mut response, version);
    } else if has_body && !watch.finished.load(Ordering::Relaxed) {
        close(&mut response, version);
    }
    response
}

/// The 408 for handlers that did not answer one themselves.
fn timeout_response(timeout: Duration, media: Media) -> Response {
    Refusal::new(
        StatusCode::REQUEST_TIMEOUT,
        Code::RequestTimeout,
        format!(
            "the request body did not arrive within {} ms",
            timeout.as_millis()
        ),
    )
    .in_media(media)
    .into_response()
}

/// Marks `response` as the last on its HTTP/1 connection (hyper then closes it after
/// writing). HTTP/2 forbids the header (hyper would drop it with a warning).
fn close(response: &mut Response, version: Version) {
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// Whether reading a body failed because it is larger than the limit it was read with
/// (`axum::body::to_bytes`'s, after any decoding layer): a 413 rather than a broken or slow
/// body. Found by the error's type anywhere in its chain, never by its wording.
pub fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    fn app(timeout: Duration) -> Router {
        Router::new()
            .route(
                "/read",
                post(|body: Bytes| async move { format!("{} bytes", body.len()) }),
            )
            .route("/ignore", post(|| async { StatusCode::UNAUTHORIZED }))
            .layer(axum::middleware::from_fn_with_state(timeout, body_deadline))
    }

    fn request(path: &str, body: Body) -> Request {
        Request::post(path)
            .body(body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn closes(response: &Response) -> bool {
        response.headers().get(header::CONNECTION) == Some(&HeaderValue::from_static("close"))
    }

    #[tokio::test]
    async fn a_body_that_never_ends_gets_408_and_close() {
        let never = Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let response = app(Duration::from_millis(50))
            .oneshot(request("/read", never))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(closes(&response));
    }

    #[tokio::test]
    async fn a_read_body_keeps_the_connection_and_an_unread_one_closes_it() {
        let app = app(Duration::from_secs(5));
        let read = app
            .clone()
            .oneshot(request("/read", Body::from("hello")))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(read.status(), StatusCode::OK);
        assert!(!closes(&read));
        let unread = app
            .oneshot(request("/ignore", Body::from("hello")))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(unread.status(), StatusCode::UNAUTHORIZED);
        assert!(closes(&unread), "the unread body makes hyper close");
    }
}
