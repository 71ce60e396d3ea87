//! Multi-row INSERTs: one statement carries up to `MAX_ROWS` rows, within the bind-parameter
//! limits of PostgreSQL (65,535) and SQLite (32,766). Row-at-a-time inserts through the ORM would
//! make a 100,000-customer data set take hours; a few thousand statements take minutes.
//!
//! Every table is written through its sea-orm entity (columns and value types), so the seed
//! writes exactly the schema the services read.

use sea_orm::sea_query::Query;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Iterable, ModelTrait,
    Statement, TransactionTrait,
};

use crate::rows::{LicenseBatch, VersionBatch};
use entity::{
    contact, customer, host, hostname, license, license_add_on, license_hostname, usage_ping,
};
use migration::usage_read_models;

/// Rows per statement: large enough that round trips stop mattering, small enough that a
/// statement stays a modest allocation.
const MAX_ROWS: usize = 1000;

fn max_params(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 65_535,
        _ => 32_766,
    }
}

/// Inserts `rows` into the table of `E`, each as the entity model `model` makes of it, every
/// column of the entity set.
pub async fn insert<E, C, T>(
    db: &C,
    rows: &[T],
    model: impl Fn(&T) -> Result<E::Model, DbErr>,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let backend = db.get_database_backend();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let per_statement = (max_params(backend) / columns.len()).clamp(1, MAX_ROWS);
    let started = std::time::Instant::now();
    for chunk in rows.chunks(per_statement) {
        let mut statement = Query::insert();
        statement
            .into_table(E::default().table_ref())
            .columns(columns.iter().copied());
        for row in chunk {
            let model = model(row)?;
            statement
                .values(columns.iter().map(|column| model.get(*column).into()))
                .map_err(|err| DbErr::Custom(err.to_string()))?;
        }
        db.execute_raw(backend.build(&statement)).await?;
    }
    tracing::debug!(
        table = E::default().table_name(),
        rows = rows.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "inserted"
    );
    Ok(())
}

/// The model of a row the generator builds as the entity's model.
fn same<M: Clone>(row: &M) -> Result<M, DbErr> {
    Ok(row.clone())
}

/// Writes one batch of the license database in one transaction, parents before children.
pub async fn write_licenses(db: &DatabaseConnection, batch: &LicenseBatch) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    insert::<customer::Entity, _, _>(&txn, &batch.customers, same).await?;
    insert::<contact::Entity, _, _>(&txn, &batch.contacts, same).await?;
    insert::<license::Entity, _, _>(&txn, &batch.licenses, same).await?;
    insert::<hostname::Entity, _, _>(&txn, &batch.hostnames, same).await?;
    insert::<license_hostname::Entity, _, _>(&txn, &batch.license_hostnames, same).await?;
    insert::<license_add_on::Entity, _, _>(&txn, &batch.license_add_ons, |r| r.to_model()).await?;
    txn.commit().await
}

/// Writes one batch of the version database, and its read models, in one transaction.
pub async fn write_usage(db: &DatabaseConnection, batch: &VersionBatch) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    insert::<host::Entity, _, _>(&txn, &batch.hosts, |r| r.to_model()).await?;
    insert::<usage_ping::Entity, _, _>(&txn, &batch.pings, same).await?;
    // Bulk inserts bypass ingestion, so derive its read models here, for this batch's hosts.
    let host_ids = batch.pings.iter().map(|p| p.host_id);
    if let (Some(first), Some(last)) = (host_ids.clone().min(), host_ids.max()) {
        usage_read_models::rebuild(&txn, usage_read_models::Hosts::Between(first, last)).await?;
    }
    txn.commit().await
}

/// `SELECT COALESCE(MAX(id), 0) FROM table`: where explicit ids continue in a non-empty database.
pub async fn max_id(db: &DatabaseConnection, table: &str) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COALESCE(MAX(id), 0) AS max_id FROM {table}"),
        ))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}

/// After explicit-id inserts PostgreSQL's sequences still start at 1, so the next ordinary insert
/// would collide; move them past the largest id. SQLite tracks this by itself.
pub async fn reset_sequences(db: &DatabaseConnection, tables: &[&str]) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in tables {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}
