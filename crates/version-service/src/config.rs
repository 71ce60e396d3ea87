//! The service's configuration, layered by the CLI from defaults, a TOML file and the environment.

use std::net::{Ipv4Addr, SocketAddr};

use serde::Deserialize;

/// Default upper bound of a usage-ping body: real payloads run to hundreds of kilobytes, and
/// the service must accept at least 2 MB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Default bound on the usage counters one `_entities` answer carries: a dashboard's latest
/// pings carry a few kilobytes each, while 100 pings of a server that sends megabytes would
/// otherwise make an answer of hundreds of megabytes.
pub const DEFAULT_MAX_COUNTS_BYTES: usize = 8 * 1024 * 1024;
/// Shortest service token accepted: a guessable token is no better than none.
pub const MIN_SERVICE_TOKEN_LEN: usize = 16;

/// Everything the version service needs to start.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://...` or `postgres://...`).
    pub database_url: String,
    /// Largest accepted `POST /usage_data` body, in bytes; larger bodies get 413.
    pub max_payload_bytes: usize,
    /// When set, `/graphql` requires `Authorization: Bearer <token>`. The CLI refuses to start
    /// without one unless told it is a development run.
    pub service_token: Option<String>,
    /// Most bytes of usage counters (`UsagePing.counts`) one `/graphql` answer carries; the
    /// counters past it are null with an `ANSWER_TOO_LARGE` error.
    pub max_counts_bytes: usize,
    /// When set (`redis://host:port/db`), the per-sender rate limits are counted in Redis, so
    /// several replicas share them; otherwise each process counts in memory.
    pub redis_url: Option<String>,
    /// The license database (`sqlite://...` or `postgres://...`), read only, to verify each
    /// ping's license digest. Unset: pings carrying a digest are stored `UNCHECKED` (and still
    /// count by digest), until the service runs with one.
    pub license_database_url: Option<String>,
    /// `[version_service.verification]`: the lookups, the sweep and the hostname holder rule.
    pub verification: VerificationConfig,
    /// Bounds and checks of `POST /usage_data`.
    pub ingest: IngestConfig,
    /// `[version_service.server]`: header and body timeouts, connection cap, shutdown deadline.
    pub server: edge::ServerConfig,
    /// `[version_service.graphql]`: what one `/graphql` request may ask for (the
    /// GraphQL-over-HTTP runtime's limits; defaults in [`graphql_limits`]).
    pub graphql: graphql_http::LimitsConfig,
}

/// The defaults of `[version_service.graphql]`: the runtime's, with a body large enough for an
/// `_entities` call of the gateway's largest batch (a few hundred kilobytes), the depth the
/// gateway's selections need, and no automatic persisted queries (its one client, the
/// gateway, sends whole queries).
pub fn graphql_limits() -> graphql_http::LimitsConfig {
    graphql_http::LimitsConfig {
        max_body_bytes: 2 * 1024 * 1024,
        max_depth: 16,
        persisted_queries: graphql_http::PersistedQueriesConfig {
            apq: false,
            ..Default::default()
        },
        ..Default::default()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 4001)),
            database_url: "sqlite://licensedot-version.sqlite?mode=rwc".to_owned(),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            service_token: None,
            max_counts_bytes: DEFAULT_MAX_COUNTS_BYTES,
            redis_url: None,
            license_database_url: None,
            verification: VerificationConfig::default(),
            ingest: IngestConfig::default(),
            server: edge::ServerConfig::default(),
            graphql: graphql_limits(),
        }
    }
}

impl Config {
    /// Refuses a configuration whose `/graphql` would be open to anyone, unless the caller
    /// explicitly runs for development (`allow_missing_token`).
    pub fn check_service_token(&self, allow_missing_token: bool) -> Result<(), String> {
        match self.service_token.as_deref().map(str::trim) {
            None | Some("") if allow_missing_token => Ok(()),
            None | Some("") => Err("no service token: set [version_service] service_token \
                 (LICENSEDOT_VERSION_SERVICE__SERVICE_TOKEN), or pass --insecure-no-token for a \
                 development run where anyone may read every customer's usage"
                .to_owned()),
            Some(token) if token.len() < MIN_SERVICE_TOKEN_LEN => Err(format!(
                "the service token must be at least {MIN_SERVICE_TOKEN_LEN} characters"
            )),
            Some(_) => Ok(()),
        }
    }
}

/// `[version_service.verification]`: how pings are checked against the license database, and
/// which installation holds a hostname.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationConfig {
    /// How long one digest lookup may take before the ping is stored `UNCHECKED`.
    pub lookup_timeout_ms: u64,
    /// How often the sweep looks for `UNCHECKED` pings to decide.
    pub sweep_interval_secs: u64,
    /// Most pings one sweep decides (one lookup each).
    pub sweep_batch_size: u64,
    /// After how many days without a verified ping from the installation that holds a
    /// hostname another installation that verifies a license may take the name over.
    pub holder_silence_days: u32,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        Self {
            lookup_timeout_ms: 2_000,
            sweep_interval_secs: 60,
            sweep_batch_size: 500,
            holder_silence_days: 30,
        }
    }
}

