//! The only module that talks SQL: the version database's entities, ingestion and the batch
//! queries behind the graph's loaders.

pub mod hosts;
mod ingest;
mod queries;
pub mod usage_pings;

pub use ingest::{IngestOutcome, NewPing, store_ping};
pub use queries::{
    LicenseKey, PingSummary, ReportingHostRow, hosts_by_name, latest_pings, ping_check,
    recent_pings, reporting_hosts,
};

/// Placeholder for the `index`-th (1-based) bound parameter in `backend`'s dialect.
fn placeholder(backend: sea_orm::DbBackend, index: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${index}"),
        _ => "?".to_owned(),
    }
}
