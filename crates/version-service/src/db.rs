//! Connecting to the version database, and counting the SQL statements it runs.

use std::time::Duration;

use database::{StatementCounter, redact_url};
use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::Error;

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
    database::ping_only_after_idle(&mut options);
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
            url: redact_url(database_url),
            source,
        })?;
    let counter = StatementCounter::install(&mut db);
    Ok((db, counter))
}

/// Applies the version database migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), Error> {
    migration::VersionMigrator::up(db, None)
        .await
        .map_err(Error::Migrate)
}
