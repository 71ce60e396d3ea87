//! The time the scheduler and the worker go by. Injected so tests can move it (a license's
//! expiry reached without waiting for it); the gateway uses [`SystemClock`].
//!
//! It decides when events happen and when deliveries are due. The `webhook-timestamp` header
//! is the moment of sending by the system clock instead, as the spec means it: receivers check
//! it against their own clocks.

use chrono::{DateTime, Utc};

/// Now, as the webhooks see it.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
