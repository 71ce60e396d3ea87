//! The webhooks migration: its tables take what the outbox writes (a dedupe key and a message
//! id once each, deliveries going with their endpoint), and it rolls back and applies again.

use migration::{LicenseMigrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use test_support::backends;

async fn execute(db: &DatabaseConnection, sql: &str) -> Result<(), String> {
    db.execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

const ENDPOINT: &str = "INSERT INTO webhook_endpoints (url, events, description, secret, status, \
     created_by, created_at, updated_at) VALUES ('https://hooks.example.com/', 'license.expired', \
     '', 'v1.x', 'active', 'admin', '2027-01-01 00:00:00+00:00', '2027-01-01 00:00:00+00:00')";

fn event(message_id: &str, dedupe_key: &str) -> String {
    format!(
        "INSERT INTO webhook_events (message_id, event_type, occurred_at, payload, dedupe_key, \
         created_at) VALUES ('{message_id}', 'license.expired', '2027-01-01 00:00:00+00:00', '{{}}', \
         '{dedupe_key}', '2027-01-01 00:00:00+00:00')"
    )
}

const DELIVERY: &str = "INSERT INTO webhook_deliveries (event_id, endpoint_id, status, \
     next_attempt_at, created_at) VALUES (1, 1, 'pending', '2027-01-01 00:00:00+00:00', \
     '2027-01-01 00:00:00+00:00')";

#[tokio::test]
async fn events_are_unique_deliveries_go_with_their_endpoint_and_it_rolls_back() {
    for backend in backends() {
        let test_db = test_support::TestDb::fresh(backend, "webhooks_migration").await;
        let db = Database::connect(&test_db.url).await.unwrap();
        LicenseMigrator::up(&db, None).await.unwrap();
        execute(&db, ENDPOINT).await.unwrap();
        execute(&db, &event("msg_1", "k1")).await.unwrap();
        assert!(
            execute(&db, &event("msg_2", "k1")).await.is_err(),
            "{backend:?}: dedupe key"
        );
        assert!(
            execute(&db, &event("msg_1", "k2")).await.is_err(),
            "{backend:?}: message id"
        );
        execute(&db, DELIVERY).await.unwrap();
        assert_eq!(count(&db, "webhook_deliveries").await, 1);
        execute(&db, "DELETE FROM webhook_endpoints").await.unwrap();
        assert_eq!(
            count(&db, "webhook_deliveries").await,
            0,
            "{backend:?}: cascade"
        );

        // Down to before the webhooks migration, with whatever came after it.
        let migrations = LicenseMigrator::migrations();
        let webhooks = migrations
            .iter()
            .position(|m| m.name() == "m20261204_000001_webhooks")
            .unwrap();
        let steps = u32::try_from(migrations.len() - webhooks).unwrap();
        LicenseMigrator::down(&db, Some(steps)).await.unwrap();
        assert!(execute(&db, "SELECT 1 FROM webhook_events").await.is_err());
        LicenseMigrator::up(&db, None).await.unwrap();
        assert_eq!(count(&db, "webhook_events").await, 0);
    }
}
