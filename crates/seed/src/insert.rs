//! Multi-row INSERTs: one statement carries up to `MAX_ROWS` rows, within the bind-parameter
//! limits of PostgreSQL (65,535) and SQLite (32,766). Row-at-a-time inserts through the ORM would
//! make a 100,000-customer data set take hours; a few thousand statements take minutes.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait, Value,
};

use crate::rows::{LicenseBatch, VersionBatch};
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

fn string(value: &str) -> Value {
    Value::String(Some(value.to_string()))
}

fn opt_string(value: Option<&String>) -> Value {
    Value::String(value.cloned())
}

fn time(value: DateTime<Utc>) -> Value {
    Value::ChronoDateTimeUtc(Some(value))
}

fn date(value: Option<NaiveDate>) -> Value {
    Value::ChronoDate(value)
}

/// Inserts `rows` into `table`, `values` writing one row's values in `columns` order.
pub async fn insert<C, T>(
    db: &C,
    table: &str,
    columns: &[&str],
    rows: &[T],
    values: impl Fn(&T, &mut Vec<Value>),
) -> Result<(), DbErr>
where
    C: ConnectionTrait,
{
    let backend = db.get_database_backend();
    let per_statement = (max_params(backend) / columns.len()).clamp(1, MAX_ROWS);
    let started = std::time::Instant::now();
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for chunk in rows.chunks(per_statement) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * columns.len() * 7);
        sql.push_str(&head);
        let mut binds = Vec::with_capacity(chunk.len() * columns.len());
        let mut n = 0usize;
        for (r, row) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                match backend {
                    DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
            values(row, &mut binds);
        }
        db.execute_raw(Statement::from_sql_and_values(backend, sql, binds))
            .await?;
    }
    tracing::debug!(
        table,
        rows = rows.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "inserted"
    );
    Ok(())
}

/// Writes one batch of the license database in one transaction, parents before children.
pub async fn write_licenses(db: &DatabaseConnection, batch: &LicenseBatch) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    insert(
        &txn,
        "customers",
        &[
            "id",
            "name",
            "salesforce_account_id",
            "zuora_account_id",
            "country",
            "created_at",
        ],
        &batch.customers,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(string(&r.name));
            v.push(opt_string(r.salesforce_account_id.as_ref()));
            v.push(opt_string(r.zuora_account_id.as_ref()));
            v.push(opt_string(r.country.as_ref()));
            v.push(time(r.created_at));
        },
    )
    .await?;
    insert(
        &txn,
        "contacts",
        &["id", "customer_id", "name", "email", "created_at"],
        &batch.contacts,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(Value::BigInt(Some(r.customer_id)));
            v.push(string(&r.name));
            v.push(string(&r.email));
            v.push(time(r.created_at));
        },
    )
    .await?;
    insert(
        &txn,
        "licenses",
        &[
            "id",
            "customer_id",
            "contact_id",
            "licensee_name",
            "licensee_email",
            "licensee_company",
            "plan",
            "users_count",
            "previous_users_count",
            "trueup_quantity",
            "trial",
            "issued_at",
            "starts_at",
            "expires_at",
            "license_type",
            "zuora_subscription_id",
            "zuora_subscription_name",
            "license_md5",
            "license_sha256",
            "notes",
            "created_at",
            "updated_at",
        ],
        &batch.licenses,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(Value::BigInt(Some(r.customer_id)));
            v.push(Value::BigInt(Some(r.contact_id)));
            v.push(string(&r.licensee_name));
            v.push(string(&r.licensee_email));
            v.push(string(&r.licensee_company));
            v.push(string(r.plan));
            v.push(Value::Int(Some(r.users_count)));
            v.push(Value::Int(r.previous_users_count));
            v.push(Value::Int(Some(r.trueup_quantity)));
            v.push(Value::Bool(Some(r.trial)));
            v.push(time(r.issued_at));
            v.push(date(Some(r.starts_at)));
            v.push(date(r.expires_at));
            v.push(string(r.license_type));
            v.push(opt_string(r.zuora_subscription_id.as_ref()));
            v.push(opt_string(r.zuora_subscription_name.as_ref()));
            v.push(string(&r.license_md5));
            v.push(string(&r.license_sha256));
            v.push(opt_string(r.notes.as_ref()));
            v.push(time(r.created_at));
            v.push(time(r.updated_at));
        },
    )
    .await?;
    insert(
        &txn,
        "hostnames",
        &["id", "name"],
        &batch.hostnames,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(string(&r.name));
        },
    )
    .await?;
    insert(
        &txn,
        "license_hostnames",
        &["license_id", "hostname_id", "first_seen_at"],
        &batch.license_hostnames,
        |r, v| {
            v.push(Value::BigInt(Some(r.license_id)));
            v.push(Value::BigInt(Some(r.hostname_id)));
            v.push(time(r.first_seen_at));
        },
    )
    .await?;
    insert(
        &txn,
        "license_add_ons",
        &["license_id", "add_on_code", "quantity"],
        &batch.license_add_ons,
        |r, v| {
            v.push(Value::BigInt(Some(r.license_id)));
            v.push(string(r.add_on_code));
            v.push(Value::Int(Some(r.quantity)));
        },
    )
    .await?;
    txn.commit().await
}

/// Writes one batch of the version database, and its read models, in one transaction.
pub async fn write_usage(db: &DatabaseConnection, batch: &VersionBatch) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    insert(
        &txn,
        "hosts",
        &["id", "hostname", "uuid", "first_seen_at", "last_ping_at"],
        &batch.hosts,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(string(&r.hostname));
            v.push(string(&r.uuid));
            v.push(time(r.first_seen_at));
            v.push(time(r.last_ping_at));
        },
    )
    .await?;
    insert(
        &txn,
        "usage_pings",
        &[
            "id",
            "host_id",
            "uuid",
            "hostname",
            "recorded_at",
            "received_at",
            "version",
            "edition",
            "installation_type",
            "active_user_count",
            "historical_max_users",
            "license_id",
            "license_md5",
            "license_sha256",
            "license_user_count",
            "license_plan",
            "license_trial",
            "license_starts_at",
            "license_expires_at",
            "license_subscription_id",
            "payload",
        ],
        &batch.pings,
        |r, v| {
            v.push(Value::BigInt(Some(r.id)));
            v.push(Value::BigInt(Some(r.host_id)));
            v.push(string(&r.uuid));
            v.push(string(&r.hostname));
            v.push(time(r.recorded_at));
            v.push(time(r.received_at));
            v.push(string(r.version));
            v.push(string(r.edition));
            v.push(string(r.installation_type));
            v.push(Value::BigInt(Some(r.active_user_count)));
            v.push(Value::BigInt(Some(r.historical_max_users)));
            let l = r.license.as_ref();
            v.push(Value::BigInt(l.map(|l| l.id)));
            v.push(Value::String(l.map(|l| l.md5.clone())));
            v.push(Value::String(l.map(|l| l.sha256.clone())));
            v.push(Value::BigInt(l.map(|l| l.user_count)));
            v.push(Value::String(l.map(|l| l.plan.to_string())));
            v.push(Value::Bool(l.map(|l| l.trial)));
            v.push(date(l.map(|l| l.starts_at)));
            v.push(date(l.and_then(|l| l.expires_at)));
            v.push(Value::String(l.and_then(|l| l.subscription_id.clone())));
            v.push(string(&r.payload));
        },
    )
    .await?;
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
