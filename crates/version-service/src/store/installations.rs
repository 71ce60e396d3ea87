//! Installations and the holder of a hostname (issue 24): a server is an installation (`uuid`)
//! reporting under a hostname, and one installation at a time *holds* the name. The holder's
//! newest ping is the host's newest (`hosts.latest_ping_id`: `Hostname.latestUsagePing`,
//! `reportedLicense`, the dashboard's "last usage ping"), so a ping sent under the name by
//! anyone else never replaces what the holder reports.
//!
//! The holder rule, applied by ingestion and by the sweep each time a ping is verified:
//!
//! 1. while no installation holds the name, the first one that sends a verified ping takes it
//!    (until then the host's newest ping is anyone's newest, as before);
//! 2. another installation takes the name over only when it verifies the *same* license as the
//!    holder (a reinstall of the customer's server), or when the holder has sent no verified
//!    ping for `holder_silence_days` (measured on the service's clock, `received_at`, which a
//!    sender cannot set).
//!
//! Every statement runs in the caller's transaction, after the host's row is locked.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Statement, Value};

use super::{HolderRule, bind::placeholder};
use crate::Error;

/// Placeholders `$1..$n` (or `?1..?n`) of the transaction's backend.
fn params(txn: &DatabaseTransaction, n: usize) -> Vec<String> {
    let backend = txn.get_database_backend();
    (1..=n).map(|i| placeholder(backend, i)).collect()
}

async fn execute(txn: &DatabaseTransaction, sql: String, values: Vec<Value>) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Records ping `ping_id` of installation (`host_id`, `uuid`): the installation is created on
/// its first ping; its first ping time widens and its newest ping moves only forward (by
/// `recorded_at`, ties to the higher id). Returns the installation's id.
pub(super) async fn note_ping(
    txn: &DatabaseTransaction,
    host_id: i64,
    uuid: &str,
    ping_id: i64,
    recorded_at: DateTime<Utc>,
) -> Result<i64, Error> {
    let p = params(txn, 4);
    let (host, uuid_p, recorded, ping) = (&p[0], &p[1], &p[2], &p[3]);
    // In an upsert's SET, `installations.*` are the values before the update.
    let sql = format!(
        "INSERT INTO installations (host_id, uuid, first_ping_at, last_ping_at, latest_ping_id) \
         VALUES ({host}, {uuid_p}, {recorded}, {recorded}, {ping}) \
         ON CONFLICT (host_id, uuid) DO UPDATE SET \
           first_ping_at = CASE WHEN excluded.first_ping_at < installations.first_ping_at \
             THEN excluded.first_ping_at ELSE installations.first_ping_at END, \
           latest_ping_id = CASE WHEN excluded.last_ping_at > installations.last_ping_at \
               OR (excluded.last_ping_at = installations.last_ping_at \
                   AND excluded.latest_ping_id > installations.latest_ping_id) \
             THEN excluded.latest_ping_id ELSE installations.latest_ping_id END, \
           last_ping_at = CASE WHEN excluded.last_ping_at > installations.last_ping_at \
             THEN excluded.last_ping_at ELSE installations.last_ping_at END \
         RETURNING id"
    );
    let values: [Value; 4] = [
        host_id.into(),
        uuid.to_owned().into(),
        recorded_at.into(),
        ping_id.into(),
    ];
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("upserted installation".to_owned()))?;
    Ok(row.try_get::<i64>("", "id")?)
}

/// A verified ping of an installation: what the holder rule needs of it.
#[derive(Clone, Copy, Debug)]
pub(super) struct VerifiedPing {
    pub host_id: i64,
    pub ping_id: i64,
    pub received_at: DateTime<Utc>,
    pub license_id: i64,
}

/// Records a verified ping of installation `installation_id` (its newest verified ping by
/// arrival), then applies the holder rule and points the host at its holder's newest ping.
pub(super) async fn note_verified(
    txn: &DatabaseTransaction,
    installation_id: i64,
    ping: VerifiedPing,
    rule: &HolderRule,
) -> Result<(), Error> {
    let p = params(txn, 4);
    let (ping_p, received, license, installation) = (&p[0], &p[1], &p[2], &p[3]);
    let sql = format!(
        "UPDATE installations SET latest_verified_ping_id = {ping_p}, \
           last_verified_at = {received}, verified_license_id = {license} \
         WHERE id = {installation} AND (last_verified_at IS NULL \
           OR last_verified_at < {received} \
           OR (last_verified_at = {received} AND latest_verified_ping_id < {ping_p}))"
    );
    execute(
        txn,
        sql,
        vec![
            ping.ping_id.into(),
            ping.received_at.into(),
            ping.license_id.into(),
            installation_id.into(),
        ],
    )
    .await?;
    settle_holder(txn, installation_id, ping, rule).await?;
    point_host_at_holder(txn, ping.host_id).await
}

/// The installation holding a host's name, as the holder rule needs it.
#[derive(FromQueryResult)]
struct Holder {
    holder_installation_id: Option<i64>,
    verified_license_id: Option<i64>,
    last_verified_at: Option<DateTime<Utc>>,
}

/// Gives the name to `candidate` when the holder rule says so (see the module's comment).
async fn settle_holder(
    txn: &DatabaseTransaction,
    candidate: i64,
    ping: VerifiedPing,
    rule: &HolderRule,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    let sql = format!(
        "SELECT h.holder_installation_id, i.verified_license_id, i.last_verified_at \
         FROM hosts h LEFT JOIN installations i ON i.id = h.holder_installation_id \
         WHERE h.id = {}",
        placeholder(backend, 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [ping.host_id.into()]);
    let holder = Holder::find_by_statement(stmt).one(txn).await?;
    let takes_over = match holder {
        None => false,
        Some(Holder {
            holder_installation_id: None,
            ..
        }) => true,
        Some(Holder {
            holder_installation_id: Some(id),
            ..
        }) if id == candidate => false,
        Some(holder) => {
            let same_license = holder.verified_license_id == Some(ping.license_id);
            let silent = holder
                .last_verified_at
                .is_none_or(|at| at + rule.silence <= ping.received_at);
            same_license || silent
        }
    };
    if takes_over {
        let p = params(txn, 2);
        execute(
            txn,
            format!(
                "UPDATE hosts SET holder_installation_id = {} WHERE id = {}",
                p[0], p[1]
            ),
            vec![candidate.into(), ping.host_id.into()],
        )
        .await?;
    }
    Ok(())
}

/// When an installation holds the host's name, its newest ping is the host's newest.
pub(super) async fn point_host_at_holder(
    txn: &DatabaseTransaction,
    host_id: i64,
) -> Result<(), Error> {
    let p = params(txn, 1);
    // Correlated lookups by primary key, in the form both databases run.
    let sql = format!(
        "UPDATE hosts SET \
           latest_ping_id = (SELECT i.latest_ping_id FROM installations i \
                             WHERE i.id = hosts.holder_installation_id), \
           last_ping_at = (SELECT i.last_ping_at FROM installations i \
                           WHERE i.id = hosts.holder_installation_id) \
         WHERE id = {} AND holder_installation_id IS NOT NULL",
        p[0]
    );
    execute(txn, sql, vec![host_id.into()]).await
}
