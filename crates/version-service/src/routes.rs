//! HTTP handlers: ingestion, the subgraph endpoint, health, readiness and metrics.

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Json,
    body::Bytes,
    extract::{Request, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use crate::{
    AppState, Error,
    graphql::Loaders,
    ingest::parse_ping,
    store::{self, IngestOutcome},
};

/// `POST /usage_data`: validate, store, answer 201 (new) or 200 (already stored).
pub async fn usage_data(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let result = ingest(&state, body).await;
    match &result {
        Ok(outcome) => state
            .metrics
            .ping_ingested(*outcome == IngestOutcome::Created),
        Err(err) if err.status().is_client_error() => state.metrics.ping_rejected(),
        Err(_) => {}
    }
    let (status, stored) = match result? {
        IngestOutcome::Created => (StatusCode::CREATED, "created"),
        IngestOutcome::Duplicate => (StatusCode::OK, "duplicate"),
    };
    Ok((status, Json(serde_json::json!({ "status": stored }))).into_response())
}

async fn ingest(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<IngestOutcome, Error> {
    let body = body.map_err(|rejection| Error::Body {
        status: rejection.status(),
        message: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "payload larger than the limit of {} bytes",
                state.config.max_payload_bytes
            )
        } else {
            rejection.body_text()
        },
    })?;
    let ping = parse_ping(&body)?;
    store::store_ping(&state.db, ping, Utc::now()).await
}

/// `POST /graphql`: the subgraph, with fresh loaders for each request.
pub async fn graphql(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    let request = request.into_inner();
    state
        .metrics
        .graphql_request(request.query.contains("_entities"));
    let request = request.data(Loaders::new(&state.db));
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
