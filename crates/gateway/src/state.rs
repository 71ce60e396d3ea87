//! The state shared by every request, how it is built from the configuration, and the narrow
//! part of it each handler takes (axum's `FromRef`): a handler sees what its job needs.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::header;
use database::{StatementCounter, redact_url};
use license_graph::Graph;
use migration::MigratorTrait;
use sea_orm::DatabaseConnection;

use crate::authn::Callers;
use crate::config::{Config, ConfigError};
use crate::endpoint::{Endpoint, GatewayRuntime};
use crate::export::Exports;
use crate::metrics::Metrics;
use crate::ops::{CorsError, Ops};
use crate::pages::ExplorerConfig;
use crate::sso::Sso;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A top-level setting is not usable.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// `[gateway.limits]` is not usable, or the persisted-query safelist cannot be loaded.
    #[error("invalid configuration: {0}")]
    Limits(#[from] graphql_http::StartError),
    /// `[gateway.limits]`'s HTTP edge settings are not usable.
    #[error("invalid configuration: {0}")]
    Server(#[from] edge::ConfigError),
    /// `[gateway.cors]` is not usable.
    #[error("invalid configuration: {0}")]
    Cors(#[from] CorsError),
    /// `[gateway.version_service]` is not usable.
    #[error("invalid configuration: {0}")]
    VersionService(#[from] license_graph::UpstreamConfigError),
    /// The authentication settings are not usable, or the JWKS could not be loaded.
    #[error(transparent)]
    Auth(#[from] auth::ConfigError),
    /// `[gateway.sessions]` or `[gateway.sso]` is not usable, or the session store or the
    /// provider's discovery cannot be reached.
    #[error(transparent)]
    SignIn(#[from] crate::sso::SsoStartError),
    /// `[gateway.webhooks]` is not usable.
    #[error("invalid configuration: {0}")]
    Webhooks(#[from] webhooks::StartError),
    /// The license database did not answer or could not be migrated.
    #[error("license database at {url} is not usable: {source}")]
    Database { url: String, source: sea_orm::DbErr },
}

/// What the gateway's handlers share; each takes its own part (see the `FromRef` impls).
#[derive(Clone)]
pub struct AppState {
    /// The configuration it was started with.
    pub config: Arc<Config>,
    /// SQL statements executed on the license database so far.
    pub statements: StatementCounter,
    /// Browser sessions and sign-in (see `sso`).
    pub sso: Sso,
    /// The license database (the demo seeds it).
    pub db: DatabaseConnection,
    pub(crate) graph: Graph,
    pub(crate) runtime: Arc<GatewayRuntime>,
    pub(crate) metrics: Metrics,
    pub(crate) callers: Callers,
    pub(crate) explorer: Arc<ExplorerConfig>,
    /// The webhooks, when `[gateway.webhooks] enabled`: `serve` runs their worker and
    /// scheduler.
    pub(crate) webhooks: Option<webhooks::Webhooks>,
}

impl AppState {
    /// Validates `config`, connects to the license database and migrates it when configured.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        Self::start_with_clock(config, Arc::new(webhooks::SystemClock)).await
    }

    /// [`AppState::start`] with the clock the webhooks go by (tests move it to reach a
    /// license's expiry).
    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn webhooks::Clock>,
    ) -> Result<Self, StartError> {
        config.validate()?;
        config.limits.server.validate("gateway.limits")?;
        config.cors.layer()?;
        let metrics = Metrics::new();
        let database_error = |source| StartError::Database {
            url: redact_url(&config.database_url),
            source,
        };
        let (db, statements) =
            licenses::db::connect_with(&config.database_url, config.database_max_connections)
                .await
                .map_err(database_error)?;
        if config.migrate {
            migration::LicenseMigrator::up(&db, None)
                .await
                .map_err(database_error)?;
        }
        let webhooks = if config.webhooks.enabled {
            Some(webhooks::Webhooks::new(
                db.clone(),
                &config.webhooks,
                clock,
                Arc::new(metrics.clone()),
            )?)
        } else {
            None
        };
        let mut graph = Graph::new(
            db.clone(),
            &config.version_service,
            Arc::new(metrics.clone()),
        )?;
        if let Some(webhooks) = &webhooks {
            graph = graph.with_webhooks(webhooks.clone());
        }
        let runtime = graphql_http::Runtime::new(
            license_graph::schema_builder(&config.federation),
            config.limits.graphql.clone(),
            "gateway.limits",
            "gateway",
            Arc::new(metrics.clone()),
        )?
        .with_caching(&caching(&config));
        // After the database, so that a database error is reported as such even when the
        // configuration has no key yet; a JWKS URL is fetched here (fails fast). The sign-in
        // client's ID tokens are no access tokens: the authenticator refuses them, and refuses
        // to start when the API's audience is that client.
        let authenticator = auth::Authenticator::start(auth::AuthConfig {
            sign_in_client_id: config.sso.enabled().then(|| config.sso.client_id.clone()),
            ..config.auth.clone()
        })
        .await?;
        let sso = Sso::start(&config, &db).await?;
        Ok(Self {
            callers: Callers::new(
                authenticator,
                sso.clone(),
                !config.auth.introspection_requires_token,
            ),
            sso,
            db,
            statements,
            graph,
            runtime: Arc::new(runtime),
            metrics,
            explorer: Arc::new(config.explorer.clone()),
            webhooks,
            config: Arc::new(config),
        })
    }
}

/// How long a shared cache may keep an answer that asks only for the schema, when the schema
/// is public (`auth.introspection_requires_token = false`): it changes only with a new
/// gateway version.
pub(crate) const PUBLIC_SCHEMA_MAX_AGE: Duration = Duration::from_secs(300);

/// The cache hints of `/graphql`: answers are private to the caller, who is known by the
/// bearer token or the session cookie; a schema-only answer is public when introspection is.
fn caching(config: &Config) -> graphql_http::Caching {
    graphql_http::Caching {
        credentials: vec![header::AUTHORIZATION, header::COOKIE],
        public_schema: (!config.auth.introspection_requires_token).then_some(PUBLIC_SCHEMA_MAX_AGE),
    }
}

impl FromRef<AppState> for Callers {
    fn from_ref(state: &AppState) -> Self {
        state.callers.clone()
    }
}

impl FromRef<AppState> for Sso {
    fn from_ref(state: &AppState) -> Self {
        state.sso.clone()
    }
}

impl FromRef<AppState> for Endpoint {
    fn from_ref(state: &AppState) -> Self {
        Endpoint {
            runtime: state.runtime.clone(),
            graph: state.graph.clone(),
            explorer: state.explorer.clone(),
        }
    }
}

impl FromRef<AppState> for Exports {
    fn from_ref(state: &AppState) -> Self {
        Exports {
            callers: state.callers.clone(),
            admission: state.runtime.admission().clone(),
            db: state.db.clone(),
            metrics: state.metrics.clone(),
        }
    }
}

impl FromRef<AppState> for Ops {
    fn from_ref(state: &AppState) -> Self {
        Ops {
            db: state.db.clone(),
            statements: state.statements.clone(),
            metrics: state.metrics.clone(),
            graph: state.graph.clone(),
            webhooks: state.webhooks.clone(),
        }
    }
}
