//! `/graphql`: the license graph served by the GraphQL-over-HTTP runtime (`graphql_http`, which
//! owns the spec's semantics and the request limits), for the caller `authn` found. A browser
//! asking for HTML by GET gets the explorer instead.

use std::sync::Arc;

use async_graphql::EmptySubscription;
use auth::{AuthError, Viewer};
use axum::Extension;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use license_graph::Graph;

use crate::pages::ExplorerConfig;
use crate::{authn, caller, pages};

/// The runtime serving the license graph.
pub(crate) type GatewayRuntime =
    graphql_http::Runtime<license_graph::Query, license_graph::Mutation, EmptySubscription>;

/// What `/graphql` needs: the runtime, the graph that gives each operation its data, and the
/// explorer's settings.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub runtime: Arc<GatewayRuntime>,
    pub graph: Graph,
    pub explorer: Arc<ExplorerConfig>,
}

/// `POST /graphql`. The caller's [`Viewer`] was put in by `authn::require`.
pub(crate) async fn post(
    State(endpoint): State<Endpoint>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    endpoint.serve(viewer.map(|Extension(v)| v), request).await
}

/// `GET /graphql`: a browser (asking for HTML) gets the explorer; anything else is a GraphQL
/// GET request (queries only).
pub(crate) async fn get(
    State(endpoint): State<Endpoint>,
    viewer: Option<Extension<Viewer>>,
    request: Request,
) -> Response {
    if authn::wants_html(&request) {
        // The same URL answers GraphQL to other clients.
        let mut page = pages::explorer(&endpoint.explorer).into_response();
        page.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept"));
        return page;
    }
    endpoint.serve(viewer.map(|Extension(v)| v), request).await
}

/// The cache hints of answers `/graphql` gives before the runtime (the 401 of `authn`): as
/// private as the runtime's own. Pages and the runtime's answers say so themselves.
pub(crate) async fn private_unless_said(
    State(endpoint): State<Endpoint>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    endpoint.runtime.private_hints(response.headers_mut());
    response
}

impl Endpoint {
    async fn serve(&self, viewer: Option<Viewer>, request: Request) -> Response {
        let graph = self.graph.clone();
        self.runtime
            .serve(
                request,
                Box::new(move |parts: &Parts| {
                    let Some(viewer) = viewer else {
                        return Err(authn::refusal(&AuthError::Missing));
                    };
                    let view = caller::view(&viewer);
                    let caller = caller::caller(viewer, parts);
                    Ok(Box::new(move |request: async_graphql::Request| {
                        request.data(graph.request(view.clone(), caller.clone()))
                    }))
                }),
            )
            .await
    }
}
