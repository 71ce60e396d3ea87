//! The gateway's GraphQL schema. It knows nothing of HTTP: the routes build a [`RequestContext`]
//! and [`loaders::Loaders`] per request and hand them to the schema as request data.

pub mod context;
pub mod errors;
pub mod field_errors;
pub mod loaders;
pub mod mutation;
pub mod prefetch;
pub mod query;
pub mod selection_order;
pub mod types;
pub mod usage;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

use crate::limits::{Guard, LimitsConfig, MAX_NESTING};
use crate::persisted::PersistedQueries;

pub use context::RequestContext;
pub use errors::ApiError;

/// The gateway's schema type.
pub type GatewaySchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema: the query roots, the audited mutation, plus Federation v2 support, so
/// other gateways can compose this graph as a subgraph.
pub fn build_schema() -> GatewaySchema {
    builder().finish()
}

fn builder() -> SchemaBuilder<query::Query, mutation::Mutation, EmptySubscription> {
    Schema::build(
        query::Query::default(),
        mutation::Mutation,
        EmptySubscription,
    )
    .enable_federation()
    // Every execution, with or without the limits: failed fields answer `null` per the
    // spec, maps keep the selection order; parse and validation errors have their codes.
    .extension(field_errors::FieldErrors)
    .extension(error_catalogue::graphql::RequestErrorCodes)
}

/// The schema as served: [`build_schema`] plus the request limits, the codes of refused
/// requests and persisted queries (see `limits` and `persisted`). Depth and complexity are
/// measured by async-graphql's validation and refused by the guard, with their codes.
pub fn build_schema_with(limits: &LimitsConfig, persisted: Arc<PersistedQueries>) -> GatewaySchema {
    builder()
        .limit_recursive_depth(MAX_NESTING)
        .extension(Guard::new(limits.clone(), persisted))
        .finish()
}

/// The public SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}
