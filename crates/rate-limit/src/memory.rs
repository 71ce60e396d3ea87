//! Rate limits counted in this process (GCRA, keyed), for a single replica.

use std::{
    num::NonZeroU32,
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
    /// A full period: the wait answered when more than the whole burst is asked for at once.
    period: Duration,
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
            period: rate.period,
        }
    }

    /// `Err(wait)` when `key` has fewer than `n` left of its rate.
    pub(super) fn check(&self, key: &str, n: NonZeroU32) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        match self.limiter.check_key_n(&key.to_owned(), n) {
            Ok(outcome) => outcome.map_err(|not_until| not_until.wait_time_from(self.clock.now())),
            // More than the whole burst at once: it can never pass.
            Err(_) => Err(self.period),
        }
    }
}
