//! Counting the SQL statements run on a connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::DatabaseConnection;

/// Number of SQL statements run on a connection since [`StatementCounter::install`]: the proof
/// that batch loading stays batched (tests), and a figure for `/metrics` and the benchmark.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Installs a new counter as `db`'s metric callback (sea-orm calls it once per statement)
    /// and returns it.
    pub fn install(db: &mut DatabaseConnection) -> StatementCounter {
        let counter = StatementCounter::default();
        let installed = counter.clone();
        db.set_metric_callback(move |_info: &sea_orm::metric::Info<'_>| installed.increment());
        counter
    }

    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, Statement};

    use super::*;

    #[tokio::test]
    async fn counts_each_statement_once() {
        let mut db = Database::connect("sqlite::memory:").await.unwrap();
        let counter = StatementCounter::install(&mut db);
        assert_eq!(counter.get(), 0);
        for sql in ["SELECT 1", "SELECT 2"] {
            let statement = Statement::from_string(db.get_database_backend(), sql);
            db.query_one_raw(statement).await.unwrap();
        }
        assert_eq!(counter.get(), 2);
        assert_eq!(counter.clone().get(), 2, "clones share one count");
    }
}
