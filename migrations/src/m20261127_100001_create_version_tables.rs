//! The tables of the version database: hosts and the usage pings they send.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
    Hostname,
    Uuid,
    FirstSeenAt,
    LastPingAt,
}

#[derive(DeriveIden)]
enum UsagePings {
    Table,
    Id,
    HostId,
    Uuid,
    Hostname,
    RecordedAt,
    ReceivedAt,
    Version,
    Edition,
    InstallationType,
    ActiveUserCount,
    HistoricalMaxUsers,
    LicenseId,
    LicenseMd5,
    LicenseSha256,
    LicenseUserCount,
    LicensePlan,
    LicenseTrial,
    LicenseStartsAt,
    LicenseExpiresAt,
    LicenseSubscriptionId,
    Counts,
    Payload,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hosts::Table)
                    .col(
                        ColumnDef::new(Hosts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Hosts::Hostname)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Hosts::Uuid).string().not_null())
                    .col(
                        ColumnDef::new(Hosts::FirstSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Hosts::LastPingAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UsagePings::Table)
                    .col(
                        ColumnDef::new(UsagePings::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UsagePings::HostId).big_integer().not_null())
                    .col(ColumnDef::new(UsagePings::Uuid).string().not_null())
                    .col(ColumnDef::new(UsagePings::Hostname).string().not_null())
                    .col(
                        ColumnDef::new(UsagePings::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsagePings::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(UsagePings::Version).string())
                    .col(ColumnDef::new(UsagePings::Edition).string())
                    .col(ColumnDef::new(UsagePings::InstallationType).string())
                    .col(ColumnDef::new(UsagePings::ActiveUserCount).big_integer())
                    .col(ColumnDef::new(UsagePings::HistoricalMaxUsers).big_integer())
                    .col(ColumnDef::new(UsagePings::LicenseId).big_integer())
                    .col(ColumnDef::new(UsagePings::LicenseMd5).string())
                    .col(ColumnDef::new(UsagePings::LicenseSha256).string())
                    .col(ColumnDef::new(UsagePings::LicenseUserCount).big_integer())
                    .col(ColumnDef::new(UsagePings::LicensePlan).string())
                    .col(ColumnDef::new(UsagePings::LicenseTrial).boolean())
                    .col(ColumnDef::new(UsagePings::LicenseStartsAt).date())
                    .col(ColumnDef::new(UsagePings::LicenseExpiresAt).date())
                    .col(ColumnDef::new(UsagePings::LicenseSubscriptionId).string())
                    .col(ColumnDef::new(UsagePings::Counts).json_binary())
                    .col(ColumnDef::new(UsagePings::Payload).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(UsagePings::Table, UsagePings::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("usage_pings_identity_key")
                    .table(UsagePings::Table)
                    .col(UsagePings::Uuid)
                    .col(UsagePings::Hostname)
                    .col(UsagePings::RecordedAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("usage_pings_host_recorded_idx")
                    .table(UsagePings::Table)
                    .col(UsagePings::HostId)
                    .col((UsagePings::RecordedAt, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("usage_pings_license_id_idx", UsagePings::LicenseId),
            ("usage_pings_license_md5_idx", UsagePings::LicenseMd5),
            ("usage_pings_license_sha256_idx", UsagePings::LicenseSha256),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(UsagePings::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UsagePings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Hosts::Table).to_owned())
            .await?;
        Ok(())
    }
}
