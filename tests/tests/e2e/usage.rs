//! Usage fields end to end: the real gateway and the real version service on port 0, each on a
//! fresh database (SQLite, and PostgreSQL with TEST_DATABASE_URL), and the failure modes of the
//! version service with a stand-in that misbehaves on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway, backends, error_codes};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

const SERVICE_TOKEN: &str = "test-only-service-token";

const DASHBOARD: &str = r#"query($id: ID!) { customer(id: $id) { name
    licenses { id status usersCount contact { name email }
      hostnames { name lastUsagePingAt latestUsagePing { version edition activeUserCount } usagePings(last: 3) { recordedAt } }
      reportingHosts { name attached lastUsagePingAt latestUsagePing { version activeUserCount } }
      utilization { licensedUsers maxActiveUsers ratio overLicensed reportingServers }
      serverHealth { name attached health } } } }"#;

/// A gateway wired to a real version service, both on fresh databases of `backend`.
async fn pair(backend: Backend) -> (Gateway, VersionService) {
    pair_with(backend, |_| {}).await
}

/// [`pair`], with the gateway's configuration adjusted by `configure`.
async fn pair_with(
    backend: Backend,
    configure: impl FnOnce(&mut gateway::Config),
) -> (Gateway, VersionService) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let gateway = Gateway::start_with(backend, |config| {
        config.version_service.url = url;
        config.version_service.service_token = Some(SERVICE_TOKEN.to_owned());
        configure(config);
    })
    .await;
    // The version service verifies pings against the gateway's license database.
    let licenses = gateway.db.url.clone();
    let version = VersionService::start_on(listener, backend, Some(SERVICE_TOKEN), |config| {
        config.license_database_url = Some(licenses);
    })
    .await;
    (gateway, version)
}

#[tokio::test]
async fn a_dashboard_makes_one_upstream_call_whatever_the_number_of_licenses() {
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let today = Utc::now().date_naive();
        let mut figures = Vec::new();
        for (i, size) in [1u32, 10, 100].into_iter().enumerate() {
            let name = format!("Scale {size}");
            let id = seed::seed_customer_with_licenses(
                &gateway.state.db,
                Some(&version.state.db),
                &name,
                size,
                i as u64,
                today,
            )
            .await
            .unwrap();
            let (calls, gateway_sql, version_sql) = (
                version.entities_calls(),
                gateway.statements(),
                version.statements(),
            );
            let response = gateway
                .query(DASHBOARD, json!({"id": id.to_string()}))
                .await;
            assert!(response["errors"].is_null(), "{backend:?}: {response}");
            let licenses = response["data"]["customer"]["licenses"].as_array().unwrap();
            assert_eq!(licenses.len(), size as usize);
            let pinged = licenses
                .iter()
                .flat_map(|l| l["hostnames"].as_array().unwrap())
                .filter(|h| !h["latestUsagePing"].is_null())
                .count();
            assert!(pinged > 0, "usage reached the dashboard: {response}");
            assert!(
                licenses.iter().all(|l| l["serverHealth"].is_array()),
                "{backend:?}: server health answered in the same call: {response}"
            );
            figures.push((
                size,
                version.entities_calls() - calls,
                gateway.statements() - gateway_sql,
                version.statements() - version_sql,
            ));
        }
        println!("{backend:?}: (licenses, upstream calls, gateway SQL, version SQL) = {figures:?}");
        assert!(
            figures.iter().all(|f| f.1 == 1),
            "{backend:?}: exactly one upstream call each: {figures:?}"
        );
        assert!(
            figures.iter().all(|f| f.2 == figures[0].2),
            "{backend:?}: gateway SQL constant: {figures:?}"
        );
        assert!(
            figures.iter().all(|f| f.3 == figures[0].3),
            "{backend:?}: version SQL constant: {figures:?}"
        );
    }
}

