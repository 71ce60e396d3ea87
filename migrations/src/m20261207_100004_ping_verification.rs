//! Each usage ping says whether its license digest was found in the license database
//! (issue 24): `usage_pings.verification` (`verified`, `digest_mismatch`, `id_only`,
//! `no_license`, `unchecked`) and `verified_license_id`.
//!
//! Existing pings start `unchecked`: the license database is another database (its own
//! migrator, often its own server), which SQL here cannot read, so the version service's sweep
//! decides them once it runs with `license_database_url`, oldest first, a bounded batch at a
//! time. A partial index holds only the `unchecked` pings, so the sweep finds its work without
//! reading the verified history, and the index stays as small as the backlog.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsagePings {
    Table,
    Verification,
    VerifiedLicenseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(UsagePings::Table)
                    .add_column(
                        ColumnDef::new(UsagePings::Verification)
                            .string_len(16)
                            .not_null()
                            .default("unchecked"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UsagePings::Table)
                    .add_column(
                        ColumnDef::new(UsagePings::VerifiedLicenseId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX usage_pings_unchecked_idx ON usage_pings (id) \
                 WHERE verification = 'unchecked'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX usage_pings_unchecked_idx")
            .await?;
        for column in [UsagePings::VerifiedLicenseId, UsagePings::Verification] {
            manager
                .alter_table(
                    Table::alter()
                        .table(UsagePings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
