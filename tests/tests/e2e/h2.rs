//! The real gateway and version service over HTTP/2 with prior knowledge (h2c, as Apollo
//! Router and Hive Router speak to subgraphs) and with compression both ways: GraphQL answers
//! in gzip and brotli decode to the plain answer byte for byte, request bodies in gzip are
//! read (a zip bomb gets 413, an unknown coding 415), and the gateway's embedded assets are
//! served precompressed. The edge's own bounds under HTTP/2 are tested in crates/edge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use e2e_tests::version::VersionService;
use e2e_tests::{Gateway, backends, error_codes};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::http::{HeaderMap, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use test_support::codings::{gunzip, gzip, unbrotli};

/// A query whose answer is well above the compression threshold (the schema's type names).
const LARGE_QUERY: &str = "{ __schema { types { name description } } }";

/// One request over a fresh h2c connection: status, version, headers and the whole body.
async fn h2c(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Version, HeaderMap, Bytes) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{address}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.version, parts.headers, body)
}

/// `body` decoded from the response's `Content-Encoding` (none: as it is).
fn decoded(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        None => body.to_vec(),
        Some("gzip") => gunzip(body),
        Some("br") => unbrotli(body),
        Some(other) => panic!("unexpected coding {other}"),
    }
}

/// 50 MB of zeros, gzipped (about 50 KB).
fn zip_bomb() -> Vec<u8> {
    gzip(&vec![0u8; 50 * 1024 * 1024])
}

