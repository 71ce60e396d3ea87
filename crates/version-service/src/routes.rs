//! HTTP handlers: the subgraph endpoint, health, readiness and metrics (ingestion is in
//! `usage_data`).

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{AppState, Error, graphql::Loaders, store};

/// `POST /graphql`: the subgraph, with fresh loaders for each request.
pub async fn graphql(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    let request = request.into_inner();
    state
        .metrics
        .graphql_request(request.query.contains("_entities"));
    let request = request.data(Loaders::new(&state.db, state.config.max_counts_bytes));
    state.schema.execute(request).await.into()
}

/// Guards `/graphql` with the service token when one is configured.
pub async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Result<Response, Error> {
    if let Some(expected) = state.config.service_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
            return Err(Error::Unauthorized);
        }
    }
    Ok(next.run(request).await)
}

/// Compares without returning early, so timing does not reveal the token's prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /health`: the process is alive.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /ready`: the database answers, within 2 s (a frozen database or an exhausted pool
/// must not hang the probe: it answers 503).
pub async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Error> {
    tokio::time::timeout(
        std::time::Duration::from_secs(2),
        store::ping_check(&state.db),
    )
    .await
    .map_err(|_| Error::NotReady("the database did not answer within 2 s".to_owned()))?
    .map_err(|err| Error::NotReady(err.to_string()))?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state.statements),
    )
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
