//! From an HTTP request to the GraphQL requests it carries: the query string of a GET, the
//! JSON body of a POST, then the checks that need no parsing of any GraphQL document.

use async_graphql::BatchRequest;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use error_catalogue::{Code, Refusal};
use tokio::time::Instant as Deadline;

use crate::config::LimitsConfig;
use crate::get_request::get_request;

/// The GraphQL requests of one HTTP request, checked for size and for a query to run.
pub(crate) struct Operations {
    pub requests: Vec<async_graphql::Request>,
    /// The body was a JSON array: the answer is an array too, whatever its length.
    pub is_batch: bool,
}

/// Reads the GraphQL request (or batch) out of `parts` and `body`, and checks it.
pub(crate) async fn read_operations(
    parts: &Parts,
    body: Body,
    limits: &LimitsConfig,
    deadline: Deadline,
) -> Result<Operations, Refusal> {
    let batch = if parts.method == Method::GET {
        let request = get_request(&parts.uri).map_err(|error| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                format!("not a GraphQL request: {error}"),
            )
        })?;
        BatchRequest::Single(request)
    } else {
        read_post_body(parts, body, limits, deadline).await?
    };
    let operations = match batch {
        BatchRequest::Single(request) => Operations {
            requests: vec![request],
            is_batch: false,
        },
        BatchRequest::Batch(requests) => Operations {
            requests,
            is_batch: true,
        },
    };
    check(&operations, limits)?;
    Ok(operations)
}

/// Whether the body is declared `application/json` (parameters such as `charset` allowed).
/// Only JSON is taken so that no "simple" cross-site request can reach the endpoint.
fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "application/json")
}

/// A POST body: JSON only, no larger than `max_body_bytes`, arrived before the deadline.
async fn read_post_body(
    parts: &Parts,
    body: Body,
    limits: &LimitsConfig,
    deadline: Deadline,
) -> Result<BatchRequest, Refusal> {
    if !is_json_body(&parts.headers) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "POST /graphql takes Content-Type: application/json",
        ));
    }
    let bytes =
        match tokio::time::timeout_at(deadline, axum::body::to_bytes(body, limits.max_body_bytes))
            .await
        {
            Err(_) => {
                return Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    Code::RequestTimeout,
                    "the request body did not arrive in time",
                ));
            }
            // The edge's body deadline passed (it turns this into 408 and closes), or the
            // client went away.
            Ok(Err(error)) if !edge::is_length_limit(&error) => {
                return Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    Code::RequestTimeout,
                    format!("the request body could not be read: {error}"),
                ));
            }
            Ok(Err(_)) => {
                return Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::RequestTooLarge,
                    format!(
                        "the request body is larger than {} bytes",
                        limits.max_body_bytes
                    ),
                ));
            }
            Ok(Ok(bytes)) => bytes,
        };
    serde_json::from_slice::<BatchRequest>(&bytes).map_err(|error| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            format!(
                "the body is not a GraphQL request (a JSON object with `query`, or an \
                 array of them): {error}"
            ),
        )
    })
}

/// A batch within `max_batch_size`, and every request with a query (or a persisted one).
fn check(operations: &Operations, limits: &LimitsConfig) -> Result<(), Refusal> {
    let requests = &operations.requests;
    if operations.is_batch && requests.len() > limits.max_batch_size {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            Code::BatchTooLarge,
            format!(
                "a batch may hold at most {} operations, this one has {}",
                limits.max_batch_size,
                requests.len()
            ),
        ));
    }
    if requests
        .iter()
        .any(|r| r.query.is_empty() && !r.extensions.contains_key("persistedQuery"))
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "not a GraphQL request: `query` (or extensions.persistedQuery) is missing",
        ));
    }
    Ok(())
}
