//! The licensedot gateway, the web shell around the license graph: configuration and start,
//! the routes, who calls (`authn`, `sso`), the pages, the CSV exports, operations and metrics,
//! and the webhooks' worker and scheduler (the `webhooks` crate), run beside the server.
//! GraphQL over HTTP is `graphql_http`'s job, the graph itself `license_graph`'s.
//!
//! `app(state)` is the router; `serve` runs it until a shutdown signal.

mod authn;
mod caller;
mod client_address;
pub mod config;
mod endpoint;
mod export;
mod metrics;
mod ops;
mod pages;
mod routes;
pub mod sso;
mod state;

use std::future::Future;

pub use config::{Config, ConfigError, LimitsConfig};
pub use ops::{CorsConfig, CorsError};
pub use pages::ExplorerConfig;
pub use routes::app;
pub use state::{AppState, StartError};

/// Serves the gateway on `listener` until `shutdown` completes, on the shared HTTP edge
/// (`edge::serve`: header and body timeouts, connection cap, a shutdown that ends within
/// `limits.shutdown_timeout_ms`). With webhooks on, their worker and scheduler run alongside
/// and stop after the server (attempts in flight finish within their timeout). Dropping this
/// future aborts them too: what was in flight is delivered again once its lease runs out.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = state.config.limits.server.clone();
    let webhooks = state.webhooks.as_ref().map(webhooks::Webhooks::start);
    let served = edge::serve(listener, app(state), &server, "gateway", shutdown).await;
    if let Some(webhooks) = webhooks {
        webhooks.stop().await;
    }
    served
}
