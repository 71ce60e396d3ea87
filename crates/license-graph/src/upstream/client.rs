//! The HTTP client of the version subgraph: `_entities` calls, split into chunks that run
//! concurrently, each bounded by the timeout and guarded by the circuit breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use super::UpstreamConfigError;
use super::breaker::{self, Admission, Breaker, Phase, Settings};
use super::field_errors;
use super::{UpstreamConfig, UpstreamError};
use crate::metrics::GraphMetrics;

/// One result per representation sent: the entity (null for an unknown key) or why it is missing.
pub type EntityResults = Vec<Result<Value, UpstreamError>>;

/// A pooled client of the version subgraph, shared by all requests.
#[derive(Debug)]
pub struct VersionClient {
    http: reqwest::Client,
    url: String,
    service_token: Option<String>,
    timeout: Duration,
    max_keys_per_call: usize,
    max_response_bytes: usize,
    breaker: Breaker,
    calls: AtomicU64,
    metrics: Arc<dyn GraphMetrics>,
    version_lag_minor: u32,
}

/// The first wait before retrying a refused connection; doubled per attempt up to
/// [`RETRY_MAX`], jittered, for as long as the call's timeout allows.
const RETRY_FIRST: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_millis(100);

/// A factor in [0.75, 1.25]: spreads retries and probes so that callers do not move in step.
fn jitter() -> f64 {
    rand::random_range(0.75..=1.25)
}

impl VersionClient {
    /// How many minor versions a server may run behind before its health flags it.
    pub fn version_lag_minor(&self) -> u32 {
        self.version_lag_minor
    }

    /// A client for `config`; fails only when the HTTP client cannot be built.
    pub fn new(
        config: &UpstreamConfig,
        metrics: Arc<dyn GraphMetrics>,
    ) -> Result<Self, UpstreamConfigError> {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let mut http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Below the version service's idle (header-read) timeout of 10 s, so a pooled
            // connection is dropped here before the server closes it under a request.
            .pool_idle_timeout(Duration::from_secs(5));
        if config.http2_prior_knowledge {
            http = http.http2_prior_knowledge();
        }
        let http = http.build().map_err(UpstreamConfigError::HttpClient)?;
        Ok(Self {
            http,
            url: config.url.clone(),
            service_token: config.service_token.clone(),
            timeout,
            max_keys_per_call: config.max_keys_per_call.max(1),
            max_response_bytes: config.max_response_bytes.max(1),
            breaker: Breaker::new(Settings {
                failures: config.breaker_failures,
                timeouts: config.breaker_timeouts,
                probe_after: Duration::from_millis(config.breaker_probe_after_ms.max(1)),
                max_cooldown: Duration::from_millis(config.breaker_cooldown_ms.max(1)),
            }),
            calls: AtomicU64::new(0),
            metrics,
            version_lag_minor: config.version_lag_minor,
        })
    }

    /// HTTP calls made so far (every chunk is one call).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Whether the circuit breaker is refusing calls right now.
    pub fn circuit_open(&self) -> bool {
        self.breaker_phase() == Phase::Open
    }

    /// The circuit breaker's state now (`/metrics`, `/ready`).
    pub fn breaker_phase(&self) -> Phase {
        self.breaker.phase(Instant::now())
    }

    /// Resolves `representations` with `query`, at most `max_keys_per_call` per HTTP call, the
    /// calls running concurrently. Returns one result per representation, in order.
    pub async fn entities(
        &self,
        query: &str,
        representations: Vec<Value>,
        request_id: Option<&str>,
    ) -> EntityResults {
        let chunks = representations
            .chunks(self.max_keys_per_call)
            .map(|chunk| self.call(query, chunk, request_id));
        join_all(chunks).await.into_iter().flatten().collect()
    }

    /// Checks that the subgraph answers, for `/ready`.
    pub async fn probe(&self) -> Result<(), UpstreamError> {
        self.post(&json!({"query": "{ __typename }"}), None)
            .await
            .map(|_| ())
    }

