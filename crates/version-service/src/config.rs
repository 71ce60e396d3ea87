//! The service's configuration, layered by the CLI from defaults, a TOML file and the environment.

use std::net::{Ipv4Addr, SocketAddr};

use serde::Deserialize;

/// Default upper bound of a usage-ping body: real payloads run to hundreds of kilobytes, and
/// the service must accept at least 2 MB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Everything the version service needs to start.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://...` or `postgres://...`).
    pub database_url: String,
    /// Largest accepted `POST /usage_data` body, in bytes; larger bodies get 413.
    pub max_payload_bytes: usize,
    /// When set, `/graphql` requires `Authorization: Bearer <token>`.
    pub service_token: Option<String>,
    /// `[version_service.server]`: header and body timeouts, connection cap, shutdown deadline.
    pub server: edge::ServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 4001)),
            database_url: "sqlite://licensedot-version.sqlite?mode=rwc".to_owned(),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            service_token: None,
            server: edge::ServerConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config = Config::default();
        assert_eq!(config.listen.port(), 4001);
        assert_eq!(config.max_payload_bytes, 4 * 1024 * 1024);
        assert!(config.service_token.is_none());
    }

    #[test]
    fn partial_input_keeps_defaults() {
        let config: Config = serde_json::from_str(r#"{"max_payload_bytes": 10}"#).unwrap();
        assert_eq!(config.max_payload_bytes, 10);
        assert_eq!(config.listen, Config::default().listen);
    }
}
