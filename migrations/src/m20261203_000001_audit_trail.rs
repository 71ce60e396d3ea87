//! The audit trail records more than contact changes: sign-ins, sign-outs, refused changes and
//! CSV exports of personal data. So `audit_events` gets
//!
//! - `action` values beyond `license_contact_changed` (the event kind: same column, 32
//!   characters),
//! - the license, its customer, the contacts, the license version and the reason optional
//!   (a sign-in concerns no license; a refused change made no new contact),
//! - `caller_request_id`: the `x-request-id` the caller sent, kept apart from `request_id`,
//!   which is now always the gateway's own,
//! - `details`: what the kind needs besides (a refusal's code, an export's scope and row count),
//!   JSON of at most 2,000 characters,
//! - an index on (action, occurred_at, id) for the trail filtered by kind.
//!
//! The existing indexes (license, customer, actor, time; each then occurred_at, id) stay as
//! they are and serve the same reads. PostgreSQL alters the columns in place; SQLite cannot
//! drop a NOT NULL, so there the table is rebuilt (created anew, rows copied with their ids,
//! renamed, indexes created again), as SQLite's documentation prescribes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
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
    CallerRequestId,
    OldContactId,
    OldContactName,
    OldContactEmail,
    NewContactId,
    NewContactName,
    NewContactEmail,
    Reason,
    LicenseVersion,
    Details,
}

/// The table while SQLite rebuilds it.
#[derive(DeriveIden)]
struct AuditEventsNext;

/// Longest `details`, in characters (`licenses::audit_record` keeps within it).
const MAX_DETAILS_CHARS: u32 = 2_000;

/// Columns that become optional.
const NOW_OPTIONAL: [AuditEvents; 10] = [
    AuditEvents::LicenseId,
    AuditEvents::CustomerId,
    AuditEvents::OldContactId,
    AuditEvents::OldContactName,
    AuditEvents::OldContactEmail,
    AuditEvents::NewContactId,
    AuditEvents::NewContactName,
    AuditEvents::NewContactEmail,
    AuditEvents::Reason,
    AuditEvents::LicenseVersion,
];

/// Every column of the table as it is after this migration.
fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(AuditEvents::Id)
            .big_integer()
            .not_null()
            .auto_increment()
            .primary_key()
            .to_owned(),
        ColumnDef::new(AuditEvents::LicenseId)
            .big_integer()
            .to_owned(),
        ColumnDef::new(AuditEvents::CustomerId)
            .big_integer()
            .to_owned(),
        ColumnDef::new(AuditEvents::OccurredAt)
            .timestamp_with_time_zone()
            .not_null()
            .to_owned(),
        ColumnDef::new(AuditEvents::Action)
            .string_len(32)
            .not_null()
            .to_owned(),
        ColumnDef::new(AuditEvents::ActorSubject)
            .string()
            .not_null()
            .to_owned(),
        ColumnDef::new(AuditEvents::ActorEmail).string().to_owned(),
        ColumnDef::new(AuditEvents::ActorRole)
            .string_len(16)
            .not_null()
            .to_owned(),
        ColumnDef::new(AuditEvents::RequestId)
            .string()
            .not_null()
            .to_owned(),
        caller_request_id(),
        ColumnDef::new(AuditEvents::OldContactId)
            .big_integer()
            .to_owned(),
        ColumnDef::new(AuditEvents::OldContactName)
            .string()
            .to_owned(),
        ColumnDef::new(AuditEvents::OldContactEmail)
            .string()
            .to_owned(),
        ColumnDef::new(AuditEvents::NewContactId)
            .big_integer()
            .to_owned(),
        ColumnDef::new(AuditEvents::NewContactName)
            .string()
            .to_owned(),
        ColumnDef::new(AuditEvents::NewContactEmail)
            .string()
            .to_owned(),
        ColumnDef::new(AuditEvents::Reason).text().to_owned(),
        ColumnDef::new(AuditEvents::LicenseVersion)
            .big_integer()
            .to_owned(),
        details(),
    ]
}

fn caller_request_id() -> ColumnDef {
    // The edge keeps at most 128 printable characters of a caller's id.
    ColumnDef::new(AuditEvents::CallerRequestId)
        .string_len(128)
        .to_owned()
}

