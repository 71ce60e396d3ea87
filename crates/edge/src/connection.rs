//! One client connection, from its first byte to its close, in HTTP/1.1 or HTTP/2 (h2c).
//!
//! The same bounds hold in both, each in its protocol's terms:
//!
//! - **Idle and request heads**: a connection serving no request for `header_read_timeout` is
//!   closed. HTTP/1.1 answers a half-sent request head 408 first (an idle keep-alive connection
//!   is just closed); HTTP/2 sends GOAWAY, so the client knows no request was lost, and closes
//!   once the client has seen it (at most [`GOAWAY_GRACE`] later). A connection that sends
//!   nothing, or part of the HTTP/2 preface, is closed at the same bound.
//! - **Slow readers**: a response that waits for the client to take more of it for
//!   `write_timeout` closes the connection (see `progress`).
//! - **Shutdown**: a connection serving no request is closed at once (HTTP/2: with GOAWAY);
//!   one serving requests finishes them (HTTP/2: GOAWAY first, so no new stream starts) and
//!   closes. When the server's deadline passes, whatever still runs is dropped, HTTP/2 streams
//!   included: hyper runs each stream as a task of its connection ([`StreamTasks`]), ended and
//!   awaited before the connection's task ends.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerConfig;
use crate::progress::{Guarded, Progress};
use crate::protocol::{Prefixed, Protocol, sniff};

/// How long an HTTP/2 client has to see a GOAWAY (one round trip: the PING sent with it comes
/// back) before an idle connection is closed anyway.
pub(crate) const GOAWAY_GRACE: Duration = Duration::from_secs(1);

/// Where the server is in its life; every connection watches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Serving,
    /// The shutdown began: finish what is in flight, start nothing new.
    Draining,
    /// The shutdown deadline passed: drop everything.
    Dropping,
}

/// What every connection is served with, set up once from the configuration.
pub(crate) struct Settings {
    http1: http1::Builder,
    header_timeout: Duration,
    write_timeout: Duration,
    http2_max_concurrent_streams: u32,
    http2_max_header_list_bytes: u32,
    http2_keep_alive_interval: Duration,
    http2_keep_alive_timeout: Duration,
}

impl Settings {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            // hyper's own header timeout only closes, without a status; the idle timeout here
            // answers 408 first. hyper's stays as a backstop.
            .header_read_timeout(config.header_read_timeout() + Duration::from_secs(1))
            .keep_alive(true);
        Self {
            http1,
            header_timeout: config.header_read_timeout(),
            write_timeout: config.write_timeout(),
            http2_max_concurrent_streams: config.http2_max_concurrent_streams,
            http2_max_header_list_bytes: config.http2_max_header_list_bytes,
            http2_keep_alive_interval: config.http2_keep_alive_interval(),
            http2_keep_alive_timeout: config.http2_keep_alive_timeout(),
        }
    }

    fn http2(&self, tasks: StreamTasks) -> http2::Builder<StreamTasks> {
        let mut http2 = http2::Builder::new(tasks);
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.http2_max_concurrent_streams)
            .max_header_list_size(self.http2_max_header_list_bytes)
            .keep_alive_interval(self.http2_keep_alive_interval)
            .keep_alive_timeout(self.http2_keep_alive_timeout);
        http2
    }
}

/// Serves one connection until it ends, is closed by a bound, or the shutdown ends it.
pub(crate) async fn serve_connection(
    settings: Arc<Settings>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut phase: watch::Receiver<Phase>,
) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let sniffed = tokio::select! {
        sniffed = tokio::time::timeout_at(started + settings.header_timeout, sniff(stream)) => sniffed,
        // Not serving a request yet: closed at once.
        () = past(&mut phase, Phase::Draining) => return,
    };
    // Nothing, or part of the HTTP/2 preface, within the header timeout; or the client left.
    let Ok(Ok((protocol, io))) = sniffed else {
        return;
    };
    let (progress, activity) = Progress::new();
    let mut watch = Watch {
        progress: progress.clone(),
        activity,
        phase,
        idle_since: started,
    };
    let service = RouterService {
        router,
        peer,
        progress,
    };
    match protocol {
        Protocol::Http1 => {
            let connection = settings.http1.serve_connection(TokioIo::new(io), service);
            serve_http1(connection, &mut watch, &settings).await;
        }
        Protocol::Http2 => {
            let tasks = StreamTasks::default();
            let streams = EndStreams(tasks.clone());
            let connection = settings
                .http2(tasks.clone())
                .serve_connection(TokioIo::new(io), service);
            serve_http2(connection, &mut watch, &settings).await;
            // The connection is dropped: its streams can do nothing more.
            tasks.end().await;
            drop(streams);
        }
    }
}

