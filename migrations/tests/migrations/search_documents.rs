//! The search-document migration, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: it
//! backfills existing rows, its triggers follow writes, and it can be rolled back and applied
//! again.

use migration::{LicenseMigrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use test_support::{Backend, TestDb, backends};

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn backfills_follows_writes_and_rolls_back() {
    for backend in backends() {
        let test_db = TestDb::fresh(backend, "search_migration").await;
        let db = Database::connect(&test_db.url).await.unwrap();
        check_search_documents(&db, backend).await;
    }
}

/// The customer documents that contain `text`, through the engine's own index (FTS5 on SQLite,
/// the trigram index on PostgreSQL).
async fn matches(db: &DatabaseConnection, backend: Backend, text: &str) -> i64 {
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT COUNT(*) FROM customer_search_fts WHERE customer_search_fts MATCH 'document : \"{text}\"'"
        ),
        Backend::Postgres => {
            format!("SELECT COUNT(*) FROM customer_search WHERE document LIKE '%{text}%'")
        }
    };
    scalar(db, &sql).await
}

/// Tables, views, triggers and functions whose name mentions search, but the trigram indexes
/// of the earlier migration.
async fn search_objects(db: &DatabaseConnection, backend: Backend) -> i64 {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%search%' AND name NOT LIKE '%trgm%'"
        }
        Backend::Postgres => {
            "SELECT (SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = 'public' AND c.relname LIKE '%search%' AND c.relname NOT LIKE '%trgm%') \
             + (SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE '%search%') \
             + (SELECT COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE n.nspname = 'public' AND p.proname LIKE '%search%')"
        }
    };
    scalar(db, sql).await
}

async fn check_search_documents(db: &DatabaseConnection, backend: Backend) {
    let db = db.clone();
    // Rows written before the migration.
    LicenseMigrator::up(&db, Some(2)).await.unwrap();
    execute(
        &db,
        "INSERT INTO customers (id, name, created_at) VALUES (1, 'Tyrell Motors', '2026-01-01')",
    )
    .await;
    execute(
        &db,
        "INSERT INTO contacts (id, customer_id, name, email, created_at) \
         VALUES (1, 1, 'Eldon Tyrell', 'eldon@tyrell.example', '2026-01-01')",
    )
    .await;

    LicenseMigrator::up(&db, None).await.unwrap();
    assert_eq!(matches(&db, backend, "eldon@tyrell").await, 1, "backfilled");

    execute(
        &db,
        "UPDATE contacts SET email = 'e@offworld.example' WHERE id = 1",
    )
    .await;
    assert_eq!(
        matches(&db, backend, "eldon@tyrell").await,
        0,
        "the old e-mail is gone"
    );
    assert_eq!(
        matches(&db, backend, "offworld").await,
        1,
        "the new one is found"
    );
    execute(&db, "DELETE FROM contacts WHERE id = 1").await;
    assert_eq!(
        matches(&db, backend, "offworld").await,
        0,
        "a deleted contact is gone"
    );

    // The objects the rollback must remove are there, so the count below can see them.
    assert!(
        search_objects(&db, backend).await >= 4,
        "{}",
        backend.name()
    );

    // Roll back the search-document migration and whatever came after it.
    let from_the_end = LicenseMigrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name().contains("search_documents"))
        .unwrap();
    LicenseMigrator::down(&db, Some(u32::try_from(from_the_end + 1).unwrap()))
        .await
        .unwrap();
    assert_eq!(
        search_objects(&db, backend).await,
        0,
        "{}: rolled back: no table, view, trigger or function left",
        backend.name()
    );
    LicenseMigrator::up(&db, None).await.unwrap();
    assert_eq!(
        matches(&db, backend, "tyrell motors").await,
        1,
        "applied again"
    );
}
