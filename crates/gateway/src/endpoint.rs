//! `/graphql`: GraphQL over HTTP. Builds each request's context and loaders and runs it.

use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use auth::Viewer;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::graphql::RequestContext;
use crate::graphql::loaders::Loaders;
use crate::{authn, pages};
use crate::state::AppState;

async fn execute(
    state: &AppState,
    request: GraphQLRequest,
    context: RequestContext,
) -> GraphQLResponse {
    let loaders = Loaders::new(state.db.clone(), context.scope.clone());
    let request = request
        .into_inner()
        .data(context)
        .data(loaders)
        .data(state.db.clone());
    state.schema.execute(request).await.into()
}

/// `POST /graphql`. The caller's [`Viewer`] was put in by `authn::require`.
pub async fn post(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let context = RequestContext::for_viewer(&viewer, Utc::now().date_naive());
    execute(&state, request, context).await
}

/// `GET /graphql`: a browser (asking for HTML) gets the explorer; anything else is a GraphQL
/// GET request.
pub async fn get(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return pages::explorer().into_response();
    }
    let Some(Extension(viewer)) = viewer else {
        return authn::refuse(&headers, &auth::AuthError::Missing);
    };
    let context = RequestContext::for_viewer(&viewer, Utc::now().date_naive());
    match request {
        Ok(request) => execute(&state, request, context).await.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}
