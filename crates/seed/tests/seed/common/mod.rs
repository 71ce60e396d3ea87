//! Fresh databases for every test: a SQLite pair in temporary files always and, when
//! `TEST_DATABASE_URL` is set, a PostgreSQL pair created for the test. An unreachable
//! `TEST_DATABASE_URL` fails the test rather than skipping PostgreSQL silently.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use chrono::NaiveDate;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, JsonValue, Statement};
use sha2::{Digest, Sha256};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "seed_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

enum Cleanup {
    Files(Vec<std::path::PathBuf>),
    Postgres {
        admin: DatabaseConnection,
        names: Vec<String>,
    },
}

/// A migrated, empty license database and version database on one backend.
pub struct Fresh {
    pub backend: &'static str,
    pub licenses: DatabaseConnection,
    pub version: DatabaseConnection,
    cleanup: Cleanup,
}

impl Fresh {
    /// Best-effort removal of the databases.
    pub async fn cleanup(self) {
        let _ = self.licenses.close().await;
        let _ = self.version.close().await;
        match self.cleanup {
            Cleanup::Files(files) => {
                for file in files {
                    let _ = std::fs::remove_file(&file);
                    let _ = std::fs::remove_file(file.with_extension("db-wal"));
                    let _ = std::fs::remove_file(file.with_extension("db-shm"));
                }
            }
            Cleanup::Postgres { admin, names } => {
                for name in names {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
                let _ = admin.close().await;
            }
        }
    }
}

async fn migrate(
    licenses: &DatabaseConnection,
    version: &DatabaseConnection,
) -> anyhow::Result<()> {
    migration::LicenseMigrator::up(licenses, None).await?;
    migration::VersionMigrator::up(version, None).await?;
    Ok(())
}

async fn sqlite() -> anyhow::Result<Fresh> {
    let name = unique_name();
    let dir = std::env::temp_dir();
    let lic = dir.join(format!("{name}_lic.db"));
    let ver = dir.join(format!("{name}_ver.db"));
    let licenses = Database::connect(format!("sqlite://{}?mode=rwc", lic.display())).await?;
    let version = Database::connect(format!("sqlite://{}?mode=rwc", ver.display())).await?;
    migrate(&licenses, &version).await?;
    Ok(Fresh {
        backend: "sqlite",
        licenses,
        version,
        cleanup: Cleanup::Files(vec![lic, ver]),
    })
}

/// `postgres://user@host:port/db?opts` with the database replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{prefix}/{database}{query}")
}

async fn postgres(url: &str) -> anyhow::Result<Fresh> {
    let admin = Database::connect(url)
        .await
        .with_context(|| format!("TEST_DATABASE_URL={url} is set but unreachable"))?;
    let name = unique_name();
    let names = vec![format!("{name}_lic"), format!("{name}_ver")];
    for db in &names {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {db}"))
            .await
            .with_context(|| format!("creating database {db}"))?;
    }
    let licenses = Database::connect(with_database(url, &names[0])).await?;
    let version = Database::connect(with_database(url, &names[1])).await?;
    migrate(&licenses, &version).await?;
    Ok(Fresh {
        backend: "postgres",
        licenses,
        version,
        cleanup: Cleanup::Postgres { admin, names },
    })
}

/// One fresh pair per backend under test.
pub async fn fresh() -> anyhow::Result<Vec<Fresh>> {
    let mut all = vec![sqlite().await?];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        all.push(postgres(&url).await?);
    }
    Ok(all)
}

/// One fresh pair on the same backend as `like` (to compare two runs on one backend).
pub async fn fresh_like(like: &Fresh) -> anyhow::Result<Fresh> {
    match like.backend {
        "postgres" => {
            let url = std::env::var("TEST_DATABASE_URL").context("TEST_DATABASE_URL")?;
            postgres(&url).await
        }
        _ => sqlite().await,
    }
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
