//! One fresh database per test, on SQLite or PostgreSQL, dropped when the test ends.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database};
use url::Url;

/// The variable that names a PostgreSQL server the tests may create databases on.
const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// PostgreSQL cuts identifiers at 63 bytes; a database name is `<label>_<32 hex digits>`.
const MAX_LABEL_LEN: usize = 63 - 33;

/// A database engine the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, for assertion messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The engines to test on: SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    backends
}

/// `TEST_DATABASE_URL`, when set and not empty.
fn admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh, empty database that exists for one test: deleted (SQLite) or dropped (PostgreSQL)
/// when this value is dropped, also when the test panics.
pub struct TestDb {
    /// Its connection URL.
    pub url: String,
    /// The engine it runs on.
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The database file; its `-wal`, `-shm` and `-journal` companions go with it.
    SqliteFile(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// Creates an empty database on `backend`, named after `label` (letters, digits and `_`
    /// are kept) and made unique. Panics when it cannot: a test without its database has
    /// nothing to say.
    pub async fn fresh(backend: Backend, label: &str) -> TestDb {
        let name = unique_name(label);
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("licensedot-tests");
                std::fs::create_dir_all(&dir).unwrap_or_else(|err| {
                    panic!("cannot create {}: {err}", dir.display());
                });
                let path = dir.join(format!("{name}.sqlite"));
                TestDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    backend,
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
            Backend::Postgres => {
                let admin_url = admin_url().unwrap_or_else(|| {
                    panic!("a PostgreSQL test database needs {TEST_DATABASE_URL}")
                });
                let url = database_url(&admin_url, &name);
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|err| {
                    panic!("{TEST_DATABASE_URL} is set but unreachable: {err}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|err| panic!("cannot create database {name}: {err}"));
                let _ = admin.close().await;
                TestDb {
                    url,
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => remove_sqlite_files(path),
            Cleanup::Postgres { admin_url, name } => drop_database(admin_url, name),
        }
    }
}

/// `<label>_<uuid>`: unique across tests and runs, and a valid unquoted identifier.
fn unique_name(label: &str) -> String {
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(MAX_LABEL_LEN)
        .collect();
    format!("{label}_{}", uuid::Uuid::new_v4().simple())
}

/// The URL of database `name` on the server of `admin_url`: its path replaced, everything else
/// (user, password, host, port, query options) kept.
fn database_url(admin_url: &str, name: &str) -> String {
    let mut url = Url::parse(admin_url)
        .unwrap_or_else(|err| panic!("{TEST_DATABASE_URL} is not a URL ({err})"));
    url.set_path(&format!("/{name}"));
    url.into()
}

fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Drops the database, best effort: `WITH (FORCE)` ends the connections a failed test left
/// open. On its own thread with its own runtime, since `Drop` cannot await and the test's
/// runtime may be shutting down (or be a current-thread runtime that would deadlock).
fn drop_database(admin_url: &str, name: &str) {
    let (admin_url, name) = (admin_url.to_owned(), name.to_owned());
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let admin = Database::connect(&admin_url).await.ok()?;
            let dropped = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .ok();
            let _ = admin.close().await;
            dropped
        })
    })
    .join();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://u:p%2Fw@h/test?sslmode=disable", "x"),
            "postgres://u:p%2Fw@h/x?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }

    #[test]
    fn names_are_unique_identifiers() {
        let (a, b) = (unique_name("Gateway-DB"), unique_name("Gateway-DB"));
        assert_ne!(a, b);
        assert!(a.starts_with("gateway_db_"), "{a}");
        assert!(unique_name(&"x".repeat(100)).len() <= 63);
    }

    #[tokio::test]
    async fn sqlite_files_are_deleted_on_drop_even_after_a_panic() {
        let db = TestDb::fresh(Backend::Sqlite, "cleanup").await;
        let Cleanup::SqliteFile(path) = &db.cleanup else {
            panic!("a SQLite database is a file")
        };
        let path = path.clone();
        let connection = Database::connect(&db.url).await.unwrap();
        connection
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        connection.close().await.unwrap();
        assert!(path.exists());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _db = db;
            panic!("a deliberate panic, as a failing test would");
        }));
        assert!(panicked.is_err());
        assert!(!path.exists(), "{} outlived its test", path.display());
    }

    #[tokio::test]
    async fn postgres_databases_are_dropped_on_drop() {
        if !backends().contains(&Backend::Postgres) {
            return; // Runs where TEST_DATABASE_URL names a server, as in CI.
        }
        let Some(admin_url) = admin_url() else {
            return;
        };
        let db = TestDb::fresh(Backend::Postgres, "cleanup").await;
        let Cleanup::Postgres { name, .. } = &db.cleanup else {
            panic!("a PostgreSQL database is named on its server")
        };
        let name = name.clone();
        let admin = Database::connect(&admin_url).await.unwrap();
        let exists = |admin: sea_orm::DatabaseConnection, name: String| async move {
            let sql = format!("SELECT 1 FROM pg_database WHERE datname = '{name}'");
            admin
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    sql,
                ))
                .await
                .unwrap()
                .len()
                == 1
        };
        assert!(exists(admin.clone(), name.clone()).await);
        drop(db);
        assert!(
            !exists(admin, name).await,
            "the test database outlived its test"
        );
    }
}