#[tokio::test]
async fn batches_above_the_key_cap_are_split_into_concurrent_calls() {
    let version = VersionService::start(Backend::Sqlite, None).await;
    let url = version.graphql_url();
    let gateway = Gateway::start_with(Backend::Sqlite, |config| {
        config.version_service.url = url;
        config.version_service.max_keys_per_call = 5;
    })
    .await;
    let today = Utc::now().date_naive();
    let id = seed::seed_customer_with_licenses(
        &gateway.state.db,
        Some(&version.state.db),
        "Split",
        10,
        3,
        today,
    )
    .await
    .unwrap();
    let before = version.entities_calls();
    let response = gateway
        .query(DASHBOARD, json!({"id": id.to_string()}))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let licenses = response["data"]["customer"]["licenses"].as_array().unwrap();
    let mut hostnames: Vec<&str> = licenses
        .iter()
        .flat_map(|l| l["hostnames"].as_array().unwrap())
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    hostnames.sort_unstable();
    hostnames.dedup();
    let keys = licenses.len() + hostnames.len();
    assert_eq!(
        version.entities_calls() - before,
        keys.div_ceil(5) as u64,
        "{keys} keys in calls of at most 5"
    );
}

#[tokio::test]
async fn acme_shows_latest_pings_reporting_hosts_and_the_unattached_server() {
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let options = seed::SeedOptions {
            customers: 10,
            seed: 7,
            today: Utc::now().date_naive(),
            include_demo_story: true,
        };
        seed::seed(&gateway.state.db, Some(&version.state.db), &options)
            .await
            .unwrap();

        let response = gateway.query(DASHBOARD, json!({"id": "1"})).await;
        assert!(response["errors"].is_null(), "{backend:?}: {response}");
        let licenses = response["data"]["customer"]["licenses"].as_array().unwrap();
        let paid = licenses
            .iter()
            .find(|l| l["status"] == "ACTIVE")
            .expect("the active paid license");
        let host = &paid["hostnames"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "gitlab.acmeinc.com")
            .unwrap();
        assert!(host["lastUsagePingAt"].is_string(), "{host}");
        assert!(host["latestUsagePing"]["version"].is_string(), "{host}");
        assert_eq!(host["usagePings"].as_array().unwrap().len(), 3);
        let reporting = paid["reportingHosts"].as_array().unwrap();
        let ninja = reporting
            .iter()
            .find(|h| h["name"] == "acmeinc.ninja")
            .unwrap_or_else(|| panic!("{reporting:?}"));
        assert_eq!(
            ninja["attached"], false,
            "acmeinc.ninja reports the license without being attached"
        );
        let attached = reporting
            .iter()
            .find(|h| h["name"] == "gitlab.acmeinc.com")
            .unwrap();
        assert_eq!(attached["attached"], true);
        let utilization = &paid["utilization"];
        assert_eq!(utilization["licensedUsers"], paid["usersCount"]);
        assert!(
            utilization["maxActiveUsers"].as_i64().unwrap() > 0,
            "{utilization}"
        );
        assert!(
            utilization["reportingServers"].as_i64().unwrap() >= 2,
            "{utilization}"
        );

        // The reverse: from a server nobody attached to its license and customer.
        let reverse = gateway
            .query(
                r#"{ hostname(name: "AcmeInc.Ninja") { name known licenses { id } lastUsagePingAt
                     reportedLicense { id customer { name } } } }"#,
                json!({}),
            )
            .await;
        assert!(reverse["errors"].is_null(), "{reverse}");
        let ninja = &reverse["data"]["hostname"];
        assert_eq!(ninja["known"], false);
        assert_eq!(ninja["reportedLicense"]["id"], paid["id"]);
        assert_eq!(ninja["reportedLicense"]["customer"]["name"], "Acme Inc");
    }
}

/// How the stand-in version service misbehaves.
#[derive(Clone, Copy)]
enum Misbehaviour {
    Slow,
    Garbage,
    ServerError,
    GraphqlError,
}

/// A stand-in version service that misbehaves as told and counts its calls.
async fn misbehaving(mode: Misbehaviour) -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/graphql",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                match mode {
                    Misbehaviour::Slow => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        (StatusCode::OK, "{}".to_owned())
                    }
                    Misbehaviour::Garbage => (StatusCode::OK, "<html>surprise</html>".to_owned()),
                    Misbehaviour::ServerError => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned())
                    }
                    Misbehaviour::GraphqlError => (
                        StatusCode::OK,
                        json!({"data": null, "errors": [{"message": "database is on fire"}]})
                            .to_string(),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/graphql"), hits)
}

