//! `sessions`: the gateway's server-side sign-in state (see `gateway::sso::store`): browser
//! sessions, pending OpenID Connect logins and one-time sign-in links. Rows are keyed by the
//! SHA-256 of the secret the browser holds, never by the secret itself, so a copy of the table
//! signs nobody in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    KeyHash,
    Kind,
    Data,
    ExpiresAt,
    IdleExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(
                        ColumnDef::new(Sessions::KeyHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    // `session`, `login` (a pending OpenID Connect login) or `link`.
                    .col(ColumnDef::new(Sessions::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Sessions::Data).text().not_null())
                    // Unix seconds: the absolute end, and the end unless used again before it.
                    .col(ColumnDef::new(Sessions::ExpiresAt).big_integer().not_null())
                    .col(
                        ColumnDef::new(Sessions::IdleExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Purging expired rows and counting pending logins read this index only.
        manager
            .create_index(
                Index::create()
                    .name("sessions_kind_expires_at_idx")
                    .table(Sessions::Table)
                    .col(Sessions::Kind)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
