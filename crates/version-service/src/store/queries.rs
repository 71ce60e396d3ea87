//! Batch reads: each function answers many keys with one statement and reads only the read
//! models and indexed rows: no statement scans the ping history, and none grows with the
//! number of keys (they are bound as one list, see `bind`).

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, IdenStatic, Iterable,
    Statement,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    LicenseKey,
    bind::{in_list, list, placeholder},
    host, installation, usage_ping,
};
use crate::Error;

/// The columns of [`usage_ping::Summary`] (every column of the entity but its payload), qualified by
/// `alias`, as sea-orm selects a partial model, for the hand-written reads below (their plans
/// are tuned; see each).
fn ping_columns(alias: &str) -> String {
    usage_ping::Column::iter()
        .filter(|column| !matches!(column, usage_ping::Column::Payload))
        .map(|column| format!("{alias}.{name} AS {name}", name = column.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one host's pings say of one license (by one of its keys, or merged over all of them).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub host_id: i64,
    pub hostname: String,
    /// First and last time the host's pings carried this license.
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The host's newest ping that carries this license.
    pub latest_ping_id: i64,
    /// Whether that ping is also the newest ping of the installation that sent it: the server
    /// runs this license now. Per installation, so that a ping sent under the same name by
    /// another installation (another customer) never changes it.
    pub current: bool,
}

impl Report {
    /// Adds what another key of the same license says of the same host.
    pub fn merge(&mut self, other: &Report) {
        self.first_seen_at = self.first_seen_at.min(other.first_seen_at);
        if (other.last_seen_at, other.latest_ping_id) > (self.last_seen_at, self.latest_ping_id) {
            self.last_seen_at = other.last_seen_at;
            self.latest_ping_id = other.latest_ping_id;
        }
        self.current |= other.current;
    }
}

/// A host that reported a license, from the `host_licenses` read model: one row per license
/// key it matched (a license has up to three keys; the loader merges them).
#[derive(Clone, Debug, PartialEq)]
pub struct ReportingHostRow {
    pub license_key: String,
    pub report: Report,
}

/// A `host_licenses` row with what it needs of its host.
#[derive(FromQueryResult)]
struct ReportingHostQueryRow {
    license_key: String,
    host_id: i64,
    hostname: String,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    latest_ping_id: i64,
    installation_latest_ping_id: Option<i64>,
}

/// `SELECT 1`: does the database answer?
pub async fn ping_check(db: &DatabaseConnection) -> Result<(), Error> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// The hosts with these (normalised) names; unknown names are simply absent.
pub async fn hosts_by_name(
    db: &DatabaseConnection,
    names: Vec<String>,
) -> Result<Vec<host::Model>, Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let columns: Vec<&str> = host::Column::iter().map(|column| column.as_str()).collect();
    let sql = format!(
        "SELECT {} FROM hosts WHERE {}",
        columns.join(", "),
        in_list(backend, "hostname", 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [list(backend, names)]);
    Ok(host::Model::find_by_statement(stmt).all(db).await?)
}

/// Most hosts one installation uuid answers with. An installation reports under one hostname,
/// or a few after a rename; anyone can send pings under any uuid, so a uuid used under
/// thousands of names is an attack, and its answer stops here.
pub const MAX_HOSTS_PER_UUID: u32 = 20;

/// A host that sent a ping carrying an installation uuid.
#[derive(Clone, Debug, PartialEq)]
pub struct UuidHostRow {
    /// The uuid asked for.
    pub installation_uuid: String,
    pub host: host::Model,
}

/// The hosts whose pings carried any of these installation uuids: per uuid at most
/// [`MAX_HOSTS_PER_UUID`], the first hostnames in name order. Each uuid's hostnames are read
/// from the pings' identity index (uuid, hostname, recorded_at) and stop after the cap:
/// PostgreSQL with a LATERAL join over the uuid array, SQLite with a correlated `LIMIT`.
pub async fn hosts_by_uuid(
    db: &DatabaseConnection,
    uuids: Vec<String>,
) -> Result<Vec<UuidHostRow>, Error> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (keys, limit) = (placeholder(backend, 1), placeholder(backend, 2));
    let columns: Vec<String> = host::Column::iter()
        .map(|column| format!("h.{name} AS {name}", name = column.as_str()))
        .collect();
    let columns = columns.join(", ");
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT u.uuid AS installation_uuid, {columns} \
             FROM unnest(CAST({keys} AS TEXT[])) AS u(uuid) \
             CROSS JOIN LATERAL (SELECT DISTINCT q.hostname FROM usage_pings q \
               WHERE q.uuid = u.uuid ORDER BY q.hostname LIMIT {limit}) n \
             JOIN hosts h ON h.hostname = n.hostname \
             ORDER BY u.uuid, h.hostname"
        ),
        _ => format!(
            "SELECT u.value AS installation_uuid, {columns} \
             FROM json_each({keys}) u JOIN hosts h ON h.hostname IN ( \
               SELECT DISTINCT q.hostname FROM usage_pings q WHERE q.uuid = u.value \
               ORDER BY q.hostname LIMIT {limit}) \
             ORDER BY u.value, h.hostname"
        ),
    };
    let values = [list(backend, uuids), i64::from(MAX_HOSTS_PER_UUID).into()];
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    let rows = db.query_all_raw(stmt).await?;
    let mut hosts = Vec::with_capacity(rows.len());
    for row in rows {
        hosts.push(UuidHostRow {
            installation_uuid: row.try_get("", "installation_uuid")?,
            host: host::Model::from_query_result(&row, "")?,
        });
    }
    Ok(hosts)
}

