//! The scheduler of time-based events, one per gateway process: every
//! `schedule_interval_secs` it writes the `license.expiring` and `license.expired` events that
//! are due by the clock (the outbox's dedupe keys make each happen once, however many replicas
//! compute it), wakes the worker when it wrote any, and deletes what is older than the
//! retention.

use std::sync::Arc;

use licenses::webhooks::outbox::{self, NewEvent, Recorded};
use licenses::webhooks::{EventType, deliveries, schedule};
use tokio::sync::watch;

use crate::Shared;

/// The most events of one type written per tick. Switching webhooks on over a large license
/// database writes the backlog in slices of this size, one per tick.
pub const MAX_EVENTS_PER_TICK: usize = 1_000;

/// Ticks until `stop` says so (or its sender is dropped).
pub(crate) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        match tick(&shared).await {
            Ok(0) => {}
            Ok(_) => shared.wake.notify_one(),
            Err(error) => tracing::warn!(%error, "the webhook scheduler's tick failed"),
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(shared.settings.schedule_interval) => {}
        }
    }
}

/// One tick: the due events written, old deliveries and events deleted. Returns how many
/// events it wrote.
pub(crate) async fn tick(shared: &Shared) -> Result<u64, licenses::Error> {
    let db = &shared.db;
    let now = shared.clock.now();
    let today = now.date_naive();
    let mut written = 0;
    for event_type in [EventType::LicenseExpiring, EventType::LicenseExpired] {
        if outbox::subscribers(db, event_type).await?.is_empty() {
            continue;
        }
        let due: Vec<NewEvent> = match event_type {
            EventType::LicenseExpiring => {
                schedule::expiring(
                    db,
                    today,
                    &shared.settings.expiring_days,
                    now,
                    MAX_EVENTS_PER_TICK,
                )
                .await?
            }
            _ => schedule::expired(db, today, now, MAX_EVENTS_PER_TICK).await?,
        };
        let mut count = 0;
        for event in &due {
            if let Recorded::Written { .. } = outbox::record(db, event, now).await? {
                count += 1;
            }
        }
        if count > 0 {
            shared.metrics.scheduled(event_type.as_str(), count);
            tracing::info!(
                event_type = event_type.as_str(),
                count,
                "webhook events scheduled"
            );
        }
        written += count;
    }
    let (deliveries, events) = deliveries::purge(db, now - shared.settings.retention).await?;
    if deliveries + events > 0 {
        tracing::info!(
            deliveries,
            events,
            "old webhook deliveries and events deleted"
        );
    }
    Ok(written)
}
