//! Changing a license's contact, audited: a `version` on licenses (bumped by every change, for
//! optimistic concurrency), the `audit_events` trail, and the `idempotency_keys` that let a
//! retried change return its first result instead of writing a second event.
//!
//! Audit events copy the old and new contact's name and e-mail as they were at the change, so
//! the trail stays true when a contact is later renamed. They keep the license and customer ids
//! without foreign keys: an audit trail outlives what it describes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Licenses {
    Table,
    Version,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    LicenseId,
    CustomerId,
    OccurredAt,
    Action,
    ActorSubject,
    ActorEmail,
    ActorRole,
    RequestId,
    OldContactId,
    OldContactName,
    OldContactEmail,
    NewContactId,
    NewContactName,
    NewContactEmail,
    Reason,
    LicenseVersion,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Subject,
    Key,
    Fingerprint,
    AuditEventId,
    CreatedAt,
    ExpiresAt,
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

fn big(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Licenses::Table)
                    .add_column(
                        ColumnDef::new(Licenses::Version)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big(AuditEvents::LicenseId))
                    .col(big(AuditEvents::CustomerId))
                    .col(instant(AuditEvents::OccurredAt))
                    .col(
                        ColumnDef::new(AuditEvents::Action)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(text(AuditEvents::ActorSubject))
                    .col(ColumnDef::new(AuditEvents::ActorEmail).string())
                    .col(
                        ColumnDef::new(AuditEvents::ActorRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(text(AuditEvents::RequestId))
                    .col(big(AuditEvents::OldContactId))
                    .col(text(AuditEvents::OldContactName))
                    .col(text(AuditEvents::OldContactEmail))
                    .col(big(AuditEvents::NewContactId))
                    .col(text(AuditEvents::NewContactName))
                    .col(text(AuditEvents::NewContactEmail))
                    .col(ColumnDef::new(AuditEvents::Reason).text().not_null())
                    .col(big(AuditEvents::LicenseVersion))
                    .to_owned(),
            )
            .await?;
        // `License.auditEvents` (a license's events, newest first), the staff connection (all
        // events newest first) and its filters by customer and by actor: each an index walk.
        let indexes: [(&str, Option<AuditEvents>); 4] = [
            ("audit_events_license_idx", Some(AuditEvents::LicenseId)),
            ("audit_events_occurred_idx", None),
            ("audit_events_customer_idx", Some(AuditEvents::CustomerId)),
            ("audit_events_actor_idx", Some(AuditEvents::ActorSubject)),
        ];
        for (name, leading) in indexes {
            let mut index = Index::create()
                .name(name)
                .table(AuditEvents::Table)
                .to_owned();
            if let Some(leading) = leading {
                index.col(leading);
            }
            index.col(AuditEvents::OccurredAt).col(AuditEvents::Id);
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(text(IdempotencyKeys::Subject))
                    .col(text(IdempotencyKeys::Key))
                    .col(
                        ColumnDef::new(IdempotencyKeys::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(big(IdempotencyKeys::AuditEventId))
                    .col(instant(IdempotencyKeys::CreatedAt))
                    .col(instant(IdempotencyKeys::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Subject)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idempotency_keys_expires_idx")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            AuditEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Licenses::Table)
                    .drop_column(Licenses::Version)
                    .to_owned(),
            )
            .await
    }
}
