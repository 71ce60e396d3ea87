//! Authentication of `/graphql`: an axum middleware that turns the `Authorization` header (or,
//! without one, the browser's session cookie: `sso`) into an [`auth::Viewer`] in the request's
//! extensions, or answers 401/403/503 itself with a
//! `WWW-Authenticate` challenge and a GraphQL-shaped error body.
//!
//! Open without a token: the explorer page (`GET /graphql` asking for HTML) and every other
//! route (`/`, `/health`, `/ready`, `/metrics`), which this layer is not applied to.
//!
//! Introspection needs a valid token unless `auth.introspection_requires_token = false`. With
//! that, a request without a token that asks for nothing but introspection is let through as
//! [`schema_reader`], a viewer that sees no customer at all (so a mistaken classification
//! cannot reveal data). With `auth.required = false`, the anonymous viewer may read (masked)
//! data but, unless allowed, not introspect.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use auth::{AuthError, Role, Viewer};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use error_catalogue::{Media, Refusal, negotiate};
use serde_json::Value;

use crate::sso::Sso;

/// The largest request body read to classify a request without a token as introspection.
/// Schema-fetching queries are a few kilobytes; anything larger is simply refused.
const MAX_ANONYMOUS_BODY: usize = 64 * 1024;

/// The subject of [`schema_reader`].
pub(crate) const SCHEMA_READER_SUBJECT: &str = "anonymous-schema-reader";

/// The viewer of an introspection-only request without a token: scoped to no customer.
pub(crate) fn schema_reader() -> Viewer {
    Viewer {
        subject: SCHEMA_READER_SUBJECT.to_owned(),
        email: None,
        role: Role::Customer,
        roles: vec![Role::Customer],
        customer_ids: Vec::new(),
    }
}

/// Whether the caller is a browser asking for the explorer page (served without a token).
pub(crate) fn wants_html(request: &Request) -> bool {
    request.method() == Method::GET && error_catalogue::accepts_html(request.headers())
}

/// Who may call, and how they prove it: the bearer-token authenticator and the browser
/// sessions, shared by `/graphql` (through [`require`]) and the other routes that read data
/// (the exports, through [`Callers::viewer`]).
#[derive(Clone)]
pub(crate) struct Callers {
    authenticator: auth::Authenticator,
    sso: Sso,
    /// `auth.introspection_requires_token = false`: schema-only requests need no token.
    introspection_public: bool,
}

impl Callers {
    pub fn new(authenticator: auth::Authenticator, sso: Sso, introspection_public: bool) -> Self {
        Self {
            authenticator,
            sso,
            introspection_public,
        }
    }

    /// The viewer of a request to a route other than `/graphql` (the CSV exports): the bearer
    /// token, else the session cookie (with its same-site check), else what the authenticator
    /// makes of no credentials (with `auth.required = false`, the anonymous viewer who sees
    /// personal data masked). The same rules as `/graphql`, so a download shows what the page
    /// does.
    pub async fn viewer(&self, headers: &HeaderMap) -> Result<Viewer, AuthError> {
        let header_value = authorization(headers)?;
        if header_value.is_none()
            && let Some(viewer) = self.sso.authenticate(headers).await?
        {
            return Ok(viewer);
        }
        self.authenticator
            .authenticate(header_value.as_deref())
            .await
    }
}

/// The middleware: `axum::middleware::from_fn_with_state(state, authn::require)`.
pub(crate) async fn require(
    State(callers): State<Callers>,
    mut request: Request,
    next: Next,
) -> Response {
    // Only GraphQL requests are checked: the router answers other methods (405), and the
    // explorer page is public.
    if !matches!(*request.method(), Method::GET | Method::POST) || wants_html(&request) {
        return next.run(request).await;
    }
    let header_value = match authorization(request.headers()) {
        Ok(value) => value,
        Err(error) => return refuse(request.headers(), &error),
    };
    // A browser signed in with a session cookie (see `sso`): the same viewer as a token.
    if header_value.is_none() {
        match callers.sso.authenticate(request.headers()).await {
            Ok(Some(viewer)) => {
                request.extensions_mut().insert(viewer);
                return next.run(request).await;
            }
            Ok(None) => {}
            Err(error) => return refuse(request.headers(), &error),
        }
    }
    let introspection_public = callers.introspection_public;
    match callers
        .authenticator
        .authenticate(header_value.as_deref())
        .await
    {
        Ok(viewer) => {
            if header_value.is_none() && !introspection_public {
                // `required = false`: an anonymous caller, who may read masked data but not
                // the schema.
                let (rebuilt, query) = graphql_documents(request).await;
                request = rebuilt;
                if query.is_none_or(|docs| docs.iter().any(uses_introspection)) {
                    return refuse(request.headers(), &AuthError::Missing);
                }
            }
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        Err(AuthError::Missing) if introspection_public => {
            let (rebuilt, query) = graphql_documents(request).await;
            request = rebuilt;
            if query.is_some_and(|docs| !docs.is_empty() && docs.iter().all(introspection_only)) {
                request.extensions_mut().insert(schema_reader());
                next.run(request).await
            } else {
                refuse(request.headers(), &AuthError::Missing)
            }
        }
        Err(error) => refuse(request.headers(), &error),
    }
}

/// The `Authorization` header's value, when there is one.
fn authorization(headers: &HeaderMap) -> Result<Option<String>, AuthError> {
    headers
        .get(header::AUTHORIZATION)
        .map(|value| {
            value
                .to_str()
                .map(str::to_owned)
                .map_err(|_| AuthError::Malformed("the header is not ASCII"))
        })
        .transpose()
}

/// The refusal: the error's status, its RFC 6750 challenge and a GraphQL-shaped body whose
/// `extensions.code` is the error's code (e.g. `TOKEN_EXPIRED`), in the media type the
/// caller negotiated (`application/json` when it accepts neither).
pub(crate) fn refuse(request_headers: &HeaderMap, error: &AuthError) -> Response {
    refusal(error)
        .in_media(negotiate(request_headers).unwrap_or(Media::Json))
        .into_response()
}

/// [`refuse`]'s refusal, for a caller that negotiates the media type itself.
pub(crate) fn refusal(error: &AuthError) -> Refusal {
    let code = error.code();
    tracing::debug!(%code, "request refused");
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let challenge = HeaderValue::from_str(&error.www_authenticate())
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"licensedot\""));
    Refusal::new(status, code, error.to_string()).with_header(header::WWW_AUTHENTICATE, challenge)
}

