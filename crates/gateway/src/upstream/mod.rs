//! The version-subgraph client: the only module that talks HTTP to the version service.

mod breaker;
mod client;
mod error;
pub mod selection;

pub use client::{EntityResults, REQUEST_ID_HEADER, VersionClient};
pub use error::UpstreamError;

use serde::Deserialize;

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
    /// Consecutive failed calls after which the circuit opens.
    pub breaker_failures: u32,
    /// How long an open circuit refuses calls before one is tried again.
    pub breaker_cooldown_ms: u64,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:4001/graphql".to_owned(),
            timeout_ms: 1000,
            max_keys_per_call: 2000,
            service_token: None,
            breaker_failures: 5,
            breaker_cooldown_ms: 10_000,
        }
    }
}
