//! What the webhooks report, through a trait the gateway implements with its Prometheus
//! registry (like the graph's `GraphMetrics`). Labels are fixed words, never free text.

/// The webhooks' metrics.
pub trait WebhookMetrics: Send + Sync {
    /// One attempt ended: `delivered`, `http_error`, `timeout`, `unreachable`,
    /// `address_refused` or `secret_unusable`.
    fn attempt(&self, result: &str);
    /// A delivery reached its end: `succeeded` or `failed`.
    fn delivery(&self, outcome: &str);
    /// The worker disabled an endpoint that kept failing.
    fn endpoint_disabled(&self);
    /// The scheduler wrote `count` events of `event_type`.
    fn scheduled(&self, event_type: &str, count: u64);
}

/// Metrics that go nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMetrics;

impl WebhookMetrics for NoMetrics {
    fn attempt(&self, _: &str) {}
    fn delivery(&self, _: &str) {}
    fn endpoint_disabled(&self) {}
    fn scheduled(&self, _: &str, _: u64) {}
}
