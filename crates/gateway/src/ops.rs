//! Operations: `/health` (the process is alive), `/ready` (it can serve), `/metrics`
//! (Prometheus text), and the layers every route shares: the edge's (request ids, the request
//! span, the body deadline, the panic guard) and CORS.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use database::StatementCounter;
use edge::{Readiness, probe};
use license_graph::Graph;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::metrics::Metrics;

/// A `[gateway.cors]` that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum CorsError {
    #[error("[gateway.cors] `{0}` is not a valid origin")]
    Origin(String),
}

/// What the operations routes read: the license database and its statement count, the
/// metrics, the graph's version-service client, and the webhooks' queue.
#[derive(Clone)]
pub(crate) struct Ops {
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    pub metrics: Metrics,
    pub graph: Graph,
    pub webhooks: Option<webhooks::Webhooks>,
}

/// `Cache-Control: no-store` on the operations routes: a cached health, readiness or metrics
/// answer would tell a prober or a scraper something that is no longer true.
pub(crate) async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /health`: always 200 while the process runs; no dependency is checked.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready` (`edge::Readiness`, the contract both services share): ready while the
/// license database answers. The version service's state is reported but does not make the
/// gateway unready: usage fields degrade to null plus an error, and everything else still
/// answers.
pub(crate) async fn ready(State(ops): State<Ops>, headers: HeaderMap) -> Response {
    let database = probe("license database", async {
        ops.db.execute_unprepared("SELECT 1").await.map(|_| ())
    });
    let version = probe("version service", ops.graph.version().probe());
    let (database, version) = tokio::join!(database, version);
    Readiness::new()
        .required("licenseDatabase", "license database", database)
        .optional("versionService", version)
        .reported(
            "versionServiceBreaker",
            ops.graph.version().breaker_phase().as_str(),
        )
        .respond(&headers)
}

/// `GET /metrics`: Prometheus text exposition format 0.0.4.
pub(crate) async fn metrics(State(ops): State<Ops>) -> Response {
    ops.metrics
        .set_breaker_state(ops.graph.version().breaker_phase().as_str());
    if let Some(webhooks) = &ops.webhooks {
        match webhooks.queue().await {
            Ok(queue) => ops.metrics.set_webhook_queue(queue, chrono::Utc::now()),
            Err(error) => tracing::warn!(%error, "the webhook queue could not be measured"),
        }
    }
    let body = ops.metrics.render(&ops.db, ops.statements.get());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// `[gateway.cors]`: which browser origins may call the gateway. Closed by default: no origin
/// is allowed, so browsers only call it from its own pages.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins such as `https://dash.example.com`; `["*"]` allows any origin (without
    /// credentials).
    pub allowed_origins: Vec<String>,
    /// How long browsers may cache a preflight answer, in seconds.
    pub max_age_secs: u64,
}

impl CorsConfig {
    /// The layer, or `None` when no origin is allowed.
    pub fn layer(&self) -> Result<Option<CorsLayer>, CorsError> {
        if self.allowed_origins.is_empty() {
            return Ok(None);
        }
        let origin = if self.allowed_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let origins = self
                .allowed_origins
                .iter()
                .map(|o| HeaderValue::from_str(o).map_err(|_| CorsError::Origin(o.clone())))
                .collect::<Result<Vec<_>, _>>()?;
            AllowOrigin::list(origins)
        };
        Ok(Some(
            CorsLayer::new()
                .allow_origin(origin)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::AUTHORIZATION,
                    header::ACCEPT,
                    header::HeaderName::from_static(edge::REQUEST_ID_HEADER),
                    header::HeaderName::from_static(crate::caller::IDEMPOTENCY_KEY),
                ])
                .expose_headers([header::HeaderName::from_static(edge::REQUEST_ID_HEADER)])
                .max_age(Duration::from_secs(self.max_age_secs)),
        ))
    }
}

/// Wraps `router` in the shared edge layers (request id, `request` span, compression, body
/// deadline and decoding, panic guard; see `edge::layers`) and, outermost, CORS.
pub(crate) fn layers(router: Router, cors: &CorsConfig, server: &edge::ServerConfig) -> Router {
    // The gateway's request ids are its own (they go into the audit trail); a caller's
    // `x-request-id` is kept apart as `edge::CallerRequestId`.
    let router = edge::layers(router, server).layer(from_fn(edge::own_request_ids));
    // An invalid origin list was refused at start (`AppState::start`).
    match cors.layer().ok().flatten() {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
