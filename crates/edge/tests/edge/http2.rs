//! HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1, with each guarantee of the
//! HTTP/1.1 edge in its HTTP/2 form: request ids and the panic guard, the body deadline (408
//! on its stream), the header and preface timeout, the connection cap, bounded streams and
//! header lists, keep-alive PINGs against dead peers, and the shutdown.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{StatusCode, Version};
use edge::ServerConfig;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{H2, Server, code, empty, eventually, load, request};

#[tokio::test]
async fn both_protocols_answer_on_one_port_with_request_ids_and_the_panic_guard() {
    let server = Server::start(ServerConfig::default()).await;

    let (status, _, body) = crate::support::exchange(
        server.address,
        crate::support::Http::One,
        "GET",
        "/hello",
        &[],
        empty(),
    )
    .await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"hello"[..]));

    let mut client = H2::connect(server.address).await;
    let response = client
        .send(request("GET", server.address, "/hello", &[], empty()))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    let (status, headers, body) = crate::support::read(response).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"hello"[..]));
    let generated = headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a generated UUID: {generated}");
    assert!(headers.get("connection").is_none());

    let (_, headers, _) = client
        .get(server.address, "/hello", &[("x-request-id", "caller-id-1")])
        .await;
    assert_eq!(headers["x-request-id"], "caller-id-1");

    // A panic is a coded 500 naming the request id and nothing of the panic; the connection
    // (and its other streams) carries on.
    let (status, headers, body) = client
        .get(server.address, "/panic", &[("x-request-id", "panicky-1")])
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("panicky-1"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    assert_eq!(headers["x-request-id"], "panicky-1");
    let (status, _, _) = client.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_on_its_stream_and_the_connection_serves_on() {
    let server = Server::start(ServerConfig {
        body_read_timeout_ms: 300,
        ..ServerConfig::default()
    })
    .await;
    let mut client = H2::connect(server.address).await;
    let never = StreamBody::new(futures::stream::pending::<Result<Frame<Bytes>, Infallible>>());
    let started = Instant::now();
    let response = client
        .send(request(
            "POST",
            server.address,
            "/echo",
            &[("content-type", "application/json")],
            never.boxed(),
        ))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let (status, headers, body) = crate::support::read(response).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(code(&body), "REQUEST_TIMEOUT");
    assert!(
        headers.get("connection").is_none(),
        "HTTP/2 has no Connection header"
    );
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    let (status, _, _) = client.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK, "the connection still serves");
}

/// Sends `bytes` on a fresh socket, then reads until the server closes it (at most 5 s).
/// Returns what was read and how long it took from the connect.
async fn closed_after(server: &Server, bytes: &[u8]) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut read = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut read))
        .await
        .expect("closed by the server in time")
        .ok();
    (read, started.elapsed())
}

#[tokio::test]
async fn nothing_or_part_of_the_preface_or_no_request_is_closed_after_the_header_timeout() {
    let server = Server::start(ServerConfig {
        header_read_timeout_ms: 400,
        ..ServerConfig::default()
    })
    .await;
    let in_time = |elapsed: Duration| {
        elapsed >= Duration::from_millis(350) && elapsed < Duration::from_secs(3)
    };
    for sent in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let (read, elapsed) = closed_after(&server, sent).await;
        assert!(read.is_empty(), "nothing is answered: {read:?}");
        assert!(in_time(elapsed), "{sent:?}: closed after {elapsed:?}");
    }

    // The preface and SETTINGS but no request; then a request, and nothing after it: GOAWAY
    // (the connection ends cleanly) after the header timeout.
    let started = Instant::now();
    let client = H2::connect(server.address).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), client.connection)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.is_ok(), "a GOAWAY, not a reset: {ended:?}");
    assert!(in_time(started.elapsed()), "{:?}", started.elapsed());

    let mut client = H2::connect(server.address).await;
    let (status, _, _) = client.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let answered = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(5), client.connection)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    assert!(in_time(answered.elapsed()), "{:?}", answered.elapsed());
}

#[tokio::test]
async fn the_connection_cap_counts_http2_connections() {
    let server = Server::start(ServerConfig {
        max_connections: 2,
        header_read_timeout_ms: 600,
        ..ServerConfig::default()
    })
    .await;
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut client = H2::connect(server.address).await;
        let (status, _, _) = client.get(server.address, "/hello", &[]).await;
        assert_eq!(status, StatusCode::OK);
        holders.push(client);
    }
    // A third connection waits in the backlog until an idle one is closed (600 ms).
    let started = Instant::now();
    let mut third = H2::connect(server.address).await;
    let (status, _, _) = tokio::time::timeout(
        Duration::from_secs(5),
        third.get(server.address, "/hello", &[]),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "the third connection waited for a slot: {waited:?}"
    );
    drop(holders);
}

