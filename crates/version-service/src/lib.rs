//! The usage-ping service: self-managed servers `POST /usage_data`; the gateway reads the
//! pings back through a Federation v2 subgraph at `POST /graphql`.
#![forbid(unsafe_code)]

pub mod config;
pub mod db;
mod error;
pub mod graphql;
pub mod ingest;
pub mod limits;
pub mod metrics;
pub mod request_id;
mod routes;
pub mod store;
mod usage_data;

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
};
use sea_orm::DatabaseConnection;

pub use config::Config;
pub use db::{StatementCounter, connect, migrate};
pub use error::Error;
pub use graphql::{VersionSchema, schema_sdl};
pub use limits::IngestLimits;
pub use metrics::Metrics;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The version database.
    pub db: DatabaseConnection,
    /// Statements run on `db` (installed by [`connect`]).
    pub statements: StatementCounter,
    /// The service's counters.
    pub metrics: Arc<Metrics>,
    /// The configuration it was started with.
    pub config: Arc<Config>,
    /// The concurrency cap and per-sender rate limits of `POST /usage_data`.
    pub limits: Arc<IngestLimits>,
    /// The bounds a usage ping must stay within.
    pub rules: ingest::Rules,
    schema: VersionSchema,
}

impl AppState {
    /// State over a connection opened (and migrated) by the caller.
    pub fn new(db: DatabaseConnection, statements: StatementCounter, config: Config) -> Self {
        Self {
            db,
            statements,
            metrics: Arc::new(Metrics::default()),
            limits: Arc::new(IngestLimits::new(&config)),
            rules: ingest::Rules::from(&config.ingest),
            config: Arc::new(config),
            schema: graphql::schema(),
        }
    }
}

/// The service's routes; the seam tests drive.
pub fn app(state: AppState) -> Router {
    let graphql_routes = Router::new()
        .route("/graphql", post(routes::graphql))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            routes::require_token,
        ));
    Router::new()
        .route(
            "/usage_data",
            post(usage_data::usage_data)
                .layer(DefaultBodyLimit::max(state.config.max_payload_bytes)),
        )
        .merge(graphql_routes)
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .layer(middleware::from_fn(request_id::scope))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client address feeds the per-address rate limit of `/usage_data`.
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
