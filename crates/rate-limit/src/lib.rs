//! Per-sender rate limits: GCRA (a token bucket refilled continuously: 60 a minute is one more
//! every second, after a burst of 60), keyed by whatever the caller counts by (a client
//! address, an installation id). Counted in this process ([`Limiter::memory`], governor) or in
//! Redis ([`Limiter::redis`], one Lua script on Redis's own clock) so that replicas share the
//! counts. The version service limits ingestion with it, the gateway its `/auth/*` routes.

#![forbid(unsafe_code)]

mod memory;
mod redis;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub use redis::{Connection, connect};

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

/// Where a limiter keeps its counts.
enum Store {
    Memory(memory::MemoryLimiter),
    Redis(redis::RedisLimiter),
}

/// One rate over one kind of key.
pub struct Limiter {
    /// What is counted, for log lines (`address`, `installation`, ...).
    name: &'static str,
    store: Store,
}

impl Limiter {
    /// Counts in this process: each replica counts alone.
    pub fn memory(name: &'static str, rate: Rate) -> Self {
        Self {
            name,
            store: Store::Memory(memory::MemoryLimiter::new(rate)),
        }
    }

    /// Counts in Redis under keys `<prefix><name>:<rate>:<key>`, shared by every process using
    /// the same Redis and prefix. `prefix` names the service (e.g. `licensedot:version:ratelimit:`).
    pub fn redis(connection: &Connection, prefix: &str, name: &'static str, rate: Rate) -> Self {
        Self {
            name,
            store: Store::Redis(redis::RedisLimiter::new(connection, prefix, name, rate)),
        }
    }

    /// What is counted.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Counts one request of `key`; `Err(wait)` when `key` is over its rate. A Redis failure lets
    /// the request through (and is logged): the limits protect against floods, and an outage of
    /// the counter must not turn into an outage of the service.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_n(key, NonZeroU32::MIN).await
    }

    /// Counts `n` units of `key` at once (a weighted check: bytes, kilobytes): the rate's
    /// `count` is then a budget of units per period. `Err(wait)` when `key` has fewer than `n`
    /// left; nothing is counted then. More than the whole budget never passes: the wait is
    /// then a full period. Redis failures let the request through, as in [`Limiter::check`].
    pub async fn check_n(&self, key: &str, n: NonZeroU32) -> Result<(), Duration> {
        match &self.store {
            Store::Memory(limiter) => limiter.check(key, n),
            Store::Redis(limiter) => match limiter.check(key, n).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    tracing::warn!(limit = self.name, %error, "rate limit not checked: Redis failed");
                    Ok(())
                }
            },
        }
    }

    /// Checks that the store answers (Redis: a `PING`), so that a misconfigured Redis stops the
    /// start instead of silently letting everyone through.
    pub async fn check_backend(&self) -> Result<(), String> {
        match &self.store {
            Store::Memory(_) => Ok(()),
            Store::Redis(limiter) => limiter.ping().await,
        }
    }
}

/// `Retry-After` is whole seconds; rounding up so a sender that obeys it is let through.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The key of a client address: an IPv4 address counts alone; an IPv6 address by its /64,
/// since one host routinely owns a whole /64 and could otherwise rotate through addresses.
pub fn address_key(address: IpAddr) -> String {
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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn addresses_are_keyed_per_host() {
        assert_eq!(address_key(ip("10.1.2.3")), "10.1.2.3");
        assert_eq!(address_key(ip("::ffff:10.1.2.3")), "10.1.2.3");
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_eq!(address_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[tokio::test]
    async fn memory_limits_count_per_key_and_say_how_long_to_wait() {
        let Some(rate) = Rate::new(2, Duration::from_secs(3600)) else {
            panic!("a rate");
        };
        let limiter = Limiter::memory("installation", rate);
        assert!(limiter.check("a").await.is_ok());
        assert!(limiter.check("a").await.is_ok());
        let Err(wait) = limiter.check("a").await else {
            panic!("the third request within the hour must be refused");
        };
        // One request replenishes every 30 minutes.
        assert!((1700..=1800).contains(&retry_after_secs(wait)), "{wait:?}");
        assert!(limiter.check("b").await.is_ok());
    }

    #[tokio::test]
    async fn weighted_checks_spend_a_budget_of_units() {
        let Some(rate) = Rate::new(100, Duration::from_secs(86_400)) else {
            panic!("a rate");
        };
        let limiter = Limiter::memory("bytes", rate);
        let units = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        assert!(limiter.check_n("a", units(60)).await.is_ok());
        assert!(limiter.check_n("a", units(40)).await.is_ok());
        // The budget is spent: even one more unit waits (one unit comes back every 864 s).
        let Err(wait) = limiter.check_n("a", units(1)).await else {
            panic!("the budget is spent");
        };
        assert!((800..=864).contains(&retry_after_secs(wait)), "{wait:?}");
        // A refused check spends nothing, and more than the whole budget never passes.
        let fresh = Limiter::memory("bytes", rate);
        let Err(wait) = fresh.check_n("b", units(101)).await else {
            panic!("more than the budget must be refused");
        };
        assert_eq!(wait, Duration::from_secs(86_400));
        assert!(fresh.check_n("b", units(100)).await.is_ok());
    }
}
