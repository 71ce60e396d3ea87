//! The service's counters and their Prometheus text exposition.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::db::StatementCounter;

/// Counters updated by the handlers; cheap to bump from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    graphql_requests: AtomicU64,
    entities_calls: AtomicU64,
    usage_pings_ingested: AtomicU64,
    usage_pings_duplicate: AtomicU64,
    usage_pings_rejected: AtomicU64,
}

impl Metrics {
    /// One more `/graphql` request; `uses_entities` when its query asked for `_entities`.
    pub fn graphql_request(&self, uses_entities: bool) {
        self.graphql_requests.fetch_add(1, Ordering::Relaxed);
        if uses_entities {
            self.entities_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `/graphql` requests that used `_entities` so far: the gateway's upstream calls.
    pub fn entities_calls(&self) -> u64 {
        self.entities_calls.load(Ordering::Relaxed)
    }

    /// One more usage ping stored (`new`) or recognised as already stored.
    pub fn ping_ingested(&self, new: bool) {
        if new {
            self.usage_pings_ingested.fetch_add(1, Ordering::Relaxed);
        } else {
            self.usage_pings_duplicate.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One more usage ping refused (invalid, too large, ...).
    pub fn ping_rejected(&self) {
        self.usage_pings_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4) of every counter.
    pub fn render(&self, statements: &StatementCounter) -> String {
        let counters: [(&str, &str, u64); 6] = [
            (
                "version_service_graphql_requests_total",
                "HTTP requests to /graphql.",
                self.graphql_requests.load(Ordering::Relaxed),
            ),
            (
                "version_service_entities_calls_total",
                "HTTP requests to /graphql whose query used _entities.",
                self.entities_calls.load(Ordering::Relaxed),
            ),
            (
                "version_service_sql_statements_total",
                "SQL statements run on the version database.",
                statements.get(),
            ),
            (
                "version_service_usage_pings_ingested_total",
                "Usage pings stored.",
                self.usage_pings_ingested.load(Ordering::Relaxed),
            ),
            (
                "version_service_usage_pings_duplicate_total",
                "Usage pings received again and not stored twice.",
                self.usage_pings_duplicate.load(Ordering::Relaxed),
            ),
            (
                "version_service_usage_pings_rejected_total",
                "Usage pings refused (invalid or too large).",
                self.usage_pings_rejected.load(Ordering::Relaxed),
            ),
        ];
        let mut out = String::new();
        for (name, help, value) in counters {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let metrics = Metrics::default();
        metrics.graphql_request(true);
        metrics.graphql_request(false);
        metrics.ping_ingested(true);
        let text = metrics.render(&StatementCounter::default());
        assert!(text.contains("version_service_graphql_requests_total 2\n"));
        assert!(text.contains("version_service_entities_calls_total 1\n"));
        assert!(text.contains("version_service_usage_pings_ingested_total 1\n"));
        assert!(text.contains("# TYPE version_service_sql_statements_total counter\n"));
    }
}
