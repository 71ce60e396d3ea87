//! The ingestion-specific bounds of `POST /usage_data`: a cap on requests handled at once
//! (503 + `Retry-After` above it) and per-sender rate limits by client address and by
//! installation uuid (429 + `Retry-After`), counted in memory or, with `redis_url`, in Redis so
//! that replicas share them.

use std::{net::IpAddr, sync::Arc, time::Duration};

use rate_limit::{Limiter, Rate, address_key, retry_after_secs};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

/// Where the limits keep their counts in Redis (each limiter adds its scope and rate).
const REDIS_PREFIX: &str = "licensedot:version:ratelimit:";

/// What a sender is counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The client address.
    Address,
    /// The installation `uuid` of the ping.
    Installation,
}

impl Scope {
    /// The label in metrics, Redis keys and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Installation => "installation",
        }
    }

    fn limiter(self, rate: Rate, redis: Option<&rate_limit::Connection>) -> Limiter {
        match redis {
            Some(connection) => Limiter::redis(connection, REDIS_PREFIX, self.name(), rate),
            None => Limiter::memory(self.name(), rate),
        }
    }
}

/// A refusal by [`IngestLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests at once: 503.
    Busy {
        /// Seconds the sender should wait.
        retry_after_secs: u64,
    },
    /// The sender is over its rate: 429.
    RateLimited {
        /// By what it was counted.
        scope: Scope,
        /// Seconds until it may send again (at least 1).
        retry_after_secs: u64,
    },
}

/// The bounds of `POST /usage_data`, shared by every request of one process.
pub struct IngestLimits {
    permits: Arc<Semaphore>,
    retry_after_secs: u64,
    by_address: Option<(Scope, Limiter)>,
    by_installation: Option<(Scope, Limiter)>,
}

impl std::fmt::Debug for IngestLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestLimits")
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl IngestLimits {
    /// The limits of `config.ingest`, counted in Redis when `config.redis_url` is set.
    /// Connecting to Redis happens on first use; [`IngestLimits::check_backend`] tries it now.
    pub fn new(config: &Config) -> Self {
        let ingest = &config.ingest;
        let redis = config
            .redis_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(rate_limit::connect);
        let limit = |scope: Scope, rate: Option<Rate>| {
            rate.map(|rate| (scope, scope.limiter(rate, redis.as_ref())))
        };
        let by_address = limit(
            Scope::Address,
            Rate::new(ingest.per_address_per_minute, Duration::from_secs(60)),
        );
        let by_installation = limit(
            Scope::Installation,
            Rate::new(ingest.per_installation_per_hour, Duration::from_secs(3600)),
        );
        Self {
            // At least one, so a zero in the configuration cannot refuse everything.
            permits: Arc::new(Semaphore::new(ingest.max_concurrent.max(1))),
            retry_after_secs: ingest.retry_after_secs.max(1),
            by_address,
            by_installation,
        }
    }

    /// A slot for one ingestion request, held until its answer; `Busy` when all are taken.
    /// Never queues: a waiting request would hold its connection and body anyway.
    pub fn acquire(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy {
                retry_after_secs: self.retry_after_secs,
            })
    }

    /// Counts one request from `address`.
    pub async fn check_address(&self, address: IpAddr) -> Result<(), Refusal> {
        check(self.by_address.as_ref(), &address_key(address)).await
    }

    /// Counts one ping from installation `uuid`.
    pub async fn check_installation(&self, uuid: &str) -> Result<(), Refusal> {
        check(self.by_installation.as_ref(), uuid).await
    }

    /// Connects to the rate-limit store now: `Err` names what is wrong with Redis, so a
    /// misconfigured `redis_url` stops the start instead of silently letting everyone through.
    pub async fn check_backend(&self) -> Result<(), String> {
        for (_, limiter) in [&self.by_address, &self.by_installation]
            .into_iter()
            .flatten()
        {
            limiter
                .check_backend()
                .await
                .map_err(|err| format!("Redis at redis_url: {err}"))?;
        }
        Ok(())
    }
}

async fn check(limiter: Option<&(Scope, Limiter)>, key: &str) -> Result<(), Refusal> {
    let Some((scope, limiter)) = limiter else {
        return Ok(());
    };
    limiter
        .check(key)
        .await
        .map_err(|wait| Refusal::RateLimited {
            scope: *scope,
            retry_after_secs: retry_after_secs(wait),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrency_cap_refuses_without_queueing() {
        let mut config = Config::default();
        config.ingest.max_concurrent = 2;
        config.ingest.retry_after_secs = 3;
        let limits = IngestLimits::new(&config);
        let first = limits.acquire().unwrap();
        let _second = limits.acquire().unwrap();
        assert_eq!(
            limits.acquire().unwrap_err(),
            Refusal::Busy {
                retry_after_secs: 3
            }
        );
        drop(first);
        assert!(limits.acquire().is_ok());
    }

    #[tokio::test]
    async fn memory_limits_count_per_key() {
        let mut config = Config::default();
        config.ingest.per_installation_per_hour = 2;
        let limits = IngestLimits::new(&config);
        assert!(limits.check_installation("a").await.is_ok());
        assert!(limits.check_installation("a").await.is_ok());
        let Err(Refusal::RateLimited {
            scope,
            retry_after_secs,
        }) = limits.check_installation("a").await
        else {
            panic!("the third ping within the hour must be refused");
        };
        assert_eq!(scope, Scope::Installation);
        // One ping replenishes every 30 minutes.
        assert!(
            (1700..=1800).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        assert!(limits.check_installation("b").await.is_ok());
    }
}
