//! Running the GraphQL requests of one HTTP request against the schema: each gets its own
//! loaders and request facts, all share the caller's context and the request's deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::ServerError;
use auth::Viewer;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use chrono::Utc;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::time::Instant as Deadline;

use super::{Refused, http_codes};
use crate::graphql::RequestContext;
use crate::graphql::context::Caller;
use crate::graphql::loaders::Loaders;
use crate::limits::{RequestFacts, code_of, coded, codes};
use crate::state::AppState;

/// One executed operation, serialised.
pub(super) struct Outcome {
    /// The JSON body, written straight from async-graphql's ordered maps: a detour through
    /// `serde_json::Value` (a sorted map without serde_json's `preserve_order`) would put the
    /// fields in alphabetical order instead of the selection set's.
    pub body: Box<RawValue>,
    /// Every error was raised before execution (parse, validation, limits, persisted
    /// queries): `data` is left out, and `application/graphql-response+json` gets 400.
    pub before_execution: bool,
    /// A mutation came by GET: 405 with `Allow: POST`.
    pub method_not_allowed: bool,
}

/// Executes `requests` side by side, one [`Outcome`] each in order; refused with 504 when
/// they are not all done by `deadline`.
pub(super) async fn execute_all(
    state: &AppState,
    requests: Vec<async_graphql::Request>,
    viewer: &Viewer,
    parts: &Parts,
    started: Instant,
    deadline: Deadline,
) -> Result<Vec<Outcome>, Refused> {
    let request_id = request_id(&parts.headers);
    let is_get = parts.method == Method::GET;
    let context = context_for(viewer);
    let caller = Caller {
        viewer: viewer.clone(),
        request_id: request_id.clone(),
        idempotency_key: parts
            .headers
            .get(IDEMPOTENCY_KEY)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
    };
    let runs = requests.into_iter().map(|request| {
        execute(
            state,
            request,
            context.clone(),
            caller.clone(),
            is_get,
            &request_id,
            started,
        )
    });
    let limits = &state.config.limits;
    match tokio::time::timeout_at(deadline, futures::future::join_all(runs)).await {
        Ok(outcomes) => Ok(outcomes),
        Err(_) => {
            tracing::warn!(
                timeout_ms = limits.request_timeout_ms,
                "request timed out while executing"
            );
            Err(Refused::new(
                StatusCode::GATEWAY_TIMEOUT,
                http_codes::TIMEOUT,
                format!(
                    "the request took longer than {} ms",
                    limits.request_timeout_ms
                ),
            ))
        }
    }
}

fn request_id(headers: &HeaderMap) -> String {
    edge::request_id(headers).to_owned()
}

/// The seam where a request's context is built from its authenticated caller.
fn context_for(viewer: &Viewer) -> RequestContext {
    RequestContext::for_viewer(viewer, Utc::now().date_naive())
}

/// The header a client sends to make a retried mutation return its first result.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    context: RequestContext,
    caller: Caller,
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
        .data(caller)
        .data(loaders)
        .data(state.db.clone())
        .data(state.metrics.clone())
        .data(facts.clone());
    let mut response = state.schema.execute(request).await;

    for error in &mut response.errors {
        ensure_code(error, request_id);
    }
    let codes: Vec<String> = response.errors.iter().filter_map(code_of).collect();
    // A request that never started executing (parse, validation, limits, variables,
    // persisted queries) is a request error.
    let before_execution = !response.errors.is_empty() && !facts.was_executed();
    let method_not_allowed = codes.iter().any(|c| c == codes::METHOD_NOT_ALLOWED);
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let operation = facts.operation();
    state
        .metrics
        .record_graphql(operation.as_deref(), started.elapsed(), &code_refs);

    let body = serialize(&response, before_execution);
    Outcome {
        body,
        before_execution,
        method_not_allowed,
    }
}

/// Gives an error without a code one: argument coercion errors are the caller's; anything
/// else is ours, logged in full and answered generically.
fn ensure_code(error: &mut ServerError, request_id: &str) {
    if let Some(code) = code_of(error) {
        // Coded internal errors (a database failure) name the request id too, so an operator
        // finds the logged cause from what the caller reports.
        if code == http_codes::INTERNAL && !error.message.contains(request_id) {
            error.message = format!("{} (request id {request_id})", error.message);
        }
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

/// The response body as the spec shapes it: `data` (left out when the request failed before
/// execution), then `errors` and `extensions` when there are any.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

fn serialize(response: &async_graphql::Response, before_execution: bool) -> Box<RawValue> {
    let body = Body {
        data: (!before_execution).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    serde_json::value::to_raw_value(&body).unwrap_or_else(|error| {
        // Not expected (every key is a string); answered as `null` rather than a panic.
        tracing::error!(%error, "a GraphQL response could not be serialised");
        RawValue::NULL.to_owned()
    })
}
