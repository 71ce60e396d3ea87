//! Fresh databases for every test (from `test-support`): a migrated SQLite pair always and, when
//! `TEST_DATABASE_URL` is set, a PostgreSQL pair, removed when the test ends, pass or fail.

#![allow(dead_code)]

use anyhow::Context as _;
use chrono::NaiveDate;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, JsonValue, Statement};
use sha2::{Digest, Sha256};
use test_support::{Backend, TestDb, backends};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
}

/// A migrated, empty license database and version database on one backend, removed when
/// dropped (also when the test fails).
pub struct Fresh {
    pub backend: &'static str,
    pub licenses: DatabaseConnection,
    pub version: DatabaseConnection,
    databases: [TestDb; 2],
}

impl Fresh {
    /// Closes the connections; the databases go when `self` is dropped.
    pub async fn cleanup(self) {
        let _ = self.licenses.close_by_ref().await;
        let _ = self.version.close_by_ref().await;
    }
}

/// A fresh, migrated pair on `backend`.
async fn pair(backend: Backend) -> anyhow::Result<Fresh> {
    let licenses_db = TestDb::fresh(backend, "seed_licenses").await;
    let version_db = TestDb::fresh(backend, "seed_version").await;
    let licenses = Database::connect(&licenses_db.url).await?;
    let version = Database::connect(&version_db.url).await?;
    migration::LicenseMigrator::up(&licenses, None).await?;
    migration::VersionMigrator::up(&version, None).await?;
    Ok(Fresh {
        backend: backend.name(),
        licenses,
        version,
        databases: [licenses_db, version_db],
    })
}

/// One fresh pair per backend under test.
pub async fn fresh() -> anyhow::Result<Vec<Fresh>> {
    let mut all = Vec::new();
    for backend in backends() {
        all.push(pair(backend).await?);
    }
    Ok(all)
}

/// One fresh pair on the same backend as `like` (to compare two runs on one backend).
pub async fn fresh_like(like: &Fresh) -> anyhow::Result<Fresh> {
    let backend = like.databases[0].backend;
    pair(backend).await
}

/// SHA-256 over every row of every seeded table, in primary-key order.
pub async fn digest(
    licenses: &DatabaseConnection,
    version: &DatabaseConnection,
) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let queries: [(&DatabaseConnection, &str); 9] = [
        (licenses, "SELECT * FROM customers ORDER BY id"),
        (licenses, "SELECT * FROM contacts ORDER BY id"),
        (licenses, "SELECT * FROM licenses ORDER BY id"),
        (licenses, "SELECT * FROM hostnames ORDER BY id"),
        (
            licenses,
            "SELECT * FROM license_hostnames ORDER BY license_id, hostname_id",
        ),
        (licenses, "SELECT * FROM add_ons ORDER BY code"),
        (
            licenses,
            "SELECT * FROM license_add_ons ORDER BY license_id, add_on_code",
        ),
        (version, "SELECT * FROM hosts ORDER BY id"),
        (
            version,
            "SELECT id, host_id, uuid, hostname, recorded_at, received_at, version, edition, license_id, license_md5, active_user_count, payload FROM usage_pings ORDER BY id",
        ),
    ];
    for (db, sql) in queries {
        let rows = query_json(db, sql).await?;
        hasher.update(sql.as_bytes());
        for row in rows {
            hasher.update(row.to_string().as_bytes());
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

pub async fn query_json(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<JsonValue>> {
    use sea_orm::FromQueryResult;
    let backend: DbBackend = db.get_database_backend();
    Ok(
        JsonValue::find_by_statement(Statement::from_string(backend, sql))
            .all(db)
            .await?,
    )
}

/// `SELECT COUNT(*) ...` as an i64.
pub async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