/// Most installations listed per host: the holder first, then the most recent senders. Anyone
/// can post under any name and uuid, so a name may gather many; the answer stays bounded.
pub const MAX_INSTALLATIONS_PER_HOST: i64 = 20;

/// The installations of these hosts, up to [`MAX_INSTALLATIONS_PER_HOST`] each: the holder
/// first, then by newest ping; ordered by host.
pub async fn installations_of_hosts(
    db: &DatabaseConnection,
    host_ids: Vec<i64>,
) -> Result<Vec<installation::Model>, Error> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let columns: Vec<&str> = installation::Column::iter()
        .map(|column| column.as_str())
        .collect();
    let qualified: Vec<String> = columns.iter().map(|c| format!("i.{c} AS {c}")).collect();
    let sql = format!(
        "SELECT {} FROM ( \
           SELECT {}, ROW_NUMBER() OVER (PARTITION BY i.host_id \
             ORDER BY CASE WHEN i.id = h.holder_installation_id THEN 0 ELSE 1 END, \
               i.last_ping_at DESC, i.id DESC) AS place \
           FROM installations i JOIN hosts h ON h.id = i.host_id WHERE {} \
         ) ranked WHERE place <= {MAX_INSTALLATIONS_PER_HOST} ORDER BY host_id, place",
        columns.join(", "),
        qualified.join(", "),
        in_list(backend, "i.host_id", 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [list(backend, host_ids)]);
    Ok(installation::Model::find_by_statement(stmt).all(db).await?)
}

/// Pings by id: primary-key lookups, for the ids the read models point at.
pub async fn pings_by_id(
    db: &DatabaseConnection,
    ids: Vec<i64>,
) -> Result<Vec<usage_ping::Summary>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT {} FROM usage_pings p WHERE {}",
        ping_columns("p"),
        in_list(backend, "p.id", 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [list(backend, ids)]);
    Ok(usage_ping::Summary::find_by_statement(stmt).all(db).await?)
}

/// Up to `last` newest pings of each of these hosts, newest first within a host.
///
/// Each host's pings are read through the (host_id, recorded_at) index and stop after `last`
/// rows, however long the history: PostgreSQL with a LATERAL join over the id array, SQLite
/// (which has no LATERAL) with a correlated `LIMIT` subquery per host.
pub async fn recent_pings(
    db: &DatabaseConnection,
    host_ids: Vec<i64>,
    last: u32,
) -> Result<Vec<usage_ping::Summary>, Error> {
    if host_ids.is_empty() || last == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (hosts, limit) = (placeholder(backend, 1), placeholder(backend, 2));
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT {} FROM unnest(CAST({hosts} AS BIGINT[])) AS h(id) \
             CROSS JOIN LATERAL (SELECT * FROM usage_pings q WHERE q.host_id = h.id \
               ORDER BY q.recorded_at DESC, q.id DESC LIMIT {limit}) p \
             ORDER BY p.host_id, p.recorded_at DESC, p.id DESC",
            ping_columns("p")
        ),
        _ => format!(
            "SELECT {} FROM json_each({hosts}) h JOIN usage_pings p ON p.id IN ( \
               SELECT q.id FROM usage_pings q WHERE q.host_id = h.value \
               ORDER BY q.recorded_at DESC, q.id DESC LIMIT {limit}) \
             ORDER BY p.host_id, p.recorded_at DESC, p.id DESC",
            ping_columns("p")
        ),
    };
    let values = [list(backend, host_ids), i64::from(last).into()];
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    Ok(usage_ping::Summary::find_by_statement(stmt).all(db).await?)
}

