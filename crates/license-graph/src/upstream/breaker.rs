//! The circuit breaker of the version-service client. It must protect without punishing:
//!
//! - **Refusals and timeouts are counted apart.** Connection refused or reset, 5xx and
//!   garbage answers say the service is down: `failures` of them in a row open the circuit.
//!   Timeouts mostly say a *query* is heavy (one customer's `usagePings(last: 100)` over
//!   megabyte pings), not that the service is down, so they open it only after `timeouts` in a
//!   row (default 20). Any success in between, such as another user's light call, resets both
//!   counts: one customer's slow queries cannot switch usage off for everyone.
//! - **Probing starts fast and backs off.** An open circuit lets one probe call through after
//!   `probe_after` (default 100 ms, jittered ±25 % so that several gateways do not probe in
//!   step); each failed probe doubles the wait, up to `max_cooldown`. The wait grows only
//!   while failures continue: a success closes the circuit and resets it.
//!
//! The client adds a fast, jittered retry on connection refused within the call's timeout
//! (`client.rs`), so a version service restarted in under a second usually never even opens
//! the circuit.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a finished call tells the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered (an answer with GraphQL errors, or one refused for its size,
    /// included: the service itself is up).
    Success,
    /// Refused, reset, 5xx or garbage: the service is down or broken.
    Refused,
    /// No answer within the timeout.
    Timeout,
}

/// The breaker's state, for `/metrics` and `/ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Closed,
    /// One probe call is let through (or about to be).
    HalfOpen,
    Open,
}

impl Phase {
    /// The label used in `/metrics` and `/ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::HalfOpen => "half_open",
            Phase::Open => "open",
        }
    }
}

/// When the breaker opens and how long it waits.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Consecutive refusals that open the circuit; 0 disables the breaker.
    pub failures: u32,
    /// Consecutive timeouts that open the circuit; 0: timeouts never open it.
    pub timeouts: u32,
    /// The first wait before a probe.
    pub probe_after: Duration,
    /// The longest wait between probes.
    pub max_cooldown: Duration,
}

#[derive(Debug)]
pub struct Breaker {
    settings: Settings,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    refusals: u32,
    timeouts: u32,
    /// `Some` while open or half-open: when the next probe may go.
    open: Option<Open>,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    probe_at: Instant,
    /// The wait that led to `probe_at`; doubled after a failed probe.
    cooldown: Duration,
    probing: bool,
}

/// Whether a call may go out, and whether it is the probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Call,
    Probe,
    Refused,
}

