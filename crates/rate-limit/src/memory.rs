//! Rate limits counted in this process (GCRA, keyed), for a single replica.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use super::Rate;

/// Checks between two sweeps of keys whose state has expired, so memory follows the number of
/// recent senders, not of every sender ever seen.
const SWEEP_EVERY: u64 = 4096;

pub(super) struct MemoryLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl MemoryLimiter {
    pub(super) fn new(rate: Rate) -> Self {
        // `Rate::interval` is never zero, so `with_period` always has a quota to give.
        let quota = Quota::with_period(rate.interval())
            .unwrap_or_else(|| Quota::per_second(rate.count))
            .allow_burst(rate.count);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when `key` is over its rate.
    pub(super) fn check(&self, key: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}
