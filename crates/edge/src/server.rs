//! The HTTP/1.1 server both services run on: hyper's connection builder with a header-read
//! timeout, a cap on open connections, and a shutdown that ends.
//!
//! On the shutdown signal the listener is closed and every connection is told to finish:
//! idle keep-alive connections and connections whose request head is still arriving close at
//! once (hyper counts a half-read head as idle), requests already being served finish, and
//! whatever still runs when `shutdown_timeout` has passed is dropped. A request whose body is
//! still arriving is bounded by the body deadline, well inside the default shutdown deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::ServerConfig;
use crate::connections::{connection_cap, open_file_limit};

/// Serves `router` on `listener` until `shutdown` completes, then shuts down as described in
/// the module docs. `name` says which service it is in the logs.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    name: &'static str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let file_limit = open_file_limit();
    let cap = connection_cap(config.max_connections, file_limit);
    if cap < config.max_connections {
        tracing::warn!(
            service = name,
            configured = config.max_connections,
            open_file_limit = file_limit,
            max_connections = cap,
            "max_connections lowered below the open-file limit; raise `ulimit -n` to allow more"
        );
    } else {
        tracing::info!(service = name, max_connections = cap, "connection cap");
    }
    let slots = Arc::new(Semaphore::new(cap));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout())
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut at_cap = false;
    tokio::pin!(shutdown);

    loop {
        // Reap finished connection tasks so the set does not grow with the server's age.
        while connections.try_join_next().is_some() {}
        if slots.available_permits() == 0 && !at_cap {
            at_cap = true;
            tracing::warn!(
                service = name,
                max_connections = cap,
                "connection cap reached: new clients wait in the listen backlog until a \
                 connection closes"
            );
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        if at_cap {
            at_cap = false;
            tracing::info!(service = name, "below the connection cap again");
        }
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: the limit computed above should prevent it, but
                    // if the process runs out anyway, back off instead of spinning.
                    tracing::warn!(service = name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            if let Err(error) = connection.await {
                // A header-read timeout, a reset or a malformed request: the client's doing.
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(slot);
        });
    }

    drop(listener);
    let grace = config.shutdown_timeout();
    tracing::info!(
        service = name,
        open_connections = connections.len(),
        grace_ms = grace.as_millis() as u64,
        "shutting down: no new connections; idle ones closed, in-flight requests finishing"
    );
    tokio::select! {
        () = graceful.shutdown() => {
            tracing::info!(service = name, "all connections closed");
        }
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                service = name,
                grace_ms = grace.as_millis() as u64,
                "shutdown deadline passed: dropping the requests still in flight"
            );
        }
    }
    // Ends whatever is left (after the deadline), so nothing outlives `serve`.
    connections.shutdown().await;
    Ok(())
}
