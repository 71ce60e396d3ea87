//! `/graphql`: GraphQL over HTTP. Builds each request's context and loaders and runs it.

use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::graphql::RequestContext;
use crate::graphql::loaders::Loaders;
use crate::pages;
use crate::state::AppState;

async fn execute(state: &AppState, request: GraphQLRequest) -> GraphQLResponse {
    let context = RequestContext::unrestricted(Utc::now().date_naive());
    let loaders = Loaders::new(state.db.clone(), context.scope.clone());
    let request = request
        .into_inner()
        .data(context)
        .data(loaders)
        .data(state.db.clone());
    state.schema.execute(request).await.into()
}

/// `POST /graphql`.
pub async fn post(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    execute(&state, request).await
}

/// `GET /graphql`: a browser (asking for HTML) gets the explorer; anything else is a GraphQL
/// GET request.
pub async fn get(
    State(state): State<AppState>,
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
    match request {
        Ok(request) => execute(&state, request).await.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}