fn details() -> ColumnDef {
    ColumnDef::new(AuditEvents::Details)
        .string_len(MAX_DETAILS_CHARS)
        .to_owned()
}

/// The indexes the existing reads use (each then occurred_at, id), as `license_audit` made them.
const EXISTING_INDEXES: [(&str, Option<AuditEvents>); 4] = [
    ("audit_events_license_idx", Some(AuditEvents::LicenseId)),
    ("audit_events_occurred_idx", None),
    ("audit_events_customer_idx", Some(AuditEvents::CustomerId)),
    ("audit_events_actor_idx", Some(AuditEvents::ActorSubject)),
];

/// The index of the trail filtered by kind: (action, occurred_at, id).
const BY_KIND: &str = "audit_events_action_idx";

async fn create_index(
    manager: &SchemaManager<'_>,
    name: &str,
    leading: Option<AuditEvents>,
) -> Result<(), DbErr> {
    let mut index = Index::create()
        .name(name)
        .table(AuditEvents::Table)
        .to_owned();
    if let Some(leading) = leading {
        index.col(leading);
    }
    index.col(AuditEvents::OccurredAt).col(AuditEvents::Id);
    manager.create_index(index).await
}

/// The columns the table had before, copied across by the rebuild.
const COPIED: [AuditEvents; 17] = [
    AuditEvents::Id,
    AuditEvents::LicenseId,
    AuditEvents::CustomerId,
    AuditEvents::OccurredAt,
    AuditEvents::Action,
    AuditEvents::ActorSubject,
    AuditEvents::ActorEmail,
    AuditEvents::ActorRole,
    AuditEvents::RequestId,
    AuditEvents::OldContactId,
    AuditEvents::OldContactName,
    AuditEvents::OldContactEmail,
    AuditEvents::NewContactId,
    AuditEvents::NewContactName,
    AuditEvents::NewContactEmail,
    AuditEvents::Reason,
    AuditEvents::LicenseVersion,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild(manager).await?,
            _ => {
                let mut alter = Table::alter().table(AuditEvents::Table).to_owned();
                for column in NOW_OPTIONAL {
                    alter.modify_column(ColumnDef::new(column).null().to_owned());
                }
                alter.add_column(caller_request_id()).add_column(details());
                manager.alter_table(alter).await?;
            }
        }
        create_index(manager, BY_KIND, Some(AuditEvents::Action)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Events of the new kinds have no license: they cannot go back into the old table.
        let db = manager.get_connection();
        let delete = Query::delete()
            .from_table(AuditEvents::Table)
            .and_where(Expr::col(AuditEvents::Action).ne("license_contact_changed"))
            .to_owned();
        db.execute(&delete).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(BY_KIND)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            // SQLite drops columns but cannot add NOT NULL back; the optional columns stay so.
            for column in [AuditEvents::CallerRequestId, AuditEvents::Details] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(AuditEvents::Table)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            return Ok(());
        }
        let mut alter = Table::alter().table(AuditEvents::Table).to_owned();
        for column in NOW_OPTIONAL {
            alter.modify_column(ColumnDef::new(column).not_null().to_owned());
        }
        alter
            .drop_column(AuditEvents::CallerRequestId)
            .drop_column(AuditEvents::Details);
        manager.alter_table(alter).await
    }
}

/// SQLite: the table created anew with the optional columns, the rows copied with their ids,
/// the old table dropped (its indexes with it), the new one renamed, the indexes created again.
async fn rebuild(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut create = Table::create().table(AuditEventsNext).to_owned();
    for mut column in columns() {
        create.col(&mut column);
    }
    manager.create_table(create).await?;
    // The new columns start empty; every other one is copied as it was.
    let select = Query::select()
        .columns(COPIED)
        .from(AuditEvents::Table)
        .to_owned();
    let insert = Query::insert()
        .into_table(AuditEventsNext)
        .columns(COPIED)
        .select_from(select)
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    manager.get_connection().execute(&insert).await?;
    manager
        .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(AuditEventsNext, AuditEvents::Table)
                .to_owned(),
        )
        .await?;
    for (name, leading) in EXISTING_INDEXES {
        create_index(manager, name, leading).await?;
    }
    Ok(())
}
