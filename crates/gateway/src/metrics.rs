//! The gateway's Prometheus metrics: one registry per [`Metrics`] (so tests and several
//! gateways in one process never share counters), rendered as text by `GET /metrics`.
//!
//! It is the `graphql_http::Observer` of the GraphQL runtime (operations, the schema fields
//! they select, refusals, responses, shed load), the `license_graph::GraphMetrics` of the
//! graph (DataLoader batches, calls to the version service, the breaker), and the
//! `webhooks::WebhookMetrics` of the webhooks (attempts, deliveries, the queue).
//!
//! Every label value comes from a bounded set: an operation's name only when it is a
//! registered operation (the safelist's, or one sent by its APQ hash), at most
//! [`MAX_OPERATION_NAMES`] of them; field usage by the schema's own types and fields.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use error_catalogue::Code;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use sea_orm::{DatabaseBackend, DatabaseConnection};

/// Distinct operation names kept as label values; later names are counted as `other`. Only
/// registered operations are named, but anyone with a token may register one by APQ, so the
/// names are capped too.
const MAX_OPERATION_NAMES: usize = 200;

/// The longest operation name kept as a label value.
const MAX_OPERATION_NAME_LEN: usize = 100;

/// Latency buckets in seconds, from a cached lookup to a request near the default timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Keys per DataLoader batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    responses: IntCounterVec,
    errors: IntCounterVec,
    shed: IntCounter,
    upstream_calls: IntCounterVec,
    upstream_duration: HistogramVec,
    upstream_retries: IntCounter,
    breaker_state: IntGaugeVec,
    breaker_opened: IntCounter,
    batch_size: HistogramVec,
    pool: IntGaugeVec,
    statements: IntCounter,
    webhook_attempts: IntCounterVec,
    webhook_deliveries: IntCounterVec,
    webhook_disabled: IntCounter,
    webhook_scheduled: IntCounterVec,
    webhook_queue: IntGauge,
    webhook_oldest: IntGauge,
    operation_names: Mutex<HashSet<String>>,
    field_usage: IntCounterVec,
    /// One counter per schema field, by the runtime's field id (set when the runtime starts).
    fields: OnceLock<Vec<IntCounter>>,
}

/// The gateway's metrics. Cheap to clone: every clone records into the same registry.
#[derive(Clone)]
pub(crate) struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("static metric definition {name}: {e}"));
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> HistogramVec {
    let metric = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
    .unwrap_or_else(|e| unreachable!("static metric definition {name}: {e}"));
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help)
        .unwrap_or_else(|e| unreachable!("static metric definition {name}: {e}"));
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help)
        .unwrap_or_else(|e| unreachable!("static metric definition {name}: {e}"));
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

