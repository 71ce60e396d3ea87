//! `[gateway.webhooks]`: whether the gateway sends webhooks, how often the scheduler looks,
//! how deliveries are retried and bounded, and which addresses they may go to. Every option
//! has a default; [`WebhooksConfig::validate`] checks what serde cannot and says what to
//! change.

use std::time::Duration;

use serde::Deserialize;

use crate::address::AddressPolicy;
use crate::secret::{Cipher, KeyError};

/// A `[gateway.webhooks]` the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "[gateway.webhooks] enabled = true needs `secret_key` (the key that encrypts the endpoints' \
         signing secrets at rest): 32 random bytes in base64, e.g. from `openssl rand -base64 32`, \
         preferably in LICENSEDOT_GATEWAY__WEBHOOKS__SECRET_KEY"
    )]
    MissingKey,
    #[error("[gateway.webhooks] secret_key: {0}")]
    Key(#[from] KeyError),
    #[error("[gateway.webhooks] `{key}` must be between {min} and {max}, got {got}")]
    OutOfRange {
        key: &'static str,
        min: u64,
        max: u64,
        got: u64,
    },
    #[error("[gateway.webhooks] expiring_days takes 1 to 10 numbers of days, each 1 to 365")]
    ExpiringDays,
    #[error(
        "[gateway.webhooks] retention_days ({retention}) must be more than the largest of \
         expiring_days and than 7 ({needed}): an event's record is what keeps it from being sent twice"
    )]
    Retention { retention: u64, needed: u64 },
    #[error("[gateway.webhooks] allowed_internal_hosts: `{0}` is not a host name")]
    InternalHost(String),
}

/// `[gateway.webhooks]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Run the delivery worker and the scheduler in this gateway, and let admins manage
    /// endpoints. Off by default: sending requests to addresses admins type in is opt-in.
    pub enabled: bool,
    /// The key that encrypts endpoints' signing secrets in the license database: 32 bytes in
    /// base64. Required when enabled. Never logged.
    pub secret_key: Option<String>,
    /// How often the scheduler looks for time-based events (and forgets old ones), in seconds.
    pub schedule_interval_secs: u64,
    /// `license.expiring` fires once at each of these numbers of days before expiry.
    pub expiring_days: Vec<u32>,
    /// Delivered and failed deliveries, and their events, are deleted this many days after.
    pub retention_days: u64,
    /// How often the worker looks for due deliveries, in milliseconds (a change made through
    /// this gateway wakes it at once).
    pub poll_interval_ms: u64,
    /// Deliveries in flight at once in this gateway.
    pub concurrency: usize,
    /// The longest one attempt may take: resolving, connecting, sending, the answer.
    pub attempt_timeout_ms: u64,
    /// The most of a receiver's answer read, in bytes (only its status counts).
    pub max_response_bytes: usize,
    /// The wait before the first retry, in milliseconds; it doubles per attempt (with jitter).
    pub retry_initial_ms: u64,
    /// The longest wait between two attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long a delivery is retried before it fails, in seconds.
    pub retry_horizon_secs: u64,
    /// An endpoint whose every attempt failed for this many days is disabled.
    pub disable_after_days: u64,
    /// The most endpoints (active and disabled).
    pub max_endpoints: u64,
    /// Host names that may resolve to private addresses (RFC 1918, unique local, shared):
    /// internal services admins may send to. Link-local addresses stay refused.
    pub allowed_internal_hosts: Vec<String>,
    /// Development only: allow loopback addresses (`127.0.0.1`, `::1`, `localhost`), also over
    /// plain `http://`.
    pub development_allow_loopback: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            secret_key: None,
            schedule_interval_secs: 300,
            expiring_days: vec![90, 30, 7],
            retention_days: 120,
            poll_interval_ms: 1_000,
            concurrency: 8,
            attempt_timeout_ms: 10_000,
            max_response_bytes: 64 * 1024,
            retry_initial_ms: 10_000,
            retry_max_ms: 3_600_000,
            retry_horizon_secs: 86_400,
            disable_after_days: 5,
            max_endpoints: 20,
            allowed_internal_hosts: Vec::new(),
            development_allow_loopback: false,
        }
    }
}

// Hand-written so that the key never reaches a log line through `{:?}`.
impl std::fmt::Debug for WebhooksConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhooksConfig")
            .field("enabled", &self.enabled)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("schedule_interval_secs", &self.schedule_interval_secs)
            .field("expiring_days", &self.expiring_days)
            .field("retention_days", &self.retention_days)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("concurrency", &self.concurrency)
            .field("attempt_timeout_ms", &self.attempt_timeout_ms)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry_initial_ms", &self.retry_initial_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("retry_horizon_secs", &self.retry_horizon_secs)
            .field("disable_after_days", &self.disable_after_days)
            .field("max_endpoints", &self.max_endpoints)
            .field("allowed_internal_hosts", &self.allowed_internal_hosts)
            .field(
                "development_allow_loopback",
                &self.development_allow_loopback,
            )
            .finish()
    }
}

/// The checked settings the worker, the scheduler and the admin operations use.
#[derive(Clone, Debug)]
pub struct Settings {
    pub schedule_interval: Duration,
    /// Sorted, without duplicates.
    pub expiring_days: Vec<u32>,
    pub retention: chrono::Duration,
    pub poll_interval: Duration,
    pub concurrency: usize,
    pub attempt_timeout: Duration,
    pub max_response_bytes: usize,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub retry_horizon: chrono::Duration,
    pub disable_after: chrono::Duration,
    pub max_endpoints: u64,
    pub cipher: Cipher,
    pub policy: AddressPolicy,
}

