//! Storing one usage ping and keeping the read models (see `migration::usage_read_models`) up to
//! date with it, in one transaction.

use chrono::{DateTime, Utc};
use entity::usage_ping::NewPing;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, Statement, TransactionTrait, TryInsertResult, Value,
};

use super::{
    bind::placeholder,
    installations::{self, VerifiedPing},
    license_key::ping_key,
    usage_ping::{self, Verification},
};
use crate::{Error, verify::Verdict};

/// Which installation may hold a hostname (see `installations`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HolderRule {
    /// How long the holder may go without a verified ping before another installation that
    /// verifies a license may take the name over.
    pub silence: chrono::Duration,
}

/// Whether [`store_ping`] stored a new row or found the same ping already stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    Created,
    Duplicate,
}

/// Stores `ping` with its `verdict`, idempotently on (uuid, hostname, recorded_at), and moves
/// the read models: its installation (and, when it is verified, the name's holder: see
/// `installations`), the host's newest ping and, when the ping carries a license digest, the
/// (host, license key) row (see `license_key`: a license id alone is no key).
///
/// One transaction, so a ping is never stored without its read models (nor the reverse). Its
/// first statement writes: SQLite then takes the write lock at once, waiting on the busy
/// timeout, instead of failing the upgrade from a read lock with "database is locked". On
/// PostgreSQL the host row lock taken by that first statement orders concurrent pings of one
/// host, and every transaction locks the host before its license rows, so none deadlock.
pub async fn store_ping(
    db: &DatabaseConnection,
    ping: NewPing,
    received_at: DateTime<Utc>,
    verdict: Verdict,
    rule: &HolderRule,
) -> Result<IngestOutcome, Error> {
    let txn = db.begin().await?;
    let host_id = ensure_host(&txn, &ping, received_at).await?;
    let Some(ping_id) = insert_ping(&txn, host_id, &ping, received_at, verdict).await? else {
        txn.commit().await?;
        return Ok(IngestOutcome::Duplicate);
    };
    let installation =
        installations::note_ping(&txn, host_id, &ping.uuid, ping_id, ping.recorded_at).await?;
    advance_host(&txn, host_id, ping_id, &ping).await?;
    match (verdict.verification, verdict.license_id) {
        (Verification::Verified, Some(license_id)) => {
            let verified = VerifiedPing {
                host_id,
                ping_id,
                received_at,
                license_id,
            };
            installations::note_verified(&txn, installation, verified, rule).await?;
        }
        // The holder's own unverified ping still moves its newest ping.
        _ => installations::point_host_at_holder(&txn, host_id).await?,
    }
    let keys: Vec<String> = ping_key(
        ping.license_id,
        ping.license_md5.as_deref(),
        ping.license_sha256.as_deref(),
    )
    .into_iter()
    .collect();
    record_license_keys(&txn, host_id, ping_id, ping.recorded_at, keys).await?;
    txn.commit().await?;
    Ok(IngestOutcome::Created)
}

/// Inserts the host when it is new (its newest ping still unset); returns its id.
async fn ensure_host(
    txn: &DatabaseTransaction,
    ping: &NewPing,
    received_at: DateTime<Utc>,
) -> Result<i64, Error> {
    let backend = txn.get_database_backend();
    let p: Vec<String> = (1..=4).map(|i| placeholder(backend, i)).collect();
    // The no-op update makes RETURNING answer for an existing host too (and locks its row).
    let sql = format!(
        "INSERT INTO hosts (hostname, uuid, first_seen_at, last_ping_at) \
         VALUES ({}, {}, {}, {}) \
         ON CONFLICT (hostname) DO UPDATE SET hostname = excluded.hostname \
         RETURNING id",
        p[0], p[1], p[2], p[3]
    );
    let values: [Value; 4] = [
        ping.hostname.clone().into(),
        ping.uuid.clone().into(),
        received_at.into(),
        ping.recorded_at.into(),
    ];
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("upserted host".to_owned()))?;
    Ok(row.try_get::<i64>("", "id")?)
}

