//! The pings the sweep has to decide, and recording its verdicts.

use chrono::{DateTime, Utc};
use entity::usage_ping::Verification;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
};

use super::{
    HolderRule,
    bind::placeholder,
    installations::{self, VerifiedPing},
};
use crate::{Error, verify::Verdict};

/// A ping stored `Unchecked`: what deciding it needs.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct UncheckedPing {
    pub id: i64,
    pub host_id: i64,
    pub uuid: String,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub license_id: Option<i64>,
    pub license_md5: Option<String>,
    pub license_sha256: Option<String>,
}

/// Up to `limit` `Unchecked` pings, oldest first, from the partial index that holds only them.
pub async fn unchecked_pings(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<UncheckedPing>, Error> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT id, host_id, uuid, recorded_at, received_at, license_id, license_md5, \
           license_sha256 \
         FROM usage_pings WHERE verification = 'unchecked' ORDER BY id LIMIT {}",
        placeholder(backend, 1)
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = Statement::from_sql_and_values(backend, sql, [limit.into()]);
    Ok(UncheckedPing::find_by_statement(stmt).all(db).await?)
}

/// Stores the sweep's verdict on `ping` (unless another replica decided it first) and, when it
/// is verified, applies the holder rule as ingestion does, in one transaction.
pub async fn record_verdict(
    db: &DatabaseConnection,
    ping: &UncheckedPing,
    verdict: Verdict,
    rule: &HolderRule,
) -> Result<(), Error> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    // Lock the host first, as ingestion does, so that the two never wait on each other in
    // opposite orders. SQLite has one writer at a time, and there the first statement must be
    // the write (a read first would fail its upgrade with "database is locked").
    if backend == DbBackend::Postgres {
        let sql = "SELECT id FROM hosts WHERE id = $1 FOR UPDATE";
        txn.query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [ping.host_id.into()],
        ))
        .await?;
    }
    let p: Vec<String> = (1..=4).map(|i| placeholder(backend, i)).collect();
    let sql = format!(
        "UPDATE usage_pings SET verification = {}, verified_license_id = {} \
         WHERE id = {} AND verification = {}",
        p[0], p[1], p[2], p[3]
    );
    let values: [sea_orm::Value; 4] = [
        verdict.verification.into(),
        verdict.license_id.into(),
        ping.id.into(),
        Verification::Unchecked.into(),
    ];
    let updated = txn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected();
    if let (1, Verification::Verified, Some(license_id)) =
        (updated, verdict.verification, verdict.license_id)
    {
        // The installation was recorded with the ping (or by the migration that added them).
        let sql = format!(
            "SELECT id FROM installations WHERE host_id = {} AND uuid = {}",
            placeholder(backend, 1),
            placeholder(backend, 2)
        );
        let values: [sea_orm::Value; 2] = [ping.host_id.into(), ping.uuid.clone().into()];
        let installation = txn
            .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        if let Some(installation) = installation {
            let verified = VerifiedPing {
                host_id: ping.host_id,
                ping_id: ping.id,
                received_at: ping.received_at,
                license_id,
            };
            let id = installation.try_get::<i64>("", "id")?;
            installations::note_verified(&txn, id, verified, rule).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
