//! Test helpers: a fresh database per test on every backend, and the real server on port 0.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod private_postgres;

use std::{future::Future, net::SocketAddr};

use sea_orm::DatabaseConnection;
use test_support::{TestDb, backends};
use version_service::{AppState, Config, config::IngestConfig};

/// Runs `test` on a fresh SQLite database, and on a fresh PostgreSQL database too when
/// `TEST_DATABASE_URL` is set. Each database is removed when its run ends, pass or fail.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestDbInfo) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        let db = TestDb::fresh(backend, "version").await;
        test(TestDbInfo {
            url: db.url.clone(),
            backend: backend.name(),
        })
        .await;
    }
}

/// What a test body gets to know about its database.
#[derive(Clone, Debug)]
pub struct TestDbInfo {
    pub url: String,
    pub backend: &'static str,
}

/// The real server, on port 0, over a fresh migrated database.
pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    running: version_service::Running,
}

impl TestApp {
    /// Starts the server on `url` with `config` (its `database_url` is replaced by `url`),
    /// without per-sender rate limits or byte budgets: the tests post many pings from 127.0.0.1
    /// with few uuids.
    /// Tests of the limits use [`TestApp::spawn_limited`].
    pub async fn spawn(url: &str, config: Config) -> Self {
        let ingest = IngestConfig {
            per_address_per_minute: 0,
            per_installation_per_hour: 0,
            per_address_bytes_per_day: 0,
            per_installation_bytes_per_day: 0,
            ..config.ingest.clone()
        };
        Self::spawn_limited(url, Config { ingest, ..config }).await
    }

    /// Starts the server on `url` with `config` exactly as given (rate limits included).
    pub async fn spawn_limited(url: &str, config: Config) -> Self {
        let state = AppState::open(Config {
            database_url: url.to_owned(),
            ..config
        })
        .await
        .expect("open");
        Self::spawn_with_state(state).await
    }

    /// Starts the server with the given state.
    pub async fn spawn_with_state(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let running = version_service::spawn(listener, state.clone()).expect("spawn");
        Self {
            base: format!("http://{}", running.address),
            addr: running.address,
            state,
            client: reqwest::Client::new(),
            running,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// POSTs a usage ping body.
    pub async fn post_ping(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.post_ping_as(Some("application/json"), body).await
    }

    /// POSTs a usage ping body with the given `Content-Type` (none when `None`).
    pub async fn post_ping_as(
        &self,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self.client.post(format!("{}/usage_data", self.base));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.body(body).send().await.expect("send ping")
    }

    /// POSTs a GraphQL query and returns the JSON response.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("send graphql");
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        response.json().await.expect("graphql json")
    }

    /// Stops the server and closes the pool (so the database can be dropped).
    pub async fn stop(mut self) {
        let _ = self.running.stop().await;
        let _ = self.state.db.close_by_ref().await;
    }
}

/// The representative fixture ping.
pub fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("../../fixtures/usage-ping.json")).expect("fixture")
}

/// A minimal valid ping.
pub fn ping(uuid: &str, hostname: &str, recorded_at: &str) -> serde_json::Value {
    serde_json::json!({ "uuid": uuid, "hostname": hostname, "recorded_at": recorded_at })
}
