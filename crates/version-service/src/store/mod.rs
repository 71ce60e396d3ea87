//! The only module that talks SQL to the version database: ingestion (which keeps the
//! read models up to date) and the batch queries behind the graph's loaders.

mod bind;
mod ingest;
mod license_key;
mod queries;
mod verification;

/// The version database's tables (their entities live with the license database's, in `entity`).
pub use entity::{host, usage_ping};
pub use ingest::{HolderRule, IngestOutcome, store_ping};
pub use license_key::{Digest, LicenseKey, ping_key};
pub use queries::{
    CountsRow, Report, ReportingHostRow, counts_by_ping_id, hosts_by_name, ping_check, pings_by_id,
    recent_pings, reporting_hosts,
};
pub use verification::{UncheckedPing, record_verdict, unchecked_pings};
