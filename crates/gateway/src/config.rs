//! The gateway's configuration. Every option has a default; the CLI layers a config file and
//! `LICENSEDOT_*` environment variables over them (docs/config.md lists them all).

use std::net::SocketAddr;
use std::path::PathBuf;

use database::redact_url;
use serde::Deserialize;

/// A configuration the gateway cannot start with, saying what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("database_url must start with postgres://, postgresql:// or sqlite:, got `{0}`")]
    DatabaseUrl(String),
    #[error("[{section}] {name} must be at least 1")]
    NotPositive {
        section: &'static str,
        name: &'static str,
    },
    #[error(transparent)]
    Server(#[from] edge::ConfigError),
    #[error(
        "[gateway.limits.persisted_queries] apq_cache_size must be at least 1 (or set apq = false)"
    )]
    ApqCacheSize,
    #[error("cannot read the persisted-query safelist {}: {source}", path.display())]
    SafelistUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the persisted-query safelist {} is not a manifest (an object of id to query, or \
         {{\"operations\": [{{\"id\", \"body\"}}]}}): {source}",
        path.display()
    )]
    SafelistMalformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("[gateway.cors] `{0}` is not a valid origin")]
    CorsOrigin(String),
    #[error("public_url must start with https:// or http://, got `{0}`")]
    PublicUrl(String),
    #[error("trusted_proxies: `{0}` is neither an address nor a network (e.g. 10.0.0.0/8)")]
    TrustedProxy(String),
    #[error("cannot build the version-service HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// Everything the gateway needs to start.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The license database: `postgres://...` or `sqlite://path?mode=rwc`.
    pub database_url: String,
    /// Apply pending license-database migrations at start.
    pub migrate: bool,
    /// Most connections of the PostgreSQL pool (SQLite ignores it).
    pub database_max_connections: u32,
    /// `[gateway.version_service]`: the version subgraph that usage fields resolve from.
    pub version_service: crate::upstream::UpstreamConfig,
    /// `[gateway.auth]`: who may call, with which tokens.
    pub auth: auth::AuthConfig,
    /// `[gateway.limits]`: what one request may ask for.
    pub limits: crate::limits::LimitsConfig,
    /// `[gateway.explorer]`: the GraphiQL page.
    pub explorer: crate::pages::ExplorerConfig,
    /// `[gateway.cors]`: browser origins allowed to call the gateway (none by default).
    pub cors: crate::ops::CorsConfig,
    /// Where browsers reach the gateway, e.g. `https://licensedot.example.com`: the base of the
    /// sign-in callback, and `https://` makes the session cookie `Secure` and `__Host-`.
    pub public_url: Option<String>,
    /// The proxies in front of the gateway (addresses or networks): a request from one of
    /// them is counted by the client its `X-Forwarded-For` names (see `client_address`).
    /// Empty: the TCP peer is the client, and the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// `[gateway.sessions]`: browser sessions (store, lifetimes).
    pub sessions: crate::sso::SessionsConfig,
    /// `[gateway.sso]`: sign-in with an OpenID Connect provider (off by default).
    pub sso: crate::sso::SsoConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            database_url: "sqlite://licensedot.sqlite?mode=rwc".to_owned(),
            migrate: true,
            database_max_connections: licenses::db::DEFAULT_MAX_CONNECTIONS,
            version_service: crate::upstream::UpstreamConfig::default(),
            auth: auth::AuthConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
            explorer: crate::pages::ExplorerConfig::default(),
            cors: crate::ops::CorsConfig::default(),
            public_url: None,
            trusted_proxies: Vec::new(),
            sessions: crate::sso::SessionsConfig::default(),
            sso: crate::sso::SsoConfig::default(),
        }
    }
}

impl Config {
    /// Checks what serde cannot, with a message that says what to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
            || self.database_url.starts_with("sqlite:"))
        {
            return Err(ConfigError::DatabaseUrl(redact_url(&self.database_url)));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::PublicUrl(url.clone()));
        }
        crate::client_address::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(ConfigError::TrustedProxy)?;
        self.limits.validate()?;
        self.cors.layer()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_database_schemes_are_refused() {
        let config = Config {
            database_url: "mysql://x".to_owned(),
            ..Config::default()
        };
        let error = config.validate().unwrap_err();
        assert!(matches!(error, ConfigError::DatabaseUrl(_)), "{error}");
        assert!(error.to_string().contains("postgres://"), "{error}");
    }
}