impl Breaker {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            state: Mutex::new(State {
                refusals: 0,
                timeouts: 0,
                open: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a call may go out at `now`: always while closed; while open, one probe once
    /// its time has come, the others refused until the probe's outcome is known.
    pub fn admit(&self, now: Instant) -> Admission {
        let mut state = self.state();
        match state.open.as_mut() {
            None => Admission::Call,
            Some(open) if open.probing || now < open.probe_at => Admission::Refused,
            Some(open) => {
                open.probing = true;
                Admission::Probe
            }
        }
    }

    /// Records a call's outcome; `jitter` in [0.75, 1.25] scales the next wait. Returns true
    /// when this outcome opened the circuit from closed.
    pub fn record(
        &self,
        admission: Admission,
        outcome: Outcome,
        now: Instant,
        jitter: f64,
    ) -> bool {
        let settings = self.settings;
        let mut state = self.state();
        if outcome == Outcome::Success {
            // Any answer proves the service is up, a late one from before the circuit opened
            // included.
            state.refusals = 0;
            state.timeouts = 0;
            state.open = None;
            return false;
        }
        if let Some(open) = state.open.as_mut() {
            if admission == Admission::Probe {
                let cooldown = (open.cooldown * 2).min(settings.max_cooldown);
                *open = Open {
                    probe_at: now + cooldown.mul_f64(jitter),
                    cooldown,
                    probing: false,
                };
            }
            // A failure of a call sent before the circuit opened changes nothing.
            return false;
        }
        let (count, threshold) = match outcome {
            Outcome::Refused => {
                state.refusals = state.refusals.saturating_add(1);
                (state.refusals, settings.failures)
            }
            _ => {
                state.timeouts = state.timeouts.saturating_add(1);
                (state.timeouts, settings.timeouts)
            }
        };
        if settings.failures == 0 || threshold == 0 || count < threshold {
            return false;
        }
        let cooldown = settings.probe_after.min(settings.max_cooldown);
        state.open = Some(Open {
            probe_at: now + cooldown.mul_f64(jitter),
            cooldown,
            probing: false,
        });
        true
    }

    /// A probe that will never record an outcome (its request was cancelled): lets the next
    /// caller probe instead, so the circuit cannot stay open for want of an answer.
    pub fn abandon(&self, admission: Admission) {
        if admission != Admission::Probe {
            return;
        }
        if let Some(open) = self.state().open.as_mut() {
            open.probing = false;
        }
    }

    /// The state at `now`.
    pub fn phase(&self, now: Instant) -> Phase {
        match self.state().open {
            None => Phase::Closed,
            Some(open) if open.probing || now >= open.probe_at => Phase::HalfOpen,
            Some(_) => Phase::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(Settings {
            failures: 3,
            timeouts: 5,
            probe_after: Duration::from_millis(100),
            max_cooldown: Duration::from_millis(1000),
        })
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn opens_after_consecutive_refusals_then_probes_soon_and_backs_off() {
        let b = breaker();
        let t0 = Instant::now();
        assert!(!b.record(Admission::Call, Outcome::Refused, t0, 1.0));
        assert!(!b.record(Admission::Call, Outcome::Refused, t0, 1.0));
        assert_eq!(b.admit(t0), Admission::Call, "two refusals keep it closed");
        assert!(
            b.record(Admission::Call, Outcome::Refused, t0, 1.0),
            "opens"
        );
        assert_eq!(b.phase(t0), Phase::Open);
        assert_eq!(b.admit(t0 + ms(50)), Admission::Refused);
        // The first probe comes after 100 ms; only one goes out.
        assert_eq!(b.admit(t0 + ms(100)), Admission::Probe);
        assert_eq!(b.admit(t0 + ms(100)), Admission::Refused);
        // It fails: the next wait is 200 ms, then 400, 800, capped at 1000.
        b.record(Admission::Probe, Outcome::Refused, t0 + ms(100), 1.0);
        assert_eq!(b.admit(t0 + ms(299)), Admission::Refused);
        let mut now = t0 + ms(300);
        for wait in [400, 800, 1000, 1000] {
            assert_eq!(b.admit(now), Admission::Probe);
            b.record(Admission::Probe, Outcome::Refused, now, 1.0);
            assert_eq!(b.admit(now + ms(wait - 1)), Admission::Refused);
            now += ms(wait);
        }
        // A successful probe closes it and resets the wait to the first one.
        assert_eq!(b.admit(now), Admission::Probe);
        b.record(Admission::Probe, Outcome::Success, now, 1.0);
        assert_eq!(b.phase(now), Phase::Closed);
        for _ in 0..3 {
            b.record(Admission::Call, Outcome::Refused, now, 1.0);
        }
        assert_eq!(b.admit(now + ms(99)), Admission::Refused);
        assert_eq!(b.admit(now + ms(100)), Admission::Probe, "back to 100 ms");
    }

    #[test]
    fn timeouts_count_apart_and_any_success_resets_them() {
        let b = breaker();
        let t0 = Instant::now();
        // One customer's heavy queries time out, other calls succeed in between: never opens.
        for _ in 0..50 {
            for _ in 0..4 {
                b.record(Admission::Call, Outcome::Timeout, t0, 1.0);
            }
            b.record(Admission::Call, Outcome::Success, t0, 1.0);
        }
        assert_eq!(b.phase(t0), Phase::Closed);
        // Refusals do not add to the timeout count, nor the reverse.
        for _ in 0..2 {
            b.record(Admission::Call, Outcome::Refused, t0, 1.0);
        }
        for _ in 0..4 {
            b.record(Admission::Call, Outcome::Timeout, t0, 1.0);
        }
        assert_eq!(b.phase(t0), Phase::Closed);
        // Only a service that times out on everything opens it.
        assert!(b.record(Admission::Call, Outcome::Timeout, t0, 1.0));
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_caller_probe() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(Admission::Call, Outcome::Refused, t0, 1.0);
        }
        let later = t0 + ms(100);
        assert_eq!(b.admit(later), Admission::Probe);
        assert_eq!(b.admit(later), Admission::Refused);
        b.abandon(Admission::Probe);
        assert_eq!(b.admit(later), Admission::Probe);
    }

    #[test]
    fn jitter_spreads_the_probe_and_zero_disables() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(Admission::Call, Outcome::Refused, t0, 0.75);
        }
        assert_eq!(b.admit(t0 + ms(75)), Admission::Probe);
        let off = Breaker::new(Settings {
            failures: 0,
            ..b.settings
        });
        for _ in 0..100 {
            off.record(Admission::Call, Outcome::Refused, t0, 1.0);
        }
        assert_eq!(off.admit(t0), Admission::Call);
    }
}
