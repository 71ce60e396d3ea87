//! Connecting to the version database, and counting the SQL statements it runs.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::Error;

/// Number of SQL statements run on a connection since it was opened.
///
/// Installed as sea-orm's metric callback by [`connect`], so the gateway team and the benchmark
/// can prove that batch loading stays batched.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long a SQLite writer waits for another one before giving up with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool on `database_url` and installs a [`StatementCounter`] on it.
///
/// SQLite gets WAL journaling and a busy timeout so that concurrent ingestion waits for its
/// turn instead of failing; an in-memory SQLite database gets a pool of one connection,
/// since each connection would otherwise see its own empty database.
pub async fn connect(database_url: &str) -> Result<(DatabaseConnection, StatementCounter), Error> {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if database_url.starts_with("sqlite:") {
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        options
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |opts| {
                let opts = opts
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .synchronous(SqliteSynchronous::Normal);
                if in_memory {
                    opts
                } else {
                    opts.journal_mode(SqliteJournalMode::Wal)
                }
            });
    } else {
        // Every statement here is a handful of index lookups. PostgreSQL's JIT compiles a plan
        // once its estimated cost passes `jit_above_cost`, which a long key list does: measured
        // on the benchmark data, 105 ms of compilation for a 6 ms lookup of 3,000 license keys.
        options
            .max_connections(16)
            .map_sqlx_postgres_opts(|opts| opts.options([("jit", "off")]));
    }
    let mut db = Database::connect(options)
        .await
        .map_err(|source| Error::Connect {
            url: redact(database_url),
            source,
        })?;
    let counter = StatementCounter::default();
    let installed = counter.clone();
    db.set_metric_callback(move |_info: &sea_orm::metric::Info<'_>| installed.increment());
    Ok((db, counter))
}

/// Applies the version database migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), Error> {
    migration::VersionMigrator::up(db, None)
        .await
        .map_err(Error::Migrate)
}

/// The URL without its password, fit for an error message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://x.sqlite?mode=rwc"),
            "sqlite://x.sqlite?mode=rwc"
        );
    }
}
