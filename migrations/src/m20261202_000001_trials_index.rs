//! The trials report (`licenses::trials`) reads the trials issued in a period: an index on
//! (trial, issued_at) makes that a range scan of the trials alone, not of every license issued
//! in the period. The conversion lookup uses the existing (customer_id, issued_at) index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Licenses {
    Table,
    Trial,
    IssuedAt,
    Id,
}

const INDEX: &str = "licenses_trial_issued_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Licenses::Table)
                    .col(Licenses::Trial)
                    .col(Licenses::IssuedAt)
                    .col(Licenses::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Licenses::Table).to_owned())
            .await
    }
}