/// `[version_service.ingest]`: what one sender may send, how often, and how many at once.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Pings parsed and stored at once (from the end of the body to the answer); more get
    /// 503 + `Retry-After`. Bounds the CPU and the database writers ingestion takes.
    pub max_concurrent: usize,
    /// Bytes of request bodies held in memory while they arrive, all requests together; a body
    /// that would go past it gets 503 + `Retry-After`. Reserved as the bytes arrive, so a
    /// sender trickling its body holds only what it sent (the edge's body deadline ends it).
    pub max_body_memory_bytes: usize,
    /// The `Retry-After` (seconds) of that 503.
    pub retry_after_secs: u64,
    /// Pings per minute from one client address (an IPv6 address counts by its /64); 0: no limit.
    pub per_address_per_minute: u32,
    /// Pings per hour from one installation: a `uuid` sending from one address (a stranger
    /// sending under the same `uuid` from elsewhere is counted apart); 0: no limit.
    pub per_installation_per_hour: u32,
    /// Bytes of ping bodies one client address may send per day (counted in KiB, refilled
    /// continuously); past it 429 + `Retry-After`. 0: no limit.
    pub per_address_bytes_per_day: u64,
    /// Bytes of ping bodies one installation (`uuid` and address, as above) may send per day;
    /// past it 429 + `Retry-After`. 0: no limit.
    pub per_installation_bytes_per_day: u64,
    /// How far in the future `recorded_at` may be (the sender's clock may run ahead).
    pub max_clock_skew_secs: u64,
    /// How old `recorded_at` may be, in days.
    pub max_ping_age_days: u32,
    /// Largest value of a count (`active_user_count`, ..., and every number in `counts`).
    pub max_count: i64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 64,
            // What 64 bodies of the default largest size took when the cap was held while
            // reading them.
            max_body_memory_bytes: 64 * DEFAULT_MAX_PAYLOAD_BYTES,
            retry_after_secs: 1,
            per_address_per_minute: 60,
            per_installation_per_hour: 10,
            // A real ping is a few hundred KB, sent weekly: 32 MiB is a hundred of them, or
            // eight of the largest accepted, in a day. An address may front many servers (a
            // company's NAT, a hosting provider): 256 MiB.
            per_address_bytes_per_day: 256 * 1024 * 1024,
            per_installation_bytes_per_day: 32 * 1024 * 1024,
            max_clock_skew_secs: 300,
            max_ping_age_days: 5 * 365,
            max_count: 1_000_000_000_000,
        }
    }
}

impl IngestConfig {
    /// Settings for tests and benchmarks that post many pings from one address: no per-sender
    /// rate limit, the other bounds as in production.
    pub fn unthrottled() -> Self {
        Self {
            per_address_per_minute: 0,
            per_installation_per_hour: 0,
            per_address_bytes_per_day: 0,
            per_installation_bytes_per_day: 0,
            ..Self::default()
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
        assert!(config.redis_url.is_none());
        assert_eq!(config.ingest.max_concurrent, 64);
        assert_eq!(config.ingest.per_address_per_minute, 60);
        assert_eq!(config.ingest.max_body_memory_bytes, 256 * 1024 * 1024);
        assert_eq!(config.ingest.per_address_bytes_per_day, 256 * 1024 * 1024);
        assert_eq!(
            config.ingest.per_installation_bytes_per_day,
            32 * 1024 * 1024
        );
        // The largest accepted ping fits the day's budget of an installation.
        assert!(config.ingest.per_installation_bytes_per_day >= config.max_payload_bytes as u64);
        assert!(config.license_database_url.is_none());
        assert_eq!(config.verification.holder_silence_days, 30);
        assert_eq!(config.verification.sweep_batch_size, 500);
    }

    #[test]
    fn partial_input_keeps_defaults() {
        let config: Config = serde_json::from_str(
            r#"{"max_payload_bytes": 10, "ingest": {"max_clock_skew_secs": 60}}"#,
        )
        .unwrap();
        assert_eq!(config.max_payload_bytes, 10);
        assert_eq!(config.listen, Config::default().listen);
        assert_eq!(config.ingest.max_clock_skew_secs, 60);
        assert_eq!(config.ingest.max_concurrent, 64);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<Config>(r#"{"ingest": {"per_adress_per_minute": 1}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("per_adress_per_minute"), "{err}");
    }

    #[test]
    fn a_service_token_is_required_unless_developing() {
        let mut config = Config::default();
        let err = config.check_service_token(false).unwrap_err();
        assert!(err.contains("--insecure-no-token"), "{err}");
        assert!(config.check_service_token(true).is_ok());
        config.service_token = Some("   ".to_owned());
        assert!(config.check_service_token(false).is_err());
        config.service_token = Some("short".to_owned());
        assert!(
            config
                .check_service_token(false)
                .unwrap_err()
                .contains("at least 16")
        );
        config.service_token = Some("0123456789abcdef".to_owned());
        assert!(config.check_service_token(false).is_ok());
    }
}
