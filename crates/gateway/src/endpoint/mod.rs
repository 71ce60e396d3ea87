//! `/graphql`: GraphQL over HTTP (graphql.github.io/graphql-over-http).
//!
//! - `POST` takes `application/json` only (415 otherwise: no "simple" cross-site request, so
//!   also the CSRF protection); a JSON array is a batch of at most `max_batch_size` operations.
//! - `GET` runs queries only: a mutation gets 405 with `Allow: POST`.
//! - `Accept: application/graphql-response+json` gets that type and 400 for a request refused
//!   before execution (parse, validation, limits, persisted queries); `application/json`, `*/*`
//!   or no `Accept` get `application/json` and 200 for every well-formed request.
//! - Malformed JSON or a body that is not a GraphQL request: 400. Too large: 413. Over the
//!   concurrency limit: 503 with `Retry-After`. Over the time limit: 504.
//!
//! Every error carries `extensions.code`; errors without one are internal: logged in full under
//! the request id and answered with a generic message.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, ServerError};
use auth::Viewer;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::time::Instant as Deadline;

use crate::graphql::RequestContext;
use crate::graphql::loaders::Loaders;
use crate::limits::{RequestFacts, code_of, coded, codes};
use crate::state::AppState;
use crate::{authn, pages};

/// `application/graphql-response+json`.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Codes of refusals that happen before a GraphQL request is even read.
pub mod http_codes {
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const OVERLOADED: &str = "SERVICE_OVERLOADED";
    pub const TIMEOUT: &str = "REQUEST_TIMEOUT";
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
}

/// The response media type the caller accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: the spec's status codes.
    GraphQLResponse,
    /// `application/json`: 200 for every well-formed request.
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphQLResponse => GRAPHQL_RESPONSE_JSON,
            Media::Json => "application/json",
        })
    }
}

/// Picks the response type from `Accept`, by quality; `None` when neither is acceptable.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accept.is_empty() {
        return Some(Media::Json);
    }
    let mut best: Option<(f32, Media)> = None;
    for range in accept.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';').map(str::trim);
        let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let media = match kind.as_str() {
            GRAPHQL_RESPONSE_JSON => Media::GraphQLResponse,
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        // On equal quality the GraphQL media type wins, as the spec recommends.
        let better = match best {
            None => true,
            Some((q, m)) => quality > q || (quality == q && m == Media::Json && media != m),
        };
        if better {
            best = Some((quality, media));
        }
    }
    best.map(|(_, media)| media)
}

/// A GraphQL-shaped error response for a request refused before execution.
fn refusal(status: StatusCode, media: Media, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// `POST /graphql`. The caller's [`Viewer`] was put in by `authn::require`.
pub async fn post(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    handle(state, viewer.map(|Extension(v)| v), request).await
}

/// `GET /graphql`: a browser (asking for HTML) gets the explorer; anything else is a GraphQL
/// GET request (queries only).
pub async fn get(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    if authn::wants_html(&request) {
        return pages::explorer(&state.config.explorer).into_response();
    }
    handle(state, viewer.map(|Extension(v)| v), request).await
}

async fn handle(state: AppState, viewer: Option<Viewer>, request: Request) -> Response {
    let response = handle_inner(&state, viewer, request).await;
    state.metrics.record_response(response.status().as_u16());
    response
}

async fn handle_inner(state: &AppState, viewer: Option<Viewer>, request: Request) -> Response {
    let started = Instant::now();
    let limits = &state.config.limits;
    let deadline = Deadline::now() + std::time::Duration::from_millis(limits.request_timeout_ms);
    let (parts, body) = request.into_parts();
    let Some(media) = negotiate(&parts.headers) else {
        state.metrics.record_errors(&[http_codes::NOT_ACCEPTABLE]);
        return refusal(
            StatusCode::NOT_ACCEPTABLE,
            Media::Json,
            http_codes::NOT_ACCEPTABLE,
            "Accept must allow application/graphql-response+json or application/json",
        );
    };
    let refuse = |status: StatusCode, code: &str, message: &str| {
        state.metrics.record_errors(&[code]);
        refusal(status, media, code, message)
    };
    let Some(viewer) = viewer else {
        return authn::refuse(&parts.headers, &auth::AuthError::Missing);
    };

    // Shed load instead of queueing without bound; the permit lives until the response is
    // built, body reading included.
    let Ok(_permit) = state.limiter.clone().try_acquire_owned() else {
        state.metrics.record_shed();
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            http_codes::OVERLOADED,
            "the gateway is at its concurrency limit; retry shortly",
        );
        if let Ok(value) = HeaderValue::from_str(&limits.retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    };

    let batch = if parts.method == Method::GET {
        match get_request(&parts.uri) {
            Ok(request) => BatchRequest::Single(request),
            Err(error) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    codes::BAD_REQUEST,
                    &format!("not a GraphQL request: {error}"),
                );
            }
        }
    } else {
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.essence_str() == "application/json");
        if !is_json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                http_codes::UNSUPPORTED_MEDIA_TYPE,
                "POST /graphql takes Content-Type: application/json",
            );
        }
        let bytes = match tokio::time::timeout_at(
            deadline,
            axum::body::to_bytes(body, limits.max_body_bytes),
        )
        .await
        {
            Err(_) => {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    http_codes::TIMEOUT,
                    "the request body did not arrive in time",
                );
            }
            Ok(Err(_)) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::TOO_LARGE,
                    &format!(
                        "the request body is larger than {} bytes",
                        limits.max_body_bytes
                    ),
                );
            }
            Ok(Ok(bytes)) => bytes,
        };
        match serde_json::from_slice::<BatchRequest>(&bytes) {
            Ok(batch) => batch,
            Err(error) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    codes::BAD_REQUEST,
                    &format!(
                        "the body is not a GraphQL request (a JSON object with `query`, or an \
                         array of them): {error}"
                    ),
                );
            }
        }
    };

    let (requests, is_batch) = match batch {
        BatchRequest::Single(request) => (vec![request], false),
        BatchRequest::Batch(requests) => (requests, true),
    };
    if is_batch && requests.len() > limits.max_batch_size {
        return refuse(
            StatusCode::BAD_REQUEST,
            http_codes::BATCH_TOO_LARGE,
            &format!(
                "a batch may hold at most {} operations, this one has {}",
                limits.max_batch_size,
                requests.len()
            ),
        );
    }
    if requests
        .iter()
        .any(|r| r.query.is_empty() && !r.extensions.contains_key("persistedQuery"))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "not a GraphQL request: `query` (or extensions.persistedQuery) is missing",
        );
    }

    let request_id = request_id(&parts.headers);
    let is_get = parts.method == Method::GET;
    let context = context_for(&viewer);
    let runs = requests.into_iter().map(|request| {
        execute(
            state,
            request,
            context.clone(),
            is_get,
            &request_id,
            started,
        )
    });
    let outcomes = match tokio::time::timeout_at(deadline, futures::future::join_all(runs)).await {
        Ok(outcomes) => outcomes,
        Err(_) => {
            tracing::warn!(
                timeout_ms = limits.request_timeout_ms,
                "request timed out while executing"
            );
            return refuse(
                StatusCode::GATEWAY_TIMEOUT,
                http_codes::TIMEOUT,
                &format!(
                    "the request took longer than {} ms",
                    limits.request_timeout_ms
                ),
            );
        }
    };

    if is_batch {
        let bodies: Vec<Value> = outcomes.into_iter().map(|o| o.body).collect();
        return respond(StatusCode::OK, media, Value::Array(bodies));
    }
    let Some(outcome) = outcomes.into_iter().next() else {
        return refuse(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, "empty request");
    };
    if outcome.method_not_allowed {
        let mut response = respond(StatusCode::METHOD_NOT_ALLOWED, media, outcome.body);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let status = if outcome.before_execution && media == Media::GraphQLResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    respond(status, media, outcome.body)
}