/// An address nothing listens on.
async fn dead_address() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A gateway with the demo story whose version service is at `url`.
async fn gateway_with_upstream(url: String, timeout_ms: u64, breaker_failures: u32) -> Gateway {
    let gateway = Gateway::start_with(Backend::Sqlite, |config| {
        config.version_service.url = url;
        config.version_service.timeout_ms = timeout_ms;
        config.version_service.breaker_failures = breaker_failures;
        // No probe within the test: an open circuit stays open.
        config.version_service.breaker_probe_after_ms = 60_000;
    })
    .await;
    let options = seed::SeedOptions {
        customers: 3,
        seed: 7,
        today: Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();
    gateway
}

/// Asks the dashboard query; checks the license data is whole and every usage field is null
/// with an error carrying `code` and a path into the response.
async fn assert_partial(gateway: &Gateway, code: &str) -> Value {
    let response = gateway.query(DASHBOARD, json!({"id": "1"})).await;
    let licenses = response["data"]["customer"]["licenses"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert!(
        licenses.len() >= 2,
        "license data still comes back: {response}"
    );
    for license in licenses {
        assert!(license["status"].is_string() && license["contact"]["email"].is_string());
        assert!(
            license["reportingHosts"].is_null() && license["utilization"].is_null(),
            "{license}"
        );
        for host in license["hostnames"].as_array().unwrap() {
            assert!(host["name"].is_string());
            assert!(host["latestUsagePing"].is_null() && host["lastUsagePingAt"].is_null());
        }
    }
    let codes = error_codes(&response);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == code),
        "all errors are {code}: {codes:?}"
    );
    for error in response["errors"].as_array().unwrap() {
        let path = error["path"]
            .as_array()
            .unwrap_or_else(|| panic!("error without path: {error}"));
        assert_eq!(path[0], "customer");
        assert_eq!(path[1], "licenses");
    }
    response
}

