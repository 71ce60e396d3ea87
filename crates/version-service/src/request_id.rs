//! The id of the request being served, for error bodies and their log lines.
//!
//! Assigning and echoing ids is the job of the request-id layer shared with the gateway, in
//! front of [`crate::app`]; this module only reads the `x-request-id` header (the caller's, or
//! the one that layer set) and keeps it for the task serving the request, so an
//! [`crate::Error`] turned into a response can name it.

use axum::{extract::Request, middleware::Next, response::Response};

/// The header that carries request ids, in and out.
pub const HEADER: &str = "x-request-id";

/// Longest id taken from a caller; longer ones are replaced, as log lines must stay small.
const MAX_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Middleware: runs the rest of the request with its id in scope. Without a usable header
/// (no id layer in front, or a malformed id) a fresh UUID stands in, so a 5xx body and its log
/// line still share an id.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= MAX_LEN)
        .filter(|id| id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    REQUEST_ID.scope(id, next.run(request)).await
}

/// The current request's id; `None` outside a request (e.g. in a unit test).
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
