//! The only module that talks SQL: the version database's entities, ingestion (which keeps the
//! read models up to date) and the batch queries behind the graph's loaders.

mod bind;
pub mod hosts;
mod ingest;
mod license_key;
mod queries;
pub mod usage_pings;

pub use ingest::{IngestOutcome, NewPing, store_ping};
pub use license_key::LicenseKey;
pub use queries::{
    CountsRow, PingSummary, Report, ReportingHostRow, counts_by_ping_id, hosts_by_name, ping_check,
    pings_by_id, recent_pings, reporting_hosts,
};
