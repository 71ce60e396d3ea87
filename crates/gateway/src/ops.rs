//! Operations: `/health` (the process is alive), `/ready` (it can serve), `/metrics`
//! (Prometheus text), and the layers every route shares: the edge's (request ids, the request
//! span, the body deadline, the panic guard) and CORS.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::ConfigError;
use crate::state::AppState;

/// How long `/ready` waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: always 200 while the process runs; no dependency is checked.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the license database answers, else 503. The version service's state
/// is reported but does not make the gateway unready: usage fields degrade to null plus an
/// error, and everything else still answers.
pub async fn ready(State(state): State<AppState>) -> Response {
    let database = tokio::time::timeout(PROBE_TIMEOUT, state.db.execute_unprepared("SELECT 1"));
    let (database, version) = tokio::join!(database, version_service(&state));
    let database_up = match database {
        Ok(Ok(_)) => true,
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: license database unreachable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness check: license database did not answer in time");
            false
        }
    };
    let body = json!({
        "status": if database_up { "ready" } else { "not ready" },
        "licenseDatabase": if database_up { "up" } else { "down" },
        "versionService": version,
        "versionServiceBreaker": state.version.breaker_phase().as_str(),
    });
    let status = if database_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The version service's state for `/ready`: `up`, `down` or `unknown`.
async fn version_service(state: &AppState) -> &'static str {
    match tokio::time::timeout(PROBE_TIMEOUT, state.version.probe()).await {
        Ok(Ok(())) => "up",
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: version service unreachable");
            "down"
        }
        Err(_) => "down",
    }
}

/// `GET /metrics`: Prometheus text exposition format 0.0.4.
pub async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .set_breaker_state(state.version.breaker_phase().as_str());
    let body = state.metrics.render(&state.db, state.statements.get());
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
    pub fn layer(&self) -> Result<Option<CorsLayer>, ConfigError> {
        if self.allowed_origins.is_empty() {
            return Ok(None);
        }
        let origin = if self.allowed_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let origins = self
                .allowed_origins
                .iter()
                .map(|o| HeaderValue::from_str(o).map_err(|_| ConfigError::CorsOrigin(o.clone())))
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
                    header::HeaderName::from_static(crate::endpoint::IDEMPOTENCY_KEY),
                ])
                .expose_headers([header::HeaderName::from_static(edge::REQUEST_ID_HEADER)])
                .max_age(Duration::from_secs(self.max_age_secs)),
        ))
    }
}

/// Wraps `router` in the shared edge layers (request id, `request` span, body deadline, panic
/// guard; see `edge::layers`) and, outermost, CORS.
pub fn layers(router: Router, cors: &CorsConfig, body_read_timeout: Duration) -> Router {
    // The gateway's request ids are its own (they go into the audit trail); a caller's
    // `x-request-id` is kept apart as `edge::CallerRequestId`.
    let router = edge::layers(router, body_read_timeout).layer(from_fn(edge::own_request_ids));
    // An invalid origin list was refused at start (`AppState::start`).
    match cors.layer().ok().flatten() {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
