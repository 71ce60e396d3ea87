//! HTTP handlers: the subgraph endpoint, health, readiness and metrics (ingestion is in
//! `usage_data`).

use async_graphql::ServerError;
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use error_catalogue::graphql::{code_of, coded};
use error_catalogue::{Code, Media, respond};

use crate::{AppState, Error, graphql::Loaders, store};

/// Largest `/graphql` request body, in bytes: an `_entities` call of the gateway's largest
/// batch is a few hundred kilobytes.
pub const MAX_GRAPHQL_BODY_BYTES: usize = 2 * 1024 * 1024;

/// `POST /graphql`: the subgraph, with fresh loaders for each request. A body that is not a
/// GraphQL request is refused with a coded error; an error without a code in the answer is
/// ours, logged and answered as `INTERNAL_SERVER_ERROR`.
pub async fn graphql(State(state): State<AppState>, request: Request) -> Result<Response, Error> {
    let body = axum::body::to_bytes(request.into_body(), MAX_GRAPHQL_BODY_BYTES)
        .await
        .map_err(|error| Error::Body {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "the body could not be read within {MAX_GRAPHQL_BODY_BYTES} bytes: {error}"
            ),
        })?;
    let request: async_graphql::Request = serde_json::from_slice(&body).map_err(|error| {
        Error::MalformedJson(format!(
            "the body is not a GraphQL request (a JSON object with `query`): {error}"
        ))
    })?;
    state
        .metrics
        .graphql_request(request.query.contains("_entities"));
    let request = request.data(Loaders::new(&state.db, state.config.max_counts_bytes));
    let mut response = state.schema.execute(request).await;
    for error in response.errors.iter_mut().filter(|e| code_of(e).is_none()) {
        tracing::error!(message = %error.message, path = ?error.path, "internal error in a subgraph answer");
        *error = ServerError {
            locations: std::mem::take(&mut error.locations),
            path: std::mem::take(&mut error.path),
            ..coded(
                "internal error; see the version service's log",
                Code::InternalServerError,
            )
        };
    }
    Ok(respond(StatusCode::OK, Media::Json, &response))
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