#[tokio::test]
async fn both_services_answer_graphql_over_h2c_compressed_as_asked() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let authorization = gateway.admin_authorization();
        let query = json!({ "query": LARGE_QUERY }).to_string();
        // The plain answer, over HTTP/1.1.
        let plain = gateway
            .client()
            .post(gateway.url("/graphql"))
            .header("authorization", &authorization)
            .header("content-type", "application/json")
            .body(query.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(plain.version(), reqwest::Version::HTTP_11);
        let plain = plain.bytes().await.unwrap();
        let answer: Value = serde_json::from_slice(&plain).unwrap();
        assert!(answer["data"]["__schema"]["types"].is_array(), "{answer}");
        assert!(plain.len() > 4096, "large enough to compress");

        for accept in ["", "gzip", "br", "gzip, deflate, br"] {
            let mut headers = vec![
                ("authorization", authorization.as_str()),
                ("content-type", "application/json"),
            ];
            if !accept.is_empty() {
                headers.push(("accept-encoding", accept));
            }
            let (status, version, headers, body) = h2c(
                gateway.address,
                "POST",
                "/graphql",
                &headers,
                query.clone().into_bytes(),
            )
            .await;
            assert_eq!((status, version), (StatusCode::OK, Version::HTTP_2));
            let expected = match accept {
                "" => None,
                "gzip" => Some("gzip"),
                _ => Some("br"),
            };
            assert_eq!(
                headers.get("content-encoding").map(|v| v.to_str().unwrap()),
                expected,
                "{backend:?} {accept}"
            );
            // The answer's own (docs/operations.md, "Cache hints"), then the compression's.
            let vary: Vec<&str> = headers
                .get_all("vary")
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            assert_eq!(vary, ["accept, authorization, cookie", "accept-encoding"]);
            assert!(headers.get("x-request-id").is_some());
            assert_eq!(
                decoded(&headers, &body),
                plain,
                "{backend:?} {accept}: byte for byte the plain answer"
            );
        }

        // The version service (its subgraph SDL is large too).
        let version = VersionService::start(backend, None).await;
        let sdl = json!({ "query": "{ _service { sdl } }" }).to_string();
        let (status, version_used, headers, body) = h2c(
            version.address,
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("accept-encoding", "br"),
            ],
            sdl.into_bytes(),
        )
        .await;
        assert_eq!((status, version_used), (StatusCode::OK, Version::HTTP_2));
        assert_eq!(headers["content-encoding"], "br");
        let answer: Value = serde_json::from_slice(&decoded(&headers, &body)).unwrap();
        assert!(
            answer["data"]["_service"]["sdl"]
                .as_str()
                .is_some_and(|sdl| sdl.contains("type UsagePing")),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn request_bodies_in_gzip_are_read_and_zip_bombs_get_413_on_both_services() {
    let gateway = Gateway::start(e2e_tests::Backend::Sqlite).await;
    let version = VersionService::start(e2e_tests::Backend::Sqlite, None).await;
    let bomb = zip_bomb();
    let client = gateway.client();
    let post = |url: String, coding: &'static str, body: Vec<u8>| {
        client
            .post(url)
            .header("authorization", gateway.admin_authorization())
            .header("content-type", "application/json")
            .header("content-encoding", coding)
            .body(body)
            .send()
    };
    let query = json!({ "query": "{ customers { totalCount } }" }).to_string();
    let ping = json!({
        "uuid": "gzipped-ping", "hostname": "gzip.example.com",
        "recorded_at": chrono::Utc::now().to_rfc3339(),
    })
    .to_string();

    // Compressed requests are read as the plain ones.
    let answer = post(gateway.url("/graphql"), "gzip", gzip(query.as_bytes()))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["data"]["customers"]["totalCount"], 0, "{answer}");
    let version_graphql = format!("http://{}/graphql", version.address);
    let usage_data = format!("http://{}/usage_data", version.address);
    let answer = post(
        version_graphql.clone(),
        "gzip",
        gzip(br#"{"query":"{ __typename }"}"#),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let stored = post(usage_data.clone(), "gzip", gzip(ping.as_bytes()))
        .await
        .unwrap();
    assert_eq!(stored.status(), StatusCode::CREATED);

    // A zip bomb is cut at each body limit: 413 with the coded body.
    for url in [
        gateway.url("/graphql"),
        version_graphql.clone(),
        usage_data.clone(),
    ] {
        let refused = post(url.clone(), "gzip", bomb.clone()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE, "{url}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(error_codes(&body), ["REQUEST_TOO_LARGE"], "{url}: {body}");
    }
    // Over HTTP/2 too.
    let (status, _, _, body) = h2c(
        gateway.address,
        "POST",
        "/graphql",
        &[
            ("authorization", &gateway.admin_authorization()),
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        bomb,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error_codes(&body), ["REQUEST_TOO_LARGE"]);

    // A coding the services do not take: 415, saying which they do.
    for url in [gateway.url("/graphql"), version_graphql, usage_data] {
        let refused = post(url.clone(), "zstd", query.clone().into_bytes())
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{url}"
        );
        assert_eq!(refused.headers()["accept-encoding"], "gzip, br");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(error_codes(&body), ["UNSUPPORTED_MEDIA_TYPE"], "{url}");
    }
}

#[tokio::test]
async fn the_gateways_assets_are_served_precompressed() {
    let gateway = Gateway::start(e2e_tests::Backend::Sqlite).await;
    for path in [
        "/assets/explorer/graphiql@3.8.3/graphiql.min.js",
        "/assets/dashboard.js",
    ] {
        let (status, _, headers, plain) = h2c(gateway.address, "GET", path, &[], Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.get("content-encoding").is_none());
        for coding in ["br", "gzip"] {
            let mut answers = Vec::new();
            for _ in 0..2 {
                let (status, _, headers, body) = h2c(
                    gateway.address,
                    "GET",
                    path,
                    &[("accept-encoding", coding)],
                    Vec::new(),
                )
                .await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(headers["content-encoding"], coding, "{path}");
                assert_eq!(headers["vary"], "accept-encoding");
                assert_eq!(headers["x-content-type-options"], "nosniff");
                // Made once and sent with its length (a response compressed on the fly has
                // none).
                assert_eq!(
                    headers["content-length"].to_str().unwrap(),
                    body.len().to_string(),
                    "{path} {coding}"
                );
                assert!(body.len() < plain.len() / 2, "{path} {coding}");
                assert_eq!(decoded(&headers, &body), plain, "{path} {coding}");
                answers.push(body);
            }
            assert_eq!(answers[0], answers[1]);
        }
    }
}
