//! Signed webhooks: the endpoints admins subscribe, the outbox of events, and one delivery per
//! event and endpoint (see `licenses::webhooks` for the statements, the `webhooks` crate for
//! the worker that sends them).
//!
//! - `webhook_endpoints`: where to send which event types, the signing secret (encrypted with
//!   the gateway's key; the previous one while a rotation's grace period runs), and whether the
//!   endpoint is active or disabled (with the reason).
//! - `webhook_events`: the outbox. Each event has a stable `message_id` (the `webhook-id`
//!   receivers deduplicate by) and a unique `dedupe_key`, so an event the scheduler computes
//!   again (`license.expiring` for the same license, threshold and expiry date) is written once.
//! - `webhook_deliveries`: one row per event and endpoint, with its status, attempts, next
//!   attempt and last error. Deleting an endpoint or an event deletes its deliveries.
//!
//! Plus an index on `licenses.expires_at`, which the scheduler's expiry windows range over.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Events,
    Description,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    Status,
    DisabledReason,
    DisabledAt,
    FailingSince,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    MessageId,
    EventType,
    OccurredAt,
    Payload,
    DedupeKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EventId,
    EndpointId,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatus,
    LastError,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum Licenses {
    Table,
    ExpiresAt,
    Id,
}

const LICENSES_EXPIRES: &str = "licenses_expires_idx";

fn id(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn maybe_instant(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, columns: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).to_owned();
    for column in columns {
        index.col(column);
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(id(WebhookEndpoints::Id))
                    .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                    // Event type names, comma-separated, e.g. `license.expired,license.expiring`.
                    .col(ColumnDef::new(WebhookEndpoints::Events).text().not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::Description)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookEndpoints::Secret).text().not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::PreviousSecret)
                            .text()
                            .null(),
                    )
                    .col(maybe_instant(WebhookEndpoints::PreviousSecretExpiresAt))
                    // `active` or `disabled`.
                    .col(
                        ColumnDef::new(WebhookEndpoints::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::DisabledReason)
                            .text()
                            .null(),
                    )
                    .col(maybe_instant(WebhookEndpoints::DisabledAt))
                    .col(maybe_instant(WebhookEndpoints::FailingSince))
                    .col(
                        ColumnDef::new(WebhookEndpoints::CreatedBy)
                            .text()
                            .not_null(),
                    )
                    .col(instant(WebhookEndpoints::CreatedAt))
                    .col(instant(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .col(id(WebhookEvents::Id))
                    .col(
                        ColumnDef::new(WebhookEvents::MessageId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookEvents::EventType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(instant(WebhookEvents::OccurredAt))
                    .col(ColumnDef::new(WebhookEvents::Payload).text().not_null())
                    .col(
                        ColumnDef::new(WebhookEvents::DedupeKey)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(instant(WebhookEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(id(WebhookDeliveries::Id))
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::EndpointId)
                            .big_integer()
                            .not_null(),
                    )
                    // `pending`, `succeeded` or `failed`.
                    .col(
                        ColumnDef::new(WebhookDeliveries::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(instant(WebhookDeliveries::NextAttemptAt))
                    .col(maybe_instant(WebhookDeliveries::LastAttemptAt))
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastStatus)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::LastError).text().null())
                    .col(instant(WebhookDeliveries::CreatedAt))
                    .col(maybe_instant(WebhookDeliveries::CompletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EventId)
                            .to(WebhookEvents::Table, WebhookEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            // Claiming: the due pending deliveries, soonest first.
            index(
                "webhook_deliveries_due_idx",
                WebhookDeliveries::Table,
                vec![
                    WebhookDeliveries::Status.into_iden(),
                    WebhookDeliveries::NextAttemptAt.into_iden(),
                    WebhookDeliveries::Id.into_iden(),
                ],
            ),
            // An endpoint's oldest pending delivery (deliveries go out in order per endpoint).
            index(
                "webhook_deliveries_endpoint_status_idx",
                WebhookDeliveries::Table,
                vec![
                    WebhookDeliveries::EndpointId.into_iden(),
                    WebhookDeliveries::Status.into_iden(),
                    WebhookDeliveries::Id.into_iden(),
                ],
            ),
            // `webhookDeliveries(endpointId:)`, newest first.
            index(
                "webhook_deliveries_endpoint_idx",
                WebhookDeliveries::Table,
                vec![
                    WebhookDeliveries::EndpointId.into_iden(),
                    WebhookDeliveries::Id.into_iden(),
                ],
            ),
            // Retention: deliveries completed long ago.
            index(
                "webhook_deliveries_completed_idx",
                WebhookDeliveries::Table,
                vec![WebhookDeliveries::CompletedAt.into_iden()],
            ),
            index(
                "webhook_deliveries_event_idx",
                WebhookDeliveries::Table,
                vec![WebhookDeliveries::EventId.into_iden()],
            ),
            // Retention: events created long ago.
            index(
                "webhook_events_created_idx",
                WebhookEvents::Table,
                vec![
                    WebhookEvents::CreatedAt.into_iden(),
                    WebhookEvents::Id.into_iden(),
                ],
            ),
            // The scheduler's expiry windows.
            index(
                LICENSES_EXPIRES,
                Licenses::Table,
                vec![Licenses::ExpiresAt.into_iden(), Licenses::Id.into_iden()],
            ),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(LICENSES_EXPIRES)
                    .table(Licenses::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
