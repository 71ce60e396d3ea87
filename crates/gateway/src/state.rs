//! The state shared by every request, and how it is built from the configuration.

use std::sync::Arc;

use database::{StatementCounter, redact_url};
use migration::MigratorTrait;
use sea_orm::DatabaseConnection;

use crate::config::{Config, ConfigError};
use crate::graphql::{GatewaySchema, build_schema_with};
use crate::metrics::Metrics;
use crate::persisted::PersistedQueries;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is not usable.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The authentication settings are not usable, or the JWKS could not be loaded.
    #[error(transparent)]
    Auth(#[from] auth::ConfigError),
    /// Sign-in is configured but not usable (its settings, or the provider's discovery).
    #[error("sign-in is not usable: {0}")]
    SignIn(String),
    /// The license database did not answer or could not be migrated.
    #[error("license database at {url} is not usable: {source}")]
    Database { url: String, source: sea_orm::DbErr },
}

/// What handlers share: the database, the schema and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// The license database pool.
    pub db: DatabaseConnection,
    /// SQL statements executed on `db` so far.
    pub statements: StatementCounter,
    /// The GraphQL schema, built once.
    pub schema: GatewaySchema,
    /// The configuration it was started with.
    pub config: Arc<Config>,
    /// Prometheus metrics, rendered by `GET /metrics`.
    pub metrics: Metrics,
    /// The version-subgraph client (usage fields, `/ready`).
    pub version: Arc<crate::upstream::VersionClient>,
    /// Permits for `/graphql` requests running at once (`limits.max_concurrent_requests`).
    pub limiter: Arc<tokio::sync::Semaphore>,
    /// Checks the bearer tokens of `/graphql` requests (see `authn`).
    pub authenticator: auth::Authenticator,
    /// Browser sessions and sign-in (see `sso`).
    pub sso: crate::sso::Sso,
}

impl AppState {
    /// Validates `config`, connects to the license database and migrates it when configured.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let metrics = Metrics::new();
        let version = Arc::new(crate::upstream::VersionClient::new(
            &config.version_service,
            metrics.clone(),
        )?);
        let persisted = PersistedQueries::load(&config.limits.persisted_queries)?;
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
        // After the database, so that a database error is reported as such even when the
        // configuration has no key yet; a JWKS URL is fetched here (fails fast). The sign-in
        // client's ID tokens are no access tokens: the authenticator refuses them, and refuses
        // to start when the API's audience is that client.
        let authenticator = auth::Authenticator::start(auth::AuthConfig {
            sign_in_client_id: config.sso.enabled().then(|| config.sso.client_id.clone()),
            ..config.auth.clone()
        })
        .await?;
        let sso = crate::sso::Sso::start(&config, &db)
            .await
            .map_err(StartError::SignIn)?;
        Ok(Self {
            db,
            statements,
            schema: build_schema_with(&config.limits, Arc::new(persisted)),
            metrics,
            version,
            limiter: Arc::new(tokio::sync::Semaphore::new(
                config.limits.max_concurrent_requests,
            )),
            config: Arc::new(config),
            authenticator,
            sso,
        })
    }
}
