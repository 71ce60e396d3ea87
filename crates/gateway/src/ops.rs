//! Operations: `/health` (the process is alive), `/ready` (it can serve), `/metrics`
//! (Prometheus text), and the HTTP layers every route shares: request ids, the request span
//! every log line of a request carries, panics turned into coded 500s, and CORS.

use std::any::Any;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

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
    pub fn layer(&self) -> Result<Option<CorsLayer>, String> {
        if self.allowed_origins.is_empty() {
            return Ok(None);
        }
        let origin = if self.allowed_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            let origins = self
                .allowed_origins
                .iter()
                .map(|o| {
                    HeaderValue::from_str(o)
                        .map_err(|_| format!("[gateway.cors] `{o}` is not a valid origin"))
                })
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
                    header::HeaderName::from_static("x-request-id"),
                ])
                .expose_headers([header::HeaderName::from_static("x-request-id")])
                .max_age(Duration::from_secs(self.max_age_secs)),
        ))
    }
}

/// A panic anywhere in a handler: logged (inside the request's span, so with its id) and
/// answered with a coded 500 that shows nothing of it.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"errors": [{
            "message": "internal error; the gateway log has the details under this request's id",
            "extensions": {"code": "INTERNAL_SERVER_ERROR"}
        }]})),
    )
        .into_response()
}

/// Wraps `router` in the shared layers: outermost CORS, then the request id (taken from
/// `x-request-id` or generated, and echoed back), the `request` span with that id, and the
/// panic guard.
pub fn layers(router: Router, cors: &CorsConfig) -> Router {
    let router = router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        request_id = %id,
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // An invalid origin list was refused at start (`AppState::start`).
    match cors.layer().ok().flatten() {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
