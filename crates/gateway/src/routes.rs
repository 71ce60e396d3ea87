//! The HTTP surface: `/graphql` (queries and the explorer), `/health` and `/ready`.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::graphql::RequestContext;
use crate::graphql::loaders::Loaders;
use crate::state::AppState;

/// The gateway's router: the seam tests drive, in process or on port 0.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
}

async fn execute(state: &AppState, request: GraphQLRequest) -> GraphQLResponse {
    let context = RequestContext::unrestricted(Utc::now().date_naive());
    let loaders = Loaders::new(state.db.clone(), context.scope.clone());
    let request = request
        .into_inner()
        .data(context)
        .data(loaders)
        .data(state.db.clone());
    state.schema.execute(request).await.into()
}

async fn graphql_post(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    execute(&state, request).await
}

/// A browser asking for `/graphql` gets the explorer; anything else is a GraphQL GET request.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("licensedot explorer")
                .finish(),
        )
        .into_response();
    }
    match request {
        Ok(request) => execute(&state, request).await.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Response {
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
