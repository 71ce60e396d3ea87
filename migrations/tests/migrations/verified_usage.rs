//! The verified-usage migrations (issue 24) on a version database with pings: the read model
//! loses its keys by license id, existing pings wait `unchecked` for the sweep, each (host, uuid)
//! becomes an installation, no name has a holder yet (so the newest ping stays the newest of
//! anyone), and they roll back and apply again.

use migration::{MigratorTrait, VersionMigrator};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use test_support::{TestDb, backends};

/// Migrations before the verified-usage ones.
const BEFORE: u32 = 2;
/// The verified-usage migrations.
const ADDED: u32 = 3;

async fn column(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            row.try_get_by_index::<Option<String>>(0)
                .unwrap()
                .unwrap_or_else(|| "NULL".to_owned())
        })
        .collect()
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn existing_pings_move_into_the_verified_shape() {
    for backend in backends() {
        let test_db = TestDb::fresh(backend, "verified_usage_migration").await;
        let db = Database::connect(&test_db.url).await.unwrap();
        VersionMigrator::up(&db, Some(BEFORE)).await.unwrap();
        execute(
            &db,
            "INSERT INTO hosts (id, hostname, uuid, first_seen_at, last_ping_at) VALUES \
             (1, 'gitlab.example', 'b', '2026-11-01 00:00:00+00:00', '2026-11-15 00:00:00+00:00')",
        )
        .await;
        // The server 'a' twice with its license's digest; then 'b' naming the license by id only.
        execute(
            &db,
            "INSERT INTO usage_pings (id, host_id, uuid, hostname, recorded_at, received_at, \
               license_id, license_md5, payload) VALUES \
             (1, 1, 'a', 'gitlab.example', '2026-11-01 00:00:00+00:00', \
              '2026-11-01 00:00:00+00:00', 7, 'md5-7', '{}'), \
             (2, 1, 'a', 'gitlab.example', '2026-11-08 00:00:00+00:00', \
              '2026-11-08 00:00:00+00:00', 7, 'md5-7', '{}'), \
             (3, 1, 'b', 'gitlab.example', '2026-11-15 00:00:00+00:00', \
              '2026-11-15 00:00:00+00:00', 7, NULL, '{}')",
        )
        .await;
        migration::usage_read_models::host_licenses(&db, migration::usage_read_models::Hosts::All)
            .await
            .unwrap();
        migration::usage_read_models::newest_pings(&db, migration::usage_read_models::Hosts::All)
            .await
            .unwrap();

        for round in 0..2 {
            VersionMigrator::up(&db, None).await.unwrap();
            let keys = column(
                &db,
                "SELECT license_key || ' ' || CAST(latest_ping_id AS TEXT) FROM host_licenses",
            )
            .await;
            assert_eq!(keys, ["md5:md5-7@7 2"], "{backend:?} round {round}");
            let verification =
                column(&db, "SELECT verification FROM usage_pings ORDER BY id").await;
            assert_eq!(verification, ["unchecked"; 3], "{backend:?}");
            let installations = column(
                &db,
                "SELECT uuid || ' ' || CAST(latest_ping_id AS TEXT) || ' ' || \
                   CAST(first_ping_at < last_ping_at AS TEXT) \
                 FROM installations ORDER BY uuid",
            )
            .await;
            assert_eq!(installations.len(), 2, "{backend:?}: {installations:?}");
            assert!(installations[0].starts_with("a 2 "), "{installations:?}");
            assert!(installations[1].starts_with("b 3 "), "{installations:?}");
            let host = column(
                &db,
                "SELECT CAST(latest_ping_id AS TEXT) || ' ' || \
                   COALESCE(CAST(holder_installation_id AS TEXT), 'none') FROM hosts",
            )
            .await;
            assert_eq!(host, ["3 none"], "{backend:?}: no holder before the sweep");

            VersionMigrator::down(&db, Some(ADDED)).await.unwrap();
            let tables = column(
                &db,
                match backend {
                    test_support::Backend::Sqlite => {
                        "SELECT name FROM sqlite_master WHERE name = 'installations'"
                    }
                    test_support::Backend::Postgres => {
                        "SELECT tablename FROM pg_tables WHERE tablename = 'installations'"
                    }
                },
            )
            .await;
            assert!(tables.is_empty(), "{backend:?}: rolled back");
        }
    }
}
