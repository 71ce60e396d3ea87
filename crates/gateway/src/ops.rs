//! Operations endpoints: `/health` (the process is alive) and `/ready` (it can serve).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::state::AppState;

/// `GET /health`: always 200 while the process runs; no dependency is checked.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the license database answers, else 503.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => Json(json!({"status": "ready", "licenseDatabase": "up"})).into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check: license database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "licenseDatabase": "down"})),
            )
                .into_response()
        }
    }
}