#[tokio::test]
async fn a_dead_version_service_leaves_license_data_whole() {
    let gateway =
        gateway_with_upstream(format!("http://{}/graphql", dead_address().await), 1000, 0).await;
    let started = Instant::now();
    assert_partial(&gateway, "UPSTREAM_UNAVAILABLE").await;
    println!(
        "dashboard with the version service down answered in {:?}",
        started.elapsed()
    );
    let health = gateway
        .client()
        .get(gateway.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        200,
        "a dead version service never fails /health"
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
    assert_eq!(ready["licenseDatabase"], "up");
    assert_eq!(ready["versionService"], "down", "{ready}");
}

#[tokio::test]
async fn a_slow_version_service_costs_no_more_than_the_timeout() {
    let (url, _) = misbehaving(Misbehaviour::Slow).await;
    let gateway = gateway_with_upstream(url, 300, 0).await;
    let started = Instant::now();
    assert_partial(&gateway, "UPSTREAM_TIMEOUT").await;
    let elapsed = started.elapsed();
    println!("dashboard with a 5 s version service and a 300 ms timeout answered in {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "bounded by the timeout, not the 5 s upstream: {elapsed:?}"
    );
}

#[tokio::test]
async fn garbage_and_errors_from_the_version_service_are_partial_failures() {
    for (mode, code) in [
        (Misbehaviour::Garbage, "UPSTREAM_BAD_RESPONSE"),
        (Misbehaviour::ServerError, "UPSTREAM_UNAVAILABLE"),
        (Misbehaviour::GraphqlError, "UPSTREAM_ERROR"),
    ] {
        let (url, _) = misbehaving(mode).await;
        let gateway = gateway_with_upstream(url, 1000, 0).await;
        assert_partial(&gateway, code).await;
    }
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures() {
    let (url, hits) = misbehaving(Misbehaviour::ServerError).await;
    let gateway = gateway_with_upstream(url, 1000, 2).await;
    assert_partial(&gateway, "UPSTREAM_UNAVAILABLE").await;
    assert_partial(&gateway, "UPSTREAM_UNAVAILABLE").await;
    let before = hits.load(Ordering::SeqCst);
    assert_partial(&gateway, "UPSTREAM_CIRCUIT_OPEN").await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        before,
        "an open circuit makes no call"
    );
}

#[tokio::test]
async fn the_version_service_refuses_callers_without_the_service_token() {
    let version = VersionService::start(Backend::Sqlite, Some(SERVICE_TOKEN)).await;
    let url = version.graphql_url();
    let gateway = gateway_with_upstream(url, 1000, 0).await;
    // The gateway was not given the token: every usage field fails, the licenses do not.
    assert_partial(&gateway, "UPSTREAM_UNAVAILABLE").await;
}

/// Regression: anyone may post a usage ping naming any server and any license. Customer B
/// posts one under customer A's server name carrying B's own license, then asks for its
/// license's reporting hosts: it must see its own ping only, never A's server's newest ping,
/// and A must keep seeing its own.
#[tokio::test]
async fn a_spoofed_ping_shows_no_other_customers_usage() {
    const QUERY: &str = r#"query($id: ID!) { license(id: $id) { id customer { name }
        reportingHosts { name attached current lastUsagePingAt
          latestUsagePing { activeUserCount counts licenseId licenseSubscriptionId } } } }"#;
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let today = Utc::now().date_naive();
        let options = seed::SeedOptions {
            customers: 3,
            seed: 11,
            today,
            include_demo_story: true,
        };
        seed::seed(&gateway.state.db, Some(&version.state.db), &options)
            .await
            .unwrap();
        let b =
            seed::seed_customer_with_licenses(&gateway.state.db, None, "Beta Corp", 1, 5, today)
                .await
                .unwrap();
        let b_token = gateway.token(&["customer"], &[b]);
        let own = gateway
            .query_as(
                &b_token,
                &format!(
                    r#"{{ customer(id: "{b}") {{ licenses {{ id licenseMd5 licenseSha256 }} }} }}"#
                ),
                json!({}),
            )
            .await;
        let b_license = own["data"]["customer"]["licenses"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{own}"))
            .to_owned();
        let b_sha256 = own["data"]["customer"]["licenses"][0]["licenseSha256"].clone();

        // B's spoofed ping, a day older than the newest ping of A's server: a read of "the
        // host's newest ping" would answer A's.
        let acme = gateway.query(DASHBOARD, json!({"id": "1"})).await;
        let paid = acme["data"]["customer"]["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["status"] == "ACTIVE")
            .unwrap()
            .clone();
        let a_newest = paid["hostnames"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "gitlab.acmeinc.com")
            .and_then(|h| h["lastUsagePingAt"].as_str())
            .unwrap_or_else(|| panic!("{acme}"));
        let spoofed_at =
            chrono::DateTime::parse_from_rfc3339(a_newest).unwrap() - chrono::Duration::days(1);
        let spoof = json!({
            "uuid": "spoofed", "hostname": "gitlab.acmeinc.com",
            "recorded_at": spoofed_at.to_rfc3339(),
            "license_id": b_license.parse::<i64>().unwrap(), "license_sha256": b_sha256,
            "active_user_count": 3, "counts": { "spoofed": 1 }
        });
        let posted = gateway
            .client()
            .post(format!("http://{}/usage_data", version.address))
            .header("content-type", "application/json")
            .body(spoof.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), StatusCode::CREATED, "{backend:?}");

        let seen = gateway
            .query_as(&b_token, QUERY, json!({"id": b_license}))
            .await;
        assert!(seen["errors"].is_null(), "{backend:?}: {seen}");
        let hosts = seen["data"]["license"]["reportingHosts"]
            .as_array()
            .unwrap();
        assert_eq!(hosts.len(), 1, "{backend:?}: {seen}");
        let ping = &hosts[0]["latestUsagePing"];
        assert_eq!(hosts[0]["name"], "gitlab.acmeinc.com");
        assert_eq!(hosts[0]["attached"], false);
        assert_eq!(ping["licenseId"], b_license.as_str(), "{backend:?}: {seen}");
        assert_eq!(ping["activeUserCount"], 3, "{backend:?}: {seen}");
        assert_eq!(
            ping["counts"],
            json!({ "spoofed": 1 }),
            "{backend:?}: {seen}"
        );
        assert!(
            ping["licenseSubscriptionId"].is_null(),
            "A's subscription: {seen}"
        );

        // A still sees its own server's own newest ping under its license.
        let a_view = gateway.query(QUERY, json!({"id": paid["id"]})).await;
        let a_host = a_view["data"]["license"]["reportingHosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "gitlab.acmeinc.com")
            .unwrap_or_else(|| panic!("{a_view}"))
            .clone();
        assert_eq!(
            a_host["latestUsagePing"]["licenseId"], paid["id"],
            "{a_view}"
        );
        assert!(a_host["latestUsagePing"]["licenseSubscriptionId"].is_string());
        assert_ne!(a_host["latestUsagePing"]["activeUserCount"], 3, "{a_view}");
        assert_eq!(a_host["current"], true, "{a_view}");
        // `current` is per installation: B's installation's newest ping carries B's license,
        // whatever A's server sends under the same name (it tells B nothing of A's pings).
        assert_eq!(
            hosts[0]["current"], true,
            "B's ping is its installation's newest"
        );
    }
}

