//! The end-to-end harness: the real servers started on port 0, each over a fresh database
//! (`test-support`) on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod agent;
pub mod browser;
pub mod demo;
pub mod oidc;
pub mod version;

pub use test_support::{Backend, TestDb, backends};

use std::net::SocketAddr;

use serde_json::{Value, json};

/// The HS256 secret every test gateway is configured with (TEST-ONLY; at least 32 bytes).
pub const TEST_JWT_SECRET: &str = "e2e-test-only-secret-0123456789abcdef";

/// A gateway running on port 0 over a fresh license database.
pub struct Gateway {
    pub address: SocketAddr,
    pub state: gateway::AppState,
    pub db: TestDb,
    client: reqwest::Client,
    /// An `admin` token, sent by [`Gateway::query`]; `None` when the test configured no HS256
    /// secret.
    admin_token: Option<String>,
    /// Scratch files the configuration names, deleted with the gateway (see [`Gateway::holding`]).
    scratch: Vec<tempfile::TempPath>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Gateway {
    /// Starts a gateway over a fresh, migrated, empty database on `backend`.
    pub async fn start(backend: Backend) -> Gateway {
        Self::start_with(backend, |_| {}).await
    }

    /// Keeps `file` (named in the configuration, and read again while the gateway runs) until
    /// the gateway is dropped, then deletes it.
    pub fn holding(mut self, file: tempfile::TempPath) -> Gateway {
        self.scratch.push(file);
        self
    }

    /// Starts a gateway after letting `configure` adjust its configuration.
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(&mut gateway::Config),
    ) -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, backend, configure).await
    }

    /// [`Gateway::start_with`] on a listener the test bound itself, for configurations that
    /// must name the gateway's own address (an OpenID provider's redirect URI).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        backend: Backend,
        configure: impl FnOnce(&mut gateway::Config),
    ) -> Gateway {
        let db = TestDb::fresh(backend, "gateway").await;
        let mut config = gateway::Config {
            database_url: db.url.clone(),
            ..gateway::Config::default()
        };
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.auth.hs256_secret = Some(TEST_JWT_SECRET.to_owned());
        configure(&mut config);
        let state = gateway::AppState::start(config).await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(gateway::serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        let admin_token = state
            .config
            .auth
            .hs256_secret
            .is_some()
            .then(|| mint(&state.config.auth, &["admin"], &[]));
        Gateway {
            address,
            state,
            db,
            client: reqwest::Client::new(),
            admin_token,
            scratch: Vec::new(),
            _stop: stop,
        }
    }

    /// A token with `roles` (and `customer_ids`) that this gateway accepts, valid for an hour.
    pub fn token(&self, roles: &[&str], customer_ids: &[i64]) -> String {
        mint(&self.state.config.auth, roles, customer_ids)
    }

    /// `Bearer <admin token>`, for tests that build their own requests.
    pub fn admin_authorization(&self) -> String {
        format!("Bearer {}", self.admin_token.as_deref().unwrap_or_default())
    }

    /// The HTTP client the helpers use.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// POSTs a JSON body to `/graphql` with `Authorization: <authorization>` when given, and
    /// returns the raw response (status, headers, body).
    pub async fn post_graphql(
        &self,
        authorization: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url("/graphql")).json(body);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send().await.unwrap()
    }

    /// POSTs a GraphQL query as the holder of `token` and returns the JSON body.
    pub async fn query_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .post_graphql(
                Some(&format!("Bearer {token}")),
                &json!({"query": query, "variables": variables}),
            )
            .await;
        response.json().await.unwrap()
    }

    /// The gateway's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// POSTs a GraphQL query with variables as an `admin` (or without a token when the test
    /// configured no HS256 secret) and returns the JSON body.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let authorization = self.admin_token.as_ref().map(|t| format!("Bearer {t}"));
        let response = self
            .post_graphql(
                authorization.as_deref(),
                &json!({"query": query, "variables": variables}),
            )
            .await;
        response.json().await.unwrap()
    }

    /// SQL statements the gateway has sent to its database so far.
    pub fn statements(&self) -> u64 {
        self.state.statements.get()
    }
}

/// Mints an HS256 token that a gateway configured with `config` accepts, valid for an hour.
pub fn mint(config: &auth::AuthConfig, roles: &[&str], customer_ids: &[i64]) -> String {
    let claims = auth::MintClaims {
        sub: format!("e2e-{}", roles.join("-")),
        email: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        customer_ids: customer_ids.to_vec(),
        ttl: std::time::Duration::from_secs(3600),
        issuer: None,
        audience: None,
    };
    auth::mint_hs256_for(config, &claims).unwrap()
}

/// The `extensions.code` of each error in a GraphQL response.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `tests/<dir>`, a Node tool pinned by its `package-lock.json`, with its packages installed
/// (`npm ci` from the lockfile when `package` is missing, so the suite's one command is enough
/// on a clean clone; `.ci/run` installs them up front).
///
/// One install at a time: `npm ci` first deletes `node_modules`, so a second test installing
/// the same tool at once would pull the packages from under a provider the first one started.
pub fn npm_tool(dir: &str, package: &str) -> std::path::PathBuf {
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALLING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    if !dir
        .join("node_modules")
        .join(package)
        .join("package.json")
        .exists()
    {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| panic!("npm is needed for {}: {e}", dir.display()));
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    dir
}
