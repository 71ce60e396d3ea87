//! The version database's read models, rebuilt from the ping history.
//!
//! The version service keeps two read models up to date as each ping is stored (in the same
//! transaction), so that the graph never scans `usage_pings`:
//!
//! - `hosts.latest_ping_id`: the newest ping of each host (by `recorded_at`, then id);
//! - `host_licenses`: per host and *license key*, the first and last time the host reported that
//!   license and its newest ping that carries it.
//!
//! A license key is the digest a ping proves its license by: `sha256:<hex>` when it sends a
//! SHA-256, else `md5:<hex>`, followed by `@<license id>` when it names an id; a ping without
//! a digest has no key (a license id alone proves nothing). The version service's store writes
//! the same keys (`store::license_key`); a test rebuilds the models from the history and
//! compares them with what ingestion maintained.
//!
//! [`rebuild`] recomputes both from `usage_pings`: the migration that introduced them uses it to
//! backfill existing data, and the seed after bulk-inserting pings without going through
//! ingestion.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbErr};

/// Which hosts to rebuild.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hosts {
    /// Every host.
    All,
    /// Hosts whose id is in `first..=last` (a batch of bulk-inserted hosts).
    Between(i64, i64),
}

impl Hosts {
    /// A condition on `column` (ids are numbers, so they are safe to inline).
    fn condition(self, column: &str) -> String {
        match self {
            Hosts::All => "1 = 1".to_owned(),
            Hosts::Between(first, last) => format!("{column} BETWEEN {first} AND {last}"),
        }
    }
}

/// Recomputes `host_licenses`, `installations`, and each host's holder and newest ping, of
/// `hosts` from their pings.
///
/// The license keys take three statements, each a single pass that PostgreSQL and SQLite (window functions, 3.25+)
/// both run: on the 5.2-million-ping benchmark data set it is the migration's whole cost.
pub async fn rebuild<C: ConnectionTrait>(db: &C, hosts: Hosts) -> Result<(), DbErr> {
    host_licenses(db, hosts).await?;
    newest_pings(db, hosts).await?;
    installations(db, hosts).await
}

/// Recomputes the `host_licenses` rows of `hosts` from their pings (two statements).
pub async fn host_licenses<C: ConnectionTrait>(db: &C, hosts: Hosts) -> Result<(), DbErr> {
    db.execute_unprepared(&format!(
        "DELETE FROM host_licenses WHERE {}",
        hosts.condition("host_id")
    ))
    .await?;
    let pings = hosts.condition("host_id");
    db.execute_unprepared(&format!(
        "INSERT INTO host_licenses \
           (license_key, host_id, first_seen_at, last_seen_at, latest_ping_id) \
         SELECT license_key, host_id, first_seen_at, last_seen_at, id FROM ( \
           SELECT license_key, host_id, id, \
             MIN(recorded_at) OVER keyed AS first_seen_at, \
             MAX(recorded_at) OVER keyed AS last_seen_at, \
             ROW_NUMBER() OVER (PARTITION BY license_key, host_id \
                                ORDER BY recorded_at DESC, id DESC) AS newest \
           FROM ( \
             SELECT CASE WHEN COALESCE(license_sha256, '') <> '' \
                      THEN 'sha256:' || license_sha256 ELSE 'md5:' || license_md5 END \
                    || CASE WHEN license_id IS NULL THEN '' \
                      ELSE '@' || CAST(license_id AS TEXT) END AS license_key, \
                    host_id, id, recorded_at \
               FROM usage_pings \
               WHERE (COALESCE(license_sha256, '') <> '' OR COALESCE(license_md5, '') <> '') \
                 AND {pings} \
           ) keys \
           WINDOW keyed AS (PARTITION BY license_key, host_id) \
         ) ranked WHERE newest = 1"
    ))
    .await?;
    Ok(())
}

/// Recomputes `hosts.latest_ping_id` of `hosts`: each host's newest ping, whoever sent it.
pub async fn newest_pings<C: ConnectionTrait>(db: &C, hosts: Hosts) -> Result<(), DbErr> {
    // A correlated lookup per host on the (host_id, recorded_at) index: no sort of the history.
    db.execute_unprepared(&format!(
        "UPDATE hosts SET latest_ping_id = ( \
           SELECT p.id FROM usage_pings p WHERE p.host_id = hosts.id \
           ORDER BY p.recorded_at DESC, p.id DESC LIMIT 1) \
         WHERE {}",
        hosts.condition("id")
    ))
    .await?;
    Ok(())
}

/// Recomputes the `installations` of `hosts` from their pings, each host's holder, and the
/// holder's newest ping as the host's (`hosts.latest_ping_id` must already be the newest ping
/// of anyone: [`newest_pings`]; it stays that where no installation holds the name).
///
/// The holder is the installation whose first verified ping arrived first. Ingestion also
/// hands the name over (to an installation that verifies the holder's license, or after the
/// holder's silence); a rebuild does not replay those hand-overs, which differ only where a
/// name had several verified installations.
pub async fn installations<C: ConnectionTrait>(db: &C, hosts: Hosts) -> Result<(), DbErr> {
    let in_hosts = hosts.condition("host_id");
    db.execute_unprepared(&format!(
        "UPDATE hosts SET holder_installation_id = NULL WHERE {}",
        hosts.condition("id")
    ))
    .await?;
    db.execute_unprepared(&format!("DELETE FROM installations WHERE {in_hosts}"))
        .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO installations (host_id, uuid, first_ping_at, last_ping_at, latest_ping_id) \
         SELECT host_id, uuid, first_ping_at, recorded_at, id FROM ( \
           SELECT host_id, uuid, id, recorded_at, \
             MIN(recorded_at) OVER (PARTITION BY host_id, uuid) AS first_ping_at, \
             ROW_NUMBER() OVER (PARTITION BY host_id, uuid \
                                ORDER BY recorded_at DESC, id DESC) AS newest \
           FROM usage_pings WHERE {in_hosts} \
         ) ranked WHERE newest = 1"
    ))
    .await?;
    // The newest verified ping of each installation, by arrival (the server's clock, which the
    // holder's silence is measured on).
    db.execute_unprepared(&format!(
        "UPDATE installations SET latest_verified_ping_id = v.id, last_verified_at = v.received_at, \
           verified_license_id = v.verified_license_id \
         FROM ( \
           SELECT host_id, uuid, id, received_at, verified_license_id, \
             ROW_NUMBER() OVER (PARTITION BY host_id, uuid \
                                ORDER BY received_at DESC, id DESC) AS newest \
           FROM usage_pings WHERE verification = 'verified' AND {in_hosts} \
         ) v \
         WHERE v.newest = 1 AND installations.host_id = v.host_id AND installations.uuid = v.uuid"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "UPDATE hosts SET holder_installation_id = ( \
           SELECT i.id FROM installations i WHERE i.host_id = hosts.id \
             AND i.latest_verified_ping_id IS NOT NULL \
           ORDER BY (SELECT MIN(p.received_at) FROM usage_pings p \
                     WHERE p.host_id = i.host_id AND p.uuid = i.uuid \
                       AND p.verification = 'verified'), i.id \
           LIMIT 1) \
         WHERE {}",
        hosts.condition("id")
    ))
    .await?;
    db.execute_unprepared(&format!(
        "UPDATE hosts SET latest_ping_id = i.latest_ping_id, last_ping_at = i.last_ping_at \
         FROM installations i WHERE i.id = hosts.holder_installation_id AND {}",
        hosts.condition("hosts.id")
    ))
    .await?;
    Ok(())
}
