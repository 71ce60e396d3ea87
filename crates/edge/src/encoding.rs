//! Content codings, both ways.
//!
//! - **Responses** are compressed with gzip or brotli as `Accept-Encoding` asks (tower-http's
//!   `CompressionLayer`, brotli at quality 4), with `Vary: Accept-Encoding`, unless they are
//!   smaller than `compression_min_bytes`, of a type that is compressed already (images but
//!   SVG, audio, video, fonts, archives) or a stream of events, or marked [`Precompressed`]
//!   (the static assets, compressed once; see `assets`).
//! - **Request bodies** sent with `Content-Encoding: gzip` or `br` are decompressed on the
//!   fly (tower-http's `RequestDecompressionLayer`) before any handler reads them, so each
//!   service's body limit bounds the *decompressed* size: a zip bomb is cut at the limit and
//!   answered 413 like any body too large. Another coding is answered 415
//!   `UNSUPPORTED_MEDIA_TYPE` with `Accept-Encoding: gzip, br`, and a body that is not valid
//!   in its coding 400 `BAD_REQUEST`, whatever the handler made of the failed read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use error_catalogue::{Code, Media, Refusal, negotiate};
use http_body::{Frame, SizeHint};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;

/// The codings a request body may come in (besides `identity`), as `Accept-Encoding` lists
/// them in a 415.
const ACCEPTED_CODINGS: &str = "gzip, br";

/// Content types that compression would not shrink (or, for event streams, would hold back).
const NOT_COMPRESSED: [&str; 10] = [
    "image/",
    "audio/",
    "video/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/grpc",
    "text/event-stream",
];

/// A response extension: the body is already in its final coding (a precompressed asset, or
/// its identity variant for a client that takes no compression); never compress it again.
#[derive(Clone, Copy, Debug)]
pub struct Precompressed;

/// Which responses the compression layer compresses (see the module docs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Compressible {
    min_size: SizeAbove,
}

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: http_body::Body,
    {
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let compressed_type = NOT_COMPRESSED
            .iter()
            .any(|prefix| content_type.starts_with(prefix))
            && !content_type.starts_with("image/svg+xml");
        !compressed_type
            && response.extensions().get::<Precompressed>().is_none()
            && self.min_size.should_compress(response)
    }
}

/// The response compression layer: gzip and brotli only (what `assets` precompresses), for
/// responses of at least `min_size` bytes.
pub(crate) fn compression(min_size: u16) -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Default)
        .compress_when(Compressible {
            min_size: SizeAbove::new(min_size),
        })
}

/// The request decompression layer: gzip and brotli, as [`refuse_unknown_codings`] lets
/// through.
pub(crate) fn decompression() -> RequestDecompressionLayer {
    RequestDecompressionLayer::new().no_deflate().no_zstd()
}

/// A request extension: the body came in this coding (the decompression layer removes the
/// header), for the message when it does not decode.
#[derive(Clone, Copy, Debug)]
struct Coded(&'static str);

/// 415 for a `Content-Encoding` other than gzip, br or identity (one coding, any case); the
/// accepted ones are passed on in the lower case the decompression layer matches.
pub(crate) async fn refuse_unknown_codings(mut request: Request, next: Next) -> Response {
    let Some(given) = request.headers().get(header::CONTENT_ENCODING) else {
        return next.run(request).await;
    };
    let coding = match given
        .as_bytes()
        .trim_ascii()
        .to_ascii_lowercase()
        .as_slice()
    {
        b"gzip" => "gzip",
        b"br" => "br",
        b"identity" => "identity",
        _ => {
            let media = negotiate(request.headers()).unwrap_or(Media::Json);
            let given = String::from_utf8_lossy(given.as_bytes()).into_owned();
            return Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                format!(
                    "request bodies are taken with Content-Encoding {ACCEPTED_CODINGS} or \
                     identity, not {given:?}"
                ),
            )
            .with_header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static(ACCEPTED_CODINGS),
            )
            .in_media(media)
            .into_response();
        }
    };
    request
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    if coding != "identity" {
        request.extensions_mut().insert(Coded(coding));
    }
    next.run(request).await
}

/// Watches a decompressed body: a body that does not decode is answered 400 `BAD_REQUEST`,
/// whatever the handler made of the failed read (a 413 or a 408 would send the client looking
/// in the wrong place).
pub(crate) async fn refuse_undecodable(request: Request, next: Next) -> Response {
    let Some(Coded(coding)) = request.extensions().get::<Coded>().copied() else {
        return next.run(request).await;
    };
    let media = negotiate(request.headers()).unwrap_or(Media::Json);
    let failed = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(Decoded {
            body,
            failed: failed.clone(),
        })
    });
    let response = next.run(request).await;
    if !failed.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!(coding, "request body not valid in its coding: answered 400");
    Refusal::new(
        StatusCode::BAD_REQUEST,
        Code::BadRequest,
        format!("the request body is not valid {coding} (Content-Encoding)"),
    )
    .in_media(media)
    .into_response()
}

/// A decompressed body that notes whether decoding failed.
struct Decoded {
    body: Body,
    failed: Arc<AtomicBool>,
}

impl http_body::Body for Decoded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(Some(Err(error))) = &polled
            && is_decoding_error(error)
        {
            self.failed.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Whether a decompressed body's error is the decoder's own. The decompression layer passes
/// the client's body errors (a reset, the body deadline) on as they came, as `axum::Error`s;
/// anything else comes from decoding (an `io::Error` of the decoder, or trailing bytes after
/// the compressed data).
fn is_decoding_error(error: &axum::Error) -> bool {
    use std::error::Error;
    !error
        .source()
        .is_some_and(|inner| inner.is::<axum::Error>())
}

#[cfg(test)]
mod tests {
    use axum::http::Response;

    use super::*;

    fn response(content_type: &str, size: usize) -> Response<Body> {
        let mut response = Response::new(Body::from(vec![b'a'; size]));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        response
    }

    #[test]
    fn only_large_answers_of_compressible_types_are_compressed() {
        let predicate = Compressible {
            min_size: SizeAbove::new(1024),
        };
        assert!(predicate.should_compress(&response("application/json", 1024)));
        assert!(!predicate.should_compress(&response("application/json", 1023)));
        assert!(predicate.should_compress(&response("image/svg+xml", 4096)));
        for compressed in ["image/png", "font/woff2", "application/zip", "Video/mp4"] {
            assert!(!predicate.should_compress(&response(compressed, 4096)));
        }
        let mut marked = response("text/javascript", 4096);
        marked.extensions_mut().insert(Precompressed);
        assert!(!predicate.should_compress(&marked));
    }
}