/// The parsed GraphQL documents of a request (one per operation of a batch), and the request
/// rebuilt for the handler. `None` when they cannot be read: the caller then refuses.
async fn graphql_documents(request: Request) -> (Request, Option<Vec<ExecutableDocument>>) {
    if request.method() == Method::GET {
        let queries = Query::<HashMap<String, String>>::try_from_uri(request.uri())
            .ok()
            .and_then(|Query(params)| params.get("query").map(|q| vec![q.clone()]));
        return (request, queries.and_then(parse_all));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ANONYMOUS_BODY).await else {
        return (Request::from_parts(parts, Body::empty()), None);
    };
    let is_graphql = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/graphql") && !ct.contains("json"));
    let queries = if is_graphql {
        std::str::from_utf8(&bytes).ok().map(|q| vec![q.to_owned()])
    } else {
        json_queries(&bytes)
    };
    let request = Request::from_parts(parts, Body::from(Bytes::clone(&bytes)));
    (request, queries.and_then(parse_all))
}

/// The `query` of a JSON request body, or of each request of a batch.
fn json_queries(bytes: &[u8]) -> Option<Vec<String>> {
    let one = |v: &Value| v.get("query").and_then(Value::as_str).map(str::to_owned);
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Array(batch) => batch.iter().map(one).collect(),
        single => one(&single).map(|q| vec![q]),
    }
}

fn parse_all(queries: Vec<String>) -> Option<Vec<ExecutableDocument>> {
    queries
        .iter()
        .map(|q| async_graphql::parser::parse_query(q).ok())
        .collect()
}

fn is_introspection_field(name: &str) -> bool {
    matches!(name, "__schema" | "__type")
}

/// Whether every operation of `document` selects only `__schema`, `__type` and `__typename`
/// at its root (fragments at the root are not accepted: they could hide data fields).
pub(crate) fn introspection_only(document: &ExecutableDocument) -> bool {
    let root_ok = |set: &SelectionSet| {
        !set.items.is_empty()
            && set.items.iter().all(|item| match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    is_introspection_field(name) || name == "__typename"
                }
                _ => false,
            })
    };
    match &document.operations {
        DocumentOperations::Single(op) => root_ok(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => {
            !ops.is_empty() && ops.values().all(|op| root_ok(&op.node.selection_set.node))
        }
    }
}

/// Whether `document` asks for `__schema` or `__type` anywhere, fragments included.
pub(crate) fn uses_introspection(document: &ExecutableDocument) -> bool {
    fn in_set(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                is_introspection_field(field.node.name.node.as_str())
                    || in_set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
            // Named fragments are checked below, each once.
            Selection::FragmentSpread(_) => false,
        })
    }
    let operations: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    operations.into_iter().any(in_set)
        || document
            .fragments
            .values()
            .any(|fragment| in_set(&fragment.node.selection_set.node))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn introspection_only_accepts_schema_queries_and_nothing_else() {
        assert!(introspection_only(&doc("{ __schema { types { name } } }")));
        assert!(introspection_only(&doc(
            "query A { __type(name: \"License\") { name } __typename }"
        )));
        assert!(!introspection_only(&doc(
            "{ __schema { types { name } } customers { totalCount } }"
        )));
        assert!(!introspection_only(&doc(
            "{ ...F } fragment F on Query { __typename }"
        )));
        assert!(!introspection_only(&doc(
            "query A { __schema { types { name } } } query B { license(id: 1) { id } }"
        )));
    }

    #[test]
    fn uses_introspection_looks_into_fragments() {
        assert!(uses_introspection(&doc("{ __schema { types { name } } }")));
        assert!(uses_introspection(&doc(
            "{ ... on Query { __type(name: \"X\") { name } } }"
        )));
        assert!(uses_introspection(&doc(
            "{ ...F } fragment F on Query { __schema { queryType { name } } }"
        )));
        assert!(!uses_introspection(&doc(
            "{ customers { nodes { __typename name } } }"
        )));
    }

    #[test]
    fn the_schema_reader_sees_no_customer() {
        let viewer = schema_reader();
        assert_eq!(viewer.customer_scope(), Some(&[][..]));
        assert!(!viewer.can_see_customer(1));
    }
}