#[tokio::test]
async fn streams_per_connection_are_bounded() {
    let server = Server::start(ServerConfig {
        http2_max_concurrent_streams: 2,
        ..ServerConfig::default()
    })
    .await;
    let mut client = H2::connect(server.address).await;
    // The server's SETTINGS are in once an answer is (a client that opens more streams before
    // it has them, or ignores them, gets REFUSED_STREAM for the extra ones).
    let (status, _, _) = client.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let mut requests = Vec::new();
    for _ in 0..4 {
        let mut sender = client.sender.clone();
        let address = server.address;
        requests.push(tokio::spawn(async move {
            sender.ready().await.unwrap();
            let response = sender
                .send_request(request("GET", address, "/wait", &[], empty()))
                .await
                .unwrap();
            crate::support::read(response).await.0
        }));
    }
    let probe = server.probe.clone();
    assert!(eventually(Duration::from_secs(3), || load(&probe.running) == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(load(&probe.running), 2, "no more than 2 streams at once");
    // Released as they come: the waiting two start once the first two are done.
    let releaser = tokio::spawn({
        let probe = probe.clone();
        async move {
            loop {
                probe.release.notify_waiters();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    for request in requests {
        let status = tokio::time::timeout(Duration::from_secs(5), request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, StatusCode::OK);
    }
    releaser.abort();
    assert_eq!(load(&probe.most_running), 2);
}

#[tokio::test]
async fn header_lists_over_the_bound_are_refused_on_their_stream() {
    let server = Server::start(ServerConfig {
        http2_max_header_list_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    let mut client = H2::connect(server.address).await;
    // Let the server's SETTINGS arrive before the large request.
    let (status, _, _) = client.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let calls = load(&server.probe.calls);
    let big = "x".repeat(2000);
    let refused = client
        .send(request(
            "GET",
            server.address,
            "/hello",
            &[("x-big", &big)],
            empty(),
        ))
        .await;
    // Answered by the HTTP/2 layer itself (431, then the stream is refused).
    assert_eq!(
        refused.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert_eq!(load(&server.probe.calls), calls, "no handler saw it");
    let (status, _, _) = client
        .get(server.address, "/hello", &[("x-small", &"y".repeat(500))])
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the connection and smaller lists still serve"
    );
}

/// A transport that stops moving bytes either way once frozen, keeping the socket open: a
/// peer that died without closing.
struct Freezable {
    io: TokioIo<TcpStream>,
    frozen: Arc<AtomicBool>,
}

impl hyper::rt::Read for Freezable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Freezable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_dropped() {
    let server = Server::start(ServerConfig {
        http2_keep_alive_interval_ms: 300,
        http2_keep_alive_timeout_ms: 300,
        ..ServerConfig::default()
    })
    .await;
    let probe = server.probe.clone();
    let frozen = Arc::new(AtomicBool::new(false));
    let stream = TcpStream::connect(server.address).await.unwrap();
    let client = H2::over(Freezable {
        io: TokioIo::new(stream),
        frozen: frozen.clone(),
    })
    .await;
    let waiting = tokio::spawn({
        let mut sender = client.sender.clone();
        let address = server.address;
        async move {
            sender.ready().await?;
            sender
                .send_request(request("GET", address, "/wait", &[], empty()))
                .await
        }
    });
    assert!(eventually(Duration::from_secs(3), || load(&probe.running) == 1).await);
    // A live peer answers the PINGs: its request runs on, well past interval + timeout.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(load(&probe.dropped), 0, "a live peer is kept");
    frozen.store(true, Ordering::SeqCst);
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || load(&probe.dropped) == 1).await,
        "the dead peer's connection (and its request) was dropped"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before a PING went unanswered: {:?}",
        started.elapsed()
    );
    waiting.abort();
    client.connection.abort();
}

#[tokio::test]
async fn shutdown_sends_goaway_to_idle_connections_at_once_and_finishes_streams_in_flight() {
    let mut server = Server::start(ServerConfig {
        shutdown_timeout_ms: 10_000,
        ..ServerConfig::default()
    })
    .await;
    let mut idle = H2::connect(server.address).await;
    let (status, _, _) = idle.get(server.address, "/hello", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let mut busy = H2::connect(server.address).await;
    let address = server.address;
    let slow = tokio::spawn(async move {
        let response = busy
            .send(request("GET", address, "/slow", &[], empty()))
            .await
            .unwrap();
        crate::support::read(response).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    server.signal_stop();
    let ended = tokio::time::timeout(Duration::from_millis(1500), idle.connection)
        .await
        .expect("the idle connection is closed at once")
        .unwrap();
    assert!(ended.is_ok(), "closed with GOAWAY: {ended:?}");
    let (status, _, body) = slow.await.unwrap();
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"slow"[..]));
    server.stopped(Duration::from_secs(3)).await;
    println!("stopped in {:?} with a stream in flight", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(3));
    // And nothing new is served.
    assert!(TcpStream::connect(server.address).await.is_err());
}

#[tokio::test]
async fn the_shutdown_deadline_drops_stuck_streams_and_nothing_outlives_serve() {
    let mut server = Server::start(ServerConfig {
        shutdown_timeout_ms: 300,
        ..ServerConfig::default()
    })
    .await;
    let probe = server.probe.clone();
    let mut client = H2::connect(server.address).await;
    let address = server.address;
    let stuck = tokio::spawn(async move {
        client
            .send(request("GET", address, "/wait", &[], empty()))
            .await
    });
    assert!(eventually(Duration::from_secs(3), || load(&probe.running) == 1).await);
    let started = Instant::now();
    server.signal_stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !server.is_finished(),
        "the stream in flight has its deadline"
    );
    server.stopped(Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    // Checked the moment `serve` returned: the handler is gone already.
    assert_eq!(load(&probe.dropped), 1, "the stuck handler was dropped");
    assert_eq!(load(&probe.running), 0);
    let _ = tokio::time::timeout(Duration::from_secs(2), stuck).await;
}