/// The hosts that reported any of these licenses, from the `host_licenses` read model: one
/// primary-key range per license key. The caller matches rows to licenses by `license_key`
/// (and orders them).
pub async fn reporting_hosts(
    db: &DatabaseConnection,
    licenses: &[LicenseKey],
) -> Result<Vec<ReportingHostRow>, Error> {
    let mut keys: Vec<String> = licenses
        .iter()
        .flat_map(LicenseKey::read_model_keys)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    // The host's columns come from scalar subqueries, i.e. one primary-key lookup per row:
    // with a join, PostgreSQL's row estimate for a long key list (ten times too high) made it
    // hash-join against a scan of every host (360 ms instead of 10 on the benchmark data).
    let sql = format!(
        "SELECT hl.license_key, hl.host_id, hl.first_seen_at, hl.last_seen_at, \
           hl.latest_ping_id, \
           (SELECT h.hostname FROM hosts h WHERE h.id = hl.host_id) AS hostname, \
           (SELECT i.latest_ping_id FROM usage_pings p JOIN installations i \
              ON i.host_id = p.host_id AND i.uuid = p.uuid \
            WHERE p.id = hl.latest_ping_id) AS installation_latest_ping_id \
         FROM host_licenses hl WHERE {}",
        in_list(backend, "hl.license_key", 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [list(backend, keys)]);
    let rows = ReportingHostQueryRow::find_by_statement(stmt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ReportingHostRow {
            license_key: row.license_key,
            report: Report {
                current: row.installation_latest_ping_id == Some(row.latest_ping_id),
                host_id: row.host_id,
                hostname: row.hostname,
                first_seen_at: row.first_seen_at,
                last_seen_at: row.last_seen_at,
                latest_ping_id: row.latest_ping_id,
            },
        })
        .collect())
}

/// The usage counters of one ping, or why they were left out.
#[derive(Clone, Debug, PartialEq)]
pub enum CountsRow {
    /// The `counts` object as the server sent it (`None`: it sent none).
    Read(Option<serde_json::Value>),
    /// Not read: the answer already carries as many bytes of counters as it may.
    OverBudget,
}

/// The usage counters of these pings, read from their payloads, newest ids first, until
/// `budget` bytes of counters have been read; the rest are [`CountsRow::OverBudget`]. Also
/// returns how many bytes of counters were read.
///
/// Payloads are streamed one row at a time, so memory holds one payload plus the counters
/// kept, not every payload of the batch (a server may send megabytes per ping).
pub async fn counts_by_ping_id(
    db: &DatabaseConnection,
    mut ids: Vec<i64>,
    budget: usize,
) -> Result<(Vec<(i64, CountsRow)>, usize), Error> {
    if ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    ids.sort_unstable();
    ids.dedup();
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT id, payload FROM usage_pings WHERE {} ORDER BY id DESC",
        in_list(backend, "id", 1)
    );
    let stmt = Statement::from_sql_and_values(backend, sql, [list(backend, ids)]);
    let mut rows = PayloadRow::find_by_statement(stmt).stream(db).await?;
    let mut used = 0usize;
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let counts = extract_counts(&row.payload);
        let size = counts.as_ref().map_or(0, |raw| raw.get().len());
        if used + size > budget {
            // Once one is cut, cut the rest too: the answer says plainly that it was cut
            // rather than leaving gaps that look random.
            used = budget;
            out.push((row.id, CountsRow::OverBudget));
            continue;
        }
        used += size;
        let value = counts.and_then(|raw| serde_json::from_str(raw.get()).ok());
        out.push((row.id, CountsRow::Read(value)));
    }
    Ok((out, used))
}

#[derive(FromQueryResult)]
struct PayloadRow {
    id: i64,
    payload: String,
}

/// Only the `counts` member of a payload; the rest is skipped by the parser, not built.
#[derive(Deserialize)]
struct OnlyCounts<'a> {
    #[serde(borrow, default)]
    counts: Option<&'a RawValue>,
}

/// The `counts` object of a stored payload (validated at ingestion), if it has one.
fn extract_counts(payload: &str) -> Option<&RawValue> {
    serde_json::from_str::<OnlyCounts<'_>>(payload)
        .ok()
        .and_then(|only| only.counts)
        .filter(|raw| raw.get() != "null")
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, PartialModelTrait, QuerySelect, QueryTrait};

    use super::*;

    #[test]
    fn the_column_list_is_the_summary_model() {
        let by_model = usage_ping::Summary::select_cols(usage_ping::Entity::find().select_only())
            .build(DbBackend::Sqlite)
            .to_string()
            .replace('"', "");
        let by_list = format!("SELECT {} FROM usage_pings", ping_columns("usage_pings"));
        assert_eq!(by_model, by_list);
    }

    #[test]
    fn reads_only_the_counts_member() {
        let payload = r#"{"uuid":"u","counts":{"projects":3},"big":[1,2,3]}"#;
        assert_eq!(
            extract_counts(payload).map(|raw| raw.get()),
            Some(r#"{"projects":3}"#)
        );
        assert!(extract_counts(r#"{"uuid":"u"}"#).is_none());
        assert!(extract_counts(r#"{"counts":null}"#).is_none());
    }
}
