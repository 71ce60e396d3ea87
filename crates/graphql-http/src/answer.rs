//! The answer as the GraphQL-over-HTTP spec shapes it: the body (`data` left out for a
//! request error), the status per media type, batches, and the bound on its size.

use std::collections::BTreeMap;

use async_graphql::ServerError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use error_catalogue::graphql::coded;
use error_catalogue::{Code, Media, Refusal, respond};
use serde::Serialize;

/// One executed (or refused) operation.
pub(crate) struct Outcome {
    pub body: GraphqlBody,
    /// A mutation came by GET: 405 with `Allow: POST`.
    pub method_not_allowed: bool,
    /// It asked only for the schema and succeeded: the same answer for every caller.
    pub same_for_everyone: bool,
}

/// A GraphQL response as the spec shapes it: `data` (left out when the request failed before
/// execution), then `errors` and `extensions` when there are any. Written from async-graphql's
/// ordered maps: a detour through `serde_json::Value` (a sorted map without serde_json's
/// `preserve_order`) would put the fields in alphabetical order instead of the selection
/// set's.
pub(crate) struct GraphqlBody {
    pub response: async_graphql::Response,
    /// Every error was raised before execution (parse, validation, limits, persisted
    /// queries): `data` is left out, and `application/graphql-response+json` gets 400.
    pub before_execution: bool,
}

impl GraphqlBody {
    /// An answer with `data: null` and one error, `code`.
    fn failed(message: impl Into<String>, code: Code) -> Self {
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

/// A batch answers 200 with an array; a single operation answers 405 for a mutation by GET,
/// 400 under `application/graphql-response+json` when refused before execution, else 200.
pub(crate) fn shape(
    outcomes: Vec<Outcome>,
    is_batch: bool,
    media: Media,
) -> Result<Response, Refusal> {
    if is_batch {
        let bodies: Vec<_> = outcomes.into_iter().map(|o| o.body).collect();
        return Ok(respond(StatusCode::OK, media, &bodies));
    }
    let Some(outcome) = outcomes.into_iter().next() else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "empty request",
        ));
    };
    if outcome.method_not_allowed {
        let mut response = respond(StatusCode::METHOD_NOT_ALLOWED, media, &outcome.body);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    let status = if outcome.body.before_execution && media == Media::GraphQLResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(respond(status, media, &outcome.body))
}

/// A `RESPONSE_TOO_LARGE` error to answer instead of `response` when its body is larger than
/// `limit`: a client never gets an answer of unbounded size.
pub(crate) fn oversized(response: &Response, media: Media, limit: usize) -> Option<Response> {
    let size = axum::body::HttpBody::size_hint(response.body()).exact()?;
    if size <= limit as u64 {
        return None;
    }
    tracing::warn!(
        size,
        limit,
        "response larger than max_response_bytes: refused"
    );
    let body = GraphqlBody::failed(
        format!("the answer is larger than {limit} bytes; ask for fewer items or fields"),
        Code::ResponseTooLarge,
    );
    Some(respond(StatusCode::OK, media, &body))
}
