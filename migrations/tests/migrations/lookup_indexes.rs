//! The lookup indexes: a lookup's statement (`licenses::lookup::licenses`: MD5, SHA-256,
//! subscription id and name, OR-ed) reads indexes, not every license, and the migration rolls
//! back.

use migration::{LicenseMigrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use test_support::{Backend, TestDb, backends};

const LOOKUP: &str = "SELECT id FROM licenses WHERE license_md5 = 'a' \
     OR zuora_subscription_id = 'a' OR license_sha256 = 'b' OR zuora_subscription_name = 'c'";

async fn lines(db: &DatabaseConnection, sql: &str, column: usize) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(column).unwrap())
        .collect()
}

async fn subscription_indexes(db: &DatabaseConnection, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'licenses' \
             AND name LIKE 'licenses_subscription_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname FROM pg_indexes WHERE tablename = 'licenses' \
             AND indexname LIKE 'licenses_subscription_%' ORDER BY indexname"
        }
    };
    lines(db, sql, 0).await
}

#[tokio::test]
async fn a_lookup_reads_indexes_and_the_migration_rolls_back() {
    for backend in backends() {
        let test_db = TestDb::fresh(backend, "lookup_migration").await;
        let db = Database::connect(&test_db.url).await.unwrap();
        LicenseMigrator::up(&db, None).await.unwrap();
        assert_eq!(
            subscription_indexes(&db, backend).await,
            [
                "licenses_subscription_id_idx",
                "licenses_subscription_name_idx"
            ],
            "{backend:?}"
        );
        if backend == Backend::Sqlite {
            // The plan's detail is its fourth column.
            let plan = lines(&db, &format!("EXPLAIN QUERY PLAN {LOOKUP}"), 3).await;
            assert!(
                plan.iter().any(|l| l.contains("MULTI-INDEX OR")),
                "{plan:?}"
            );
            assert!(
                !plan.iter().any(|l| l.starts_with("SCAN licenses")),
                "no scan of every license: {plan:?}"
            );
        }

        // Down to before this migration, with whatever came after it.
        let migrations = LicenseMigrator::migrations();
        let lookup = migrations
            .iter()
            .position(|m| m.name() == "m20261207_000001_lookup_indexes")
            .unwrap();
        let steps = u32::try_from(migrations.len() - lookup).unwrap();
        LicenseMigrator::down(&db, Some(steps)).await.unwrap();
        assert!(
            subscription_indexes(&db, backend).await.is_empty(),
            "{backend:?}"
        );
        LicenseMigrator::up(&db, None).await.unwrap();
        assert_eq!(subscription_indexes(&db, backend).await.len(), 2);
    }
}
