//! HTTP handlers: the subgraph endpoint, health, readiness and metrics (ingestion is in
//! `usage_data`).

use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use edge::Readiness;

use crate::{AppState, Error, graphql::Loaders, store};

/// `POST /graphql`: the subgraph, served by the GraphQL-over-HTTP runtime (`graphql_http`:
/// body, limits, status codes, and "an error without a code is ours"), with fresh loaders for
/// each operation.
pub async fn graphql(State(state): State<AppState>, request: Request) -> Response {
    let db = state.db.clone();
    let max_counts_bytes = state.config.max_counts_bytes;
    state
        .graphql
        .serve(
            request,
            Box::new(move |_: &Parts| {
                Ok(Box::new(move |request: async_graphql::Request| {
                    request.data(Loaders::new(&db, max_counts_bytes))
                }))
            }),
        )
        .await
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

/// `GET /ready` (`edge::Readiness`, the contract both services share): ready while the
/// version database answers.
pub async fn ready(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let database = edge::probe("version database", store::ping_check(&state.db)).await;
    Readiness::new()
        .required("versionDatabase", "database", database)
        .respond(&headers)
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