impl Metrics {
    /// A fresh registry with every gateway metric defined.
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let pool = IntGaugeVec::new(
            Opts::new(
                "licensedot_db_pool_connections",
                "License-database pool connections by state (idle, in_use, max).",
            ),
            &["state"],
        )
        .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
        let _ = registry.register(Box::new(pool.clone()));
        Self(Arc::new(Inner {
            requests: counter_vec(
                r,
                "licensedot_graphql_requests_total",
                "GraphQL operations handled, by operation name and outcome (ok, error).",
                &["operation", "outcome"],
            ),
            request_duration: histogram_vec(
                r,
                "licensedot_graphql_request_duration_seconds",
                "Time to answer a GraphQL operation, by operation name.",
                &["operation"],
                LATENCY_BUCKETS,
            ),
            responses: counter_vec(
                r,
                "licensedot_graphql_http_responses_total",
                "HTTP responses of /graphql by status code.",
                &["status"],
            ),
            errors: counter_vec(
                r,
                "licensedot_graphql_errors_total",
                "Errors returned to callers, by extensions.code.",
                &["code"],
            ),
            shed: counter(
                r,
                "licensedot_requests_shed_total",
                "Requests refused with 503 because the concurrency limit was reached.",
            ),
            upstream_calls: counter_vec(
                r,
                "licensedot_upstream_calls_total",
                "Calls to the version service, by outcome.",
                &["outcome"],
            ),
            upstream_duration: histogram_vec(
                r,
                "licensedot_upstream_call_duration_seconds",
                "Duration of calls to the version service, by outcome.",
                &["outcome"],
                LATENCY_BUCKETS,
            ),
            upstream_retries: counter(
                r,
                "licensedot_upstream_retries_total",
                "Attempts to the version service retried after a refused connection.",
            ),
            breaker_state: {
                let gauge = IntGaugeVec::new(
                    Opts::new(
                        "licensedot_upstream_breaker_state",
                        "The version-service circuit breaker: 1 for its current state.",
                    ),
                    &["state"],
                )
                .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
                let _ = r.register(Box::new(gauge.clone()));
                gauge
            },
            breaker_opened: counter(
                r,
                "licensedot_upstream_breaker_opened_total",
                "Times the version-service circuit opened from closed.",
            ),
            batch_size: histogram_vec(
                r,
                "licensedot_dataloader_batch_size",
                "Keys per DataLoader batch, by loader.",
                &["loader"],
                BATCH_BUCKETS,
            ),
            pool,
            statements: counter(
                r,
                "licensedot_db_statements_total",
                "SQL statements sent to the license database.",
            ),
            webhook_attempts: counter_vec(
                r,
                "licensedot_webhook_attempts_total",
                "Webhook delivery attempts by result (delivered, http_error, timeout, \
                 unreachable, address_refused, secret_unusable).",
                &["result"],
            ),
            webhook_deliveries: counter_vec(
                r,
                "licensedot_webhook_deliveries_total",
                "Webhook deliveries that reached their end, by outcome (succeeded, failed).",
                &["outcome"],
            ),
            webhook_disabled: counter(
                r,
                "licensedot_webhook_endpoints_disabled_total",
                "Webhook endpoints disabled by the worker after failing for days.",
            ),
            webhook_scheduled: counter_vec(
                r,
                "licensedot_webhook_events_scheduled_total",
                "Time-based webhook events written by this gateway's scheduler, by type.",
                &["type"],
            ),
            webhook_queue: gauge(
                r,
                "licensedot_webhook_queue_depth",
                "Pending webhook deliveries to active endpoints (all replicas' queue).",
            ),
            webhook_oldest: gauge(
                r,
                "licensedot_webhook_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery to an active endpoint (0: none).",
            ),
            operation_names: Mutex::new(HashSet::new()),
            field_usage: counter_vec(
                r,
                "licensedot_graphql_field_usage_total",
                "Operations that selected a schema field, by type and field (each field once \
                 per operation).",
                &["type", "field"],
            ),
            fields: OnceLock::new(),
            registry,
        }))
    }

    /// The label for an operation: `anonymous` without a name, `unregistered` for a named
    /// operation that is neither in the safelist nor sent by its APQ hash, else the name
    /// itself, or `other` for a name that is not a plain GraphQL name or once
    /// [`MAX_OPERATION_NAMES`] distinct names were seen.
    fn operation_label(&self, name: Option<&str>, registered: bool) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return "anonymous".to_owned();
        };
        if !registered {
            return "unregistered".to_owned();
        }
        let valid = name.len() <= MAX_OPERATION_NAME_LEN
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return "other".to_owned();
        }
        let Ok(mut names) = self.0.operation_names.lock() else {
            return "other".to_owned();
        };
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The breaker's state now (`closed`, `half_open` or `open`), sampled by `/metrics`.
    pub fn set_breaker_state(&self, state: &str) {
        for label in ["closed", "half_open", "open"] {
            self.0
                .breaker_state
                .with_label_values(&[label])
                .set(i64::from(label == state));
        }
    }

    /// The webhook queue as sampled for `/metrics`.
    pub fn set_webhook_queue(
        &self,
        queue: licenses::webhooks::deliveries::Queue,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        self.0
            .webhook_queue
            .set(i64::try_from(queue.depth).unwrap_or(i64::MAX));
        let age = queue
            .oldest_created_at
            .map_or(0, |at| (now - at).num_seconds().max(0));
        self.0.webhook_oldest.set(age);
    }

    /// The Prometheus text exposition, with the pool gauges and statement total sampled now.
    pub fn render(&self, db: &DatabaseConnection, statements: u64) -> String {
        let (size, idle, max) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DatabaseBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let pool = &self.0.pool;
        pool.with_label_values(&["idle"]).set(idle);
        pool.with_label_values(&["in_use"])
            .set((i64::from(size) - idle).max(0));
        pool.with_label_values(&["max"]).set(i64::from(max));
        let seen = self.0.statements.get();
        if statements > seen {
            self.0.statements.inc_by(statements - seen);
        }
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.0.registry.gather(), &mut buffer) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// What the GraphQL-over-HTTP runtime reports (and the exports, which share its permits).
impl graphql_http::Observer for Metrics {
    /// A counter per field, made now so that a field nobody selects shows as 0 (the point of
    /// counting: which fields anyone still reads).
    fn schema_fields(&self, fields: &[graphql_http::FieldCoordinate]) {
        let counters = fields
            .iter()
            .map(|f| {
                self.0
                    .field_usage
                    .with_label_values(&[f.type_name.as_str(), f.field.as_str()])
            })
            .collect();
        // A second runtime on the same metrics serves the same schema: the first set stays.
        let _ = self.0.fields.set(counters);
    }

