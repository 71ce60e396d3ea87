//! Whether a usage ping proves the license it names (issue 24): its digest is looked up in the
//! license database once, at ingestion, and the verdict is stored with the ping.
//!
//! - [`verdict`]: the rule (what a ping sends, and what the license database says, give a
//!   [`Verification`] and the license it proves);
//! - [`directory`]: the optional, read-only connection to the license database;
//! - [`sweep`]: the background task that decides the pings stored `Unchecked` (no license
//!   database configured then, or it did not answer) once it answers.
//!
//! Ingestion never fails because of the license database: a lookup that fails or takes longer
//! than `lookup_timeout_ms` stores the ping `Unchecked`.

pub mod directory;
pub mod sweep;
pub mod verdict;

pub use directory::LicenseDirectory;
pub use entity::usage_ping::Verification;
pub use sweep::{sweep_once, sweep_until};
pub use verdict::Verdict;

use chrono::{DateTime, Utc};
use entity::usage_ping::NewPing;

use crate::{
    AppState, Error,
    store::{self, IngestOutcome},
};

/// Decides `ping`'s verification (one lookup in the license database when it carries a
/// digest) and stores it with its read models.
pub async fn store_ping(
    state: &AppState,
    ping: NewPing,
    received_at: DateTime<Utc>,
) -> Result<IngestOutcome, Error> {
    let verdict = verdict::of_ping(
        state.licenses.as_ref(),
        ping.license_id,
        ping.license_md5.as_deref(),
        ping.license_sha256.as_deref(),
    )
    .await;
    store::store_ping(&state.db, ping, received_at, verdict, &state.holder_rule()).await
}
