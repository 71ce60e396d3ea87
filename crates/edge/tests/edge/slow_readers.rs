//! Slow readers (the write timeout): a client that stops taking a response is cut after
//! `write_timeout_ms`, in HTTP/1.1 (the socket fills) and HTTP/2 (the flow-control window stays
//! shut); one that reads slowly but steadily gets all of it, however long that takes.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use edge::ServerConfig;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{H2, Http, LARGE, Server, empty, exchange, request};

fn config() -> ServerConfig {
    ServerConfig {
        write_timeout_ms: 500,
        ..ServerConfig::default()
    }
}

/// A socket with a small receive buffer (so the server's writes block soon), connected.
async fn small_window(server: &Server) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(server.address).await.unwrap()
}

#[tokio::test]
async fn a_reader_that_stops_is_cut_after_the_write_timeout_and_others_are_served() {
    let server = Server::start(config()).await;

    // HTTP/1.1: asks for 16 MiB and reads nothing.
    let mut stalled = small_window(&server).await;
    stalled
        .write_all(b"GET /large HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // What the kernel still holds arrives, then the end: the server closed the connection.
    let mut read = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut read))
        .await
        .expect("the server closed the stalled connection");
    assert!(
        read.len() < LARGE,
        "cut short: {} of {LARGE} bytes ({ended:?})",
        read.len()
    );
    assert!(read.starts_with(b"HTTP/1.1 200"));

    // HTTP/2: takes the response head, then never reads the body (its window stays shut).
    let mut client = H2::connect(server.address).await;
    let response = client
        .send(request("GET", server.address, "/large", &[], empty()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let started = Instant::now();
    let connection = client.connection;
    let _ = tokio::time::timeout(Duration::from_secs(5), connection)
        .await
        .expect("the server closed the stalled HTTP/2 connection");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "after the bound: {elapsed:?}"
    );
    drop(response);

    // Meanwhile the server serves others, in both protocols.
    for http in [Http::One, Http::Two] {
        let (status, _, body) = exchange(server.address, http, "GET", "/hello", &[], empty()).await;
        assert_eq!(
            (status, &body[..]),
            (StatusCode::OK, &b"hello"[..]),
            "{http:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_but_steady_reader_gets_the_whole_answer() {
    let server = Server::start(config()).await;

    // HTTP/1.1: 256 KiB every 40 ms, about 2.5 s for 16 MiB: five write timeouts.
    let mut reader = small_window(&server).await;
    reader
        .write_all(b"GET /large HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut total = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let mut this_turn = 0;
        while this_turn < 256 * 1024 {
            let n = tokio::time::timeout(Duration::from_secs(5), reader.read(&mut chunk))
                .await
                .unwrap()
                .unwrap();
            if n == 0 {
                break;
            }
            this_turn += n;
        }
        total += this_turn;
        if this_turn == 0 || total > LARGE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        total > LARGE,
        "the whole answer and its head: {total} bytes"
    );
    println!(
        "HTTP/1.1 slow reader: {total} bytes in {:?}",
        started.elapsed()
    );

    // HTTP/2: the same pace, reading the body frame by frame.
    let mut client = H2::connect(server.address).await;
    let response = client
        .send(request("GET", server.address, "/large", &[], empty()))
        .await
        .unwrap();
    let mut body = response.into_body();
    let mut total = 0;
    let mut since_pause = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("the stream was not cut");
        if let Some(data) = frame.data_ref() {
            total += data.len();
            since_pause += data.len();
        }
        if since_pause >= 256 * 1024 {
            since_pause = 0;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    assert_eq!(total, LARGE);
}
