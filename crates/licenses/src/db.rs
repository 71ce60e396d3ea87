//! Connecting to the license database, and counting the SQL statements sent to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// Counts every SQL statement executed on a connection: the proof that batching works (tests),
/// and a figure for `/metrics` and the benchmark.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements executed since the connection was opened.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Connections of a PostgreSQL pool unless configured otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 32;

/// Opens a pool on `database_url` (`postgres://...` or `sqlite://...`) with the default size and
/// installs a statement counter on it.
pub async fn connect(
    database_url: &str,
) -> Result<(DatabaseConnection, StatementCounter), sea_orm::DbErr> {
    connect_with(database_url, DEFAULT_MAX_CONNECTIONS).await
}

/// Opens a pool of at most `max_connections` on `database_url` and installs a statement counter
/// on it. SQLite gets WAL and a busy timeout so concurrent readers and a writer coexist.
pub async fn connect_with(
    database_url: &str,
    max_connections: u32,
) -> Result<(DatabaseConnection, StatementCounter), sea_orm::DbErr> {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if database_url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    } else {
        options.max_connections(max_connections.max(1));
    }
    let mut db = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let installed = counter.clone();
    db.set_metric_callback(move |_info| installed.increment());
    Ok((db, counter))
}
