//! Indexes for case-insensitive search: `lower(...)` expression indexes on both backends and, on
//! PostgreSQL, trigram (pg_trgm) GIN indexes so `lower(col) LIKE '%fragment%'` needs no scan.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index name, table, column) of every searchable text column.
const SEARCHED: [(&str, &str, &str); 6] = [
    ("customers_name", "customers", "name"),
    ("contacts_name", "contacts", "name"),
    ("contacts_email", "contacts", "email"),
    ("licenses_licensee_name", "licenses", "licensee_name"),
    ("licenses_licensee_email", "licenses", "licensee_email"),
    ("licenses_licensee_company", "licenses", "licensee_company"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        // Exact, case-insensitive e-mail lookups.
        db.execute_unprepared("CREATE INDEX contacts_lower_email_idx ON contacts (lower(email))")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX licenses_lower_licensee_email_idx ON licenses (lower(licensee_email))",
        )
        .await?;
        if postgres {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            for (name, table, column) in SEARCHED {
                db.execute_unprepared(&format!(
                    "CREATE INDEX {name}_trgm_idx ON {table} USING gin (lower({column}) gin_trgm_ops)"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS contacts_lower_email_idx")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS licenses_lower_licensee_email_idx")
            .await?;
        for (name, _, _) in SEARCHED {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}_trgm_idx"))
                .await?;
        }
        Ok(())
    }
}
