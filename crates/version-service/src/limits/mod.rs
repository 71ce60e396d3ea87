//! The ingestion-specific bounds of `POST /usage_data`: the memory bodies may hold while they
//! arrive and a cap on pings parsed and stored at once (503 + `Retry-After` above either), and
//! per-sender rate limits and daily byte budgets by client address and by installation
//! (429 + `Retry-After`), counted in memory or, with `redis_url`, in Redis so that replicas
//! share them.
//!
//! An installation is counted by its `uuid` *and* the address it sends from: the `uuid` is no
//! secret (anyone may send a ping under any `uuid`), so a limit keyed by the `uuid` alone would
//! let a stranger spend a victim's allowance and silence its genuine pings. The price: a sender
//! rotating addresses gets a fresh installation allowance at each one; what bounds it then is
//! the per-address limits (an IPv6 sender counts by its /64).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use rate_limit::{Limiter, Rate, address_key, retry_after_secs};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

/// Where the limits keep their counts in Redis (each limiter adds its scope and rate).
const REDIS_PREFIX: &str = "licensedot:version:ratelimit:";

/// The byte budgets count in units of this many bytes (rounded up), so that a day's budget
/// fits the limiter's counts and its millisecond clock.
const BUDGET_UNIT_BYTES: u64 = 1024;

/// The period of the byte budgets.
const BUDGET_PERIOD: Duration = Duration::from_secs(86_400);

/// What a sender is counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The client address.
    Address,
    /// The installation: the ping's `uuid` from the address it came from.
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
        limiter(self.name(), rate, redis)
    }

    /// The limiter of this scope's daily byte budget (its Redis keys apart from the rate's).
    fn budget(self, bytes: u64, redis: Option<&rate_limit::Connection>) -> Option<Budget> {
        let units = u32::try_from(bytes.div_ceil(BUDGET_UNIT_BYTES)).unwrap_or(u32::MAX);
        let rate = Rate::new(units, BUDGET_PERIOD)?;
        let name = match self {
            Self::Address => "address_bytes",
            Self::Installation => "installation_bytes",
        };
        Some(Budget {
            scope: self,
            bytes,
            limiter: limiter(name, rate, redis),
        })
    }
}

fn limiter(name: &'static str, rate: Rate, redis: Option<&rate_limit::Connection>) -> Limiter {
    match redis {
        Some(connection) => Limiter::redis(connection, REDIS_PREFIX, name, rate),
        None => Limiter::memory(name, rate),
    }
}

/// A daily byte budget of one scope.
struct Budget {
    scope: Scope,
    bytes: u64,
    limiter: Limiter,
}

impl Budget {
    /// Spends `bytes` of `key`'s budget.
    async fn spend(&self, key: &str, bytes: usize) -> Result<(), Refusal> {
        let units = u64::try_from(bytes)
            .unwrap_or(u64::MAX)
            .div_ceil(BUDGET_UNIT_BYTES);
        let units =
            NonZeroU32::new(u32::try_from(units).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        self.limiter
            .check_n(key, units)
            .await
            .map_err(|wait| Refusal::OverBudget {
                scope: self.scope,
                budget_bytes: self.bytes,
                retry_after_secs: retry_after_secs(wait),
            })
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
    /// The sender has sent its day's bytes: 429.
    OverBudget {
        /// By what it was counted.
        scope: Scope,
        /// The budget, in bytes a day.
        budget_bytes: u64,
        /// Seconds until this ping's bytes fit again (at least 1).
        retry_after_secs: u64,
    },
}

/// The bounds of `POST /usage_data`, shared by every request of one process.
pub struct IngestLimits {
    permits: Arc<Semaphore>,
    /// One permit per byte of request bodies held in memory while they arrive.
    body_memory: Arc<Semaphore>,
    body_memory_bound: usize,
    retry_after_secs: u64,
    by_address: Option<(Scope, Limiter)>,
    by_installation: Option<(Scope, Limiter)>,
    address_bytes: Option<Budget>,
    installation_bytes: Option<Budget>,
}

impl std::fmt::Debug for IngestLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestLimits")
            .field("available_permits", &self.permits.available_permits())
            .field(
                "available_body_bytes",
                &self.body_memory.available_permits(),
            )
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
        let body_memory_bound = ingest
            .max_body_memory_bytes
            .clamp(1, Semaphore::MAX_PERMITS);
        Self {
            // At least one, so a zero in the configuration cannot refuse everything.
            permits: Arc::new(Semaphore::new(ingest.max_concurrent.max(1))),
            body_memory: Arc::new(Semaphore::new(body_memory_bound)),
            body_memory_bound,
            retry_after_secs: ingest.retry_after_secs.max(1),
            by_address,
            by_installation,
            address_bytes: Scope::Address.budget(ingest.per_address_bytes_per_day, redis.as_ref()),
            installation_bytes: Scope::Installation
                .budget(ingest.per_installation_bytes_per_day, redis.as_ref()),
        }
    }

