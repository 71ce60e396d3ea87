//! The gateway's GraphQL schema. It knows nothing of HTTP: the routes build a [`RequestContext`]
//! and [`loaders::Loaders`] per request and hand them to the schema as request data.

pub mod context;
pub mod errors;
pub mod loaders;
pub mod prefetch;
pub mod query;
pub mod types;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};

pub use context::RequestContext;
pub use errors::ApiError;

/// The gateway's schema type.
pub type GatewaySchema = Schema<query::Query, EmptyMutation, EmptySubscription>;

/// Builds the schema: the query roots plus Federation v2 support, so other gateways can
/// compose this graph as a subgraph.
pub fn build_schema() -> GatewaySchema {
    Schema::build(query::Query::default(), EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

/// The public SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}