/// The parameters of a GraphQL GET request, as the spec names them.
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Reads a GET request's parameters (`variables` and `extensions` are JSON-encoded).
fn get_request(uri: &axum::http::Uri) -> Result<async_graphql::Request, String> {
    let axum::extract::Query(params) =
        axum::extract::Query::<GetParams>::try_from_uri(uri).map_err(|e| e.body_text())?;
    let json = |name: &str, text: Option<String>| -> Result<Value, String> {
        match text {
            None => Ok(json!({})),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| format!("`{name}` is not JSON: {e}"))
            }
        }
    };
    let request = json!({
        "query": params.query,
        "operationName": params.operation_name,
        "variables": json("variables", params.variables)?,
        "extensions": json("extensions", params.extensions)?,
    });
    serde_json::from_value(request).map_err(|e| e.to_string())
}

fn respond(status: StatusCode, media: Media, body: Value) -> Response {
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, Body::from(bytes)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// The seam where a request's context is built from its authenticated caller.
fn context_for(viewer: &Viewer) -> RequestContext {
    RequestContext::for_viewer(viewer, Utc::now().date_naive())
}

/// One executed operation, ready to serialise.
struct Outcome {
    body: Value,
    before_execution: bool,
    method_not_allowed: bool,
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    context: RequestContext,
    is_get: bool,
    request_id: &str,
    started: Instant,
) -> Outcome {
    let facts = Arc::new(RequestFacts {
        is_get,
        operation_name: request.operation_name.clone(),
        ..RequestFacts::default()
    });
    let loaders = Loaders::new(
        state.db.clone(),
        context.scope.clone(),
        state.version.clone(),
        Some(request_id.to_owned()),
        state.metrics.clone(),
    );
    let request = request
        .data(context)
        .data(loaders)
        .data(state.db.clone())
        .data(state.metrics.clone())
        .data(facts.clone());
    let mut response = state.schema.execute(request).await;

    for error in &mut response.errors {
        ensure_code(error, request_id);
    }
    let codes: Vec<String> = response.errors.iter().filter_map(code_of).collect();
    let before_execution = !codes.is_empty()
        && codes
            .iter()
            .all(|c| codes::BEFORE_EXECUTION.contains(&c.as_str()));
    let method_not_allowed = codes.iter().any(|c| c == codes::METHOD_NOT_ALLOWED);
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let operation = facts.operation();
    state
        .metrics
        .record_graphql(operation.as_deref(), started.elapsed(), &code_refs);

    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    if before_execution {
        // The spec: a request that fails before execution has no `data` entry.
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
    }
    Outcome {
        body,
        before_execution,
        method_not_allowed,
    }
}

/// Gives an error without a code one: argument coercion errors are the caller's; anything
/// else is ours, logged in full and answered generically.
fn ensure_code(error: &mut ServerError, request_id: &str) {
    if code_of(error).is_some() {
        return;
    }
    if error.message.starts_with("Failed to parse")
        || error.message.starts_with("Invalid value for argument")
    {
        *error = ServerError {
            extensions: coded("", http_codes::BAD_USER_INPUT).extensions,
            ..error.clone()
        };
        return;
    }
    tracing::error!(
        message = %error.message,
        path = ?error.path,
        source = ?error.source,
        "internal error in a GraphQL response"
    );
    let generic = coded(
        format!("internal error; the gateway log has the details under request id {request_id}"),
        http_codes::INTERNAL,
    );
    error.message = generic.message;
    error.extensions = generic.extensions;
    error.source = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn accept_negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphQLResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Media::Json)
        );
        assert_eq!(accept("text/plain"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }
}
