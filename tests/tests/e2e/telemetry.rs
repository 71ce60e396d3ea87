//! What composing gateways, caches and operators see of the gateway besides its data: the
//! field-usage counter in `/metrics`, the cache hints of every kind of answer, and the
//! gateway's calls to the version service over h2c when configured so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway, backends};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICE_TOKEN: &str = "test-only-service-token";

async fn scrape(gateway: &Gateway) -> (reqwest::header::HeaderMap, prometheus_parse::Scrape) {
    let response = gateway
        .client()
        .get(gateway.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    (headers, prometheus_parse::Scrape::parse(lines).unwrap())
}

/// `licensedot_graphql_field_usage_total` of `type_name.field`.
fn usage(scrape: &prometheus_parse::Scrape, type_name: &str, field: &str) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "licensedot_graphql_field_usage_total"
                && s.labels.get("type") == Some(type_name)
                && s.labels.get("field") == Some(field)
        })
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

#[tokio::test]
async fn metrics_count_the_schema_fields_each_operation_selects() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let (headers, before) = scrape(&gateway).await;
        assert_eq!(headers["cache-control"], "no-store");
        // Every field of the schema has its counter from the start: unread ones show as 0.
        assert_eq!(usage(&before, "Query", "customers"), Some(0.0));
        assert_eq!(usage(&before, "Contact", "email"), Some(0.0));
        assert_eq!(usage(&before, "Customer", "nope"), None);

        // `name` twice in one operation (directly and through a fragment) counts once.
        let query = "{ customers(first: 2) { totalCount nodes { name ...C licenses { plan } } } }
                     fragment C on Customer { name }";
        for _ in 0..2 {
            let body = gateway.query(query, json!({})).await;
            assert!(body["errors"].is_null(), "{backend:?}: {body}");
        }
        // Refused by validation: it ran nothing, so it counts nothing.
        let refused = gateway.query("{ customers { nope } }", json!({})).await;
        assert!(!refused["errors"].is_null());

        let (_, after) = scrape(&gateway).await;
        for (type_name, field) in [
            ("Query", "customers"),
            ("CustomerConnection", "totalCount"),
            ("CustomerConnection", "nodes"),
            ("Customer", "name"),
            ("Customer", "licenses"),
            ("License", "plan"),
        ] {
            assert_eq!(
                usage(&after, type_name, field),
                Some(2.0),
                "{backend:?}: {type_name}.{field}"
            );
        }
        assert_eq!(usage(&after, "Contact", "email"), Some(0.0));
    }
}

/// `Cache-Control` and every `Vary` value of `response`.
fn hints(response: &reqwest::Response) -> (String, Vec<String>) {
    let headers = response.headers();
    let cache = headers
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let vary = headers
        .get_all("vary")
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
        })
        .collect();
    (cache, vary)
}

const PRIVATE_VARY: [&str; 3] = ["accept", "authorization", "cookie"];