    /// A slot for parsing and storing one ping, taken once its body is in and held until its
    /// answer; `Busy` when all are taken. Never queues: a waiting request would hold its body.
    /// Taken after the body, so senders that trickle their bodies cannot hold the slots.
    pub fn acquire(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy {
                retry_after_secs: self.retry_after_secs,
            })
    }

    /// Room for `bytes` more of a body arriving, held until its answer (merge the permits of
    /// one body); `Busy` when the bodies in memory already hold `max_body_memory_bytes`. Taken
    /// as the bytes arrive, so a body that trickles in holds only what it has sent.
    pub fn reserve_body(&self, bytes: usize) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        let busy = Refusal::Busy {
            retry_after_secs: self.retry_after_secs,
        };
        let Ok(bytes) = u32::try_from(bytes) else {
            return Err(busy);
        };
        if bytes == 0 {
            return Ok(None);
        }
        Arc::clone(&self.body_memory)
            .try_acquire_many_owned(bytes)
            .map(Some)
            .map_err(|_| busy)
    }

    /// Bytes of request bodies held in memory right now (what [`IngestLimits::reserve_body`]
    /// has reserved and not yet given back).
    pub fn body_bytes_in_memory(&self) -> usize {
        self.body_memory_bound
            .saturating_sub(self.body_memory.available_permits())
    }

    /// Counts one request from `address`.
    pub async fn check_address(&self, address: IpAddr) -> Result<(), Refusal> {
        check(self.by_address.as_ref(), &address_key(address)).await
    }

    /// Spends `bytes` of the day's budget of `address`.
    pub async fn spend_address_bytes(&self, address: IpAddr, bytes: usize) -> Result<(), Refusal> {
        match &self.address_bytes {
            Some(budget) => budget.spend(&address_key(address), bytes).await,
            None => Ok(()),
        }
    }

    /// Counts one ping from installation `uuid` sent from `address` (`None` only when driven
    /// without a socket).
    pub async fn check_installation(
        &self,
        uuid: &str,
        address: Option<IpAddr>,
    ) -> Result<(), Refusal> {
        check(
            self.by_installation.as_ref(),
            &installation_key(uuid, address),
        )
        .await
    }

    /// Spends `bytes` of the day's budget of installation `uuid` sending from `address`.
    pub async fn spend_installation_bytes(
        &self,
        uuid: &str,
        address: Option<IpAddr>,
        bytes: usize,
    ) -> Result<(), Refusal> {
        match &self.installation_bytes {
            Some(budget) => budget.spend(&installation_key(uuid, address), bytes).await,
            None => Ok(()),
        }
    }

    /// Connects to the rate-limit store now: `Err` names what is wrong with Redis, so a
    /// misconfigured `redis_url` stops the start instead of silently letting everyone through.
    pub async fn check_backend(&self) -> Result<(), String> {
        let budgets = [&self.address_bytes, &self.installation_bytes]
            .into_iter()
            .flatten()
            .map(|budget| &budget.limiter);
        for limiter in [&self.by_address, &self.by_installation]
            .into_iter()
            .flatten()
            .map(|(_, limiter)| limiter)
            .chain(budgets)
        {
            limiter
                .check_backend()
                .await
                .map_err(|err| format!("Redis at redis_url: {err}"))?;
        }
        Ok(())
    }
}

/// The key an installation is counted by: its `uuid` and the address it sends from (see the
/// module's documentation for why both).
fn installation_key(uuid: &str, address: Option<IpAddr>) -> String {
    match address {
        Some(address) => format!("{}|{uuid}", address_key(address)),
        None => uuid.to_owned(),
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
        let here = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(limits.check_installation("a", here).await.is_ok());
        assert!(limits.check_installation("a", here).await.is_ok());
        let Err(Refusal::RateLimited {
            scope,
            retry_after_secs,
        }) = limits.check_installation("a", here).await
        else {
            panic!("the third ping within the hour must be refused");
        };
        assert_eq!(scope, Scope::Installation);
        // One ping replenishes every 30 minutes.
        assert!(
            (1700..=1800).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        assert!(limits.check_installation("b", here).await.is_ok());
        // The same uuid from another address is counted apart: a stranger cannot spend it.
        let elsewhere = Some(IpAddr::from([198, 51, 100, 7]));
        assert!(limits.check_installation("a", elsewhere).await.is_ok());
    }

    #[tokio::test]
    async fn byte_budgets_count_bytes_per_day_by_address_and_installation() {
        let mut config = Config::default();
        config.ingest.per_address_bytes_per_day = 10 * 1024;
        config.ingest.per_installation_bytes_per_day = 4 * 1024;
        let limits = IngestLimits::new(&config);
        let here = IpAddr::from([192, 0, 2, 1]);
        assert!(limits.spend_address_bytes(here, 6 * 1024).await.is_ok());
        let Err(Refusal::OverBudget {
            scope,
            budget_bytes,
            retry_after_secs,
        }) = limits.spend_address_bytes(here, 5 * 1024).await
        else {
            panic!("11 KiB is over a budget of 10");
        };
        assert_eq!((scope, budget_bytes), (Scope::Address, 10 * 1024));
        // One KiB comes back every 8640 s, and this ping needs one more than is left.
        assert!(
            (8640 - 60..=8640).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        assert!(limits.spend_address_bytes(here, 4 * 1024).await.is_ok());
        // Bytes round up to whole KiB.
        assert!(limits.spend_address_bytes(here, 1).await.is_err());

        let installation = |uuid| limits.spend_installation_bytes(uuid, Some(here), 4096);
        assert!(installation("a").await.is_ok());
        assert!(matches!(
            installation("a").await,
            Err(Refusal::OverBudget {
                scope: Scope::Installation,
                ..
            })
        ));
        assert!(installation("b").await.is_ok());
        assert!(
            limits
                .spend_installation_bytes("a", Some(IpAddr::from([198, 51, 100, 7])), 4096)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn body_memory_is_reserved_as_bytes_arrive() {
        let mut config = Config::default();
        config.ingest.max_body_memory_bytes = 100;
        let limits = IngestLimits::new(&config);
        let mut held = limits.reserve_body(60).unwrap().unwrap();
        held.merge(limits.reserve_body(40).unwrap().unwrap());
        assert!(matches!(limits.reserve_body(1), Err(Refusal::Busy { .. })));
        assert_eq!(limits.body_bytes_in_memory(), 100);
        assert!(limits.reserve_body(0).unwrap().is_none());
        drop(held);
        assert!(limits.reserve_body(100).is_ok());
    }
}
