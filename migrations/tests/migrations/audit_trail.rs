//! The audit-trail migration: rows written before it keep their ids and values, events without
//! a license can be written after it, the ids go on from where they were, the indexes of the
//! existing reads are there with the same columns (plus the one by kind), and it rolls back.

use migration::{LicenseMigrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use test_support::{Backend, TestDb, backends};

/// Migrations before this one.
const BEFORE: u32 = 6;

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<Option<String>>> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (0..)
                .map_while(|i| row.try_get_by_index::<Option<String>>(i).ok())
                .collect()
        })
        .collect()
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap();
}

const OLD_EVENT: &str = "INSERT INTO audit_events (license_id, customer_id, occurred_at, \
     action, actor_subject, actor_email, actor_role, request_id, old_contact_id, \
     old_contact_name, old_contact_email, new_contact_id, new_contact_name, new_contact_email, \
     reason, license_version) VALUES (7, 3, '2026-11-30 10:00:00+00:00', \
     'license_contact_changed', 'sam', 'sam@corp.example', 'support', 'req-41', 1, 'Ann', \
     'ann@x.example', 2, 'Bob', 'bob@x.example', 'moved', 2)";

/// Each index of `audit_events` with its columns, as the database describes it.
async fn indexes(db: &DatabaseConnection, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name || ' (' || group_concat(i.name, ', ') || ')' FROM sqlite_master m, \
             pragma_index_info(m.name) i WHERE m.type = 'index' AND m.tbl_name = 'audit_events' \
             GROUP BY m.name ORDER BY m.name"
        }
        Backend::Postgres => {
            "SELECT indexname || ' ' || substring(indexdef from '\\(.*\\)') FROM pg_indexes \
             WHERE tablename = 'audit_events' AND indexname <> 'audit_events_pkey' \
             ORDER BY indexname"
        }
    };
    rows(db, sql)
        .await
        .into_iter()
        .map(|row| row[0].clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn old_events_stay_new_kinds_fit_and_the_indexes_serve_the_same_reads() {
    for backend in backends() {
        let test_db = TestDb::fresh(backend, "audit_migration").await;
        let db = Database::connect(&test_db.url).await.unwrap();
        LicenseMigrator::up(&db, Some(BEFORE)).await.unwrap();
        execute(&db, OLD_EVENT).await;
        LicenseMigrator::up(&db, None).await.unwrap();

        let old = rows(
            &db,
            "SELECT CAST(id AS TEXT), action, request_id, reason, caller_request_id, details \
             FROM audit_events",
        )
        .await;
        assert_eq!(
            old,
            vec![vec![
                Some("1".to_owned()),
                Some("license_contact_changed".to_owned()),
                Some("req-41".to_owned()),
                Some("moved".to_owned()),
                None,
                None
            ]],
            "{backend:?}"
        );
        // A sign-in: no license, customer, contacts or version.
        execute(
            &db,
            "INSERT INTO audit_events (occurred_at, action, actor_subject, actor_role, \
             request_id, caller_request_id, details) VALUES ('2026-12-03 09:00:00+00:00', \
             'signed_in', 'sam', 'support', 'gw-1', 'theirs-1', '{\"method\":\"sso\"}')",
        )
        .await;
        let ids = rows(&db, "SELECT CAST(id AS TEXT) FROM audit_events ORDER BY id").await;
        assert_eq!(ids[1][0].as_deref(), Some("2"), "{backend:?}: ids go on");

        let expected = [
            "audit_events_action_idx (action, occurred_at, id)",
            "audit_events_actor_idx (actor_subject, occurred_at, id)",
            "audit_events_customer_idx (customer_id, occurred_at, id)",
            "audit_events_license_idx (license_id, occurred_at, id)",
            "audit_events_occurred_idx (occurred_at, id)",
        ];
        assert_eq!(indexes(&db, backend).await, expected, "{backend:?}");
        if backend == Backend::Sqlite {
            // The license's events, newest first, as `License.auditEvents` reads them.
            let plan: Vec<String> = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    "EXPLAIN QUERY PLAN SELECT id FROM audit_events WHERE license_id = 7 \
                     ORDER BY occurred_at DESC, id DESC",
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String>("", "detail").unwrap())
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains("audit_events_license_idx"), "{plan}");
        }

        // Back past it (and the migrations after it): the events without a license go; the
        // contact change stays. Then up again.
        let after = LicenseMigrator::migrations().len() as u32 - BEFORE;
        LicenseMigrator::down(&db, Some(after)).await.unwrap();
        let left = rows(&db, "SELECT CAST(id AS TEXT) FROM audit_events").await;
        assert_eq!(left, vec![vec![Some("1".to_owned())]], "{backend:?}");
        LicenseMigrator::up(&db, None).await.unwrap();
        assert_eq!(indexes(&db, backend).await, expected, "{backend:?}");
    }
}