/// `_service { sdl }` of a subgraph endpoint, asked with `authorization`.
async fn subgraph_sdl(url: &str, authorization: &str) -> String {
    let response: Value = reqwest::Client::new()
        .post(url)
        .header("authorization", authorization)
        .json(&json!({"query": "{ _service { sdl } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["data"]["_service"]["sdl"]
        .as_str()
        .unwrap_or_else(|| panic!("no SDL from {url}: {response}"))
        .to_owned()
}

/// `tests/composition`, with its pinned packages installed (`npm ci` from the lockfile when
/// they are not there yet, so the suite's one command is enough on a clean clone).
fn composition_dir() -> std::path::PathBuf {
    // The lockfile's newest addition: an install from an older lockfile lacks it.
    e2e_tests::npm_tool("composition", "@apollo/server")
}

/// The live subgraph SDLs of `gateway` (as `licenses`) and `version` (as `versions`), written
/// to files in a scratch directory that lives as long as the returned handle.
struct SubgraphSdls {
    scratch: tempfile::TempDir,
    licenses: std::path::PathBuf,
    versions: std::path::PathBuf,
}

async fn subgraph_sdls(gateway: &Gateway, version: &VersionService) -> SubgraphSdls {
    let scratch = tempfile::tempdir().unwrap();
    let licenses = scratch.path().join("licenses.graphql");
    let versions = scratch.path().join("versions.graphql");
    let gateway_sdl = subgraph_sdl(&gateway.url("/graphql"), &gateway.admin_authorization()).await;
    let version_sdl =
        subgraph_sdl(&version.graphql_url(), &format!("Bearer {SERVICE_TOKEN}")).await;
    std::fs::write(&licenses, gateway_sdl).unwrap();
    std::fs::write(&versions, version_sdl).unwrap();
    SubgraphSdls {
        scratch,
        licenses,
        versions,
    }
}

/// The hints composition gives, each reviewed: (code, the element it is about; empty for any).
/// A hint not listed fails the composition test, so a new one is read before it is accepted.
const REVIEWED_HINTS: &[(&str, &str)] = &[
    // Each subgraph describes the types it shares in its own words; the supergraph takes the
    // gateway's.
    ("INCONSISTENT_DESCRIPTION", ""),
    // Usage fields are nullable in the gateway on purpose (null, with an error, when the
    // version service cannot be asked), non-null in the version service.
    (
        "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
        "\"Hostname.usagePings\"",
    ),
    (
        "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
        "\"License.reportingHosts\"",
    ),
    (
        "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
        "\"Hostname.installations\"",
    ),
    // `ReportingHost` is the gateway's `name`/`attached` or the version service's `hostname`
    // (docs/architecture.md, "Federation").
    (
        "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD",
        "\"ReportingHost.name\"",
    ),
    (
        "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD",
        "\"ReportingHost.attached\"",
    ),
    (
        "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD",
        "\"ReportingHost.hostname\"",
    ),
];

/// Composes the live SDLs of `gateway` and `version`: the composition's JSON report.
async fn compose(gateway: &Gateway, version: &VersionService) -> Value {
    let sdls = subgraph_sdls(gateway, version).await;
    let dir = composition_dir();
    let output = std::process::Command::new("node")
        .arg(dir.join("compose.mjs"))
        .arg(format!("licenses={}", sdls.licenses.display()))
        .arg(format!("versions={}", sdls.versions.display()))
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("node (Node.js 20+) is needed to check composition: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The `@listSize(...)` on `field`'s line of `sdl`.
fn list_size_of<'a>(sdl: &'a str, field: &str) -> &'a str {
    let line = sdl
        .lines()
        .find(|line| line.trim_start().starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in {sdl}"));
    let at = line.find("@listSize(").unwrap_or_else(|| panic!("{line}"));
    let end = line[at..].find(')').unwrap();
    &line[at..=at + end]
}

/// The two subgraphs compose into one supergraph under Apollo Federation 2 composition
/// (`@apollo/composition`, pinned in tests/composition/package-lock.json), with no error and
/// only reviewed hints, and the supergraph carries the gateway's authorization and cost
/// directives as its SDL states them (what Apollo Router, Cosmo and Hive enforce).
#[tokio::test]
async fn the_gateway_and_the_version_service_compose_into_a_supergraph() {
    let (gateway, version) = pair(Backend::Sqlite).await;
    let result = compose(&gateway, &version).await;
    assert_eq!(result["ok"], true, "composition failed: {result:#}");
    let supergraph = result["supergraph"].as_str().unwrap();
    // Both subgraphs' fields are in the supergraph, joined on the shared entities.
    for field in [
        "reportingHosts",
        "latestUsagePing",
        "licenseMd5",
        "usersCount",
    ] {
        assert!(supergraph.contains(field), "{field} missing: {supergraph}");
    }
    for hint in result["hints"].as_array().unwrap() {
        let hint = hint.as_str().unwrap();
        assert!(
            REVIEWED_HINTS
                .iter()
                .any(|(code, element)| hint.starts_with(&format!("{code}: "))
                    && hint.contains(element)),
            "a hint nobody reviewed: {hint}"
        );
    }
    for link in [
        "@link(url: \"https://specs.apollo.dev/authenticated/v0.1\", for: SECURITY)",
        "@link(url: \"https://specs.apollo.dev/requiresScopes/v0.1\", for: SECURITY)",
        "@link(url: \"https://specs.apollo.dev/cost/v0.1\"",
    ] {
        assert!(supergraph.contains(link), "{link} missing: {supergraph}");
    }
    assert!(supergraph.contains("@requiresScopes(scopes: [[\"support\"], [\"admin\"]])"));
    // The weights outside are the gateway's own, as its limit counts them.
    let own = subgraph_sdl(&gateway.url("/graphql"), &gateway.admin_authorization()).await;
    for field in ["customers(", "auditEvents(first", "hostnames:", "trials("] {
        assert_eq!(
            list_size_of(supergraph, field),
            list_size_of(&own, field),
            "{field}"
        );
    }

    // Without the authorization directives (for Apollo Gateway, which refuses a supergraph
    // with them), the cost directives stay.
    let (gateway, version) = pair_with(Backend::Sqlite, |config| {
        config.federation.authorization_directives = false;
    })
    .await;
    let result = compose(&gateway, &version).await;
    assert_eq!(result["ok"], true, "composition failed: {result:#}");
    let supergraph = result["supergraph"].as_str().unwrap();
    assert!(!supergraph.contains("for: SECURITY"), "{supergraph}");
    assert!(supergraph.contains("https://specs.apollo.dev/cost/v0.1"));
}

/// A reference supergraph: `tests/composition/serve.mjs` (Apollo Gateway 2.14 in Apollo
/// Server 5) composing the live SDLs and calling the live subgraphs. The Node process is
/// killed when this is dropped, a failing test's unwinding included; it also exits by itself
/// when its stdin closes, so it cannot outlive an aborted test process.
struct ReferenceSupergraph {
    child: tokio::process::Child,
    url: String,
    _sdls: SubgraphSdls,
}

impl ReferenceSupergraph {
    /// Serves the supergraph of `gateway` and `version`: the gateway's subgraph gets the
    /// client's `Authorization`, the version service its service token.
    async fn start(gateway: &Gateway, version: &VersionService) -> ReferenceSupergraph {
        let sdls = subgraph_sdls(gateway, version).await;
        let config = sdls.scratch.path().join("supergraph.json");
        let subgraphs = json!({"subgraphs": [
            {"name": "licenses", "url": gateway.url("/graphql"), "sdlFile": sdls.licenses},
            {"name": "versions", "url": version.graphql_url(), "sdlFile": sdls.versions,
             "authorization": format!("Bearer {SERVICE_TOKEN}")},
        ]});
        std::fs::write(&config, subgraphs.to_string()).unwrap();
        let dir = composition_dir();
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("serve.mjs"))
            .arg(&config)
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("node (Node.js 20+) is needed to serve the reference supergraph: {e}")
            });
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("serve.mjs did not start within 60 s"))
            .unwrap();
        let Some(ready) = ready else {
            let status = child.wait().await.unwrap();
            panic!("serve.mjs exited ({status}) before serving; its stderr is above");
        };
        let ready: Value = serde_json::from_str(&ready).unwrap();
        ReferenceSupergraph {
            child,
            url: ready["url"].as_str().unwrap().to_owned(),
            _sdls: sdls,
        }
    }

    /// POSTs `query` with `authorization`; the raw body.
    async fn query(&self, authorization: &str, query: &str) -> String {
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("authorization", authorization)
            .json(&json!({"query": query}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

impl Drop for ReferenceSupergraph {
    fn drop(&mut self) {
        // `kill_on_drop` also kills it; this does it now rather than when tokio next reaps.
        let _ = self.child.start_kill();
    }
}

/// The README's dashboard query ("Ask it") as a supergraph can serve it: all of it (every
/// field the README asks for resolves in the composed graph).
const README_DASHBOARD: &str = r#"{
  customers(search: "acme", first: 5) {
    totalCount
    nodes {
      name
      activeLicense { id plan usersCount expiresAt }
      licenses {
        id plan trial status usersCount issuedAt startsAt expiresAt daysUntilExpiry
        contact { name email }
        licensee { name email company }
        hostnames {
          name
          lastUsagePingAt
          latestUsagePing { version edition activeUserCount historicalMaxUsers }
        }
        reportingHosts { name attached current lastUsagePingAt }
        utilization { licensedUsers maxActiveUsers overLicensed }
      }
    }
  }
}"#;

/// The supergraph answers like the gateway: the README's dashboard query over the demo data,
/// asked of the gateway directly and of Apollo Gateway over the composed supergraph, gives
/// byte-identical bodies (same data, same selection-set order, no errors); and a field only
/// the version service serves comes through it with the same data. Apollo Gateway enforces no
/// authorization directive and refuses a supergraph that has them, so the gateway leaves them
/// out (`[gateway.federation] authorization_directives = false`), as a deployment behind
/// Apollo Gateway does.
#[tokio::test]
async fn the_composed_supergraph_answers_the_readme_query_like_the_gateway() {
    for backend in backends() {
        let (gateway, version) = pair_with(backend, |config| {
            config.federation.authorization_directives = false;
        })
        .await;
        let options = seed::SeedOptions {
            customers: 10,
            seed: 7,
            today: Utc::now().date_naive(),
            include_demo_story: true,
        };
        seed::seed(&gateway.state.db, Some(&version.state.db), &options)
            .await
            .unwrap();
        let supergraph = ReferenceSupergraph::start(&gateway, &version).await;
        let authorization = format!("Bearer {}", gateway.token(&["sales"], &[]));

        let direct = gateway
            .post_graphql(Some(&authorization), &json!({"query": README_DASHBOARD}))
            .await
            .text()
            .await
            .unwrap();
        let through = supergraph.query(&authorization, README_DASHBOARD).await;
        let parsed: Value = serde_json::from_str(&direct).unwrap();
        assert!(parsed["errors"].is_null(), "{backend:?}: {direct}");
        let hosts = parsed["data"]["customers"]["nodes"][0]["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l| l["reportingHosts"].as_array().unwrap())
            .count();
        assert!(hosts > 0, "the demo story has reporting hosts: {direct}");
        // Apollo Server ends its body with a newline; every other byte is the gateway's.
        assert_eq!(
            through.strip_suffix('\n'),
            Some(direct.as_str()),
            "{backend:?}: direct vs supergraph"
        );

        // A field only the version service has (`ReportingHost.hostname`, the gateway's is
        // `name`) is planned through it: License by key from the gateway, then the version
        // service's `_entities` with the `@requires` digests. Same hosts, same order.
        let license = &parsed["data"]["customers"]["nodes"][0]["licenses"][0]["id"];
        let hosts = |field: &str| {
            format!(
                r#"{{ license(id: {license}) {{ id reportingHosts {{ {field} current lastUsagePingAt }} }} }}"#
            )
        };
        let direct = gateway
            .post_graphql(Some(&authorization), &json!({"query": hosts("name")}))
            .await
            .text()
            .await
            .unwrap();
        let calls = version.entities_calls();
        let through = supergraph.query(&authorization, &hosts("hostname")).await;
        assert!(
            version.entities_calls() > calls,
            "the supergraph asked the version service"
        );
        assert!(direct.contains(r#""name":"acmeinc.ninja""#), "{direct}");
        assert_eq!(
            through.strip_suffix('\n'),
            Some(direct.replace(r#""name":"#, r#""hostname":"#).as_str()),
            "{backend:?}: reporting hosts through the version service"
        );
    }
}

/// An upstream failure in the middle of a selection: each usage field is `null` in its place
/// with its own error, the license fields around it keep their values and places.
#[tokio::test]
async fn usage_fields_are_null_in_place_when_the_version_service_fails() {
    let (url, _) = misbehaving(Misbehaviour::ServerError).await;
    let gateway = gateway_with_upstream(url, 1000, 0).await;
    let response = gateway
        .client()
        .post(gateway.url("/graphql"))
        .header("authorization", gateway.admin_authorization())
        .json(&json!({"query": r#"{ hostname(name: "gitlab.acmeinc.com") { name lastUsagePingAt usagePings(last: 1) { recordedAt } known } }"#}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let message = "the version service is unavailable: HTTP status 500 Internal Server Error";
    let error = |column: u32, field: &str| {
        format!(
            r#"{{"message":"{message}","locations":[{{"line":1,"column":{column}}}],"path":["hostname","{field}"],"extensions":{{"code":"UPSTREAM_UNAVAILABLE"}}}}"#
        )
    };
    assert_eq!(
        body,
        format!(
            r#"{{"data":{{"hostname":{{"name":"gitlab.acmeinc.com","lastUsagePingAt":null,"usagePings":null,"known":true}}}},"errors":[{},{}]}}"#,
            error(47, "lastUsagePingAt"),
            error(63, "usagePings")
        )
    );
}

/// The issue's row "usage counters over the answer budget, through the gateway": before, the
/// counters past the budget were `null` with no error. Each now carries `ANSWER_TOO_LARGE` at
/// its own path, and every other field of the server keeps its value.
#[tokio::test]
async fn counters_past_the_answer_budget_arrive_with_answer_too_large_at_their_path() {
    for backend in backends() {
        let version = VersionService::start_with(backend, Some(SERVICE_TOKEN), |config| {
            config.max_counts_bytes = 2_500;
        })
        .await;
        let url = version.graphql_url();
        let gateway = Gateway::start_with(backend, |config| {
            config.version_service.url = url;
            config.version_service.service_token = Some(SERVICE_TOKEN.to_owned());
        })
        .await;
        // About 1.7 kB of counters a ping: one fits the 2500 bytes, the second does not. Sent
        // oldest first: the budget goes to the newest stored.
        let counts: serde_json::Map<String, Value> = (0..100)
            .map(|i| (format!("counter_{i:03}"), json!(i)))
            .collect();
        for day in (1..=3).rev() {
            let ping = json!({
                "uuid": "big", "hostname": "big.example",
                "recorded_at": (Utc::now() - chrono::Duration::days(day)).to_rfc3339(),
                "version": format!("17.{day}.0"), "counts": counts,
            });
            let posted = gateway
                .client()
                .post(format!("http://{}/usage_data", version.address))
                .header("content-type", "application/json")
                .body(ping.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(posted.status(), StatusCode::CREATED, "{backend:?}");
        }
        let response = gateway
            .query(
                r#"{ hostname(name: "big.example") { name lastUsagePingAt
                    usagePings(last: 3) { version counts } } }"#,
                json!({}),
            )
            .await;
        let hostname = &response["data"]["hostname"];
        assert_eq!(hostname["name"], "big.example", "{backend:?}: {response}");
        assert!(hostname["lastUsagePingAt"].is_string(), "{response}");
        let pings = hostname["usagePings"].as_array().unwrap();
        let versions: Vec<&Value> = pings.iter().map(|p| &p["version"]).collect();
        assert_eq!(versions, ["17.1.0", "17.2.0", "17.3.0"], "{response}");
        assert_eq!(pings[0]["counts"]["counter_099"], 99, "{response}");
        assert!(
            pings[1..].iter().all(|p| p["counts"].is_null()),
            "{response}"
        );
        let errors = response["errors"].as_array().unwrap();
        let paths: Vec<&Value> = errors.iter().map(|e| &e["path"]).collect();
        assert_eq!(
            paths,
            [
                &json!(["hostname", "usagePings", 1, "counts"]),
                &json!(["hostname", "usagePings", 2, "counts"])
            ],
            "{backend:?}: {response}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e["extensions"]["code"] == "ANSWER_TOO_LARGE"
                    && e["message"].as_str().unwrap().contains("2500 bytes")),
            "{response}"
        );
    }
}
