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
pub mod verify;

use std::{future::Future, sync::Arc};

use axum::{
    Router, middleware,
    routing::{get, post},
};
use sea_orm::DatabaseConnection;

pub use config::Config;
pub use database::StatementCounter;
pub use db::{connect, migrate};
pub use error::Error;
pub use graphql::schema_sdl;
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
    /// The license database, read to verify pings (`license_database_url`); `None` without it.
    pub licenses: Option<verify::LicenseDirectory>,
    /// The subgraph served over HTTP (`graphql_http`).
    graphql: Arc<graphql::VersionRuntime>,
}

impl AppState {
    /// State over a connection opened (and migrated) by the caller; fails when
    /// `[version_service.graphql]` is not usable.
    pub fn new(
        db: DatabaseConnection,
        statements: StatementCounter,
        config: Config,
    ) -> Result<Self, graphql_http::StartError> {
        let metrics = Arc::new(Metrics::default());
        let graphql = graphql::runtime(config.graphql.clone(), metrics.clone())?;
        Ok(Self {
            db,
            statements,
            metrics,
            limits: Arc::new(IngestLimits::new(&config)),
            rules: ingest::Rules::from(&config.ingest),
            licenses: None,
            config: Arc::new(config),
            graphql: Arc::new(graphql),
        })
    }

    /// Connects to `config.database_url`, migrates it, and builds the state over it, with the
    /// license database of `license_database_url` (connected lazily) when set.
    pub async fn open(config: Config) -> Result<Self, Error> {
        let (db, statements) = connect(&config.database_url).await?;
        migrate(&db).await?;
        let licenses = match config.license_database_url.as_deref() {
            Some(url) if !url.trim().is_empty() => Some(
                verify::LicenseDirectory::connect(
                    url,
                    std::time::Duration::from_millis(config.verification.lookup_timeout_ms.max(1)),
                )
                .await?,
            ),
            _ => None,
        };
        let mut state = Self::new(db, statements, config)?;
        state.licenses = licenses;
        Ok(state)
    }

    /// Which installation may hold a hostname, from `[version_service.verification]`.
    pub fn holder_rule(&self) -> store::HolderRule {
        store::HolderRule {
            silence: chrono::Duration::days(i64::from(
                self.config.verification.holder_silence_days,
            )),
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
    let router = Router::new()
        // The handler reads the body itself, within `max_payload_bytes` and the ingestion
        // limits' body memory (`usage_data::read_body`).
        .route("/usage_data", post(usage_data::usage_data))
        .merge(graphql_routes)
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .fallback(error_catalogue::Refusal::not_found)
        .method_not_allowed_fallback(error_catalogue::Refusal::method_not_allowed)
        // Reads the id that the edge layers wrapped around the router assigned, for error
        // bodies.
        .layer(middleware::from_fn(request_id::scope));
    let server = state.config.server.clone();
    // The shared edge layers: request ids (`x-request-id`, also as the `edge::RequestId`
    // extension), the `request` span, compression, the body deadline (408), bodies in gzip or
    // brotli, and the panic guard.
    edge::layers(router.with_state(state), &server)
}

/// Serves [`app`] on `listener` until `shutdown` completes, on the shared HTTP edge
/// (`edge::serve`: header and body timeouts, connection cap, a shutdown that ends within
/// `server.shutdown_timeout_ms`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = state.config.server.clone();
    server
        .validate("version_service.server")
        .map_err(|message| std::io::Error::new(std::io::ErrorKind::InvalidInput, message))?;
    // The sweep runs beside the server while it serves, and only with a license database.
    let sweep = state
        .licenses
        .is_some()
        .then(|| tokio::spawn(verify::sweep_until(state.clone())));
    let served = edge::serve(listener, app(state), &server, "version-service", shutdown).await;
    if let Some(sweep) = sweep {
        // Dropping its transaction, if one is open, rolls it back.
        sweep.abort();
    }
    served
}

/// A version service serving on a task of its own ([`spawn`]): where it listens, and how to
/// stop it.
pub struct Running {
    /// The address it listens on.
    pub address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Serves `state` on `listener` on a task of its own, until [`Running::stop`] (tests and
/// the demo run it beside other servers in one process).
pub fn spawn(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<Running> {
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        address,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Running {
    /// Stops serving (in-flight requests finish within the shutdown deadline), waits until
    /// the port is closed, and says how serving ended (`Ok` when it was stopped before).
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .unwrap_or_else(|error| Err(std::io::Error::other(error))),
            None => Ok(()),
        }
    }
}