    async fn call(
        &self,
        query: &str,
        representations: &[Value],
        request_id: Option<&str>,
    ) -> EntityResults {
        let all = |error: UpstreamError| vec![Err(error); representations.len()];
        let admission = self.breaker.admit(Instant::now());
        if admission == Admission::Refused {
            self.metrics.upstream_call(Duration::ZERO, "circuit_open");
            return all(UpstreamError::CircuitOpen);
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        // If this request is cancelled mid-call (client gone, request timeout), a probe must
        // not leave the breaker waiting for it forever.
        let mut pending = PendingProbe {
            breaker: &self.breaker,
            admission,
            recorded: false,
        };
        let body = json!({"query": query, "variables": {"representations": representations}});
        let started = Instant::now();
        let outcome = self
            .post(&body, request_id)
            .await
            .and_then(|response| split(response, representations.len()));

        let verdict = match &outcome {
            Err(UpstreamError::Timeout(_)) => breaker::Outcome::Timeout,
            Err(error) if error.is_service_failure() => breaker::Outcome::Refused,
            _ => breaker::Outcome::Success,
        };
        pending.recorded = true;
        if self
            .breaker
            .record(admission, verdict, Instant::now(), jitter())
        {
            self.metrics.breaker_opened();
            tracing::warn!(
                cause = ?verdict,
                "version-service circuit opened: usage calls paused until a probe succeeds"
            );
        }
        self.metrics
            .upstream_call(started.elapsed(), outcome_label(&outcome));
        tracing::debug!(
            keys = representations.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            ok = outcome.is_ok(),
            probe = admission == Admission::Probe,
            "version subgraph _entities call"
        );
        outcome.unwrap_or_else(all)
    }

    /// One POST, bounded as a whole by the timeout. A refused or reset connection is retried
    /// at once with a short jittered backoff while the timeout allows: a version service that
    /// restarts in less than the timeout costs its callers a wait, not their usage data.
    async fn post(&self, body: &Value, request_id: Option<&str>) -> Result<Value, UpstreamError> {
        let timeout_ms = self.timeout.as_millis() as u64;
        let mut refused = None;
        let exchange = async {
            let mut wait = RETRY_FIRST;
            loop {
                match self.post_once(body, request_id).await {
                    Err(Attempt::Retry(error)) => {
                        refused = Some(error);
                        self.metrics.upstream_retry();
                        tokio::time::sleep(wait.mul_f64(jitter())).await;
                        wait = (wait * 2).min(RETRY_MAX);
                    }
                    Err(Attempt::Fail(error)) => return Err(error),
                    Ok(value) => return Ok(value),
                }
            }
        };
        // reqwest's timeout is a deadline for one attempt (connect, headers and body); this one
        // bounds the whole call, retries of a refused connection included.
        let result = tokio::time::timeout(self.timeout, exchange).await;
        // A call that spent its time retrying a refused connection was refused, not slow.
        result.unwrap_or_else(|_| Err(refused.unwrap_or(UpstreamError::Timeout(timeout_ms))))
    }

    async fn post_once(&self, body: &Value, request_id: Option<&str>) -> Result<Value, Attempt> {
        let mut request = self.http.post(&self.url).json(body);
        if let Some(token) = &self.service_token {
            request = request.bearer_auth(token);
        }
        if let Some(id) = request_id {
            request = request.header(error_catalogue::REQUEST_ID_HEADER, id);
        }
        let timeout_ms = self.timeout.as_millis() as u64;
        let classify = |error: reqwest::Error| {
            if error.is_timeout() {
                Attempt::Fail(UpstreamError::Timeout(timeout_ms))
            } else if error.is_connect() || error.is_request() {
                // Refused, or a pooled connection the service closed as it restarted: no
                // answer was received, and the query only reads, so it is safe to send again.
                Attempt::Retry(UpstreamError::Unavailable(without_url(&error)))
            } else {
                Attempt::Fail(UpstreamError::Unavailable(without_url(&error)))
            }
        };
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Attempt::Fail(UpstreamError::Unavailable(format!(
                "HTTP status {status}"
            ))));
        }
        // Streamed with a cap, never buffered whole: a 50 MB answer costs at most
        // `max_response_bytes` of memory and fails this call alone.
        let limit = self.max_response_bytes;
        let too_large = || Attempt::Fail(UpstreamError::TooLarge(limit));
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&bytes).map_err(|_| {
            Attempt::Fail(UpstreamError::BadResponse(
                "the body is not JSON".to_owned(),
            ))
        })
    }
}

/// Abandons a probe whose call was dropped before its outcome was recorded.
struct PendingProbe<'a> {
    breaker: &'a Breaker,
    admission: Admission,
    recorded: bool,
}

impl Drop for PendingProbe<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker.abandon(self.admission);
        }
    }
}

/// How one attempt of a call ended badly.
enum Attempt {
    /// No answer came (refused, or closed under the request): worth another attempt within
    /// the timeout.
    Retry(UpstreamError),
    Fail(UpstreamError),
}