/// Inserts the ping unless the same (uuid, hostname, recorded_at) is stored; its new id.
async fn insert_ping(
    txn: &DatabaseTransaction,
    host_id: i64,
    ping: &NewPing,
    received_at: DateTime<Utc>,
    verdict: Verdict,
) -> Result<Option<i64>, Error> {
    let mut row = ping.clone().into_active_model();
    row.host_id = Set(host_id);
    row.received_at = Set(received_at);
    row.verification = Set(verdict.verification);
    row.verified_license_id = Set(verdict.license_id);
    let result = usage_ping::Entity::insert(row)
        .on_conflict_do_nothing_on([
            usage_ping::Column::Uuid,
            usage_ping::Column::Hostname,
            usage_ping::Column::RecordedAt,
        ])
        .exec(txn)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(inserted) => Some(inserted.last_insert_id),
        TryInsertResult::Conflicted | TryInsertResult::Empty => None,
    })
}

/// Makes `ping_id` the host's newest ping unless a newer one is already there: a late ping
/// recorded earlier never moves "newest" backwards. Ties on `recorded_at` go to the higher id.
/// Only while no installation holds the name: then the holder's newest ping is the host's
/// (`installations::point_host_at_holder`).
async fn advance_host(
    txn: &DatabaseTransaction,
    host_id: i64,
    ping_id: i64,
    ping: &NewPing,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    let p: Vec<String> = (1..=4).map(|i| placeholder(backend, i)).collect();
    let (id, recorded, uuid, host) = (&p[0], &p[1], &p[2], &p[3]);
    let sql = format!(
        "UPDATE hosts SET latest_ping_id = {id}, last_ping_at = {recorded}, uuid = {uuid} \
         WHERE id = {host} AND holder_installation_id IS NULL \
           AND (latest_ping_id IS NULL OR last_ping_at < {recorded} \
           OR (last_ping_at = {recorded} AND latest_ping_id < {id}))"
    );
    let values: [Value; 4] = [
        ping_id.into(),
        ping.recorded_at.into(),
        ping.uuid.clone().into(),
        host_id.into(),
    ];
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Upserts the (license key, host) rows of the read model for the keys this ping carries: the
/// first and last report widen, the newest ping moves only forward.
async fn record_license_keys(
    txn: &DatabaseTransaction,
    host_id: i64,
    ping_id: i64,
    recorded_at: DateTime<Utc>,
    keys: Vec<String>,
) -> Result<(), Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let p: Vec<String> = (1..=3 + keys.len())
        .map(|i| placeholder(backend, i))
        .collect();
    let (host, recorded, ping) = (&p[0], &p[1], &p[2]);
    let rows: Vec<String> = p[3..]
        .iter()
        .map(|key| format!("({key}, {host}, {recorded}, {recorded}, {ping})"))
        .collect();
    // In an upsert's SET, `host_licenses.*` are the values before the update on both databases.
    let sql = format!(
        "INSERT INTO host_licenses \
           (license_key, host_id, first_seen_at, last_seen_at, latest_ping_id) \
         VALUES {} \
         ON CONFLICT (license_key, host_id) DO UPDATE SET \
           first_seen_at = CASE WHEN excluded.first_seen_at < host_licenses.first_seen_at \
             THEN excluded.first_seen_at ELSE host_licenses.first_seen_at END, \
           latest_ping_id = CASE WHEN excluded.last_seen_at > host_licenses.last_seen_at \
               OR (excluded.last_seen_at = host_licenses.last_seen_at \
                   AND excluded.latest_ping_id > host_licenses.latest_ping_id) \
             THEN excluded.latest_ping_id ELSE host_licenses.latest_ping_id END, \
           last_seen_at = CASE WHEN excluded.last_seen_at > host_licenses.last_seen_at \
             THEN excluded.last_seen_at ELSE host_licenses.last_seen_at END",
        rows.join(", ")
    );
    let mut values: Vec<Value> = vec![host_id.into(), recorded_at.into(), ping_id.into()];
    values.extend(keys.into_iter().map(Value::from));
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}
