//! The pages a browser gets: the explorer at `GET /graphql`.

use async_graphql::http::GraphiQLSource;
use axum::response::Html;
use serde::Deserialize;

/// `[gateway.explorer]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplorerConfig {}

/// The GraphiQL explorer, pointed at this gateway's endpoint.
pub fn explorer() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("licensedot explorer")
            .finish(),
    )
}
