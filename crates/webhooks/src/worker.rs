//! The delivery worker: one per gateway process, on its own task. It claims due deliveries
//! (at most `concurrency` in flight, at most one per endpoint), sends each on a task of its own,
//! and records what happened: succeeded, or a retry with backoff, or failed once the retry
//! horizon has passed. An endpoint failing for `disable_after_days` is disabled with a reason.
//!
//! Requests to the gateway never wait for it: it shares only the database pool, for short
//! statements (no connection is held while a receiver answers), and a slow or huge receiver
//! costs one of the worker's own slots for at most `attempt_timeout_ms`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::webhook_endpoint;
use licenses::webhooks::deliveries::{self, Attempt, Claimed};
use licenses::webhooks::endpoints;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::Shared;
use crate::backoff;
use crate::secret::Secret;
use crate::sender::Outcome;
use crate::signature;

/// How much longer than the attempt timeout a claim leases a delivery: time to record the
/// outcome. A worker that has not recorded it by then is taken for dead, and the delivery is
/// due again.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// Claims and sends until `stop` says so (or its sender is dropped). On stop, attempts in
/// flight get their timeout to finish and be recorded.
pub(crate) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(shared.settings.concurrency));
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let free = permits.available_permits();
        if free > 0 {
            let now = shared.clock.now();
            let lease = chrono::Duration::from_std(shared.settings.attempt_timeout + LEASE_MARGIN)
                .unwrap_or(chrono::Duration::MAX);
            match deliveries::claim(&shared.db, now, now + lease, free as u64).await {
                Ok(claimed) => {
                    for claimed in claimed {
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            break;
                        };
                        let shared = shared.clone();
                        tasks.spawn(async move {
                            attempt(&shared, claimed).await;
                            drop(permit);
                        });
                    }
                }
                Err(error) => tracing::warn!(%error, "webhook deliveries could not be claimed"),
            }
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(shared.settings.poll_interval) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let in_flight = async { while tasks.join_next().await.is_some() {} };
    let grace = shared.settings.attempt_timeout + LEASE_MARGIN;
    if tokio::time::timeout(grace, in_flight).await.is_err() {
        tasks.abort_all();
    }
}

/// The secrets that sign now: the current one, and the previous one during its grace period.
fn secrets(
    shared: &Shared,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<Vec<Secret>, String> {
    let cipher = &shared.settings.cipher;
    let mut secrets = vec![cipher.open(&endpoint.secret).map_err(|e| e.to_string())?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret,
        endpoint.previous_secret_expires_at,
    ) && until > now
        && let Ok(previous) = cipher.open(previous)
    {
        secrets.push(previous);
    }
    Ok(secrets)
}

/// One attempt of a claimed delivery, and its record.
async fn attempt(shared: &Shared, claimed: Claimed) {
    let Claimed {
        delivery,
        event,
        endpoint,
    } = claimed;
    let outcome = match secrets(shared, &endpoint, shared.clock.now()) {
        Ok(secrets) => {
            let sent_at = Utc::now().timestamp();
            let signed = signature::sign(&event.message_id, sent_at, &event.payload, &secrets);
            shared
                .sender
                .send(&endpoint.url, &signed, &event.payload)
                .await
        }
        Err(error) => Outcome::SecretUnusable(error),
    };
    shared.metrics.attempt(outcome.label());
    tracing::debug!(
        delivery_id = delivery.id,
        endpoint_id = endpoint.id,
        event_type = event.event_type.as_str(),
        attempt = delivery.attempts,
        outcome = outcome.label(),
        "webhook delivery attempted"
    );
    let record = Attempt {
        status: outcome.status(),
        error: outcome.error(shared.sender.timeout()),
    };
    let now = shared.clock.now();
    let recorded = match outcome {
        Outcome::Delivered { .. } => delivered(shared, &delivery, &endpoint, &record, now).await,
        _ => failed(shared, &delivery, &endpoint, &record, now).await,
    };
    if let Err(error) = recorded {
        tracing::warn!(%error, delivery_id = delivery.id, "a webhook attempt could not be recorded");
    }
}

async fn delivered(
    shared: &Shared,
    delivery: &entity::webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    record: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), licenses::Error> {
    if deliveries::succeeded(&shared.db, delivery, record, now).await? {
        shared.metrics.delivery("succeeded");
    }
    endpoints::note_success(&shared.db, endpoint.id).await
}

async fn failed(
    shared: &Shared,
    delivery: &entity::webhook_delivery::Model,
    endpoint: &webhook_endpoint::Model,
    record: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), licenses::Error> {
    let settings = &shared.settings;
    if now - delivery.created_at >= settings.retry_horizon {
        if deliveries::give_up(&shared.db, delivery, record, now).await? {
            shared.metrics.delivery("failed");
            tracing::info!(
                delivery_id = delivery.id,
                endpoint_id = endpoint.id,
                attempts = delivery.attempts,
                "a webhook delivery failed for the whole retry horizon and was given up"
            );
        }
    } else {
        let wait = backoff::delay(
            delivery.attempts,
            settings.retry_initial,
            settings.retry_max,
            &mut rand::rng(),
        );
        let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        deliveries::retry(&shared.db, delivery, record, now + wait).await?;
    }
    let Some(since) = endpoints::note_failure(&shared.db, endpoint.id, now).await? else {
        return Ok(());
    };
    if now - since < settings.disable_after {
        return Ok(());
    }
    let reason = format!(
        "disabled automatically: every delivery attempt failed since {} ({} days); the last: {}",
        since.format("%Y-%m-%d %H:%M UTC"),
        (now - since).num_days(),
        record.error.as_deref().unwrap_or("unknown"),
    );
    if endpoints::disable(&shared.db, endpoint.id, &reason, now)
        .await?
        .is_some()
    {
        shared.metrics.endpoint_disabled();
        tracing::warn!(
            endpoint_id = endpoint.id,
            failing_since = %since,
            "a webhook endpoint that kept failing was disabled"
        );
    }
    Ok(())
}
