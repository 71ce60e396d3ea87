//! The options of the HTTP edge, shared by `[gateway.limits]` and `[version_service.server]`.

use std::time::Duration;

use serde::Deserialize;

/// A server setting that cannot work, naming its section and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[{section}] {name} must be at least 1")]
    NotPositive { section: String, name: &'static str },
}

/// How the server treats connections. Every value has a default; 0 is refused where it would
/// switch a protection off by accident.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Longest time from a connection becoming ready for a request (new, or idle after a
    /// response) until the request's headers are complete; past it the connection is closed.
    pub header_read_timeout_ms: u64,
    /// Longest time to receive a request body once its headers are in; past it the request
    /// is answered 408 `REQUEST_TIMEOUT` with `Connection: close`.
    pub body_read_timeout_ms: u64,
    /// Most open client connections; further clients wait in the listen backlog. Lowered at
    /// start to the open-file limit minus a reserve for the database, upstream calls and logs.
    pub max_connections: usize,
    /// After a shutdown signal, how long in-flight requests may still run, in milliseconds.
    pub shutdown_timeout_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_connections: 4096,
            shutdown_timeout_ms: 30_000,
        }
    }
}

impl ServerConfig {
    /// Checks what serde cannot; `section` names the config section in the message.
    pub fn validate(&self, section: &str) -> Result<(), ConfigError> {
        for (name, value) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("body_read_timeout_ms", self.body_read_timeout_ms),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive {
                    section: section.to_owned(),
                    name,
                });
            }
        }
        Ok(())
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_millis(self.shutdown_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_is_refused() {
        assert!(ServerConfig::default().validate("x").is_ok());
        let config = ServerConfig {
            body_read_timeout_ms: 0,
            ..ServerConfig::default()
        };
        let error = config.validate("gateway.limits").unwrap_err().to_string();
        assert_eq!(
            error,
            "[gateway.limits] body_read_timeout_ms must be at least 1"
        );
    }
}
