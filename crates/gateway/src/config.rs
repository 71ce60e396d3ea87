//! The gateway's configuration. Every option has a default; the CLI layers a config file and
//! `LICENSEDOT_*` environment variables over them (docs/config.md lists them all).

use std::net::SocketAddr;

use serde::Deserialize;

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
            sessions: crate::sso::SessionsConfig::default(),
            sso: crate::sso::SsoConfig::default(),
        }
    }
}

impl Config {
    /// Checks what serde cannot, with a message that says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
            || self.database_url.starts_with("sqlite:"))
        {
            return Err(format!(
                "database_url must start with postgres://, postgresql:// or sqlite:, got `{}`",
                redact_url(&self.database_url)
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "public_url must start with https:// or http://, got `{url}`"
            ));
        }
        Ok(())
    }
}

/// A database URL with any password replaced, safe to log.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("sqlite://a.sqlite"), "sqlite://a.sqlite");
    }

    #[test]
    fn unknown_database_schemes_are_refused() {
        let config = Config {
            database_url: "mysql://x".to_owned(),
            ..Config::default()
        };
        assert!(config.validate().unwrap_err().contains("postgres://"));
    }
}
