//! The ingestion-specific bounds of `POST /usage_data`: a cap on requests handled at once
//! (503 + `Retry-After` above it) and per-sender rate limits by client address and by
//! installation uuid (429 + `Retry-After`), counted in memory or, with `redis_url`, in Redis so
//! that replicas share them.

mod memory;
mod redis;

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

/// A rate: `count` requests per `period`, in bursts of up to `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (and the largest burst).
    pub count: NonZeroU32,
    /// The period.
    pub period: Duration,
}

impl Rate {
    /// `count` per `period`; `None` when `count` is 0 (no limit).
    pub fn new(count: u32, period: Duration) -> Option<Self> {
        NonZeroU32::new(count).map(|count| Self { count, period })
    }

    /// Time between two requests at the steady rate (never zero).
    fn interval(&self) -> Duration {
        (self.period / self.count.get()).max(Duration::from_millis(1))
    }
}

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
}

/// Where a rate limiter keeps its counts.
enum Store {
    Memory(memory::MemoryLimiter),
    Redis(redis::RedisLimiter),
}

/// One rate limit over one scope.
struct Limiter {
    scope: Scope,
    store: Store,
}

impl Limiter {
    fn new(scope: Scope, rate: Rate, redis: Option<&redis::Connection>) -> Self {
        let store = match redis {
            Some(connection) => Store::Redis(redis::RedisLimiter::new(connection, scope, rate)),
            None => Store::Memory(memory::MemoryLimiter::new(rate)),
        };
        Self { scope, store }
    }

    /// `Err(wait)` when `key` is over its rate. A Redis failure lets the request through (and is
    /// logged): losing pings to a cache outage is worse than a short burst above the limit.
    async fn check(&self, key: &str) -> Result<(), Duration> {
        match &self.store {
            Store::Memory(limiter) => limiter.check(key),
            Store::Redis(limiter) => match limiter.check(key).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::warn!(scope = self.scope.name(), error = %err, "rate limit not checked: Redis failed");
                    Ok(())
                }
            },
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
    by_address: Option<Limiter>,
    by_installation: Option<Limiter>,
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
            .map(redis::connect);
        let by_address = Rate::new(ingest.per_address_per_minute, Duration::from_secs(60))
            .map(|rate| Limiter::new(Scope::Address, rate, redis.as_ref()));
        let by_installation =
            Rate::new(ingest.per_installation_per_hour, Duration::from_secs(3600))
                .map(|rate| Limiter::new(Scope::Installation, rate, redis.as_ref()));
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
        for limiter in [&self.by_address, &self.by_installation]
            .into_iter()
            .flatten()
        {
            if let Store::Redis(redis) = &limiter.store {
                redis
                    .ping()
                    .await
                    .map_err(|err| format!("Redis at redis_url: {err}"))?;
            }
        }
        Ok(())
    }
}

async fn check(limiter: Option<&Limiter>, key: &str) -> Result<(), Refusal> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter
        .check(key)
        .await
        .map_err(|wait| Refusal::RateLimited {
            scope: limiter.scope,
            retry_after_secs: whole_seconds(wait),
        })
}

/// `Retry-After` is whole seconds; rounding up so a sender that obeys it is let through.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// An IPv4 address counts alone; an IPv6 address by its /64, since one host routinely owns a
/// whole /64 and could otherwise rotate through addresses.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_keyed_per_host() {
        assert_eq!(address_key("10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(address_key("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            address_key("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_eq!(
            address_key("2001:db8:1:2::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(6)), 6);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

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
