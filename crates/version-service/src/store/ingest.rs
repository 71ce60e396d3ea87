//! Storing one usage ping: upsert its host, then insert the ping unless it is already there.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DatabaseConnection, EntityTrait, Statement, TryInsertResult,
};

use super::{placeholder, usage_pings};
use crate::Error;

/// A validated usage ping, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPing {
    pub uuid: String,
    /// Already normalised (trimmed, lower case, no trailing dot).
    pub hostname: String,
    pub recorded_at: DateTime<Utc>,
    pub version: Option<String>,
    pub edition: Option<String>,
    pub installation_type: Option<String>,
    pub active_user_count: Option<i64>,
    pub historical_max_users: Option<i64>,
    pub license_id: Option<i64>,
    pub license_md5: Option<String>,
    pub license_sha256: Option<String>,
    pub license_user_count: Option<i64>,
    pub license_plan: Option<String>,
    pub license_trial: Option<bool>,
    pub license_starts_at: Option<NaiveDate>,
    pub license_expires_at: Option<NaiveDate>,
    pub license_subscription_id: Option<String>,
    pub counts: Option<serde_json::Value>,
    /// The body exactly as sent.
    pub payload: String,
}

/// Whether [`store_ping`] stored a new row or found the same ping already stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    Created,
    Duplicate,
}

/// Stores `ping`, idempotently on (uuid, hostname, recorded_at).
///
/// Two single statements, no explicit transaction: each takes SQLite's write lock up front
/// (waiting on the busy timeout), whereas a deferred transaction that reads before writing can
/// fail with "database is locked" without waiting. Both statements are idempotent, so a retry
/// after a failure between them stores the ping exactly once.
pub async fn store_ping(
    db: &DatabaseConnection,
    ping: NewPing,
    received_at: DateTime<Utc>,
) -> Result<IngestOutcome, Error> {
    let host_id = upsert_host(
        db,
        &ping.hostname,
        &ping.uuid,
        ping.recorded_at,
        received_at,
    )
    .await?;
    let row = usage_pings::ActiveModel {
        id: NotSet,
        host_id: Set(host_id),
        uuid: Set(ping.uuid),
        hostname: Set(ping.hostname),
        recorded_at: Set(ping.recorded_at),
        received_at: Set(received_at),
        version: Set(ping.version),
        edition: Set(ping.edition),
        installation_type: Set(ping.installation_type),
        active_user_count: Set(ping.active_user_count),
        historical_max_users: Set(ping.historical_max_users),
        license_id: Set(ping.license_id),
        license_md5: Set(ping.license_md5),
        license_sha256: Set(ping.license_sha256),
        license_user_count: Set(ping.license_user_count),
        license_plan: Set(ping.license_plan),
        license_trial: Set(ping.license_trial),
        license_starts_at: Set(ping.license_starts_at),
        license_expires_at: Set(ping.license_expires_at),
        license_subscription_id: Set(ping.license_subscription_id),
        counts: Set(ping.counts),
        payload: Set(ping.payload),
    };
    let result = usage_pings::Entity::insert(row)
        .on_conflict_do_nothing_on([
            usage_pings::Column::Uuid,
            usage_pings::Column::Hostname,
            usage_pings::Column::RecordedAt,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(rows) if rows > 0 => IngestOutcome::Created,
        _ => IngestOutcome::Duplicate,
    })
}

/// Inserts the host or moves its `last_ping_at` forward (never back); returns its id.
async fn upsert_host(
    db: &DatabaseConnection,
    hostname: &str,
    uuid: &str,
    recorded_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<i64, Error> {
    let backend = db.get_database_backend();
    let p: Vec<String> = (1..=4).map(|i| placeholder(backend, i)).collect();
    let sql = format!(
        "INSERT INTO hosts (hostname, uuid, first_seen_at, last_ping_at) \
         VALUES ({}, {}, {}, {}) \
         ON CONFLICT (hostname) DO UPDATE SET \
           uuid = CASE WHEN excluded.last_ping_at >= hosts.last_ping_at \
                  THEN excluded.uuid ELSE hosts.uuid END, \
           last_ping_at = CASE WHEN excluded.last_ping_at > hosts.last_ping_at \
                  THEN excluded.last_ping_at ELSE hosts.last_ping_at END \
         RETURNING id",
        p[0], p[1], p[2], p[3]
    );
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            hostname.into(),
            uuid.into(),
            received_at.into(),
            recorded_at.into(),
        ],
    );
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("upserted host".to_owned()))?;
    Ok(row.try_get::<i64>("", "id")?)
}
