//! Connecting to the license database, and counting the SQL statements sent to it.

use std::time::Duration;

use database::StatementCounter;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

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
    database::ping_only_after_idle(&mut options);
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
    let counter = StatementCounter::install(&mut db);
    Ok((db, counter))
}
