//! One identity per installation (issue 24): a server is an installation (`uuid`) reporting
//! under a hostname, and one installation at a time *holds* the name.
//!
//! - `installations`, one row per (host, uuid): its first and newest ping, and its newest
//!   verified ping (when it arrived, and the license it proved);
//! - `hosts.holder_installation_id`: the installation that holds the name (the first one that
//!   sent a verified ping; see `version_service::store::installations` for the takeover rule).
//!   `hosts.latest_ping_id` is then the holder's newest ping.
//!
//! Existing pings are backfilled from the history (`usage_read_models::installations`). Pings
//! stored before `ping_verification` are `unchecked`, so no name has a holder until the sweep
//! verifies them; each verdict it records applies the holder rule as ingestion does.

use sea_orm_migration::prelude::*;

use crate::usage_read_models::{self, Hosts as Rebuild};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
    HolderInstallationId,
}

#[derive(DeriveIden)]
enum Installations {
    Table,
    Id,
    HostId,
    Uuid,
    FirstPingAt,
    LastPingAt,
    LatestPingId,
    LatestVerifiedPingId,
    LastVerifiedAt,
    VerifiedLicenseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Installations::Table)
                    .col(
                        ColumnDef::new(Installations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Installations::HostId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Installations::Uuid).string().not_null())
                    .col(
                        ColumnDef::new(Installations::FirstPingAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Installations::LastPingAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Installations::LatestPingId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Installations::LatestVerifiedPingId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Installations::LastVerifiedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Installations::VerifiedLicenseId)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Installations::Table, Installations::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Ingestion's upsert, and a host's installations newest first (the graph lists them).
        manager
            .create_index(
                Index::create()
                    .name("installations_host_uuid_idx")
                    .table(Installations::Table)
                    .col(Installations::HostId)
                    .col(Installations::Uuid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("installations_host_last_ping_idx")
                    .table(Installations::Table)
                    .col(Installations::HostId)
                    .col(Installations::LastPingAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Hosts::Table)
                    .add_column(
                        ColumnDef::new(Hosts::HolderInstallationId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        usage_read_models::installations(db, Rebuild::All).await?;
        db.execute_unprepared("ANALYZE installations").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Hosts::Table)
                    .drop_column(Hosts::HolderInstallationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Installations::Table).to_owned())
            .await?;
        // The newest ping of anyone again, as before.
        usage_read_models::newest_pings(manager.get_connection(), Rebuild::All).await
    }
}
