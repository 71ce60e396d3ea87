//! One search document per license and per customer, kept current by the database itself.
//!
//! `license_search` holds, per license, its customer's name, its licensee's name, e-mail and
//! company and its contact's name and e-mail; `customer_search`, per customer, its name, its
//! contacts' names and e-mails and its licensees' names, e-mails and companies. Each also has a
//! `public_document` without personal data (names and e-mails of people), the only one a caller
//! who sees personal data masked may search: matching on a masked field would tell them what it
//! hides.
//!
//! Documents are lower case, one field per line, with a line break before the first and after
//! the last field, so `\nfield\n` is an exact match of a field and `\nfield` a prefix of one.
//!
//! Two views say how documents are built; triggers on customers, contacts and licenses rebuild
//! the rows a change touches from those views (delete, then insert), so a write through any
//! path keeps search true. PostgreSQL indexes the documents with trigram GIN indexes (for
//! `LIKE '%fragment%'`); SQLite with FTS5 tables using the trigram tokenizer (for `MATCH`),
//! kept in step with the document tables by their own triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::search_documents::{Backend, Sql};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = Sql::new(backend(manager));
        for statement in sql.up() {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = Sql::new(backend(manager));
        for statement in sql.down() {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

fn backend(manager: &SchemaManager) -> Backend {
    if manager.get_database_backend() == DbBackend::Postgres {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}
