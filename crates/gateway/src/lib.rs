//! The licensedot gateway: one GraphQL endpoint over the license database and the version
//! service. `app(state)` is the router; `serve` runs it until a shutdown signal.

pub mod authn;
pub mod client_address;
pub mod config;
pub mod endpoint;
pub mod export;
pub mod graphql;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod persisted;
pub mod routes;
pub mod sso;
pub mod state;
pub mod upstream;

use std::future::Future;

pub use config::Config;
pub use routes::app;
pub use state::{AppState, StartError};

/// Serves the gateway on `listener` until `shutdown` completes, on the shared HTTP edge
/// (`edge::serve`: header and body timeouts, connection cap, a shutdown that ends within
/// `limits.shutdown_timeout_ms`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = state.config.limits.server();
    edge::serve(listener, app(state), &server, "gateway", shutdown).await
}
