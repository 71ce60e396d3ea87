//! A small service on the real edge, and the clients that drive it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use edge::{Asset, ServerConfig};
use error_catalogue::{Code, Refusal};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Largest body `/echo` reads, like a service's body limit.
pub const ECHO_LIMIT: usize = 64 * 1024;

/// The size of `/large`: more than the kernel's socket buffers on loopback take.
pub const LARGE: usize = 16 * 1024 * 1024;

/// What the handlers did, for the tests to look at.
#[derive(Default)]
pub struct Probe {
    /// `/wait` handlers running now, and the most that ever ran at once.
    pub running: AtomicUsize,
    pub most_running: AtomicUsize,
    /// `/wait` handlers dropped before they finished (their connection went away).
    pub dropped: AtomicUsize,
    /// Wakes every `/wait` handler.
    pub release: Notify,
    /// Handler calls of any route.
    pub calls: AtomicUsize,
}

/// Counts a `/wait` handler as dropped unless it finished.
struct Running<'a> {
    probe: &'a Probe,
    finished: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.probe.running.fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            self.probe.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A compressible text of `len` bytes (JSON-like, repetitive as answers are).
pub fn text(len: usize) -> String {
    let unit = r#"{"id":"42","name":"Acme Corporation","licenses":[{"plan":"premium"}]},"#;
    unit.repeat(len / unit.len() + 1)[..len].to_owned()
}

/// The asset `/asset` serves.
pub static ASSET: Asset = Asset::new(
    b"body { color: black; margin: 0 } .a { color: black; margin: 0 } .b { color: black; margin: 0 } .c { color: black; margin: 0 }",
    "text/css",
    "no-cache",
);

fn router(probe: Arc<Probe>) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/text", get(|| async { text(40 * 1024) }))
        .route("/large", get(|| async { Bytes::from(vec![b'x'; LARGE]) }))
        .route("/wait", get(wait))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                "slow"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("the handler's secret");
                }
                "never"
            }),
        )
        .route("/echo", post(echo))
        .route(
            "/asset",
            get(|headers: HeaderMap| async move { ASSET.respond(&headers).await }),
        )
        .layer(axum::middleware::from_fn_with_state(
            probe.clone(),
            count_calls,
        ))
        .with_state(probe)
}

async fn count_calls(
    State(probe): State<Arc<Probe>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    probe.calls.fetch_add(1, Ordering::SeqCst);
    next.run(request).await
}

/// Runs until [`Probe::release`] wakes it.
async fn wait(State(probe): State<Arc<Probe>>) -> &'static str {
    let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
    probe.most_running.fetch_max(now, Ordering::SeqCst);
    let mut running = Running {
        probe: &probe,
        finished: false,
    };
    probe.release.notified().await;
    running.finished = true;
    "released"
}

/// Reads the body within [`ECHO_LIMIT`] (as the services read theirs) and sends it back.
async fn echo(request: Request) -> Response {
    match axum::body::to_bytes(request.into_body(), ECHO_LIMIT).await {
        Ok(bytes) => bytes.into_response(),
        Err(error) if edge::is_length_limit(&error) => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::RequestTooLarge,
            format!("the body is larger than {ECHO_LIMIT} bytes"),
        )
        .into_response(),
        Err(error) => Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            Code::RequestTimeout,
            format!("the body could not be read: {error}"),
        )
        .into_response(),
    }
}

/// The service on port 0, stopped by [`Server::stop`] (or when dropped).
pub struct Server {
    pub address: SocketAddr,
    pub probe: Arc<Probe>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start(config: ServerConfig) -> Server {
        config.validate("test").unwrap();
        let probe = Arc::new(Probe::default());
        let app = edge::layers(router(probe.clone()), &config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            edge::serve(listener, app, &config, "edge-test", async move {
                let _ = stopped.await;
            })
            .await
        });
        Server {
            address,
            probe,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Sends the shutdown signal.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Whether `serve` has returned.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits (at most `limit`) until `serve` returns.
    pub async fn stopped(&mut self, limit: Duration) {
        let task = self.task.take().expect("not awaited yet");
        tokio::time::timeout(limit, task)
            .await
            .expect("serve returned in time")
            .unwrap()
            .unwrap();
    }
}

/// A request body of the HTTP/2 client.
pub type ClientBody = BoxBody<Bytes, Infallible>;

/// One HTTP/2 connection with prior knowledge (h2c), and the task driving it.
pub struct H2 {
    pub sender: http2::SendRequest<ClientBody>,
    pub connection: JoinHandle<hyper::Result<()>>,
}

impl H2 {
    pub async fn connect(address: SocketAddr) -> H2 {
        let stream = TcpStream::connect(address).await.unwrap();
        H2::over(TokioIo::new(stream)).await
    }

    /// Over any transport (a test's own wrapper around the socket).
    pub async fn over<T>(io: T) -> H2
    where
        T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await.unwrap();
        let connection = tokio::spawn(connection);
        H2 { sender, connection }
    }

    /// Sends `request` and returns its response head (the body still to read).
    pub async fn send(
        &mut self,
        request: hyper::Request<ClientBody>,
    ) -> hyper::Result<hyper::Response<hyper::body::Incoming>> {
        self.sender.ready().await?;
        self.sender.send_request(request).await
    }

    /// `GET server/path` with `headers`; status, headers and the whole body.
    pub async fn get(
        &mut self,
        server: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let response = self
            .send(request("GET", server, path, headers, empty()))
            .await;
        read(response.unwrap()).await
    }
}

/// A request to `http://server/path` (HTTP/2 needs the scheme and authority).
pub fn request(
    method: &str,
    server: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: ClientBody,
) -> hyper::Request<ClientBody> {
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{server}{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).unwrap()
}

pub fn empty() -> ClientBody {
    Full::new(Bytes::new()).boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> ClientBody {
    Full::new(bytes.into()).boxed()
}

/// Status, headers and the whole body of a response.
pub async fn read(
    response: hyper::Response<impl hyper::body::Body<Error = impl std::fmt::Debug>>,
) -> (StatusCode, HeaderMap, Bytes) {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

/// The HTTP a test client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http {
    One,
    Two,
}

/// One request on a fresh connection in `http` (hyper's clients); status, headers and the
/// whole body.
pub async fn exchange(
    server: SocketAddr,
    http: Http,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: ClientBody,
) -> (StatusCode, HeaderMap, Bytes) {
    match http {
        Http::Two => {
            let mut client = H2::connect(server).await;
            let response = client
                .send(request(method, server, path, headers, body))
                .await;
            read(response.unwrap()).await
        }
        Http::One => {
            let stream = TcpStream::connect(server).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let mut builder = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", server.to_string());
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            let response = sender
                .send_request(builder.body(body).unwrap())
                .await
                .unwrap();
            read(response).await
        }
    }
}

/// The `extensions.code` of a coded error body.
pub fn code(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// Polls `condition` every 10 ms until it holds (true) or `limit` passes (false).
pub async fn eventually(limit: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// The probe's counters, read.
pub fn load(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}
