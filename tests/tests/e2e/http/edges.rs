//! The edges of both servers: slow and half-sent requests, connection caps, request ids and
//! the operations endpoints, CORS, graceful shutdown, and a version service that fails, is
//! slow, answers hugely or restarts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e_tests::{Backend, Gateway, backends, error_codes};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Opens a POST to /graphql and sends its headers and the first `sent` bytes of `body`.
async fn start_slow_post(
    address: SocketAddr,
    authorization: &str,
    body: &str,
    sent: usize,
) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         authorization: {authorization}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// Sends the rest of `body` and reads the whole response.
async fn finish_slow_post(mut stream: TcpStream, body: &str, sent: usize) -> String {
    stream.write_all(&body.as_bytes()[sent..]).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn slow_bodies_hold_no_permit_and_time_out_with_408_and_a_closed_connection() {
    let gateway = Gateway::start_with(Backend::Sqlite, |c| {
        c.limits.graphql.max_concurrent_requests = 4;
        c.limits.server.body_read_timeout_ms = 4_000;
    })
    .await;
    let body = json!({"query": QUERY}).to_string();
    // 300 clients with a valid token send their bodies slowly (the issue's first row: they
    // used to hold every permit). Permits are taken once a body is read, so they hold none.
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(start_slow_post(gateway.address, &bearer(&gateway), &body, 5).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let response = post(&gateway, Some(GQL), &json!({"query": QUERY})).await;
    let elapsed = started.elapsed();
    println!("a normal request with 300 slow-body connections open answered in {elapsed:?}");
    assert_eq!(response.status(), 200);
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    // A slow body that completes in time is served.
    let finished = finish_slow_post(slow.pop().unwrap(), &body, 5).await;
    assert!(finished.starts_with("HTTP/1.1 200"), "{finished}");

    // The others never complete: 408 with `Connection: close`, then the connection closes.
    let mut stuck = slow.pop().unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stuck.read_to_end(&mut response))
        .await
        .expect("the gateway answers and closes a stuck request")
        .unwrap();
    let response = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 408"), "{response}");
    assert!(response.contains("connection: close"), "{response}");
    assert!(response.contains("request_timeout"), "{response}");
    drop(slow);
}

#[tokio::test]
async fn request_ids_are_the_gateways_own_and_ops_endpoints_answer() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    // The gateway's ids are its own (they go into the audit trail): a caller's id is kept
    // apart (the `caller_request_id` of its log lines), never taken as the request's.
    let response = gateway
        .client()
        .get(gateway.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    let own = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(own.len(), 36, "a UUID, not the caller's: {own}");
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");

    let response = post(&gateway, None, &json!({"query": QUERY})).await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    // A caller's id too long for log lines (or unprintable) is replaced by a generated one.
    for unusable in ["x".repeat(129), "two words".to_owned()] {
        let response = gateway
            .client()
            .get(gateway.url("/health"))
            .header("x-request-id", unusable.as_str())
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "a UUID instead of {unusable:?}: {id}");
    }

    // Ready: the license database is up; the version service (not running here) is reported.
    let response = gateway
        .client()
        .get(gateway.url("/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["licenseDatabase"], "up");
    assert_eq!(body["versionService"], "down");
}

#[tokio::test]
async fn cors_is_closed_by_default_and_opens_to_configured_origins() {
    let preflight = |gateway: &Gateway, origin: &str| {
        gateway
            .client()
            .request(reqwest::Method::OPTIONS, gateway.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let closed = Gateway::start(Backend::Sqlite).await;
    let response = preflight(&closed, "https://dash.example.com")
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let open = Gateway::start_with(Backend::Sqlite, |c| {
        c.cors.allowed_origins = vec!["https://dash.example.com".to_owned()];
    })
    .await;
    let response = preflight(&open, "https://dash.example.com").await.unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );
    let response = preflight(&open, "https://evil.example.com").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// A gateway served by the test itself, so the test fires its shutdown signal.
async fn serve_with_shutdown(
    gateway: &Gateway,
    grace_ms: u64,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let mut config = (*gateway.state.config).clone();
    config.limits.server.shutdown_timeout_ms = grace_ms;
    config.migrate = false;
    let state = gateway::AppState::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (address, stop, server)
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_within_the_deadline() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    let body = json!({"query": QUERY}).to_string();

    // A request in flight when the signal fires still completes with 200.
    let (address, stop, server) = serve_with_shutdown(&gateway, 10_000).await;
    let in_flight = start_slow_post(address, &bearer(&gateway), &body, 10).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the request in flight"
    );
    // No new connection is accepted meanwhile.
    let refused = tokio::time::timeout(Duration::from_secs(2), async {
        match TcpStream::connect(address).await {
            Err(_) => true,
            Ok(mut stream) => {
                let _ = stream
                    .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
                    .await;
                let mut buffer = Vec::new();
                matches!(stream.read_to_end(&mut buffer).await, Ok(0) | Err(_))
            }
        }
    })
    .await
    // Neither refused nor closed within 2 s: left hanging, which is not refusing either.
    .unwrap_or(false);
    assert!(
        refused,
        "a new connection after the shutdown signal was served or left hanging"
    );
    let response = finish_slow_post(in_flight, &body, 10).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("totalCount"), "{response}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    // A request that never finishes is dropped when the deadline passes.
    let (address, stop, server) = serve_with_shutdown(&gateway, 300).await;
    let _stuck = start_slow_post(address, &bearer(&gateway), &body, 10).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("the deadline ends the server")
        .unwrap()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The edges (issue 14): slow clients, restarts and huge answers, against the real servers on
// loopback. Slow clients are raw sockets; every wait is bounded.
// ---------------------------------------------------------------------------------------------

/// A usage query of the demo story's first customer (its hostnames' last ping).
const USAGE_QUERY: &str =
    r#"{ customer(id: "1") { licenses { id hostnames { name lastUsagePingAt } } } }"#;

/// A heavy usage query: the last 100 pings of every server.
const HEAVY_QUERY: &str = r#"{ customer(id: "1") { licenses { hostnames { name usagePings(last: 100) { recordedAt } } } } }"#;

/// How a stand-in version service answers `_entities`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stand {
    /// One empty entity per representation, at once.
    Healthy,
    /// 500 for everything.
    Failing,
    /// Healthy, but a `usagePings_100` query sleeps 2 s (one customer's heavy query).
    HeavyIsSlow,
    /// Every call sleeps 1.5 s, then answers healthy.
    Slow,
    /// A well-formed answer with a 50 MB field.
    Huge,
}

/// A stand-in version service on port 0 whose behaviour the test switches as it goes.
async fn stand_in(mode: Stand) -> (String, Arc<Mutex<Stand>>) {
    let initial = mode;
    let mode = Arc::new(Mutex::new(mode));
    let current = mode.clone();
    // Built only for a stand-in that starts huge (the mode never switches to it later).
    let huge: Arc<String> = Arc::new(if initial == Stand::Huge {
        format!(
            r#"{{"data": {{"_entities": [{{"__typename": "Hostname", "name": "x", "lastUsagePingAt": "{}"}}]}}}}"#,
            "9".repeat(50 * 1024 * 1024)
        )
    } else {
        String::new()
    });
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |body: axum::body::Bytes| {
            let mode = *current.lock().unwrap();
            let huge = huge.clone();
            async move {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let query = request["query"].as_str().unwrap_or_default().to_owned();
                let keys = request["variables"]["representations"]
                    .as_array()
                    .map_or(0, Vec::len);
                match mode {
                    Stand::Failing => {
                        return (
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            "oops".to_owned(),
                        );
                    }
                    Stand::Huge => return (axum::http::StatusCode::OK, (*huge).clone()),
                    Stand::Slow => tokio::time::sleep(Duration::from_millis(1_500)).await,
                    Stand::HeavyIsSlow if query.contains("usagePings_100") => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    _ => {}
                }
                let entities: Vec<Value> = (0..keys).map(|_| json!({})).collect();
                (
                    axum::http::StatusCode::OK,
                    json!({"data": {"_entities": entities}}).to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/graphql"), mode)
}

/// The error codes of a usage query's response, and whether its license data came back.
async fn usage_codes(gateway: &Gateway, query: &str) -> (Vec<String>, bool) {
    let response = gateway.query(query, json!({})).await;
    let licenses = response["data"]["customer"]["licenses"]
        .as_array()
        .is_some_and(|l| !l.is_empty());
    (error_codes(&response), licenses)
}

/// Sends raw bytes on a fresh connection and returns it.
async fn raw(address: SocketAddr, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// Reads until the peer closes (or `limit` passes: then panics), returning what was read.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut bytes = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut bytes))
        .await
        .expect("the server closed the connection in time")
        .ok();
    String::from_utf8_lossy(&bytes).to_ascii_lowercase()
}

/// Reads one HTTP/1.1 response (head and a `content-length` body) off a keep-alive
/// connection, lowercased; bounded by 2 s.
async fn read_response(stream: &mut TcpStream) -> String {
    let read = async {
        let mut bytes = Vec::new();
        let mut byte = [0u8; 1];
        while !bytes.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).await.unwrap();
            bytes.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await.unwrap();
        format!(
            "{head}{}",
            String::from_utf8_lossy(&body).to_ascii_lowercase()
        )
    };
    tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .expect("a response in time")
}

/// A version service over a fresh SQLite database, configured by `configure`.
async fn version_state(
    configure: impl FnOnce(&mut version_service::Config),
) -> (version_service::AppState, e2e_tests::TestDb) {
    let db = e2e_tests::TestDb::fresh(Backend::Sqlite, "version").await;
    let mut config = version_service::Config {
        database_url: db.url.clone(),
        ..version_service::Config::default()
    };
    configure(&mut config);
    (version_service::AppState::open(config).await.unwrap(), db)
}

#[tokio::test]
async fn half_sent_headers_are_closed_after_the_header_timeout_and_connections_are_capped() {
    let gateway = Gateway::start_with(Backend::Sqlite, |c| {
        c.limits.server.header_read_timeout_ms = 500;
        c.limits.server.max_connections = 3;
    })
    .await;
    let (state, _db) = version_state(|c| c.server.header_read_timeout_ms = 500).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = version_service::spawn(listener, state).unwrap();
    let version = running.address;

    // A half-sent request head gets 408 and a closed connection after the header timeout, on
    // both servers; an idle connection that sent nothing is closed without a word.
    for address in [gateway.address, version] {
        let started = std::time::Instant::now();
        let mut half = raw(address, "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-ty").await;
        let answer = read_until_closed(&mut half, Duration::from_secs(5)).await;
        let elapsed = started.elapsed();
        assert!(answer.starts_with("http/1.1 408"), "{address}: {answer}");
        assert!(answer.contains("connection: close"), "{address}: {answer}");
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(3),
            "{address}: closed after {elapsed:?}"
        );
    }

    let mut idle = raw(version, "").await;
    let answer = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(answer.is_empty(), "{answer}");

    // The gateway holds at most 3 connections: with 3 half-sent heads open, a 4th client
    // waits in the backlog until the header timeout frees a slot, then is served.
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(raw(gateway.address, "GET /health HTTP/1.1\r\nhost: x\r\n").await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let mut fourth = raw(
        gateway.address,
        "GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5)).await;
    let waited = started.elapsed();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        waited >= Duration::from_millis(250),
        "the 4th connection waited for a slot: {waited:?}"
    );
    drop(holders);
}

#[tokio::test]
async fn shutdown_closes_half_sent_requests_at_once_on_both_servers() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    // Gateway: a 30 s deadline, one half-sent head open: the server ends at once.
    let (address, stop, server) = serve_with_shutdown(&gateway, 30_000).await;
    let mut half = raw(address, "POST /graphql HTTP/1.1\r\nhost: x\r\nauthor").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("a half-sent head does not hold the gateway's shutdown")
        .unwrap()
        .unwrap();
    println!(
        "gateway with a half-sent request stopped in {:?}",
        started.elapsed()
    );
    read_until_closed(&mut half, Duration::from_secs(1)).await;

    // Version service: the same, and a half-sent body ends by the body deadline (1 s here),
    // not the 30 s shutdown deadline.
    let (state, _db) = version_state(|c| c.server.body_read_timeout_ms = 1_000).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut server = version_service::spawn(listener, state).unwrap();
    let address = server.address;
    let _half_head = raw(address, "POST /usage_data HTTP/1.1\r\nhost: x\r\ncont").await;
    let mut half_body = raw(
        address,
        "POST /usage_data HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{\"uuid\":",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(3), server.stop())
        .await
        .expect("the version service ends within its body deadline")
        .unwrap();
    let elapsed = started.elapsed();
    println!("version service with a half-sent body stopped in {elapsed:?}");
    let answer = read_until_closed(&mut half_body, Duration::from_secs(1)).await;
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn responses_that_close_say_so_and_a_503_keeps_the_connection_usable() {
    let (url, _) = stand_in(Stand::Slow).await;
    let gateway = Gateway::start_with(Backend::Sqlite, |c| {
        c.limits.graphql.max_concurrent_requests = 1;
        c.limits.graphql.retry_after_secs = 7;
        c.version_service.url = url;
        c.version_service.timeout_ms = 3_000;
    })
    .await;
    seed_story(&gateway, None).await;
    // One request holds the only permit while the version service takes 1.5 s.
    let holder = {
        let client = gateway.client().clone();
        let url = gateway.url("/graphql");
        let authorization = bearer(&gateway);
        tokio::spawn(async move {
            client
                .post(url)
                .header("authorization", authorization)
                .json(&json!({"query": USAGE_QUERY}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Two requests on one keep-alive connection: both shed with 503 and `Retry-After`, and
    // the connection survives the first (no broken pipe on the second).
    let body = json!({"query": QUERY}).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         authorization: {}\r\ncontent-length: {}\r\n\r\n{body}",
        bearer(&gateway),
        body.len()
    );
    let mut stream = raw(gateway.address, &request).await;
    let first = read_response(&mut stream).await;
    assert!(first.starts_with("http/1.1 503"), "{first}");
    assert!(first.contains("retry-after: 7"), "{first}");
    assert!(!first.contains("connection: close"), "{first}");
    stream.write_all(request.as_bytes()).await.unwrap();
    let second = read_response(&mut stream).await;
    assert!(second.starts_with("http/1.1 503"), "{second}");
    assert_eq!(holder.await.unwrap(), 200);

    // A response given before the body was read (no token: 401) closes the connection, and
    // says `Connection: close`.
    let mut unread = raw(
        gateway.address,
        "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: 1000\r\n\r\n{\"query\":",
    )
    .await;
    let answer = read_until_closed(&mut unread, Duration::from_secs(3)).await;
    assert!(answer.starts_with("http/1.1 401"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn huge_upstream_answers_fail_their_call_and_client_answers_are_capped() {
    let (url, _) = stand_in(Stand::Huge).await;
    let gateway = Gateway::start_with(Backend::Sqlite, |c| {
        c.version_service.url = url;
        c.version_service.timeout_ms = 10_000;
    })
    .await;
    seed_story(&gateway, None).await;
    let started = std::time::Instant::now();
    let response = gateway
        .post_graphql(
            Some(&gateway.admin_authorization()),
            &json!({"query": USAGE_QUERY}),
        )
        .await;
    let text = response.text().await.unwrap();
    println!(
        "a 50 MB upstream answer: {} bytes to the client in {:?}",
        text.len(),
        started.elapsed()
    );
    assert!(
        text.len() < 100_000,
        "the answer is small: {} bytes",
        text.len()
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let codes = error_codes(&body);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "UPSTREAM_BAD_RESPONSE"),
        "{codes:?}"
    );
    assert!(
        body["data"]["customer"]["licenses"][0]["id"].is_string(),
        "license data whole"
    );
    // An oversized answer says nothing about the service's health: the breaker stays closed.
    let ready: Value = gateway
        .client()
        .get(gateway.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["versionServiceBreaker"], "closed", "{ready}");

    // Answers to clients are capped too.
    let capped = Gateway::start_with(Backend::Sqlite, |c| {
        c.limits.graphql.max_response_bytes = 60
    })
    .await;
    seed_story(&capped, None).await;
    let response = post(
        &capped,
        Some(GQL),
        &json!({"query": "{ customers(first: 20) { nodes { name } } }"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_codes(&body), vec!["RESPONSE_TOO_LARGE"], "{body}");
    let small = post(&capped, Some(GQL), &json!({"query": QUERY})).await;
    assert_eq!(small.status(), 200);
}

#[tokio::test]
async fn one_customers_heavy_queries_do_not_switch_usage_off_and_the_breaker_is_visible() {
    let (url, mode) = stand_in(Stand::HeavyIsSlow).await;
    let gateway = Gateway::start_with(Backend::Sqlite, |c| {
        c.version_service.url = url;
        c.version_service.timeout_ms = 300;
        // Long enough that no probe slips in while the test checks the open state, still well
        // under a second (the 100 ms default is covered by the breaker's unit tests).
        c.version_service.breaker_probe_after_ms = 400;
    })
    .await;
    seed_story(&gateway, None).await;
    // Ten heavy requests at once (the issue saw six open the breaker): all time out...
    let heavy = (0..10).map(|_| usage_codes(&gateway, HEAVY_QUERY));
    for (codes, licenses) in futures::future::join_all(heavy).await {
        assert!(licenses);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "UPSTREAM_TIMEOUT"),
            "{codes:?}"
        );
    }
    // ...and everyone else's usage still works.
    let (codes, _) = usage_codes(&gateway, USAGE_QUERY).await;
    assert!(codes.is_empty(), "{codes:?}");
    let ready: Value = gateway
        .client()
        .get(gateway.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["versionServiceBreaker"], "closed", "{ready}");

    // A service that fails outright opens the breaker (5 refusals by default)...
    *mode.lock().unwrap() = Stand::Failing;
    for _ in 0..5 {
        usage_codes(&gateway, USAGE_QUERY).await;
    }
    let (codes, _) = usage_codes(&gateway, USAGE_QUERY).await;
    assert!(
        codes.iter().all(|c| c == "UPSTREAM_CIRCUIT_OPEN"),
        "{codes:?}"
    );
    let scraped = scrape(&gateway).await;
    assert_eq!(
        sample(
            &scraped,
            "licensedot_upstream_breaker_state",
            &[("state", "open")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&scraped, "licensedot_upstream_breaker_opened_total", &[]),
        Some(1.0)
    );
    let ready: Value = gateway
        .client()
        .get(gateway.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(ready["versionServiceBreaker"], "closed", "{ready}");
    // ...and once it is back, a probe closes the breaker well within a second.
    *mode.lock().unwrap() = Stand::Healthy;
    let back = std::time::Instant::now();
    loop {
        let (codes, _) = usage_codes(&gateway, USAGE_QUERY).await;
        if codes.is_empty() {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(1), "still {codes:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "breaker closed {:?} after the service came back",
        back.elapsed()
    );
}

#[tokio::test]
async fn a_version_service_restart_costs_usage_less_than_a_second_at_8_clients() {
    for backend in backends() {
        let version = e2e_tests::version::VersionService::start(backend, None).await;
        let gateway = Gateway::start_with(backend, |c| {
            c.version_service.url = version.graphql_url();
        })
        .await;
        seed_story(&gateway, Some(&version.state.db)).await;
        let (codes, _) = usage_codes(&gateway, USAGE_QUERY).await;
        assert!(codes.is_empty(), "{codes:?}");
        let address = version.address;
        let state = version.state.clone();
        let mut version = version;

        // 8 clients query usage in a loop, noting when usage was missing.
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let t0 = std::time::Instant::now();
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let client = gateway.client().clone();
                let url = gateway.url("/graphql");
                let authorization = gateway.admin_authorization();
                let running = running.clone();
                tokio::spawn(async move {
                    let mut blank = Vec::new();
                    let mut answered = 0u32;
                    while running.load(std::sync::atomic::Ordering::Relaxed) {
                        let sent = t0.elapsed();
                        let response: Value = client
                            .post(&url)
                            .header("authorization", &authorization)
                            .json(&json!({"query": USAGE_QUERY}))
                            .send()
                            .await
                            .unwrap()
                            .json()
                            .await
                            .unwrap();
                        answered += 1;
                        if !error_codes(&response).is_empty() {
                            blank.push((sent, t0.elapsed()));
                        }
                    }
                    (blank, answered)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The restart: stop (graceful), 500 ms down, serve again on the same port.
        version.stop().await;
        let down = t0.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let up = t0.elapsed();
        let _running = version_service::spawn(listener, state).unwrap();
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        running.store(false, std::sync::atomic::Ordering::Relaxed);
        let mut first_blank = None::<Duration>;
        let mut last_blank = None::<Duration>;
        let mut answered = 0;
        for client in clients {
            let (blank, count) = client.await.unwrap();
            answered += count;
            for (sent, received) in blank {
                first_blank = Some(first_blank.map_or(sent, |f| f.min(sent)));
                last_blank = Some(last_blank.map_or(received, |l| l.max(received)));
            }
        }
        let blank = match (first_blank, last_blank) {
            (Some(first), Some(last)) => last - first,
            _ => Duration::ZERO,
        };
        println!(
            "{backend:?}: version service down {:?}; usage blank for {blank:?} across 8 \
             clients ({answered} requests)",
            up - down
        );
        assert!(blank < Duration::from_secs(1), "usage blank for {blank:?}");
    }
}

#[tokio::test]
async fn the_version_services_ready_answers_within_2_s_when_its_database_hangs() {
    for backend in backends() {
        let mut version = e2e_tests::version::VersionService::start(backend, None).await;
        let url = format!("http://{}/ready", version.address);
        let client = reqwest::Client::new();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        // Every pooled connection held in a transaction: the database "hangs" for `/ready`.
        let db = version.state.db.clone();
        let max = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => db
                .get_postgres_connection_pool()
                .options()
                .get_max_connections(),
            _ => db
                .get_sqlite_connection_pool()
                .options()
                .get_max_connections(),
        };
        let mut held = Vec::new();
        for _ in 0..max {
            held.push(sea_orm::TransactionTrait::begin(&db).await.unwrap());
        }
        let started = std::time::Instant::now();
        let response = tokio::time::timeout(Duration::from_secs(5), client.get(&url).send())
            .await
            .expect("/ready answers")
            .unwrap();
        let elapsed = started.elapsed();
        println!(
            "{backend:?}: version /ready with a hung database: {} in {elapsed:?}",
            response.status()
        );
        assert_eq!(response.status(), 503);
        assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
        drop(held);
        version.stop().await;
    }
}

/// Issue 13's row "200 connections that announce a body and never send it: still open after
/// 130 s": the version service answers each with `Connection: close` — 408 at its body deadline
/// (they hold no ingestion slot, only the memory of the bytes they sent) — and stores pings
/// again.
#[tokio::test]
async fn version_service_ingestion_closes_bodies_that_never_arrive() {
    let (state, _db) = version_state(|c| {
        c.server.body_read_timeout_ms = 1_000;
        // One test client is one address: the per-address rate limit would answer first.
        c.ingest = version_service::config::IngestConfig::unthrottled();
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut running = version_service::spawn(listener, state).unwrap();
    let address = running.address;
    let head = format!(
        "POST /usage_data HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         content-length: 4000\r\n\r\n{{\"uuid\":"
    );
    let mut stuck = Vec::new();
    for _ in 0..200 {
        stuck.push(raw(address, &head).await);
    }
    let started = std::time::Instant::now();
    for stream in &mut stuck {
        let response = read_until_closed(stream, Duration::from_secs(10)).await;
        assert!(response.starts_with("http/1.1 408"), "{response}");
        assert!(response.contains("connection: close"), "{response}");
    }
    let elapsed = started.elapsed();
    println!("200 stuck ingestion bodies answered and closed within {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // A ping is stored once they are gone.
    let ping = json!({"uuid": "u", "hostname": "h.example",
                      "recorded_at": chrono::Utc::now().to_rfc3339()});
    let stored = reqwest::Client::new()
        .post(format!("http://{address}/usage_data"))
        .header("content-type", "application/json")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 201);
    running.stop().await.unwrap();
}
