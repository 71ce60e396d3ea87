//! CSV downloads of what the dashboard shows:
//!
//! - `GET /export/customers/{id}/licenses.csv`: a customer's licenses, one row each, with the
//!   contact, the licensee and the attached servers;
//! - `GET /export/trials.csv?from=&to=&groupBy=&convertedWithinDays=`: every trial behind the
//!   trials report (`trialsReport`), one row each, with the paid license it turned into.
//!
//! The same caller as `/graphql` (bearer token, or the session cookie with its same-site
//! check: `authn::viewer`), the same scope and the same masking (`graphql::types::personal`).
//! Bounded like `/graphql`: a permit of `limits.max_concurrent_requests` (503 when none is
//! free), `limits.request_timeout_ms` (504), and at most [`MAX_ROWS`] rows (413).

mod customer;
mod table;
mod trials;

use std::future::Future;
use std::time::Duration;

use auth::Viewer;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use error_catalogue::{Code, Media, Refusal, negotiate};

use crate::graphql::RequestContext;
use crate::state::AppState;
use crate::{authn, endpoint};

pub use table::inert;

/// The most rows one export holds (the trials report's own bound is lower: 50,000 trials).
pub const MAX_ROWS: usize = 50_000;

/// The export routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/export/customers/{id}/licenses.csv",
            get(customer::licenses),
        )
        .route("/export/trials.csv", get(trials::trials))
}

/// Runs `export` as the request's caller, within the gateway's concurrency and time limits;
/// a refusal is answered as the error body every route uses (JSON unless the caller asks for
/// something else).
async fn run<F, Fut>(state: &AppState, headers: &HeaderMap, export: F) -> Response
where
    F: FnOnce(RequestContext) -> Fut,
    Fut: Future<Output = Result<Response, Refusal>>,
{
    let media = negotiate(headers).unwrap_or(Media::Json);
    let viewer: Viewer = match authn::viewer(state, headers).await {
        Ok(viewer) => viewer,
        Err(error) => return authn::refuse(headers, &error),
    };
    let Ok(_permit) = state.limiter.clone().try_acquire_owned() else {
        state.metrics.record_shed();
        return endpoint::overloaded(state).in_media(media).into_response();
    };
    let context = RequestContext::for_viewer(&viewer, Utc::now().date_naive());
    let timeout = Duration::from_millis(state.config.limits.request_timeout_ms);
    let answer = match tokio::time::timeout(timeout, export(context)).await {
        Ok(answer) => answer,
        Err(_) => Err(Refusal::new(
            StatusCode::GATEWAY_TIMEOUT,
            Code::RequestTimeout,
            format!(
                "the export took longer than {} ms",
                state.config.limits.request_timeout_ms
            ),
        )),
    };
    answer.unwrap_or_else(|refusal| {
        state.metrics.record_errors(&[refusal.code()]);
        refusal.in_media(media).into_response()
    })
}

/// A license-database failure, logged; the caller gets a coded 500 or the argument's 400.
fn refusal(error: licenses::Error) -> Refusal {
    match error {
        licenses::Error::Database(error) => {
            tracing::error!(%error, "license database query failed during an export");
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::InternalServerError,
                "the license database could not answer; see the gateway log",
            )
        }
        other => bad_input(other.to_string()),
    }
}

fn bad_input(message: impl Into<String>) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, Code::BadUserInput, message)
}
