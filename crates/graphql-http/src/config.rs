//! The runtime's configuration: what one request may ask for, and its errors.
//!
//! The gateway reads it from `[gateway.limits]` (beside the HTTP edge's settings, in the same
//! section) and `[gateway.limits.persisted_queries]`; the version service from
//! `[version_service.graphql]`. Every limit has a default that lets the dashboard and the
//! explorer (introspection included) through and stops the careless or hostile query.

use std::path::PathBuf;

use serde::Deserialize;

/// A configuration the runtime cannot start with, saying what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[{section}] {name} must be at least 1")]
    NotPositive {
        section: &'static str,
        name: &'static str,
    },
    #[error("[{section}.persisted_queries] apq_cache_size must be at least 1 (or set apq = false)")]
    ApqCacheSize { section: &'static str },
}

/// Why the persisted-query safelist could not be loaded at start (the file itself, not a
/// setting).
#[derive(Debug, thiserror::Error)]
pub enum SafelistError {
    #[error("cannot read the persisted-query safelist {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the persisted-query safelist {} is not a manifest (an object of id to query, or \
         {{\"operations\": [{{\"id\", \"body\"}}]}}): {source}",
        path.display()
    )]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// What one GraphQL-over-HTTP request may ask for.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body, in bytes (413 `REQUEST_TOO_LARGE` beyond).
    pub max_body_bytes: usize,
    /// Deepest selection nesting (`QUERY_TOO_DEEP`).
    pub max_depth: usize,
    /// Largest estimated cost (`QUERY_TOO_COMPLEX`), as the IBM cost directives have it: each
    /// object costs its weight (`@cost`, else 1; scalars 0) plus its selection, times the
    /// items a list returns (`@listSize`: its slicing argument such as `first`, else its
    /// assumed size). See `analysis`.
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
    /// Largest response body sent to a client, in bytes; a larger answer is replaced by a
    /// `RESPONSE_TOO_LARGE` error.
    pub max_response_bytes: usize,
    /// `persisted_queries`: APQ and the safelist.
    pub persisted_queries: PersistedQueriesConfig,
}

impl Default for LimitsConfig {
    fn default() -> Self {
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
            max_response_bytes: 32 * 1024 * 1024,
            persisted_queries: PersistedQueriesConfig::default(),
        }
    }
}

impl LimitsConfig {
    /// Checks what serde cannot; `section` names the config section in the message.
    pub fn validate(&self, section: &'static str) -> Result<(), ConfigError> {
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
            return Err(ConfigError::NotPositive { section, name });
        }
        self.persisted_queries.validate(section)
    }
}

/// `[<limits section>.persisted_queries]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistedQueriesConfig {
    /// Accept Apollo automatic persisted queries (`extensions.persistedQuery.sha256Hash`).
    pub apq: bool,
    /// How many APQ documents are kept (least recently used are dropped).
    pub apq_cache_size: usize,
    /// A manifest of the only operations allowed to run (safelist mode); APQ registration is
    /// off in that mode. Either a JSON object `{"<id>": "<query>", ...}` or an Apollo
    /// persisted-query manifest (`{"operations": [{"id": ..., "body": ...}]}`).
    pub safelist: Option<PathBuf>,
}

impl Default for PersistedQueriesConfig {
    fn default() -> Self {
        Self {
            apq: true,
            apq_cache_size: 1000,
            safelist: None,
        }
    }
}

impl PersistedQueriesConfig {
    /// Checks what serde cannot; `section` is the limits section it sits in.
    pub fn validate(&self, section: &'static str) -> Result<(), ConfigError> {
        if self.apq && self.apq_cache_size == 0 {
            return Err(ConfigError::ApqCacheSize { section });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_valid_and_zero_is_refused() {
        LimitsConfig::default().validate("gateway.limits").unwrap();
        let limits = LimitsConfig {
            max_depth: 0,
            ..LimitsConfig::default()
        };
        let error = limits.validate("gateway.limits").unwrap_err().to_string();
        assert_eq!(error, "[gateway.limits] max_depth must be at least 1");
    }
}
