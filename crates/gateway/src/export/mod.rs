//! CSV downloads of what the dashboard shows:
//!
//! - `GET /export/customers/{id}/licenses.csv`: a customer's licenses, one row each, with the
//!   contact, the licensee and the attached servers;
//! - `GET /export/trials.csv?from=&to=&groupBy=&convertedWithinDays=`: every trial behind the
//!   trials report (`trialsReport`), one row each, with the paid license it turned into;
//! - `GET /export/audit-events.csv?actions=&actor=&licenseId=&customerId=&occurredFrom=&occurredBefore=`:
//!   the audit trail, for staff (`auditEvents`).
//!
//! The same caller as `/graphql` (bearer token, or the session cookie with its same-site
//! check: `authn::Callers::viewer`), the same view (`caller::view`: scope and masking from
//! `licenses::View`).
//! Bounded like `/graphql`: a permit of `limits.max_concurrent_requests` (503 when none is
//! free), `limits.request_timeout_ms` (504), and at most [`MAX_ROWS`] rows (413). Every export
//! holds people's names or e-mail addresses, so each one is recorded in the audit trail (who,
//! which, for what, how many rows) before it is sent; one the trail cannot record is not sent.

mod audit;
mod customer;
mod table;
mod trials;

use std::future::Future;

use auth::Viewer;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use edge::CallerRequestId;
use entity::audit_event::Action;
use error_catalogue::{Code, Media, Refusal, negotiate};
use graphql_http::{Admission, Observer};
use licenses::View;
use licenses::audit_record::{Actor, Details, ExportKind, NewEvent};
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
        .route("/export/audit-events.csv", get(audit::events))
}

/// A finished export: the table, its file name, and what the trail records of it.
struct Export {
    table: table::Table,
    filename: String,
    kind: ExportKind,
    /// The exported customer, when the export is one customer's.
    customer_id: Option<i64>,
    /// What was asked for, in words (the customer, the period, the trail's filter).
    filter: String,
}

impl Exports {
    /// Runs `export` as the request's caller, within the gateway's concurrency and time
    /// limits (the `/graphql` ones: `graphql_http::Admission`), and records it in the audit
    /// trail before sending it; a refusal is answered as the error body every route uses
    /// (JSON unless the caller asks for something else).
    async fn run<F, Fut>(
        &self,
        headers: &HeaderMap,
        caller_id: Option<CallerRequestId>,
        export: F,
    ) -> Response
    where
        F: FnOnce(View, Viewer) -> Fut,
        Fut: Future<Output = Result<Export, Refusal>>,
    {
        let media = negotiate(headers).unwrap_or(Media::Json);
        let viewer = match self.callers.viewer(headers).await {
            Ok(viewer) => viewer,
            Err(error) => return authn::refuse(headers, &error),
        };
        let deadline = self.admission.deadline();
        let view = caller::view(&viewer);
        let masked = !view.personal_data_visible;
        let answer = async {
            let _permit = self
                .admission
                .admit()
                .inspect_err(|_| self.metrics.shed())?;
            let export = self
                .admission
                .within(deadline, "the export", export(view, viewer.clone()))
                .await??;
            let actor = Actor {
                subject: viewer.subject.clone(),
                email: viewer.email.clone(),
                role: viewer.role.as_str().to_owned(),
                request_id: edge::request_id(headers).to_owned(),
                caller_request_id: caller_id.map(|CallerRequestId(id)| id),
            };
            self.record(export, actor, masked, viewer.customer_scope())
                .await
        };
        answer.await.unwrap_or_else(|refusal| {
            self.metrics.refused(refusal.code());
            refusal.in_media(media).into_response()
        })
    }
}

impl Exports {
    /// Records `export` in the audit trail, then answers with it; an export the trail cannot
    /// record is not sent.
    async fn record(
        &self,
        export: Export,
        actor: Actor,
        masked: bool,
        scope: Option<&[i64]>,
    ) -> Result<Response, Refusal> {
        let rows = export.table.rows();
        let event = NewEvent {
            action: Action::PersonalDataExported,
            actor,
            license_id: None,
            customer_id: export.customer_id,
            reason: None,
            details: Details {
                export: Some(export.kind),
                filter: Some(export.filter),
                rows: Some(u64::try_from(rows).unwrap_or(u64::MAX)),
                masked: Some(masked),
                scope: scope.map(<[i64]>::to_vec),
                ..Details::default()
            },
        };
        match licenses::audit_record::record(&self.db, event).await {
            Ok(event) => {
                tracing::info!(audit_event_id = event.id, rows, kind = ?export.kind, "export sent");
                Ok(export.table.into_response(&export.filename))
            }
            Err(error) => {
                tracing::error!(%error, "an export could not be recorded in the audit trail: not sent");
                Err(Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Code::InternalServerError,
                    "the export could not be recorded in the audit trail, so it was not sent; \
                     see the gateway log",
                ))
            }
        }
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
