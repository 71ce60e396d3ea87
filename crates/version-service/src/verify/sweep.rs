//! The sweep: pings stored `Unchecked` (no license database then, or it did not answer) are
//! decided once it answers, oldest first, `sweep_batch_size` at a time every
//! `sweep_interval_secs`. A batch stops at the first lookup that fails again, so a license
//! database that is down costs one timed-out lookup per interval, not one per ping.

use std::time::Duration;

use crate::{AppState, Error, store};

use super::verdict;

/// Decides up to one batch of `Unchecked` pings; returns how many it decided. Without a
/// license database there is nothing to ask: 0.
pub async fn sweep_once(state: &AppState) -> Result<usize, Error> {
    let Some(directory) = state.licenses.as_ref() else {
        return Ok(0);
    };
    let batch = state.config.verification.sweep_batch_size;
    let pings = store::unchecked_pings(&state.db, batch).await?;
    let rule = state.holder_rule();
    let mut decided = 0;
    for ping in pings {
        let verdict = verdict::of_ping(
            Some(directory),
            ping.license_id,
            ping.license_md5.as_deref(),
            ping.license_sha256.as_deref(),
        )
        .await;
        if verdict == verdict::Verdict::UNCHECKED {
            break;
        }
        store::record_verdict(&state.db, &ping, verdict, &rule).await?;
        decided += 1;
    }
    Ok(decided)
}

/// Sweeps every `sweep_interval_secs` for as long as the task runs (the server aborts it when
/// it stops serving). A failed sweep is logged and tried again at the next interval.
pub async fn sweep_until(state: AppState) {
    let interval = Duration::from_secs(state.config.verification.sweep_interval_secs.max(1));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep_once(&state).await {
            Ok(0) => {}
            Ok(decided) => tracing::info!(decided, "verified stored usage pings"),
            Err(error) => tracing::warn!(%error, "the verification sweep failed"),
        }
    }
}
