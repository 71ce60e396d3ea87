//! Who gets in and for how long: the concurrency permits and the request deadline, with their
//! refusals (503 `SERVICE_OVERLOADED` with `Retry-After`, 504 `REQUEST_TIMEOUT`). `/graphql`
//! and every other route that does as much work (the gateway's CSV exports) go through the
//! same [`Admission`], so they share one budget of permits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use error_catalogue::{Code, Refusal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::LimitsConfig;

/// The permits and deadline of one service's requests. Cheap to clone: clones share the
/// permits.
#[derive(Clone, Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    timeout: Duration,
    retry_after_secs: u64,
    /// The service, as a refusal names it ("gateway").
    service: &'static str,
}

impl Admission {
    /// `limits.max_concurrent_requests` permits, `limits.request_timeout_ms` per request, for
    /// `service` ("gateway", named in the 503's message).
    pub fn new(limits: &LimitsConfig, service: &'static str) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            timeout: Duration::from_millis(limits.request_timeout_ms),
            retry_after_secs: limits.retry_after_secs,
            service,
        }
    }

    /// When a request that starts now must be done.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// A permit, held until the response is built; refused at once, never queued, when every
    /// permit is taken (load is shed instead of waiting without bound).
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Refusal> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.overloaded())
    }

    /// `work`, refused with 504 when it is not done by `deadline`; `what` names it in the
    /// message ("the request", "the export").
    pub async fn within<T>(
        &self,
        deadline: Instant,
        what: &str,
        work: impl Future<Output = T>,
    ) -> Result<T, Refusal> {
        tokio::time::timeout_at(deadline, work).await.map_err(|_| {
            let timeout_ms = self.timeout.as_millis();
            tracing::warn!(timeout_ms = timeout_ms as u64, "{what} timed out");
            Refusal::new(
                StatusCode::GATEWAY_TIMEOUT,
                Code::RequestTimeout,
                format!("{what} took longer than {timeout_ms} ms"),
            )
        })
    }

    /// 503 with `Retry-After`: every permit is taken.
    fn overloaded(&self) -> Refusal {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServiceOverloaded,
            format!(
                "the {} is at its concurrency limit; retry shortly",
                self.service
            ),
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        )
    }
}
