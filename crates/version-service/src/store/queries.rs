//! Batch reads: each function answers many keys with one statement, so the graph's loaders
//! run a fixed number of statements however many entities a request asks for.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Statement, Value,
};

use super::{hosts, placeholder};
use crate::Error;

/// A usage ping without its (large) payload: what the graph shows.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct PingSummary {
    pub id: i64,
    pub host_id: i64,
    pub uuid: String,
    pub hostname: String,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
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
}

const PING_COLUMNS: &str = "id, host_id, uuid, hostname, recorded_at, received_at, version, \
    edition, installation_type, active_user_count, historical_max_users, license_id, \
    license_md5, license_sha256, license_user_count, license_plan, license_trial, \
    license_starts_at, license_expires_at, license_subscription_id, counts";

/// How a license is recognised in pings: by id, md5 or sha256 of its file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LicenseKey {
    pub id: Option<i64>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

impl LicenseKey {
    /// Whether a ping carrying these license fields reports this license.
    pub fn matches(&self, id: Option<i64>, md5: Option<&str>, sha256: Option<&str>) -> bool {
        (self.id.is_some() && self.id == id)
            || (self.md5.is_some() && self.md5.as_deref() == md5)
            || (self.sha256.is_some() && self.sha256.as_deref() == sha256)
    }
}

/// A host that sent at least one ping carrying some license, with that license's fields.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct ReportingHostRow {
    pub host_id: i64,
    pub hostname: String,
    pub last_ping_at: DateTime<Utc>,
    pub license_id: Option<i64>,
    pub license_md5: Option<String>,
    pub license_sha256: Option<String>,
}

/// `SELECT 1`: does the database answer?
pub async fn ping_check(db: &DatabaseConnection) -> Result<(), Error> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// The hosts with these (normalised) names; unknown names are simply absent.
pub async fn hosts_by_name(
    db: &DatabaseConnection,
    names: &[String],
) -> Result<Vec<hosts::Model>, Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Ok(hosts::Entity::find()
        .filter(hosts::Column::Hostname.is_in(names.iter().cloned()))
        .all(db)
        .await?)
}

/// The newest ping (by `recorded_at`) of each of these hosts.
pub async fn latest_pings(
    db: &DatabaseConnection,
    host_ids: &[i64],
) -> Result<Vec<PingSummary>, Error> {
    recent_pings(db, host_ids, 1).await
}

/// Up to `last` newest pings of each of these hosts, newest first within a host.
///
/// One statement: a window function ranks each host's pings (PostgreSQL and SQLite >= 3.25).
pub async fn recent_pings(
    db: &DatabaseConnection,
    host_ids: &[i64],
    last: u32,
) -> Result<Vec<PingSummary>, Error> {
    if host_ids.is_empty() || last == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = host_ids.iter().map(|id| (*id).into()).collect();
    let list = placeholders(backend, 1, host_ids.len());
    values.push(i64::from(last).into());
    let limit = placeholder(backend, host_ids.len() + 1);
    let sql = format!(
        "SELECT {PING_COLUMNS} FROM usage_pings WHERE id IN (\
           SELECT id FROM (\
             SELECT id, ROW_NUMBER() OVER (\
               PARTITION BY host_id ORDER BY recorded_at DESC, id DESC) AS rn \
             FROM usage_pings WHERE host_id IN ({list})\
           ) ranked WHERE rn <= {limit}\
         ) ORDER BY host_id, recorded_at DESC, id DESC"
    );
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    Ok(PingSummary::find_by_statement(stmt).all(db).await?)
}

/// Every host whose pings carry one of these licenses (by id, md5 or sha256), once per
/// distinct combination of license fields it sent; the caller matches rows to keys.
pub async fn reporting_hosts(
    db: &DatabaseConnection,
    keys: &[LicenseKey],
) -> Result<Vec<ReportingHostRow>, Error> {
    let ids: Vec<i64> = keys.iter().filter_map(|k| k.id).collect();
    let md5s: Vec<String> = keys.iter().filter_map(|k| k.md5.clone()).collect();
    let sha256s: Vec<String> = keys.iter().filter_map(|k| k.sha256.clone()).collect();
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let mut conditions = Vec::new();
    if !ids.is_empty() {
        let list = placeholders(backend, values.len() + 1, ids.len());
        values.extend(ids.into_iter().map(Value::from));
        conditions.push(format!("p.license_id IN ({list})"));
    }
    if !md5s.is_empty() {
        let list = placeholders(backend, values.len() + 1, md5s.len());
        values.extend(md5s.into_iter().map(Value::from));
        conditions.push(format!("p.license_md5 IN ({list})"));
    }
    if !sha256s.is_empty() {
        let list = placeholders(backend, values.len() + 1, sha256s.len());
        values.extend(sha256s.into_iter().map(Value::from));
        conditions.push(format!("p.license_sha256 IN ({list})"));
    }
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT p.host_id AS host_id, h.hostname AS hostname, \
           h.last_ping_at AS last_ping_at, p.license_id AS license_id, \
           p.license_md5 AS license_md5, p.license_sha256 AS license_sha256 \
         FROM usage_pings p JOIN hosts h ON h.id = p.host_id \
         WHERE {} ORDER BY h.hostname",
        conditions.join(" OR ")
    );
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    Ok(ReportingHostRow::find_by_statement(stmt).all(db).await?)
}

/// `count` comma-separated placeholders starting at 1-based index `first`.
fn placeholders(backend: DbBackend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| placeholder(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}
