//! CSV downloads of what the dashboard shows:
//!
//! - `GET /export/customers/{id}/licenses.csv`: a customer's licenses, one row each, with the
//!   contact, the licensee and the attached servers;
//! - `GET /export/trials.csv?from=&to=&groupBy=&convertedWithinDays=`: every trial behind the
//!   trials report (`trialsReport`), one row each, with the paid license it turned into.
//!
//! The same caller as `/graphql` (bearer token, or the session cookie with its same-site
//! check: `authn::Callers::viewer`), the same view (`caller::view`: scope and masking from
//! `licenses::View`).
//! Bounded like `/graphql`: a permit of `limits.max_concurrent_requests` (503 when none is
//! free), `limits.request_timeout_ms` (504), and at most [`MAX_ROWS`] rows (413).

mod customer;
mod table;
mod trials;

use std::future::Future;

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error_catalogue::{Code, Media, Refusal, negotiate};
use graphql_http::{Admission, Observer};
use licenses::View;
use sea_orm::DatabaseConnection;

use crate::authn::{self, Callers};
use crate::caller;
use crate::metrics::Metrics;

/// The most rows one export holds (the trials report's own bound is lower: 50,000 trials).
pub(crate) const MAX_ROWS: usize = 50_000;

/// What the exports need: who calls, the `/graphql` permits and deadline, the license
/// database, the metrics.
#[derive(Clone)]
pub(crate) struct Exports {
    pub callers: Callers,
    pub admission: Admission,
    pub db: DatabaseConnection,
    pub metrics: Metrics,
}

/// The export routes, for any router state the exports' own part is taken from.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Exports: FromRef<S>,
{
    Router::new()
        .route(
            "/export/customers/{id}/licenses.csv",
            get(customer::licenses),
        )
        .route("/export/trials.csv", get(trials::trials))
}

impl Exports {
    /// Runs `export` as the request's caller, within the gateway's concurrency and time
    /// limits (the `/graphql` ones: `graphql_http::Admission`); a refusal is answered as the
    /// error body every route uses (JSON unless the caller asks for something else).
    async fn run<F, Fut>(&self, headers: &HeaderMap, export: F) -> Response
    where
        F: FnOnce(View) -> Fut,
        Fut: Future<Output = Result<Response, Refusal>>,
    {
        let media = negotiate(headers).unwrap_or(Media::Json);
        let viewer = match self.callers.viewer(headers).await {
            Ok(viewer) => viewer,
            Err(error) => return authn::refuse(headers, &error),
        };
        let deadline = self.admission.deadline();
        let answer = async {
            let _permit = self
                .admission
                .admit()
                .inspect_err(|_| self.metrics.shed())?;
            self.admission
                .within(deadline, "the export", export(caller::view(&viewer)))
                .await?
        };
        answer.await.unwrap_or_else(|refusal| {
            self.metrics.refused(refusal.code());
            refusal.in_media(media).into_response()
        })
    }
}

/// A license-database failure as the caller may see it (`licenses::Error::public`): a coded
/// 500, or the argument's 400.
fn refusal(error: licenses::Error) -> Refusal {
    let (code, message) = error.public();
    let status = if code == Code::InternalServerError {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    Refusal::new(status, code, message)
}

fn bad_input(message: impl Into<String>) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, Code::BadUserInput, message)
}
