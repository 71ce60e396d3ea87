//! Who calls and what they see today: the one place a request's [`View`] is made from its
//! viewer, for `/graphql` and the exports alike (so "today" is fixed once per request, and
//! scope and masking come from the same rule everywhere: `licenses::View`), and the
//! [`Caller`] a change records.

use auth::Viewer;
use axum::http::request::Parts;
use chrono::Utc;
use edge::CallerRequestId;
use license_graph::Caller;
use licenses::View;

/// The header a client sends to make a retried mutation return its first result.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The view of `viewer` for a request starting now.
pub(crate) fn view(viewer: &Viewer) -> View {
    View::for_viewer(viewer, Utc::now().date_naive())
}

/// The caller of a request: the viewer, the request id the edge assigned (always the
/// gateway's own), the caller's `x-request-id` kept apart, the `Idempotency-Key` header
/// (checked by the mutation that reads it).
pub(crate) fn caller(viewer: Viewer, parts: &Parts) -> Caller {
    let headers = &parts.headers;
    Caller {
        viewer,
        request_id: edge::request_id(headers).to_owned(),
        caller_request_id: parts
            .extensions
            .get::<CallerRequestId>()
            .map(|CallerRequestId(id)| id.clone()),
        idempotency_key: headers
            .get(IDEMPOTENCY_KEY)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
    }
}
