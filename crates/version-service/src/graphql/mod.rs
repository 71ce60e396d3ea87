//! The Federation v2 subgraph: `Hostname` and `License` entities extended with usage data.
//! It knows nothing of HTTP; the handler in `routes` puts a fresh [`Loaders`] in each request.

mod entity_paths;
mod loaders;
mod prime;
mod types;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, SDLExportOptions, Schema, SchemaBuilder,
};

pub use loaders::Loaders;
pub use types::{Hostname, Installation, InstallationUuid, License, ReportingHost, UsagePing};

use crate::ingest::normalize_hostname;
use types::{load_error, loaders};

/// The subgraph served over HTTP by the GraphQL-over-HTTP runtime.
pub type VersionRuntime = graphql_http::Runtime<Query, EmptyMutation, EmptySubscription>;

/// Root of the subgraph: only entity resolvers (reached through `_entities`).
pub struct Query;

#[Object]
impl Query {
    /// A host by name; null when it never sent a usage ping.
    #[graphql(entity)]
    async fn find_hostname_by_name(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Option<Hostname>> {
        let loaders = loaders(ctx)?;
        let primed = prime::prime(ctx, loaders).await?;
        let key = normalize_hostname(&name);
        let host = match primed.get(&key) {
            Some(host) => host.clone(),
            // Only reached when the name was not among the representations read up front.
            None => loaders.hosts.load_one(key).await.map_err(load_error)?,
        };
        Ok(host.map(|host| Hostname { name, host }))
    }

    /// An installation uuid, with the hosts whose usage pings carried it.
    #[graphql(entity)]
    async fn find_installation_uuid_by_uuid(&self, uuid: String) -> InstallationUuid {
        InstallationUuid { uuid }
    }

    /// A license by id; its md5 and sha256 come from the license subgraph.
    #[graphql(entity)]
    async fn find_license_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
        license_md5: Option<String>,
        license_sha256: Option<String>,
    ) -> async_graphql::Result<License> {
        prime::prime(ctx, loaders(ctx)?).await?;
        Ok(License {
            id,
            // A representation may leave them out: then the license matches by id only.
            license_md5: license_md5.unwrap_or_default(),
            license_sha256: license_sha256.unwrap_or_default(),
        })
    }
}

/// The subgraph's schema builder: only entity resolvers, Federation v2, errors below
/// `_entities` with their entity's index (`entity_paths`).
fn schema_builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .extension(entity_paths::EntityPaths)
}

/// The subgraph within `limits` (depth, body size, ...), reporting to `observer`; per-request
/// [`Loaders`] go into each request's data (`routes::graphql`).
pub fn runtime(
    limits: graphql_http::LimitsConfig,
    observer: std::sync::Arc<dyn graphql_http::Observer>,
) -> Result<VersionRuntime, graphql_http::StartError> {
    graphql_http::Runtime::new(
        schema_builder(),
        limits,
        "version_service.graphql",
        "version service",
        observer,
    )
}

/// The federation SDL, as `_service { sdl }` returns it.
pub fn schema_sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
