//! The id of the request being served, for error bodies and their log lines.
//!
//! Assigning, checking and echoing ids is the job of the edge layers (`edge::layers`) wrapped
//! around [`crate::app`]; this module only keeps the id they put in the request for the task
//! serving it, so that an [`crate::Error`] turned into a response can name it.

use axum::{extract::Request, middleware::Next, response::Response};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Middleware: runs the rest of the request with its id in scope. Outside the edge layers (a
/// router driven directly) a fresh UUID stands in, so a 5xx body and its log line still share
/// an id.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = request
        .extensions()
        .get::<edge::RequestId>()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), |id| id.0.clone());
    REQUEST_ID.scope(id, next.run(request)).await
}

/// The current request's id; `None` outside a request (e.g. in a unit test).
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
