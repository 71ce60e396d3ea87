//! The search-document migration on SQLite: it backfills existing rows, its triggers follow
//! writes, and it can be rolled back and applied again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migration::{LicenseMigrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

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
    let db = Database::connect("sqlite::memory:").await.unwrap();
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
    let matches = |text: &str| {
        let db = &db;
        let sql = format!(
            "SELECT COUNT(*) FROM customer_search_fts WHERE customer_search_fts MATCH 'document : \"{text}\"'"
        );
        async move { scalar(db, &sql).await }
    };
    assert_eq!(matches("eldon@tyrell").await, 1, "backfilled");

    execute(
        &db,
        "UPDATE contacts SET email = 'e@offworld.example' WHERE id = 1",
    )
    .await;
    assert_eq!(matches("eldon@tyrell").await, 0, "the old e-mail is gone");
    assert_eq!(matches("offworld").await, 1, "the new one is found");
    execute(&db, "DELETE FROM contacts WHERE id = 1").await;
    assert_eq!(matches("offworld").await, 0, "a deleted contact is gone");

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
        scalar(
            &db,
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%search%' AND name NOT LIKE '%trgm%'"
        )
        .await,
        0,
        "rolled back: no table, view or trigger left"
    );
    LicenseMigrator::up(&db, None).await.unwrap();
    assert_eq!(matches("tyrell motors").await, 1, "applied again");
}
