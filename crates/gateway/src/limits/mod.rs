//! Limits on what one request may ask for, and the schema extension that enforces the
//! document limits and raises every error before execution with its code.
//!
//! Everything here runs before any resolver, so a refused query costs no database work.
//!
//! This file holds `[gateway.limits]`; `document` measures a parsed document, `guard` is the
//! schema extension. A request refused here has no `data`, and gets 400 under
//! `application/graphql-response+json` (the endpoint knows from `RequestFacts::executed`).

mod document;
mod documents;
mod guard;
mod variables;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::persisted::PersistedQueriesConfig;

pub(crate) use self::document::select_operation;
pub use self::documents::ParsedDocument;
pub use self::guard::{Guard, MAX_NESTING, RequestFacts};

/// `[gateway.limits]`. Every limit has a default that lets the dashboard and the explorer
/// (introspection included) through and stops the careless or hostile query.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body, in bytes (413 `REQUEST_TOO_LARGE` beyond).
    pub max_body_bytes: usize,
    /// Deepest selection nesting (`QUERY_TOO_DEEP`).
    pub max_depth: usize,
    /// Largest estimated cost (`QUERY_TOO_COMPLEX`): each field costs 1 plus its children,
    /// connections multiply their children by `first`/`last` (default page size when absent)
    /// and unpaginated lists by an estimated 10.
    pub max_complexity: usize,
    /// Most aliases in one document (`TOO_MANY_ALIASES`).
    pub max_aliases: usize,
    /// Most fields at the root of an operation (`TOO_MANY_ROOT_FIELDS`).
    pub max_root_fields: usize,
    /// Most operations in one batched (JSON array) request; 0 refuses batches.
    pub max_batch_size: usize,
    /// How long one request may take, body included, in milliseconds.
    pub request_timeout_ms: u64,
    /// Requests executed at once; more are refused at once with 503 and `Retry-After`.
    pub max_concurrent_requests: usize,
    /// The `Retry-After` given with a 503, in seconds.
    pub retry_after_secs: u64,
    /// After a shutdown signal, how long in-flight requests may still run, in milliseconds.
    pub shutdown_timeout_ms: u64,
    /// Longest wait for a request's headers, in milliseconds; then the connection is closed.
    pub header_read_timeout_ms: u64,
    /// Longest wait for a request's body once its headers are in, in milliseconds: 408
    /// `REQUEST_TIMEOUT` with `Connection: close` beyond. No concurrency permit is held
    /// meanwhile.
    pub body_read_timeout_ms: u64,
    /// Most open client connections (lowered below the open-file limit at start).
    pub max_connections: usize,
    /// Longest wait for a client to take more of a response, in milliseconds; then the
    /// connection is closed (slow readers).
    pub write_timeout_ms: u64,
    /// HTTP/2: most requests at once on one connection.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2: largest request header list, in bytes (431 beyond).
    pub http2_max_header_list_bytes: u32,
    /// HTTP/2: a PING after this long without a frame from the client, in milliseconds.
    pub http2_keep_alive_interval_ms: u64,
    /// HTTP/2: an unanswered PING closes the connection after this long, in milliseconds.
    pub http2_keep_alive_timeout_ms: u64,
    /// Whether answers are compressed (gzip or brotli, per `Accept-Encoding`).
    pub compression: bool,
    /// Answers smaller than this many bytes are never compressed.
    pub compression_min_bytes: u64,
    /// Largest response body sent to a client, in bytes; a larger answer is replaced by a
    /// `RESPONSE_TOO_LARGE` error.
    pub max_response_bytes: usize,
    /// `[gateway.limits.persisted_queries]`: APQ and the safelist.
    pub persisted_queries: PersistedQueriesConfig,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        // The edge's own defaults for the keys it has alone.
        let edge = edge::ServerConfig::default();
        Self {
            max_body_bytes: 256 * 1024,
            max_depth: 15,
            max_complexity: 20_000,
            max_aliases: 30,
            max_root_fields: 10,
            max_batch_size: 10,
            request_timeout_ms: 30_000,
            max_concurrent_requests: 256,
            retry_after_secs: 1,
            shutdown_timeout_ms: 30_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_connections: 4096,
            write_timeout_ms: edge.write_timeout_ms,
            http2_max_concurrent_streams: edge.http2_max_concurrent_streams,
            http2_max_header_list_bytes: edge.http2_max_header_list_bytes,
            http2_keep_alive_interval_ms: edge.http2_keep_alive_interval_ms,
            http2_keep_alive_timeout_ms: edge.http2_keep_alive_timeout_ms,
            compression: edge.compression,
            compression_min_bytes: edge.compression_min_bytes,
            max_response_bytes: 32 * 1024 * 1024,
            persisted_queries: PersistedQueriesConfig::default(),
        }
    }
}

impl LimitsConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("max_body_bytes", self.max_body_bytes),
            ("max_depth", self.max_depth),
            ("max_complexity", self.max_complexity),
            ("max_root_fields", self.max_root_fields),
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("max_response_bytes", self.max_response_bytes),
            ("request_timeout_ms", self.request_timeout_ms as usize),
        ];
        if let Some((name, _)) = positive.into_iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::NotPositive {
                section: "gateway.limits",
                name,
            });
        }
        self.server().validate("gateway.limits")?;
        self.persisted_queries.validate()
    }

    /// The HTTP edge's share of the limits.
    pub fn server(&self) -> edge::ServerConfig {
        edge::ServerConfig {
            header_read_timeout_ms: self.header_read_timeout_ms,
            body_read_timeout_ms: self.body_read_timeout_ms,
            max_connections: self.max_connections,
            shutdown_timeout_ms: self.shutdown_timeout_ms,
            write_timeout_ms: self.write_timeout_ms,
            http2_max_concurrent_streams: self.http2_max_concurrent_streams,
            http2_max_header_list_bytes: self.http2_max_header_list_bytes,
            http2_keep_alive_interval_ms: self.http2_keep_alive_interval_ms,
            http2_keep_alive_timeout_ms: self.http2_keep_alive_timeout_ms,
            compression: self.compression,
            compression_min_bytes: self.compression_min_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_valid() {
        LimitsConfig::default().validate().unwrap();
    }
}
