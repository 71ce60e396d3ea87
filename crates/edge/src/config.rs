//! The options of the HTTP edge, shared by `[gateway.limits]` and `[version_service.server]`.

use std::time::Duration;

use serde::Deserialize;

/// A server setting that cannot work, naming its section and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[{section}] {name} must be at least 1")]
    NotPositive { section: String, name: &'static str },
    #[error("[{section}] {name} must be at most {max}")]
    TooLarge {
        section: String,
        name: &'static str,
        max: u64,
    },
}

/// How the server treats connections. Every value has a default; 0 is refused where it would
/// switch a protection off by accident.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Longest time from a connection becoming ready for a request (new, or idle after a
    /// response) until the request's headers are complete; past it the connection is closed
    /// (HTTP/2: a connection serving no stream this long gets GOAWAY, then is closed).
    pub header_read_timeout_ms: u64,
    /// Longest time to receive a request body once its headers are in; past it the request
    /// is answered 408 `REQUEST_TIMEOUT` with `Connection: close`.
    pub body_read_timeout_ms: u64,
    /// Most open client connections; further clients wait in the listen backlog. Lowered at
    /// start to the open-file limit minus a reserve for the database, upstream calls and logs.
    pub max_connections: usize,
    /// After a shutdown signal, how long in-flight requests may still run, in milliseconds.
    pub shutdown_timeout_ms: u64,
    /// Longest time a response may wait for the client to take more of it (a slow or stalled
    /// reader, or an HTTP/2 flow-control window kept shut); past it the connection is closed.
    pub write_timeout_ms: u64,
    /// HTTP/2: most streams (requests) open at once on one connection, announced to the client
    /// in SETTINGS_MAX_CONCURRENT_STREAMS.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2: largest request header list (HPACK-decoded, 32 bytes counted per field), in
    /// bytes; a larger one is answered 431 and its stream refused.
    pub http2_max_header_list_bytes: u32,
    /// HTTP/2: a PING is sent after this long without a frame from the client, in
    /// milliseconds.
    pub http2_keep_alive_interval_ms: u64,
    /// HTTP/2: a PING not answered within this long closes the connection (a dead peer), in
    /// milliseconds.
    pub http2_keep_alive_timeout_ms: u64,
    /// Whether responses are compressed (gzip or brotli, as `Accept-Encoding` asks).
    pub compression: bool,
    /// Responses smaller than this many bytes are never compressed (at most 65535).
    pub compression_min_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_connections: 4096,
            shutdown_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            http2_max_concurrent_streams: 100,
            http2_max_header_list_bytes: 16 * 1024,
            http2_keep_alive_interval_ms: 20_000,
            http2_keep_alive_timeout_ms: 20_000,
            compression: true,
            compression_min_bytes: 1024,
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
            ("write_timeout_ms", self.write_timeout_ms),
            (
                "http2_max_concurrent_streams",
                u64::from(self.http2_max_concurrent_streams),
            ),
            (
                "http2_max_header_list_bytes",
                u64::from(self.http2_max_header_list_bytes),
            ),
            (
                "http2_keep_alive_interval_ms",
                self.http2_keep_alive_interval_ms,
            ),
            (
                "http2_keep_alive_timeout_ms",
                self.http2_keep_alive_timeout_ms,
            ),
            ("compression_min_bytes", self.compression_min_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive {
                    section: section.to_owned(),
                    name,
                });
            }
        }
        if self.compression_min_bytes > u64::from(u16::MAX) {
            return Err(ConfigError::TooLarge {
                section: section.to_owned(),
                name: "compression_min_bytes",
                max: u64::from(u16::MAX),
            });
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

    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }

    pub fn http2_keep_alive_interval(&self) -> Duration {
        Duration::from_millis(self.http2_keep_alive_interval_ms)
    }

    pub fn http2_keep_alive_timeout(&self) -> Duration {
        Duration::from_millis(self.http2_keep_alive_timeout_ms)
    }

    /// The compression threshold as tower-http takes it (validated to fit; clamped if not).
    pub(crate) fn compression_min_size(&self) -> u16 {
        u16::try_from(self.compression_min_bytes).unwrap_or(u16::MAX)
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
        let config = ServerConfig {
            write_timeout_ms: 0,
            ..ServerConfig::default()
        };
        let error = config.validate("x").unwrap_err().to_string();
        assert_eq!(error, "[x] write_timeout_ms must be at least 1");
        let config = ServerConfig {
            compression_min_bytes: 70_000,
            ..ServerConfig::default()
        };
        let error = config.validate("x").unwrap_err().to_string();
        assert_eq!(error, "[x] compression_min_bytes must be at most 65535");
    }
}
