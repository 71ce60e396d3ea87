//! The gateway as an HTTP service, end to end, in two parts: `semantics`, GraphQL over HTTP
//! as the runtime serves it (status codes, media types, GET/POST rules, batches, request
//! limits each with its code and refused before any SQL, persisted queries and the safelist,
//! internal errors that leak nothing, metrics, selection order); `edges`, what happens at the
//! edges of both servers (slow and half-sent requests, connection caps, request ids, `/ready`,
//! CORS, shutdown, a failing, slow, huge or restarting version service).
//!
//! This file holds what both parts use.

mod edges;
mod semantics;

use e2e_tests::Gateway;
use serde_json::Value;

pub(crate) const GQL: &str = "application/graphql-response+json";
pub(crate) const QUERY: &str = "{ customers { totalCount } }";

pub(crate) fn bearer(gateway: &Gateway) -> String {
    format!("Bearer {}", gateway.token(&["admin"], &[]))
}

/// POSTs `body` (already serialised) with `content_type` and `accept`.
pub(crate) async fn post_raw(
    gateway: &Gateway,
    content_type: &str,
    accept: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = gateway
        .client()
        .post(gateway.url("/graphql"))
        .header("authorization", bearer(gateway))
        .header("content-type", content_type)
        .body(body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

pub(crate) async fn post(
    gateway: &Gateway,
    accept: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    post_raw(gateway, "application/json", accept, body.to_string()).await
}

pub(crate) async fn get(
    gateway: &Gateway,
    accept: Option<&str>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = gateway
        .client()
        .get(gateway.url("/graphql"))
        .header("authorization", bearer(gateway))
        .query(params);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

pub(crate) fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Status, content type and JSON body.
pub(crate) async fn parts(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = content_type(&response);
    let body = response.json().await.unwrap();
    (status, content_type, body)
}

pub(crate) fn sample(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.last().map_or(0.0, |b| b.count)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
}

pub(crate) async fn scrape(gateway: &Gateway) -> prometheus_parse::Scrape {
    let response = gateway
        .client()
        .get(gateway.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).unwrap()
}

/// Seeds the demo story (customer 1 with licenses and hostnames), with usage pings in
/// `version_db` when given.
pub(crate) async fn seed_story(
    gateway: &Gateway,
    version_db: Option<&sea_orm::DatabaseConnection>,
) {
    let options = seed::SeedOptions {
        customers: 3,
        seed: 7,
        today: chrono::Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, version_db, &options)
        .await
        .unwrap();
}
