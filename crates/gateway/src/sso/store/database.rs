//! Sign-in state in the license database, table `sessions` (migration
//! `m20261201_000001_sessions`): the only code that sends SQL to that table.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Expiry, Kind, StoreError, idle_end_to_write};

/// Expired rows are deleted at most this often (seconds): the purge is one statement, run when
/// a record is written, so a burst of sign-ins does not repeat it.
const PURGE_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub(crate) struct DatabaseStore {
    db: DatabaseConnection,
    last_purge: Arc<AtomicI64>,
}

fn table() -> Alias {
    Alias::new("sessions")
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn failed(error: sea_orm::DbErr) -> StoreError {
    StoreError(error.to_string())
}

impl DatabaseStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            last_purge: Arc::new(AtomicI64::new(0)),
        }
    }

    pub(crate) async fn put(
        &self,
        kind: Kind,
        key: &str,
        data: &str,
        expiry: Expiry,
    ) -> Result<(), StoreError> {
        self.purge(super::now()).await?;
        let insert = Query::insert()
            .into_table(table())
            .columns(["key_hash", "kind", "data", "expires_at", "idle_expires_at"].map(Alias::new))
            .values([
                key.into(),
                kind.as_str().into(),
                data.into(),
                expiry.at.into(),
                expiry.idle_at.into(),
            ])
            .map_err(|e| StoreError(e.to_string()))?
            .to_owned();
        self.db.execute(&insert).await.map_err(failed)?;
        Ok(())
    }

    pub(crate) async fn take(
        &self,
        kind: Kind,
        key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        // DELETE ... RETURNING (PostgreSQL, SQLite 3.35+): the row goes to one caller only.
        let delete = Query::delete()
            .from_table(table())
            .and_where(col("key_hash").eq(key))
            .and_where(col("kind").eq(kind.as_str()))
            .returning(
                Query::returning()
                    .columns(["data", "expires_at", "idle_expires_at"].map(Alias::new)),
            )
            .to_owned();
        let Some(row) = self.db.query_one(&delete).await.map_err(failed)? else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("", "expires_at").map_err(failed)?;
        let idle_expires_at: i64 = row.try_get("", "idle_expires_at").map_err(failed)?;
        if expires_at <= now || idle_expires_at <= now {
            return Ok(None);
        }
        Ok(Some(row.try_get("", "data").map_err(failed)?))
    }

    pub(crate) async fn use_session(
        &self,
        key: &str,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<String>, StoreError> {
        let select = Query::select()
            .columns(["data", "expires_at", "idle_expires_at"].map(Alias::new))
            .from(table())
            .and_where(col("key_hash").eq(key))
            .and_where(col("kind").eq(Kind::Session.as_str()))
            .and_where(col("expires_at").gt(now))
            .and_where(col("idle_expires_at").gt(now))
            .to_owned();
        let Some(row) = self.db.query_one(&select).await.map_err(failed)? else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("", "expires_at").map_err(failed)?;
        let idle_expires_at: i64 = row.try_get("", "idle_expires_at").map_err(failed)?;
        if let Some(pushed) = idle_end_to_write(now, idle_secs, expires_at, idle_expires_at) {
            // An UPDATE of a row a sign-out deleted meanwhile changes nothing: it cannot
            // bring the session back.
            let update = Query::update()
                .table(table())
                .value(Alias::new("idle_expires_at"), pushed)
                .and_where(col("key_hash").eq(key))
                .and_where(col("kind").eq(Kind::Session.as_str()))
                .to_owned();
            if self
                .db
                .execute(&update)
                .await
                .map_err(failed)?
                .rows_affected()
                == 0
            {
                // Signed out while this request looked at it.
                return Ok(None);
            }
        }
        Ok(Some(row.try_get("", "data").map_err(failed)?))
    }

    /// Deletes expired rows, at most once per [`PURGE_EVERY_SECS`].
    async fn purge(&self, now: i64) -> Result<(), StoreError> {
        let last = self.last_purge.load(Ordering::Relaxed);
        if now - last < PURGE_EVERY_SECS
            || self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let delete = Query::delete()
            .from_table(table())
            .cond_where(
                sea_orm::sea_query::Cond::any()
                    .add(col("expires_at").lte(now))
                    .add(col("idle_expires_at").lte(now)),
            )
            .to_owned();
        self.db.execute(&delete).await.map_err(failed)?;
        Ok(())
    }
}