    fn executed(&self, operation: &graphql_http::Executed<'_>) {
        let label = self.operation_label(operation.name, operation.registered);
        let outcome = if operation.codes.is_empty() {
            "ok"
        } else {
            "error"
        };
        self.0
            .requests
            .with_label_values(&[label.as_str(), outcome])
            .inc();
        self.0
            .request_duration
            .with_label_values(&[label.as_str()])
            .observe(operation.elapsed.as_secs_f64());
        for code in operation.codes {
            self.refused(*code);
        }
        // An index and an atomic add per field: no label lookup per request.
        if let Some(counters) = self.0.fields.get() {
            for id in operation.fields {
                if let Some(counter) = counters.get(*id) {
                    counter.inc();
                }
            }
        }
    }

    fn refused(&self, code: Code) {
        self.0.errors.with_label_values(&[code.as_str()]).inc();
    }

    fn shed(&self) {
        self.0.shed.inc();
    }

    fn answered(&self, status: u16) {
        self.0
            .responses
            .with_label_values(&[status.to_string().as_str()])
            .inc();
    }
}

/// What the license graph reports.
impl license_graph::GraphMetrics for Metrics {
    fn batch(&self, loader: &str, size: usize) {
        self.0
            .batch_size
            .with_label_values(&[loader])
            .observe(size as f64);
    }

    /// `outcome` is a short fixed word such as `ok`, `error`, `timeout` or `circuit_open`
    /// (never free text: it becomes a label).
    fn upstream_call(&self, duration: Duration, outcome: &str) {
        self.0.upstream_calls.with_label_values(&[outcome]).inc();
        self.0
            .upstream_duration
            .with_label_values(&[outcome])
            .observe(duration.as_secs_f64());
    }

    fn upstream_retry(&self) {
        self.0.upstream_retries.inc();
    }

    fn breaker_opened(&self) {
        self.0.breaker_opened.inc();
    }
}

/// What the webhooks report. Labels are the fixed words the `webhooks` crate passes.
impl webhooks::WebhookMetrics for Metrics {
    fn attempt(&self, result: &str) {
        self.0.webhook_attempts.with_label_values(&[result]).inc();
    }

    fn delivery(&self, outcome: &str) {
        self.0
            .webhook_deliveries
            .with_label_values(&[outcome])
            .inc();
    }

    fn endpoint_disabled(&self) {
        self.0.webhook_disabled.inc();
    }

    fn scheduled(&self, event_type: &str, count: u64) {
        self.0
            .webhook_scheduled
            .with_label_values(&[event_type])
            .inc_by(count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_labels_only_when_registered_and_bounded() {
        let metrics = Metrics::new();
        assert_eq!(metrics.operation_label(None, true), "anonymous");
        assert_eq!(metrics.operation_label(Some("Dash"), false), "unregistered");
        assert_eq!(metrics.operation_label(Some("Dash"), true), "Dash");
        assert_eq!(metrics.operation_label(Some("bad name\""), true), "other");
        let long = "a".repeat(MAX_OPERATION_NAME_LEN + 1);
        assert_eq!(metrics.operation_label(Some(&long), true), "other");
        for i in 0..MAX_OPERATION_NAMES {
            metrics.operation_label(Some(&format!("Op{i}")), true);
        }
        assert_eq!(metrics.operation_label(Some("Dash"), true), "Dash");
        assert_eq!(metrics.operation_label(Some("Brand_New"), true), "other");
    }
}
