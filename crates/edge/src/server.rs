//! The server both services run on: HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one
//! port, a cap on open connections, and a shutdown that ends. TLS is not served: a TLS
//! terminator in front does that.
//!
//! On the shutdown signal the listener is closed, and each connection is looked at: one that
//! is not serving a request (idle keep-alive, or a request head still arriving) is closed at
//! once (HTTP/2: with GOAWAY); one serving requests finishes them and then closes. Whatever
//! still runs when `shutdown_timeout` has passed is dropped, and `serve` returns only once it
//! is gone. A request whose body is still arriving is bounded by the body deadline, well
//! inside the default shutdown deadline. Each connection's own bounds (idle and header
//! timeouts, the write timeout) are in `connection`.
//!
//! (hyper's own graceful shutdown keeps a connection whose *first* request head is still
//! arriving until the header timeout, since hyper counts it as busy, and its header timeout
//! closes without a status; hence the busy count kept in `progress`.)

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::ServerConfig;
use crate::connection::{Phase, Settings, serve_connection};
use crate::connections::{connection_cap, open_file_limit};

/// After the shutdown deadline, how long dropped connections get to end their HTTP/2 streams
/// before their tasks are aborted outright (ending a task is immediate; this only bounds a bug).
const DROP_GRACE: Duration = Duration::from_secs(5);

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
    let settings = Arc::new(Settings::new(config));
    let (phase, watching) = watch::channel(Phase::Serving);
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
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: the cap computed above should prevent it, but if
                    // the process runs out anyway, back off instead of spinning.
                    tracing::warn!(service = name, %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = serve_connection(
            settings.clone(),
            stream,
            peer,
            router.clone(),
            watching.clone(),
        );
        connections.spawn(async move {
            connection.await;
            drop(slot);
        });
    }

    drop(listener);
    let _ = phase.send(Phase::Draining);
    let grace = config.shutdown_timeout();
    tracing::info!(
        service = name,
        open_connections = connections.len(),
        grace_ms = grace.as_millis() as u64,
        "shutting down: no new connections; idle ones closed, in-flight requests finishing"
    );
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_ok() {
        tracing::info!(service = name, "all connections closed");
    } else {
        tracing::warn!(
            service = name,
            grace_ms = grace.as_millis() as u64,
            "shutdown deadline passed: dropping the requests still in flight"
        );
        // Each connection drops what it serves and waits for its HTTP/2 streams to end.
        let _ = phase.send(Phase::Dropping);
        let dropped = async { while connections.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(DROP_GRACE, dropped).await;
    }
    // Ends whatever is left, so nothing outlives `serve`.
    connections.shutdown().await;
    Ok(())
}