#[tokio::test]
async fn every_answer_says_how_it_may_be_cached() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    let admin = gateway.admin_authorization();
    let client = gateway.client();
    let graphql = |body: Value, authorization: Option<&str>| {
        let mut request = client.post(gateway.url("/graphql")).json(&body);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send()
    };

    // Data, the schema (introspection needs a token here) and a refusal: the caller's own.
    for (body, authorization, status) in [
        (
            json!({"query": "{ customers { totalCount } }"}),
            Some(admin.as_str()),
            200,
        ),
        (
            json!({"query": "{ __schema { queryType { name } } }"}),
            Some(admin.as_str()),
            200,
        ),
        (json!({"query": "{ customers { totalCount } }"}), None, 401),
    ] {
        let response = graphql(body, authorization).await.unwrap();
        assert_eq!(response.status(), status);
        let (cache, vary) = hints(&response);
        assert_eq!(cache, "private, no-store");
        assert_eq!(vary, PRIVATE_VARY);
    }
    // A large answer is compressed, and varies with Accept-Encoding too.
    let response = client
        .post(gateway.url("/graphql"))
        .header("authorization", &admin)
        .header("accept-encoding", "gzip")
        .json(&json!({"query": "{ __schema { types { name description } } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let (cache, vary) = hints(&response);
    assert_eq!(cache, "private, no-store");
    assert_eq!(
        vary,
        ["accept", "authorization", "cookie", "accept-encoding"]
    );

    // A CSV export is the caller's own data too; operations answers are never stored.
    let export = client
        .get(gateway.url("/export/trials.csv?from=2026-01-01&to=2026-01-31&groupBy=month"))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(
        hints(&export),
        (
            "private, no-store".to_owned(),
            vec!["authorization".to_owned(), "cookie".to_owned()]
        )
    );
    for path in ["/health", "/ready", "/metrics"] {
        let response = client.get(gateway.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }

    // A public schema: an answer that asks only for it is the same for everyone.
    let public = Gateway::start_with(Backend::Sqlite, |config| {
        config.auth.introspection_requires_token = false;
    })
    .await;
    let response = public
        .client()
        .get(public.url("/graphql"))
        .query(&[("query", "{ __schema { queryType { name } } __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        hints(&response),
        ("public, max-age=300".to_owned(), vec!["accept".to_owned()])
    );
    // ... but not with data beside it, nor an answer with errors.
    let token = public.admin_authorization();
    for query in [
        "{ __schema { queryType { name } } customers { totalCount } }",
        "{ __type(name: 1) { name } }",
    ] {
        let response = public
            .client()
            .get(public.url("/graphql"))
            .header("authorization", &token)
            .query(&[("query", query)])
            .send()
            .await
            .unwrap();
        assert_eq!(hints(&response).0, "private, no-store", "{query}");
    }
}

/// A TCP forwarder to `upstream` that keeps the first bytes each connection sends.
async fn recording_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let recorded = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                // At least the length of the HTTP/2 preface, however the bytes arrive.
                let mut first = Vec::new();
                let mut chunk = [0; 64];
                while first.len() < 24 {
                    match client.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => first.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock().unwrap().push(first.clone());
                if server.write_all(&first).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (address, recorded)
}

const USAGE: &str = r#"{
  hostname(name: "acmeinc.ninja") { name lastUsagePingAt latestUsagePing { version edition activeUserCount } usagePings(last: 3) { recordedAt } }
  customers(search: "acme") { nodes { name licenses { id reportingHosts { name current lastUsagePingAt } utilization { maxActiveUsers } } } }
}"#;

/// With `http2_prior_knowledge`, the gateway's calls to the version service are HTTP/2 with
/// prior knowledge (the preface starts every connection) and answer exactly what HTTP/1.1
/// calls answer.
#[tokio::test]
async fn the_gateway_calls_the_version_service_over_h2c_when_configured() {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    for backend in backends() {
        let version = VersionService::start(backend, Some(SERVICE_TOKEN)).await;
        let mut answers = Vec::new();
        for http2 in [false, true] {
            let (proxy, seen) = recording_proxy(version.address).await;
            let gateway = Gateway::start_with(backend, |config| {
                config.version_service.url = format!("http://{proxy}/graphql");
                config.version_service.service_token = Some(SERVICE_TOKEN.to_owned());
                config.version_service.http2_prior_knowledge = http2;
            })
            .await;
            let options = seed::SeedOptions {
                customers: 3,
                seed: 7,
                today: chrono::Utc::now().date_naive(),
                include_demo_story: true,
            };
            // The usage pings once; the license data in each gateway's own database.
            let version_db = (!http2).then_some(&version.state.db);
            seed::seed(&gateway.state.db, version_db, &options)
                .await
                .unwrap();
            let body = gateway
                .post_graphql(
                    Some(&gateway.admin_authorization()),
                    &json!({"query": USAGE}),
                )
                .await
                .text()
                .await
                .unwrap();
            let parsed: Value = serde_json::from_str(&body).unwrap();
            assert!(
                parsed["errors"].is_null(),
                "{backend:?} h2c {http2}: {body}"
            );
            assert!(
                parsed["data"]["hostname"]["lastUsagePingAt"].is_string(),
                "usage came through: {body}"
            );
            let seen = seen.lock().unwrap().clone();
            assert!(!seen.is_empty(), "the gateway called the version service");
            for first in &seen {
                if http2 {
                    assert!(
                        first.starts_with(PREFACE),
                        "{:?}",
                        String::from_utf8_lossy(first)
                    );
                } else {
                    assert!(
                        first.starts_with(b"POST /graphql HTTP/1.1"),
                        "{:?}",
                        String::from_utf8_lossy(first)
                    );
                }
            }
            answers.push(body);
        }
        assert_eq!(
            answers[0], answers[1],
            "{backend:?}: HTTP/1.1 and h2c answer alike"
        );
    }
}