/// The metrics label of a call's outcome: a fixed word.
fn outcome_label(outcome: &Result<EntityResults, UpstreamError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(UpstreamError::Timeout(_)) => "timeout",
        Err(UpstreamError::CircuitOpen) => "circuit_open",
        Err(UpstreamError::Remote(_)) => "remote_error",
        Err(UpstreamError::BadResponse(_)) => "bad_response",
        Err(UpstreamError::TooLarge(_)) => "too_large",
        Err(UpstreamError::Unavailable(_)) => "unavailable",
    }
}

/// The error's description without the URL (which may carry credentials).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "the version service");
    }
    text
}

/// Splits a GraphQL response to `_entities` into one result per representation: an error whose
/// path points into `_entities[i]` fails only entity `i`.
fn split(mut response: Value, expected: usize) -> Result<EntityResults, UpstreamError> {
    // Taken out of the answer, not copied: a dashboard's entities are most of it.
    let errors = match response.get_mut("errors").map(Value::take) {
        Some(Value::Array(errors)) => errors,
        _ => Vec::new(),
    };
    let entities = match response.pointer_mut("/data/_entities").map(Value::take) {
        Some(Value::Array(entities)) => Some(entities),
        _ => None,
    };
    let Some(entities) = entities else {
        let message = errors
            .first()
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(|m| UpstreamError::Remote(m.chars().take(200).collect()));
        return Err(message.unwrap_or_else(|| {
            UpstreamError::BadResponse("no `data._entities` in the answer".to_owned())
        }));
    };
    if entities.len() != expected {
        return Err(UpstreamError::BadResponse(format!(
            "{} entities for {expected} keys",
            entities.len()
        )));
    }
    let mut results: EntityResults = entities.into_iter().map(Ok).collect();
    for error in &errors {
        let index = error
            .pointer("/path/1")
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok());
        let Some(slot) = index.and_then(|i| results.get_mut(i)) else {
            continue;
        };
        // An error on a field the gateway answers in place leaves the rest of the entity good.
        let rest = error
            .get("path")
            .and_then(Value::as_array)
            .map_or(&[][..], |path| path.get(2..).unwrap_or_default());
        if let Ok(entity) = slot
            && field_errors::place(entity, rest, error)
        {
            continue;
        }
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        *slot = Err(UpstreamError::Remote(message.chars().take(200).collect()));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fail_only_their_entity() {
        let response = json!({
            "data": {"_entities": [{"name": "a"}, null, {"name": "c"}]},
            "errors": [{"message": "boom", "path": ["_entities", 2, "latestUsagePing"]}]
        });
        let results = split(response, 3).unwrap();
        assert_eq!(results[0], Ok(json!({"name": "a"})));
        assert_eq!(results[1], Ok(Value::Null));
        assert!(matches!(&results[2], Err(UpstreamError::Remote(m)) if m == "boom"));
    }

    #[test]
    fn a_counts_error_stays_with_its_field_and_the_entity_is_kept() {
        let response = json!({
            "data": {"_entities": [
                {"name": "a", "latestUsagePing": {"uuid": "u", "counts": null}},
                {"name": "b", "latestUsagePing": {"uuid": "v", "counts": null}}
            ]},
            "errors": [{
                "message": "counts left out", "extensions": {"code": "ANSWER_TOO_LARGE"},
                "path": ["_entities", 1, "latestUsagePing", "counts"]
            }]
        });
        let results = split(response, 2).unwrap();
        assert_eq!(
            results[0],
            Ok(json!({"name": "a", "latestUsagePing": {"uuid": "u", "counts": null}}))
        );
        let Ok(b) = &results[1] else {
            panic!("entity b is kept: {:?}", results[1]);
        };
        assert_eq!(b["name"], "b");
        assert_eq!(
            b["latestUsagePing"][field_errors::FIELD_ERRORS]["counts"]["code"],
            "ANSWER_TOO_LARGE"
        );
    }

    #[test]
    fn garbage_and_wrong_lengths_are_bad_responses() {
        assert!(matches!(
            split(json!({"hello": 1}), 1),
            Err(UpstreamError::BadResponse(_))
        ));
        assert!(matches!(
            split(json!({"data": {"_entities": []}}), 1),
            Err(UpstreamError::BadResponse(_))
        ));
        assert!(matches!(
            split(json!({"data": null, "errors": [{"message": "denied"}]}), 1),
            Err(UpstreamError::Remote(m)) if m == "denied"
        ));
    }
}
