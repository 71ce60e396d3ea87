//! The version service on port 0 over a fresh database, for tests that need usage data.

use std::net::SocketAddr;

use crate::{Backend, TestDb};

/// A running version service.
pub struct VersionService {
    pub address: SocketAddr,
    pub state: version_service::AppState,
    pub db: TestDb,
    running: version_service::Running,
}

impl VersionService {
    /// Starts the service over a fresh, migrated, empty database on `backend`, requiring
    /// `service_token` on `/graphql` when given.
    pub async fn start(backend: Backend, service_token: Option<&str>) -> VersionService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, backend, service_token, |_| {}).await
    }

    /// [`VersionService::start`], with its configuration adjusted by `configure`.
    pub async fn start_with(
        backend: Backend,
        service_token: Option<&str>,
        configure: impl FnOnce(&mut version_service::Config),
    ) -> VersionService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, backend, service_token, configure).await
    }

    /// [`VersionService::start`] on a listener the test bound itself (so that a gateway can be
    /// told its address first, and the service the gateway's license database), after letting
    /// `configure` adjust its configuration.
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        backend: Backend,
        service_token: Option<&str>,
        configure: impl FnOnce(&mut version_service::Config),
    ) -> VersionService {
        let db = TestDb::fresh(backend, "version").await;
        let mut config = version_service::Config {
            database_url: db.url.clone(),
            service_token: service_token.map(str::to_owned),
            ..version_service::Config::default()
        };
        configure(&mut config);
        let state = version_service::AppState::open(config).await.unwrap();
        let running = version_service::spawn(listener, state.clone()).unwrap();
        VersionService {
            address: running.address,
            state,
            db,
            running,
        }
    }

    /// The URL of its subgraph endpoint.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.address)
    }

    /// `_entities` calls it has answered.
    pub fn entities_calls(&self) -> u64 {
        self.state.metrics.entities_calls()
    }

    /// SQL statements it has run.
    pub fn statements(&self) -> u64 {
        self.state.statements.get()
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(&mut self) {
        let _ = self.running.stop().await;
    }
}

/// A stand-in version service on port 0 that answers every request `200 OK` with a body that is
/// not GraphQL (an HTML page); returns the URL of its `/graphql`.
pub async fn answering_garbage() -> String {
    let app = axum::Router::new().fallback(|| async { "<html>surprise</html>" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/graphql")
}