fn range(key: &'static str, got: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    if (min..=max).contains(&got) {
        Ok(got)
    } else {
        Err(ConfigError::OutOfRange { key, min, max, got })
    }
}

impl WebhooksConfig {
    /// The settings, or what to change. Called only when `enabled`.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let key = self.secret_key.as_deref().ok_or(ConfigError::MissingKey)?;
        let cipher = Cipher::from_base64(key)?;
        let mut expiring_days = self.expiring_days.clone();
        expiring_days.sort_unstable();
        expiring_days.dedup();
        if expiring_days.is_empty()
            || expiring_days.len() > 10
            || expiring_days.iter().any(|d| !(1..=365).contains(d))
        {
            return Err(ConfigError::ExpiringDays);
        }
        let needed = u64::from(expiring_days.last().copied().unwrap_or(0))
            .max(licenses::webhooks::schedule::EXPIRED_WINDOW_DAYS);
        let retention = range("retention_days", self.retention_days, 1, 3650)?;
        if retention <= needed {
            return Err(ConfigError::Retention { retention, needed });
        }
        let policy = AddressPolicy::new(
            &self.allowed_internal_hosts,
            self.development_allow_loopback,
        )
        .map_err(ConfigError::InternalHost)?;
        let millis = |key, value, min, max| range(key, value, min, max).map(Duration::from_millis);
        let days = |key, value, min, max| {
            range(key, value, min, max).map(|d| chrono::Duration::days(d as i64))
        };
        let retry_initial = millis("retry_initial_ms", self.retry_initial_ms, 1, 3_600_000)?;
        Ok(Settings {
            schedule_interval: Duration::from_secs(range(
                "schedule_interval_secs",
                self.schedule_interval_secs,
                1,
                86_400,
            )?),
            expiring_days,
            retention: chrono::Duration::days(retention as i64),
            poll_interval: millis("poll_interval_ms", self.poll_interval_ms, 10, 60_000)?,
            concurrency: range("concurrency", self.concurrency as u64, 1, 256)? as usize,
            attempt_timeout: millis("attempt_timeout_ms", self.attempt_timeout_ms, 100, 60_000)?,
            max_response_bytes: range(
                "max_response_bytes",
                self.max_response_bytes as u64,
                0,
                1024 * 1024,
            )? as usize,
            retry_initial,
            retry_max: millis(
                "retry_max_ms",
                self.retry_max_ms,
                retry_initial.as_millis() as u64,
                86_400_000,
            )?,
            retry_horizon: chrono::Duration::seconds(range(
                "retry_horizon_secs",
                self.retry_horizon_secs,
                1,
                7 * 86_400,
            )? as i64),
            disable_after: days("disable_after_days", self.disable_after_days, 1, 365)?,
            max_endpoints: range("max_endpoints", self.max_endpoints, 1, 1000)?,
            cipher,
            policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn enabled() -> WebhooksConfig {
        WebhooksConfig {
            enabled: true,
            secret_key: Some(KEY.to_owned()),
            ..WebhooksConfig::default()
        }
    }

    #[test]
    fn the_defaults_validate_once_a_key_is_given() {
        let error = WebhooksConfig::default().validate().err();
        assert!(matches!(error, Some(ConfigError::MissingKey)), "{error:?}");
        let settings = enabled().validate();
        assert!(settings.is_ok(), "{:?}", settings.err());
        let settings = settings.ok();
        assert_eq!(
            settings.map(|s| s.expiring_days),
            Some(vec![7, 30, 90]),
            "sorted"
        );
    }

    #[test]
    fn values_that_cannot_work_are_refused_with_the_key_named() {
        let cases: [(WebhooksConfig, &str); 6] = [
            (
                WebhooksConfig {
                    secret_key: Some("c2hvcnQ=".into()),
                    ..enabled()
                },
                "32 bytes",
            ),
            (
                WebhooksConfig {
                    expiring_days: vec![],
                    ..enabled()
                },
                "expiring_days",
            ),
            (
                WebhooksConfig {
                    expiring_days: vec![400],
                    ..enabled()
                },
                "expiring_days",
            ),
            (
                WebhooksConfig {
                    retention_days: 90,
                    ..enabled()
                },
                "retention_days",
            ),
            (
                WebhooksConfig {
                    concurrency: 0,
                    ..enabled()
                },
                "concurrency",
            ),
            (
                WebhooksConfig {
                    allowed_internal_hosts: vec!["not a host".into()],
                    ..enabled()
                },
                "allowed_internal_hosts",
            ),
        ];
        for (config, named) in cases {
            let error = config
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(named), "{named}: {error}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let shown = format!("{:?}", enabled());
        assert!(
            !shown.contains(KEY) && shown.contains("<redacted>"),
            "{shown}"
        );
        let settings = enabled()
            .validate()
            .map(|s| format!("{s:?}"))
            .unwrap_or_default();
        assert!(
            !settings.contains(KEY) && settings.contains("Cipher(..)"),
            "{settings}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = serde_json::from_str::<WebhooksConfig>(r#"{"enabeld": true}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("enabeld"), "{error}");
    }
}
