//! The pings the sweep has to decide, and recording its verdicts.

use chrono::{DateTime, Utc};
use entity::usage_ping::Verification;
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult, Statement, TransactionTrait};

use super::{HolderRule, bind::placeholder};
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

/// Stores the sweep's verdict on `ping` (unless another replica decided it first).
pub async fn record_verdict(
    db: &DatabaseConnection,
    ping: &UncheckedPing,
    verdict: Verdict,
    _rule: &HolderRule,
) -> Result<(), Error> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
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
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    txn.commit().await?;
    Ok(())
}
