//! The HTTP/1.1 server both services run on: hyper's connection builder with a header-read
//! timeout, a cap on open connections, and a shutdown that ends.
//!
//! On the shutdown signal the listener is closed, and each connection is looked at: one that
//! is not serving a request (idle keep-alive, or a request head still arriving) is closed at
//! once; one serving a request finishes it and then closes. Whatever still runs when
//! `shutdown_timeout` has passed is dropped. A request whose body is still arriving is bounded
//! by the body deadline, well inside the default shutdown deadline.
//!
//! A connection waiting for a request head longer than the header timeout is answered 408
//! and closed when the client sent part of a head, and just closed when it sent nothing.
//!
//! (hyper's own graceful shutdown keeps a connection whose *first* request head is still
//! arriving until the header timeout, since hyper counts it as busy, and its header timeout
//! closes without a status; hence the busy count kept here.)

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

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
        // hyper's own header timeout only closes, without a status; the one in
        // `serve_connection` answers 408 first. hyper's stays as a backstop.
        .header_read_timeout(config.header_read_timeout() + Duration::from_secs(1))
        .keep_alive(true);
    let (stopping, stop) = watch::channel(false);
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
            builder.clone(),
            stream,
            peer,
            router.clone(),
            config.header_read_timeout(),
            stop.clone(),
        );
        connections.spawn(async move {
            connection.await;
            drop(slot);
        });
    }

    drop(listener);
    let _ = stopping.send(true);
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
    }
    // Ends whatever is left (after the deadline), so nothing outlives `serve`.
    connections.shutdown().await;
    Ok(())
}

/// One connection, until it ends, its request head is too slow, or the shutdown (`stop`
/// turning true) closes it.
async fn serve_connection(
    builder: http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (busy, mut activity) = watch::channel(0usize);
    let busy = Arc::new(busy);
    let service = {
        let busy = busy.clone();
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let router = router.clone();
            // What `axum::serve(..).into_make_service_with_connect_info` would insert: handlers
            // (the version service's per-address rate limit) read the client's address.
            request.extensions_mut().insert(ConnectInfo(peer));
            let guard = Busy::enter(&busy);
            async move {
                let response = router
                    .oneshot(request.map(Body::new))
                    .await
                    .unwrap_or_else(|never: Infallible| match never {});
                // Busy until hyper has written (or dropped) the whole response body.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(Guarded {
                        body,
                        _guard: guard,
                    })
                }))
            }
        })
    };
    let mut connection = builder.serve_connection(TokioIo::new(stream), service);
    let ended = loop {
        // The header timeout runs while no request is being served: from the connection's
        // start, and again from the end of each response.
        let idle = *activity.borrow_and_update() == 0;
        let event = tokio::select! {
            ended = &mut connection => Event::Ended(ended),
            () = stopping(&mut stop) => Event::Stop,
            changed = activity.changed() => Event::Activity(changed.is_ok()),
            () = tokio::time::sleep(header_timeout), if idle => Event::HeadTimeout,
        };
        match event {
            Event::Ended(ended) => break ended,
            // Not serving a request: close now (dropping the connection closes it).
            Event::Stop if idle => return,
            Event::Stop => {
                // Serving one: finish it, then close.
                Pin::new(&mut connection).graceful_shutdown();
                break connection.await;
            }
            Event::Activity(true) => {}
            Event::Activity(false) => break connection.await,
            Event::HeadTimeout => {
                head_timed_out(connection.into_parts(), header_timeout).await;
                return;
            }
        }
    };
    if let Err(error) = ended {
        // A reset or a malformed request: the client's doing.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// What woke a connection's task.
enum Event {
    Ended(Result<(), hyper::Error>),
    Stop,
    /// The busy count changed (false: it can no longer change).
    Activity(bool),
    HeadTimeout,
}

/// Completes once the shutdown has begun.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // An error means the server is gone, which is a shutdown too.
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// The request head did not arrive within the header timeout. A client that sent part of one
/// gets 408 `REQUEST_TIMEOUT` and `Connection: close`; an idle keep-alive connection is just
/// closed (an unsolicited 408 would confuse a client that is about to reuse it).
async fn head_timed_out<S>(parts: http1::Parts<TokioIo<TcpStream>, S>, timeout: Duration) {
    if parts.read_buf.is_empty() {
        return;
    }
    tracing::info!(
        timeout_ms = timeout.as_millis() as u64,
        "request head too slow: answered 408 and closed"
    );
    // Written by hand (there is no request to answer through axum), with the one error body.
    let message = format!(
        "the request head did not arrive within {} ms",
        timeout.as_millis()
    );
    let body = serde_json::to_string(&error_catalogue::error_body(
        error_catalogue::Code::RequestTimeout,
        &message,
        None,
    ))
    .unwrap_or_else(|error| {
        tracing::error!(%error, "the 408 body could not be serialised");
        String::new()
    });
    let response = format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = parts.io.into_inner();
    // Bounded: a client that does not read must not hold the connection either.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Counts a request as being served while alive.
struct Busy(Arc<watch::Sender<usize>>);

impl Busy {
    fn enter(count: &Arc<watch::Sender<usize>>) -> Self {
        count.send_modify(|n| *n += 1);
        Self(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A response body that keeps its request counted as busy until hyper is done with it.
struct Guarded {
    body: Body,
    _guard: Busy,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
