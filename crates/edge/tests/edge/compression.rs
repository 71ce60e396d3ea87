//! Compression both ways: answers in gzip or brotli as `Accept-Encoding` asks (decoded, byte
//! for byte the plain answer), never for tiny ones; request bodies in gzip or brotli read
//! decompressed, their decompressed size bounded (a zip bomb gets 413), other codings 415,
//! broken ones 400; static assets served precompressed.

use axum::body::Bytes;
use axum::http::StatusCode;
use edge::ServerConfig;
use test_support::codings::{brotli, gunzip, gzip, unbrotli};

use crate::support::{ASSET, ECHO_LIMIT, Http, Server, code, empty, exchange, full, text};

#[tokio::test]
async fn answers_are_compressed_as_asked_and_decode_to_the_plain_answer() {
    let server = Server::start(ServerConfig::default()).await;
    for http in [Http::One, Http::Two] {
        let get = |accept: &'static str| async move {
            let headers: &[(&str, &str)] = if accept.is_empty() {
                &[]
            } else {
                &[("accept-encoding", accept)]
            };
            exchange(server.address, http, "GET", "/text", headers, empty()).await
        };
        let (status, headers, plain) = get("").await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.get("content-encoding").is_none());
        assert_eq!(plain, text(40 * 1024).as_bytes());

        for (accept, coding) in [
            ("gzip", "gzip"),
            ("br", "br"),
            ("gzip, deflate, br", "br"),
            ("br;q=0.5, gzip", "gzip"),
            ("deflate", ""),
        ] {
            let (status, headers, body) = get(accept).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers["vary"], "accept-encoding", "{http:?} {accept}");
            let decoded = match coding {
                "gzip" => gunzip(&body),
                "br" => unbrotli(&body),
                _ => body.to_vec(),
            };
            let given = headers
                .get("content-encoding")
                .map_or("", |v| v.to_str().unwrap());
            assert_eq!(given, coding, "{http:?} {accept}");
            assert_eq!(decoded, plain, "{http:?} {accept}: byte for byte");
            if !coding.is_empty() {
                assert!(
                    body.len() < plain.len() / 4,
                    "{http:?} {accept}: compressed"
                );
            }
        }

        // Tiny answers are never compressed (and do not vary).
        let (_, headers, body) = exchange(
            server.address,
            http,
            "GET",
            "/hello",
            &[("accept-encoding", "gzip, br")],
            empty(),
        )
        .await;
        assert!(headers.get("content-encoding").is_none());
        assert!(headers.get("vary").is_none());
        assert_eq!(&body[..], b"hello");
    }

    // Compression switched off.
    let plain_server = Server::start(ServerConfig {
        compression: false,
        ..ServerConfig::default()
    })
    .await;
    let (_, headers, _) = exchange(
        plain_server.address,
        Http::One,
        "GET",
        "/text",
        &[("accept-encoding", "gzip")],
        empty(),
    )
    .await;
    assert!(headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn request_bodies_are_read_decompressed_and_bounded_by_the_body_limit() {
    let server = Server::start(ServerConfig::default()).await;
    let plain = text(10 * 1024);
    // 50 MB of zeros: about 50 KB gzipped, 40 bytes in brotli.
    let bomb = vec![0u8; 50 * 1024 * 1024];
    let (gzip_bomb, brotli_bomb) = (gzip(&bomb), brotli(&bomb));
    drop(bomb);
    for http in [Http::One, Http::Two] {
        let post = |coding: &'static str, body: Vec<u8>| async move {
            let headers: &[(&str, &str)] = &[
                ("content-type", "application/json"),
                ("content-encoding", coding),
            ];
            exchange(
                server.address,
                http,
                "POST",
                "/echo",
                headers,
                full(Bytes::from(body)),
            )
            .await
        };
        for (coding, body) in [
            ("gzip", gzip(plain.as_bytes())),
            ("GZip", gzip(plain.as_bytes())),
            ("br", brotli(plain.as_bytes())),
            ("identity", plain.clone().into_bytes()),
        ] {
            let (status, _, echoed) = post(coding, body).await;
            assert_eq!(status, StatusCode::OK, "{http:?} {coding}");
            assert_eq!(echoed, plain.as_bytes(), "{http:?} {coding}");
        }
        for (coding, bomb) in [("gzip", &gzip_bomb), ("br", &brotli_bomb)] {
            assert!(bomb.len() < ECHO_LIMIT, "the bomb itself is small");
            let (status, _, body) = post(coding, bomb.clone()).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{http:?} {coding}");
            assert_eq!(code(&body), "REQUEST_TOO_LARGE");
        }
        for coding in ["deflate", "zstd", "gzip, br"] {
            let (status, headers, body) = post(coding, plain.clone().into_bytes()).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{http:?} {coding}"
            );
            assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
            assert_eq!(headers["accept-encoding"], "gzip, br");
        }
        let (status, _, body) = post("gzip", b"this is not gzip at all".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{http:?}");
        assert_eq!(code(&body), "BAD_REQUEST");
    }
}

#[tokio::test]
async fn assets_are_served_precompressed_with_their_length() {
    let server = Server::start(ServerConfig::default()).await;
    for http in [Http::One, Http::Two] {
        let mut seen = Vec::new();
        for (accept, coding) in [("br", "br"), ("gzip", "gzip"), ("br", "br"), ("", "")] {
            let headers: &[(&str, &str)] = if accept.is_empty() {
                &[]
            } else {
                &[("accept-encoding", accept)]
            };
            let (status, headers, body) =
                exchange(server.address, http, "GET", "/asset", headers, empty()).await;
            assert_eq!(status, StatusCode::OK);
            let given = headers
                .get("content-encoding")
                .map_or("", |v| v.to_str().unwrap());
            assert_eq!(given, coding, "{http:?} {accept}");
            assert_eq!(headers["vary"], "accept-encoding");
            assert_eq!(headers["content-type"], "text/css");
            // Sent with its length: made once, not compressed on the fly.
            assert_eq!(
                headers["content-length"].to_str().unwrap(),
                body.len().to_string()
            );
            let decoded = match coding {
                "br" => unbrotli(&body),
                "gzip" => gunzip(&body),
                _ => body.to_vec(),
            };
            assert_eq!(decoded, ASSET.bytes());
            seen.push(body);
        }
        assert_eq!(seen[0], seen[2], "the same brotli bytes each time");
    }
}
