//! The version-subgraph client: the only module that talks HTTP to the version service.

mod breaker;
mod client;
mod error;
pub mod field_errors;
pub mod selection;

pub use breaker::Phase as BreakerPhase;
pub use client::{EntityResults, VersionClient};
pub use error::UpstreamError;

use serde::Deserialize;

/// A `[gateway.version_service]` the client cannot be built from.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamConfigError {
    #[error("cannot build the version-service HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// `[gateway.version_service]`: where the version subgraph is and how to call it.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The version service's GraphQL endpoint.
    pub url: String,
    /// How long one `_entities` call may take before its fields are reported as timed out.
    pub timeout_ms: u64,
    /// The most representations sent in one `_entities` call; larger batches are split into
    /// calls that run concurrently.
    pub max_keys_per_call: usize,
    /// The gateway's own credential, sent as `Authorization: Bearer <token>`.
    pub service_token: Option<String>,
    /// Consecutive refused calls (connection refused or reset, 5xx, garbage) after which the
    /// circuit opens; 0 disables the breaker.
    pub breaker_failures: u32,
    /// Consecutive timed-out calls after which the circuit opens (any success resets the
    /// count); 0: timeouts never open it.
    pub breaker_timeouts: u32,
    /// How long an open circuit waits before its first probe call (jittered by ±25 %).
    pub breaker_probe_after_ms: u64,
    /// The longest wait between probes: each failed probe doubles the wait up to this.
    pub breaker_cooldown_ms: u64,
    /// Largest answer read from the version service, in bytes; read as it streams in, and a
    /// larger one fails its call with `UPSTREAM_BAD_RESPONSE`.
    pub max_response_bytes: usize,
    /// Speak HTTP/2 with prior knowledge (h2c) to the version service: every call is a stream
    /// of one connection instead of a request on one of a pool of HTTP/1.1 connections. Off
    /// by default (see docs/config.md for why); the version service speaks both on its one
    /// port, and a proxy between them must speak h2c too.
    pub http2_prior_knowledge: bool,
    /// How many minor versions a server may run behind the newest version among its license's
    /// servers before its health says `VERSION_BEHIND` (GitLab counts 12 minors a major).
    pub version_lag_minor: u32,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:4001/graphql".to_owned(),
            timeout_ms: 1000,
            max_keys_per_call: 2000,
            service_token: None,
            breaker_failures: 5,
            breaker_timeouts: 20,
            breaker_probe_after_ms: 100,
            breaker_cooldown_ms: 5_000,
            max_response_bytes: 16 * 1024 * 1024,
            http2_prior_knowledge: false,
            version_lag_minor: 3,
        }
    }
}
