//! A ping counts toward a license only by the digest of the license file (issue 24): the
//! `host_licenses` read model loses its `id:<n>` keys, and each ping is keyed once, by its
//! SHA-256 (else its MD5), followed by the license id it names (see `usage_read_models`).
//! The rows are rebuilt from the ping history; nothing else changes shape.

use sea_orm_migration::prelude::*;

use crate::usage_read_models::{self, Hosts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        usage_read_models::host_licenses(db, Hosts::All).await?;
        db.execute_unprepared("ANALYZE host_licenses").await?;
        Ok(())
    }

    /// The keys by id are not brought back: they are what let anyone count toward any license.
    /// Rolling back leaves the digest keys, which the code before this migration also reads.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
