//! The service's Prometheus metrics: one registry per [`Metrics`] (so tests and several
//! services in one process never share counters), rendered as text by `GET /metrics`.
//! Built like the gateway's, on the `prometheus` crate.

use std::sync::Mutex;

use database::StatementCounter;
use prometheus::{Encoder, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};

use crate::{Error, limits::Scope};

/// Counters updated by the handlers; cheap to bump from any task.
pub struct Metrics {
    registry: Registry,
    graphql_requests: IntCounter,
    entities_calls: IntCounter,
    statements: IntCounter,
    /// Serialises the catch-up of `statements` at render, so two scrapes never add twice.
    statements_seen: Mutex<()>,
    usage_pings_ingested: IntCounter,
    usage_pings_duplicate: IntCounter,
    usage_pings_rejected: IntCounter,
    usage_pings_throttled: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help)
        .unwrap_or_else(|e| unreachable!("static metric definition {name}: {e}"));
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let usage_pings_throttled = IntCounterVec::new(
            Opts::new(
                "version_service_usage_pings_throttled_total",
                "Usage pings refused by an ingestion limit, by limit (address, installation, \
                 address_bytes, installation_bytes: 429; concurrency: 503).",
            ),
            &["limit"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let _ = registry.register(Box::new(usage_pings_throttled.clone()));
        Self {
            graphql_requests: counter(
                r,
                "version_service_graphql_requests_total",
                "HTTP requests to /graphql.",
            ),
            entities_calls: counter(
                r,
                "version_service_entities_calls_total",
                "HTTP requests to /graphql whose query used _entities.",
            ),
            statements: counter(
                r,
                "version_service_sql_statements_total",
                "SQL statements run on the version database.",
            ),
            statements_seen: Mutex::new(()),
            usage_pings_ingested: counter(
                r,
                "version_service_usage_pings_ingested_total",
                "Usage pings stored.",
            ),
            usage_pings_duplicate: counter(
                r,
                "version_service_usage_pings_duplicate_total",
                "Usage pings received again and not stored twice.",
            ),
            usage_pings_rejected: counter(
                r,
                "version_service_usage_pings_rejected_total",
                "Usage pings refused with a 4xx (invalid, too large, not JSON, rate-limited).",
            ),
            usage_pings_throttled,
            registry,
        }
    }
}

/// What the GraphQL-over-HTTP runtime reports: every `/graphql` request answered, and each
/// operation that asks for `_entities` (the gateway's upstream calls).
impl graphql_http::Observer for Metrics {
    fn operation(&self, request: &async_graphql::Request) {
        if request.query.contains("_entities") {
            self.entities_calls.inc();
        }
    }

    fn answered(&self, _status: u16) {
        self.graphql_requests.inc();
    }
}

impl Metrics {
    /// `/graphql` requests that used `_entities` so far: the gateway's upstream calls.
    pub fn entities_calls(&self) -> u64 {
        self.entities_calls.get()
    }

    /// One more usage ping stored (`new`) or recognised as already stored.
    pub fn ping_ingested(&self, new: bool) {
        if new {
            self.usage_pings_ingested.inc();
        } else {
            self.usage_pings_duplicate.inc();
        }
    }

    /// One more usage ping refused with `error`.
    pub fn ping_refused(&self, error: &Error) {
        if error.status().is_client_error() {
            self.usage_pings_rejected.inc();
        }
        let limit = match error {
            Error::RateLimited { scope, .. } => scope.name(),
            Error::OverBudget {
                scope: Scope::Address,
                ..
            } => "address_bytes",
            Error::OverBudget {
                scope: Scope::Installation,
                ..
            } => "installation_bytes",
            Error::Busy { .. } => "concurrency",
            _ => return,
        };
        self.usage_pings_throttled.with_label_values(&[limit]).inc();
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub fn render(&self, statements: &StatementCounter) -> String {
        {
            let _guard = self
                .statements_seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (now, seen) = (statements.get(), self.statements.get());
            if now > seen {
                self.statements.inc_by(now - seen);
            }
        }
        let mut buffer = Vec::new();
        // Encoding our own well-formed metrics into a Vec cannot fail; an empty page would show it.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        use graphql_http::Observer;

        let metrics = Metrics::default();
        metrics.operation(&async_graphql::Request::new(
            "{ _entities(representations: []) { __typename } }",
        ));
        metrics.operation(&async_graphql::Request::new("{ __typename }"));
        metrics.answered(200);
        metrics.answered(200);
        metrics.ping_ingested(true);
        metrics.ping_refused(&Error::RateLimited {
            scope: Scope::Address,
            retry_after_secs: 1,
        });
        let text = metrics.render(&StatementCounter::default());
        assert!(
            text.contains("version_service_graphql_requests_total 2\n"),
            "{text}"
        );
        assert!(text.contains("version_service_entities_calls_total 1\n"));
        assert!(text.contains("version_service_usage_pings_ingested_total 1\n"));
        assert!(text.contains("version_service_usage_pings_rejected_total 1\n"));
        assert!(
            text.contains("version_service_usage_pings_throttled_total{limit=\"address\"} 1\n")
        );
        assert!(text.contains("# TYPE version_service_sql_statements_total counter\n"));
    }
}
