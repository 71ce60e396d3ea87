//! The licensedot gateway: one GraphQL endpoint over the license database and the version
//! service. `app(state)` is the router; `serve` runs it until a shutdown signal.

pub mod authn;
pub mod config;
pub mod endpoint;
pub mod graphql;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod persisted;
pub mod routes;
pub mod state;
pub mod upstream;

use std::future::{Future, IntoFuture};

pub use config::Config;
pub use routes::app;
pub use state::{AppState, StartError};

/// Serves the gateway on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish for at most `limits.shutdown_timeout_ms`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = std::time::Duration::from_millis(state.config.limits.shutdown_timeout_ms);
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = signalled.send(());
    });
    let deadline = async move {
        if on_signal.await.is_err() {
            // The server ended before any signal: nothing to time.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "shutdown deadline passed: dropping the requests still in flight"
            );
            Ok(())
        }
    }
}
