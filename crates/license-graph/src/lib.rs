//! The license graph: License, Customer, Contact and Hostname from the license database (through
//! the `licenses` crate), with usage from the version subgraph (`upstream`), as one GraphQL
//! schema. It knows nothing of HTTP: the service serves [`schema_builder`]'s schema through
//! the GraphQL-over-HTTP runtime and gives each operation a [`GraphRequest`] from
//! [`Graph::request`].
//!
//! - `query`, `mutation` and `types`: the schema (`types::usage` the usage fields; `lookup`
//!   the lookups by what a support ticket holds);
//! - `loaders`: per-operation DataLoaders, one statement per relation whatever the list;
//! - `prefetch`: every resolver that returns a list loads what the query selects below it for
//!   the whole list at once;
//! - `usage`: the per-operation plan of usage fields, and the loader that asks the version
//!   service for them in one `_entities` call;
//! - `upstream`: the only code that talks HTTP to the version service (client, circuit
//!   breaker, the `_entities` selection);
//! - `webhooks`: the admins' webhook endpoints and deliveries (the `webhooks` crate does the
//!   work);
//! - `metrics`: what the graph reports, through a trait the service implements;
//! - `directives`, `weights` and `subgraph`: what the subgraph SDL tells composing gateways
//!   (who may read what, what it costs: the one cost model this gateway's limit reads too).

pub mod directives;
mod errors;
mod list_sizes;
mod loaders;
mod lookahead;
mod lookup;
pub mod metrics;
mod mutation;
mod prefetch;
mod query;
mod request;
pub mod subgraph;
mod types;
pub mod upstream;
mod usage;
mod webhooks;
pub mod weights;

use std::sync::Arc;

use async_graphql::{EmptySubscription, SDLExportOptions, Schema, SchemaBuilder};
use licenses::View;
use sea_orm::DatabaseConnection;

pub use metrics::GraphMetrics;
pub use mutation::Mutation;
pub use query::Query;
pub use request::{Caller, GraphRequest};
pub use subgraph::{FederationConfig, LinkError};
pub use types::status_name;
pub use upstream::{UpstreamConfig, UpstreamConfigError, VersionClient};

/// The license graph's schema type.
pub type LicenseSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema's builder: the query roots, the mutations, plus Federation v2 support, so
/// other gateways can compose this graph as a subgraph (its SDL as `federation` says). The
/// runtime that serves it adds its extensions (limits, field errors) before finishing it.
pub fn schema_builder(
    federation: &FederationConfig,
) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .extension(subgraph::SubgraphSdl {
            authorization: federation.authorization_directives,
        })
}

/// The subgraph SDL with the default `[gateway.federation]`, as `_service { sdl }` answers it
/// and `schema.graphql` holds it.
pub fn sdl() -> Result<String, LinkError> {
    let schema = schema_builder(&FederationConfig::default()).finish();
    subgraph::subgraph_sdl(
        &schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive()),
        true,
    )
}

/// What every operation of the graph shares: the license database, the version-service client
/// and the metrics. Cheap to clone.
#[derive(Clone)]
pub struct Graph {
    db: DatabaseConnection,
    version: Arc<VersionClient>,
    metrics: Arc<dyn GraphMetrics>,
    webhooks: Option<::webhooks::Webhooks>,
}

impl Graph {
    /// The graph over `db`, asking the version service `upstream` describes.
    pub fn new(
        db: DatabaseConnection,
        upstream: &UpstreamConfig,
        metrics: Arc<dyn GraphMetrics>,
    ) -> Result<Self, UpstreamConfigError> {
        let version = Arc::new(VersionClient::new(upstream, metrics.clone())?);
        Ok(Self {
            db,
            version,
            metrics,
            webhooks: None,
        })
    }

    /// The graph with webhooks on: admins manage endpoints through it, and a change wakes the
    /// delivery worker. Without them, the webhook fields answer `WEBHOOKS_DISABLED`.
    pub fn with_webhooks(mut self, webhooks: ::webhooks::Webhooks) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// The request data of one operation for a caller who sees `view`: fresh loaders.
    pub fn request(&self, view: View, caller: Caller) -> GraphRequest {
        let loaders = loaders::Loaders::new(
            self.db.clone(),
            view.scope.clone(),
            self.version.clone(),
            Some(caller.request_id.clone()),
            self.metrics.clone(),
        );
        GraphRequest {
            view,
            caller,
            loaders,
            db: self.db.clone(),
            webhooks: self.webhooks.clone(),
        }
    }

    /// The version-service client (its readiness probe and breaker state).
    pub fn version(&self) -> &VersionClient {
        &self.version
    }
}
