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
use error_catalogue::{Code, Refusal};
use serde::Serialize;
use tokio::time::Instant as Deadline;

use crate::graphql::RequestContext;
use crate::graphql::context::Caller;
use crate::graphql::errors::{code_of, coded};
use crate::graphql::loaders::Loaders;
use crate::limits::RequestFacts;
use crate::state::AppState;

/// One executed operation.
pub(super) struct Outcome {
    /// The answer, written as async-graphql's ordered maps when serialised: a detour through
    /// `serde_json::Value` (a sorted map without serde_json's `preserve_order`) would put the
    /// fields in alphabetical order instead of the selection set's.
    pub body: GraphqlBody,
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
) -> Result<Vec<Outcome>, Refusal> {
    let request_id = request_id(&parts.headers);
    let is_get = parts.method == Method::GET;
    let context = context_for(viewer);
    let caller = Caller {
        viewer: viewer.clone(),
        request_id: request_id.clone(),
        caller_request_id: parts
            .extensions
            .get::<edge::CallerRequestId>()
            .map(|edge::CallerRequestId(id)| id.clone()),
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
            Err(Refusal::new(
                StatusCode::GATEWAY_TIMEOUT,
                Code::RequestTimeout,
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
    started: Instant,
) -> Outcome {
    let request_id = caller.request_id.clone();
    let facts = Arc::new(RequestFacts {
        is_get,
        operation_name: request.operation_name.clone(),
        ..RequestFacts::default()
    });
    let loaders = Loaders::new(
        state.db.clone(),
        context.scope.clone(),
        state.version.clone(),
        Some(request_id.clone()),
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
        ensure_code(error, &request_id);
    }
    let codes: Vec<Code> = response.errors.iter().filter_map(code_of).collect();
    // A request that never started executing (parse, validation, limits, variables,
    // persisted queries) is a request error.
    let before_execution = !response.errors.is_empty() && !facts.was_executed();
    let method_not_allowed = codes.contains(&Code::MethodNotAllowed);
    let operation = facts.operation();
    state
        .metrics
        .record_graphql(operation.as_deref(), started.elapsed(), &codes);

    Outcome {
        body: GraphqlBody {
            response,
            before_execution,
        },
        before_execution,
        method_not_allowed,
    }
}

/// An error without a code is ours (every error raised for the caller's request carries its
/// code where it is raised): logged in full and answered generically, naming the request id.
/// A coded internal error names the request id too, so an operator finds the logged cause
/// from what the caller reports.
fn ensure_code(error: &mut ServerError, request_id: &str) {
    if let Some(code) = code_of(error) {
        if code == Code::InternalServerError && !error.message.contains(request_id) {
            error.message = format!("{} (request id {request_id})", error.message);
        }
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
        Code::InternalServerError,
    );
    error.message = generic.message;
    error.extensions = generic.extensions;
    error.source = None;
}

/// A GraphQL response as the spec shapes it: `data` (left out when the request failed before
/// execution), then `errors` and `extensions` when there are any.
pub(super) struct GraphqlBody {
    pub response: async_graphql::Response,
    pub before_execution: bool,
}

impl GraphqlBody {
    /// An answer with `data: null` and one error, `code`.
    pub fn failed(message: impl Into<String>, code: Code) -> Self {
        Self {
            response: async_graphql::Response::from_errors(vec![coded(message, code)]),
            before_execution: false,
        }
    }
}

impl Serialize for GraphqlBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a async_graphql::Value>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            errors: &'a [ServerError],
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            extensions: &'a BTreeMap<String, async_graphql::Value>,
        }
        Body {
            data: (!self.before_execution).then_some(&self.response.data),
            errors: &self.response.errors,
            extensions: &self.response.extensions,
        }
        .serialize(serializer)
    }
}
