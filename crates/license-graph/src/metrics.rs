//! What the license graph tells the service's metrics: a small trait the gateway implements
//! (its Prometheus registry), so the graph knows nothing of how it is exported.

use std::time::Duration;

/// The graph's events; called on request tasks, so implementations only count (no I/O).
pub trait GraphMetrics: Send + Sync + std::fmt::Debug {
    /// A DataLoader sent a batch of `size` keys.
    fn batch(&self, loader: &str, size: usize);

    /// A call to the version service ended with `outcome` (a fixed word: `ok`, `timeout`,
    /// ...) after `duration`.
    fn upstream_call(&self, duration: Duration, outcome: &str);

    /// A refused connection to the version service was tried again.
    fn upstream_retry(&self);

    /// The version-service circuit opened.
    fn breaker_opened(&self);
}
