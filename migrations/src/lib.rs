//! Migrations of licensedot's two databases, for PostgreSQL and SQLite.
//!
//! The license database and the version database are separate (the version service owns its
//! own), so each has its own migrator and its own bookkeeping table: both may even share one
//! physical database without stepping on each other.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_license_tables;
mod m20261127_000002_license_search_indexes;
mod m20261127_100001_create_version_tables;
mod m20261130_000003_search_documents;
mod m20261130_100002_usage_read_models;
mod m20261201_000001_sessions;
mod m20261201_000002_license_audit;
mod m20261202_000001_trials_index;
mod m20261203_000001_audit_trail;
mod m20261204_000001_webhooks;
mod m20261207_000001_lookup_indexes;
mod m20261207_100003_digest_license_keys;
mod m20261207_100004_ping_verification;
mod m20261207_100005_installations;
mod search_documents;
pub mod usage_read_models;

/// Migrations of the license database (customers, contacts, licenses, hostnames, add-ons, the
/// audit trail of changes, and the webhooks' endpoints, outbox and deliveries).
pub struct LicenseMigrator;

#[async_trait::async_trait]
impl MigratorTrait for LicenseMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_license_tables::Migration),
            Box::new(m20261127_000002_license_search_indexes::Migration),
            Box::new(m20261130_000003_search_documents::Migration),
            Box::new(m20261201_000001_sessions::Migration),
            Box::new(m20261201_000002_license_audit::Migration),
            Box::new(m20261202_000001_trials_index::Migration),
            Box::new(m20261203_000001_audit_trail::Migration),
            Box::new(m20261204_000001_webhooks::Migration),
            Box::new(m20261207_000001_lookup_indexes::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "licensedot_license_migrations".into_iden()
    }
}

/// Migrations of the version database (hosts, their usage pings and the read models kept at
/// ingestion).
pub struct VersionMigrator;

#[async_trait::async_trait]
impl MigratorTrait for VersionMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_100001_create_version_tables::Migration),
            Box::new(m20261130_100002_usage_read_models::Migration),
            Box::new(m20261207_100003_digest_license_keys::Migration),
            Box::new(m20261207_100004_ping_verification::Migration),
            Box::new(m20261207_100005_installations::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "licensedot_version_migrations".into_iden()
    }
}
