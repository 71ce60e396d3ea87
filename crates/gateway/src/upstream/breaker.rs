//! A circuit breaker: after repeated failures, stop calling for a while so a dead version service
//! costs requests nothing, then let one call through to see whether it is back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts consecutive failures; opens after `threshold` of them for `cooldown`.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    /// A closed breaker. A threshold of 0 disables it.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a call may go out now. After the cooldown one trial call is let through; if it
    /// fails the breaker opens again at once.
    pub fn allow(&self, now: Instant) -> bool {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match state.open_until {
            Some(until) if now < until => false,
            Some(_) => {
                // Half-open: one trial; further callers wait for its outcome a cooldown long.
                state.open_until = Some(now + self.cooldown);
                true
            }
            None => true,
        }
    }

    /// Records the outcome of a call.
    pub fn record(&self, success: bool, now: Instant) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if success {
            *state = State::default();
            return;
        }
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        if self.threshold > 0 && state.consecutive_failures >= self.threshold {
            state.open_until = Some(now + self.cooldown);
        }
    }

    /// Whether the breaker is refusing calls now.
    pub fn is_open(&self, now: Instant) -> bool {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.open_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens_after_cooldown() {
        let breaker = Breaker::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..2 {
            breaker.record(false, t0);
        }
        assert!(breaker.allow(t0), "two failures keep it closed");
        breaker.record(false, t0);
        assert!(
            !breaker.allow(t0 + Duration::from_secs(1)),
            "open after the third"
        );
        let later = t0 + Duration::from_secs(11);
        assert!(breaker.allow(later), "one trial after the cooldown");
        assert!(!breaker.allow(later), "only one");
        breaker.record(true, later);
        assert!(breaker.allow(later), "a success closes it");
    }
}
