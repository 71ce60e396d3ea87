//! The trials report (`licenses::trials`) reads the trials issued in a period: an index on
//! (trial, issued_at) makes that a range scan of the trials alone, not of every license issued
//! in the period. Its conversion lookup (a customer's paid licenses from a date on) has its own
//! index on (customer_id, trial, issued_at): with the existing (customer_id, issued_at) alone,
//! SQLite's planner preferred the trial index for that side too and scanned every paid license
//! of the window once per trial.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Licenses {
    Table,
    Trial,
    IssuedAt,
    Id,
    CustomerId,
}

const TRIALS: &str = "licenses_trial_issued_idx";
const CONVERSIONS: &str = "licenses_customer_trial_issued_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(TRIALS)
                    .table(Licenses::Table)
                    .col(Licenses::Trial)
                    .col(Licenses::IssuedAt)
                    .col(Licenses::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CONVERSIONS)
                    .table(Licenses::Table)
                    .col(Licenses::CustomerId)
                    .col(Licenses::Trial)
                    .col(Licenses::IssuedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in [CONVERSIONS, TRIALS] {
            manager
                .drop_index(Index::drop().name(index).table(Licenses::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
