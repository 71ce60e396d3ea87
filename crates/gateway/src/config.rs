//! The gateway's configuration. Every option has a default; the CLI layers a config file and
//! `LICENSEDOT_*` environment variables over them (docs/config.md lists them all). Each
//! section validates into its own error: the top level here, `[gateway.limits]` in
//! `graphql_http` and `edge`, `[gateway.cors]` in `ops`, `[gateway.sessions]` and
//! `[gateway.sso]` in `sso`, `[gateway.auth]` in `auth`, `[gateway.version_service]` and
//! `[gateway.federation]` in `license_graph`, `[gateway.webhooks]` in `webhooks`.

use std::net::SocketAddr;

use database::redact_url;
use serde::Deserialize;

/// A top-level setting the gateway cannot start with, saying what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("database_url must start with postgres://, postgresql:// or sqlite:, got `{0}`")]
    DatabaseUrl(String),
    #[error("public_url must start with https:// or http://, got `{0}`")]
    PublicUrl(String),
    #[error("trusted_proxies: `{0}` is neither an address nor a network (e.g. 10.0.0.0/8)")]
    TrustedProxy(String),
}

/// `[gateway.limits]`: what one request may ask for (`graphql_http`'s limits) and how the HTTP
/// edge treats connections (`edge`'s), side by side in one section.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(flatten)]
    pub graphql: graphql_http::LimitsConfig,
    #[serde(flatten)]
    pub server: edge::ServerConfig,
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
    pub version_service: license_graph::UpstreamConfig,
    /// `[gateway.auth]`: who may call, with which tokens.
    pub auth: auth::AuthConfig,
    /// `[gateway.limits]`: what one request may ask for, and the HTTP edge's bounds.
    pub limits: LimitsConfig,
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
    /// `[gateway.webhooks]`: signed webhooks (off by default).
    pub webhooks: webhooks::WebhooksConfig,
    /// `[gateway.federation]`: what the subgraph SDL tells composing gateways.
    pub federation: license_graph::FederationConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            database_url: "sqlite://licensedot.sqlite?mode=rwc".to_owned(),
            migrate: true,
            database_max_connections: licenses::db::DEFAULT_MAX_CONNECTIONS,
            version_service: license_graph::UpstreamConfig::default(),
            auth: auth::AuthConfig::default(),
            limits: LimitsConfig::default(),
            explorer: crate::pages::ExplorerConfig::default(),
            cors: crate::ops::CorsConfig::default(),
            public_url: None,
            trusted_proxies: Vec::new(),
            sessions: crate::sso::SessionsConfig::default(),
            sso: crate::sso::SsoConfig::default(),
            webhooks: webhooks::WebhooksConfig::default(),
            federation: license_graph::FederationConfig::default(),
        }
    }
}

impl Config {
    /// Checks the top-level settings serde cannot; each section checks its own where it is
    /// used (`AppState::start`).
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

    #[test]
    fn the_limits_section_holds_both_halves_and_refuses_unknown_keys() {
        let limits: LimitsConfig =
            serde_json::from_str(r#"{"max_depth": 7, "max_connections": 9}"#).unwrap();
        assert_eq!(limits.graphql.max_depth, 7);
        assert_eq!(limits.server.max_connections, 9);
        let error = serde_json::from_str::<LimitsConfig>(r#"{"max_dept": 7}"#).unwrap_err();
        assert!(error.to_string().contains("max_dept"), "{error}");
    }
}
