//! The only module that talks SQL to the version database: ingestion (which keeps the
//! read models up to date) and the batch queries behind the graph's loaders.

mod bind;
mod ingest;
mod installations;
mod license_key;
mod queries;
mod verification;

/// The version database's tables (their entities live with the license database's, in `entity`).
pub use entity::{host, installation, usage_ping};
pub use ingest::{HolderRule, IngestOutcome, store_ping};
pub use license_key::{Digest, LicenseKey, ping_key};
pub use queries::{
    CountsRow, MAX_HOSTS_PER_UUID, MAX_INSTALLATIONS_PER_HOST, Report, ReportingHostRow,
    UuidHostRow, counts_by_ping_id, hosts_by_name, hosts_by_uuid, installations_of_hosts,
    ping_check, pings_by_id, recent_pings, reporting_hosts,
};
pub use verification::{UncheckedPing, record_verdict, unchecked_pings};