/// The router as a hyper service: each request counted as being served until hyper is done
/// with its response, with the client's address as `ConnectInfo` (what
/// `axum::serve(..).into_make_service_with_connect_info` would insert; the version service's
/// per-address rate limit reads it).
#[derive(Clone)]
struct RouterService {
    router: Router,
    peer: SocketAddr,
    progress: Arc<Progress>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for RouterService {
    type Response = Response<Guarded>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Guarded>, Infallible>> + Send>>;

    fn call(&self, mut request: hyper::Request<Incoming>) -> Self::Future {
        let router = self.router.clone();
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let busy = self.progress.enter();
        Box::pin(async move {
            let response = router
                .oneshot(request.map(Body::new))
                .await
                .unwrap_or_else(|never: Infallible| match never {});
            Ok(response.map(|body| Guarded::new(body, busy)))
        })
    }
}

type Http1Connection = http1::Connection<TokioIo<Prefixed>, RouterService>;
type Http2Connection = http2::Connection<TokioIo<Prefixed>, RouterService, StreamTasks>;

async fn serve_http1(mut connection: Http1Connection, watch: &mut Watch, settings: &Settings) {
    let mut draining = false;
    loop {
        let limits = (settings.header_timeout, settings.write_timeout);
        match drive(Pin::new(&mut connection), watch, limits, !draining).await {
            Exit::Ended(ended) => return ended_with(ended),
            Exit::Stalled | Exit::Dropped => return,
            // Not serving a request: closed now (dropping the connection closes it).
            Exit::Draining { idle: true } => return,
            Exit::Draining { idle: false } => {
                // Serving one: finish it, then close.
                Pin::new(&mut connection).graceful_shutdown();
                draining = true;
            }
            Exit::Idle if draining => return,
            Exit::Idle => {
                head_timed_out(connection.into_parts(), settings.header_timeout).await;
                return;
            }
        }
    }
}

async fn serve_http2(connection: Http2Connection, watch: &mut Watch, settings: &Settings) {
    let mut connection = pin!(connection);
    let mut goaway = false;
    loop {
        let idle_limit = if goaway {
            GOAWAY_GRACE
        } else {
            settings.header_timeout
        };
        let limits = (idle_limit, settings.write_timeout);
        match drive(connection.as_mut(), watch, limits, !goaway).await {
            Exit::Ended(ended) => return ended_with(ended),
            Exit::Stalled | Exit::Dropped => return,
            // Idle, or the shutdown: GOAWAY (streams in flight finish, no new one starts).
            Exit::Idle | Exit::Draining { .. } if !goaway => {
                connection.as_mut().graceful_shutdown();
                goaway = true;
                watch.idle_since = Instant::now();
            }
            // Idle for the grace after GOAWAY: the client did not close; we do.
            Exit::Idle | Exit::Draining { .. } => return,
        }
    }
}

fn ended_with(ended: hyper::Result<()>) {
    if let Err(error) = ended {
        // A reset, a malformed request, a dead HTTP/2 peer (keep-alive PING unanswered): the
        // client's doing.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// What a connection's task watches besides the connection itself.
struct Watch {
    progress: Arc<Progress>,
    /// The busy count (requests being served).
    activity: watch::Receiver<usize>,
    phase: watch::Receiver<Phase>,
    /// When the connection last started to serve no request.
    idle_since: Instant,
}

/// Why [`drive`] returned.
enum Exit {
    Ended(hyper::Result<()>),
    /// No request served for the idle limit.
    Idle,
    /// The shutdown began; `idle`: no request was being served.
    Draining {
        idle: bool,
    },
    /// The shutdown deadline passed.
    Dropped,
    /// A response waited for the client longer than the write timeout.
    Stalled,
}

/// Drives `connection` until it ends or something needs the protocol's own answer.
/// `limits` are the idle limit and the write timeout; `report_draining`: whether the start of
/// the shutdown is reported (else only its deadline).
async fn drive<C>(
    mut connection: Pin<&mut C>,
    watch: &mut Watch,
    (idle_limit, write_timeout): (Duration, Duration),
    report_draining: bool,
) -> Exit
where
    C: Future<Output = hyper::Result<()>>,
{
    loop {
        let idle = *watch.activity.borrow_and_update() == 0;
        // While serving: look again when the longest-waiting response would be past the write
        // timeout (or one write timeout from now, for responses not waiting yet).
        let look_again = watch.progress.oldest_wait().unwrap_or_else(Instant::now) + write_timeout;
        let next_phase = if report_draining {
            Phase::Draining
        } else {
            Phase::Dropping
        };
        tokio::select! {
            ended = connection.as_mut() => return Exit::Ended(ended),
            () = past(&mut watch.phase, next_phase) => {
                return if *watch.phase.borrow() == Phase::Dropping {
                    Exit::Dropped
                } else {
                    Exit::Draining { idle }
                };
            }
            changed = watch.activity.changed() => {
                if changed.is_err() {
                    // Cannot happen (`progress` holds the sender); serve on without the count.
                    return Exit::Ended(connection.await);
                }
                watch.idle_since = Instant::now();
            }
            () = tokio::time::sleep_until(watch.idle_since + idle_limit), if idle => {
                return Exit::Idle;
            }
            () = tokio::time::sleep_until(look_again), if !idle => {
                if watch.progress.oldest_wait().is_some_and(|since| since.elapsed() >= write_timeout) {
                    tracing::info!(
                        write_timeout_ms = write_timeout.as_millis() as u64,
                        "a response waited for the client longer than the write timeout: \
                         connection closed"
                    );
                    return Exit::Stalled;
                }
            }
        }
    }
}

/// Completes once the server is at `phase` or later.
async fn past(watch: &mut watch::Receiver<Phase>, phase: Phase) {
    let at = |now: &Phase| match phase {
        Phase::Serving => true,
        Phase::Draining => *now != Phase::Serving,
        Phase::Dropping => *now == Phase::Dropping,
    };
    // An error means the server is gone, which is the end too.
    let _ = watch.wait_for(at).await;
}

/// The request head did not arrive within the header timeout. A client that sent part of one
/// gets 408 `REQUEST_TIMEOUT` and `Connection: close`; an idle keep-alive connection is just
/// closed (an unsolicited 408 would confuse a client that is about to reuse it).
async fn head_timed_out<S>(parts: http1::Parts<TokioIo<Prefixed>, S>, timeout: Duration) {
    let io = parts.io.into_inner();
    if parts.read_buf.is_empty() && !io.has_unread_prefix() {
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
    let mut stream = io.into_stream();
    // Bounded: a client that does not read must not hold the connection either.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Where hyper runs an HTTP/2 connection's streams (each request, with its handler): tasks
/// owned by the connection, so that none outlives it.
#[derive(Clone, Default)]
struct StreamTasks(Arc<Mutex<JoinSet<()>>>);

impl StreamTasks {
    fn tasks(&self) -> std::sync::MutexGuard<'_, JoinSet<()>> {
        // Spawning cannot leave the set half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends every stream still running and waits until each is gone.
    async fn end(&self) {
        let mut tasks = std::mem::take(&mut *self.tasks());
        tasks.shutdown().await;
    }
}

impl<F> hyper::rt::Executor<F> for StreamTasks
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, stream: F) {
        let mut tasks = self.tasks();
        // Finished streams are reaped here, so a long-lived connection's set stays small.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            stream.await;
        });
    }
}

/// Ends a connection's streams if its task is dropped before [`StreamTasks::end`] ran (each
/// stream holds the executor, so the set would otherwise keep itself alive).
struct EndStreams(StreamTasks);

impl Drop for EndStreams {
    fn drop(&mut self) {
        self.0.tasks().abort_all();
    }
}
