//! Lookups by what a support ticket holds (`licenses::lookup`) find licenses by their
//! subscription's id or name: an index on each, so a lookup is an index probe, not a scan of
//! every license. (The MD5 already has `licenses_md5_idx`, the SHA-256 its unique index.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Licenses {
    Table,
    ZuoraSubscriptionId,
    ZuoraSubscriptionName,
}

const SUBSCRIPTION_ID: &str = "licenses_subscription_id_idx";
const SUBSCRIPTION_NAME: &str = "licenses_subscription_name_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            (SUBSCRIPTION_ID, Licenses::ZuoraSubscriptionId),
            (SUBSCRIPTION_NAME, Licenses::ZuoraSubscriptionName),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Licenses::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [SUBSCRIPTION_NAME, SUBSCRIPTION_ID] {
            manager
                .drop_index(Index::drop().name(index).table(Licenses::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
