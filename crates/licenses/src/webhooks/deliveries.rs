//! Deliveries: claiming the due ones, recording what each attempt got, listing them, the
//! queue's depth, and forgetting old ones.
//!
//! **Claiming** is one statement that leases rows: it moves `next_attempt_at` to the end of
//! the lease and counts the attempt, so no other worker takes them until the lease runs out.
//! A worker that dies mid-delivery loses nothing: when its lease ends the delivery is due again
//! (the receiver may then see the same `webhook-id` twice, which is what it deduplicates by).
//! On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so replicas claiming at once
//! take different rows instead of waiting for each other; SQLite runs one writer at a time.
//!
//! **Order per endpoint**: only an endpoint's oldest pending delivery can be claimed, so an
//! endpoint gets its events one at a time, in the order they were written, even after being
//! down for a while. Outcomes are recorded only by the worker whose lease they are (the claim's
//! attempt count is the lease's token).

use chrono::{DateTime, Utc};
use entity::webhook_delivery::{self, Column, Status};
use entity::webhook_endpoint::Status as EndpointStatus;
use entity::{webhook_endpoint, webhook_event};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
};

use crate::total::{self, Total};
use crate::{Error, Page, PageRequest};

use super::endpoints;

/// Longest `last_error` kept, in characters.
pub const MAX_ERROR_CHARS: usize = 500;

/// A delivery a worker has leased, with what it needs to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    /// The delivery, as the claim left it (`attempts` counts this attempt).
    pub delivery: webhook_delivery::Model,
    pub event: webhook_event::Model,
    pub endpoint: webhook_endpoint::Model,
}

const CLAIM_POSTGRES: &str = r#"
WITH due AS (
    SELECT d.id FROM webhook_deliveries d
    JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND ep.status = 'active'
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries earlier
          WHERE earlier.endpoint_id = d.endpoint_id AND earlier.status = 'pending'
            AND earlier.id < d.id)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries
SET attempts = webhook_deliveries.attempts + 1, next_attempt_at = $3, last_attempt_at = $1
FROM due WHERE webhook_deliveries.id = due.id
RETURNING webhook_deliveries.*"#;

const CLAIM_SQLITE: &str = r#"
UPDATE webhook_deliveries
SET attempts = attempts + 1, next_attempt_at = ?3, last_attempt_at = ?1
WHERE id IN (
    SELECT d.id FROM webhook_deliveries d
    JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND ep.status = 'active'
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries earlier
          WHERE earlier.endpoint_id = d.endpoint_id AND earlier.status = 'pending'
            AND earlier.id < d.id)
    ORDER BY d.next_attempt_at, d.id
    LIMIT ?2)
RETURNING *"#;

/// Leases at most `limit` due deliveries (at most one per endpoint: its oldest pending one)
/// until `lease_until`, and loads their events and endpoints: three statements.
pub async fn claim(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => CLAIM_POSTGRES,
        _ => CLAIM_SQLITE,
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [now.into(), limit.into(), lease_until.into()],
    );
    let mut leased = webhook_delivery::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?;
    if leased.is_empty() {
        return Ok(Vec::new());
    }
    leased.sort_by_key(|d| (d.next_attempt_at, d.id));
    let event_ids: Vec<i64> = leased.iter().map(|d| d.event_id).collect();
    let endpoint_ids: Vec<i64> = leased.iter().map(|d| d.endpoint_id).collect();
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?;
    let endpoints = endpoints::by_ids(db, &endpoint_ids).await?;
    Ok(leased
        .into_iter()
        .filter_map(|delivery| {
            let event = events.iter().find(|e| e.id == delivery.event_id)?.clone();
            let endpoint = endpoints
                .iter()
                .find(|e| e.id == delivery.endpoint_id)?
                .clone();
            Some(Claimed {
                delivery,
                event,
                endpoint,
            })
        })
        .collect())
}

/// What one attempt got: the HTTP status when an answer came, and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Attempt {
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Attempt {
    fn error(&self) -> Option<String> {
        self.error
            .as_ref()
            .map(|e| e.chars().take(MAX_ERROR_CHARS).collect())
    }
}

/// Updates `delivery` if the caller's lease is still the current one (same attempt count,
/// still pending); returns whether it did.
async fn settle(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    attempt: &Attempt,
    status: Status,
    next_attempt_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
) -> Result<bool, Error> {
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(Column::CompletedAt, Expr::value(completed_at))
        .col_expr(
            Column::LastStatus,
            Expr::value(attempt.status.map(i32::from)),
        )
        .col_expr(Column::LastError, Expr::value(attempt.error()))
        .filter(Column::Id.eq(delivery.id))
        .filter(Column::Attempts.eq(delivery.attempts))
        .filter(Column::Status.eq(Status::Pending))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The receiver took it (2xx).
pub async fn succeeded(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    settle(db, delivery, attempt, Status::Succeeded, now, Some(now)).await
}

/// The attempt failed; the next one is due at `next_attempt_at`.
pub async fn retry(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    attempt: &Attempt,
    next_attempt_at: DateTime<Utc>,
) -> Result<bool, Error> {
    settle(
        db,
        delivery,
        attempt,
        Status::Pending,
        next_attempt_at,
        None,
    )
    .await
}

/// The attempt failed and it was the last: the delivery has failed.
pub async fn give_up(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    settle(db, delivery, attempt, Status::Failed, now, Some(now)).await
}

/// One page of an endpoint's deliveries (with `status`, when given), newest first, each with
/// its event: two statements.
pub async fn list(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    status: Option<Status>,
    page: PageRequest,
) -> Result<Page<(webhook_delivery::Model, webhook_event::Model)>, Error> {
    let mut select = webhook_delivery::Entity::find().filter(Column::EndpointId.eq(endpoint_id));
    if let Some(status) = status {
        select = select.filter(Column::Status.eq(status));
    }
    let rows = select
        .order_by_desc(Column::Id)
        .offset(page.offset)
        .limit(page.first + 1)
        .all(db)
        .await?;
    let event_ids: Vec<i64> = rows.iter().map(|d| d.event_id).collect();
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?;
    let rows = rows
        .into_iter()
        .filter_map(|d| {
            let event = events.iter().find(|e| e.id == d.event_id)?.clone();
            Some((d, event))
        })
        .collect();
    Ok(Page::from_rows(page, rows))
}

/// How many of an endpoint's deliveries (with `status`, when given) there are, exact up to
/// [`crate::total::COUNT_LIMIT`].
pub async fn count(
    db: &DatabaseConnection,
    endpoint_id: i64,
    status: Option<Status>,
) -> Result<Total, Error> {
    let mut select = Query::select()
        .column(Column::Id)
        .from(webhook_delivery::Entity)
        .and_where(Column::EndpointId.eq(endpoint_id))
        .to_owned();
    if let Some(status) = status {
        select.and_where(Column::Status.eq(status));
    }
    total::capped(db, select).await
}

/// The queue as `/metrics` shows it: pending deliveries to active endpoints, and when the
/// oldest of them was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Queue {
    pub depth: u64,
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// The queue now: two statements.
pub async fn queue(db: &impl ConnectionTrait) -> Result<Queue, Error> {
    let pending = || {
        webhook_delivery::Entity::find()
            .filter(Column::Status.eq(Status::Pending))
            .filter(
                Column::EndpointId.in_subquery(
                    webhook_endpoint::Entity::find()
                        .select_only()
                        .column(webhook_endpoint::Column::Id)
                        .filter(webhook_endpoint::Column::Status.eq(EndpointStatus::Active))
                        .into_query(),
                ),
            )
    };
    let depth = pending().count(db).await?;
    let oldest = pending()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .one(db)
        .await?;
    Ok(Queue {
        depth,
        oldest_created_at: oldest.map(|d| d.created_at),
    })
}

/// Deletes deliveries completed before `before`, then events written before it that no
/// delivery refers to any more; returns how many of each.
pub async fn purge(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<(u64, u64), Error> {
    let deliveries = webhook_delivery::Entity::delete_many()
        .filter(Column::Status.ne(Status::Pending))
        .filter(Column::CompletedAt.lt(before))
        .exec(db)
        .await?;
    let referenced = Query::select()
        .expr(Expr::val(1))
        .from(webhook_delivery::Entity)
        .and_where(
            Expr::col((webhook_delivery::Entity, Column::EventId))
                .equals((webhook_event::Entity, webhook_event::Column::Id)),
        )
        .to_owned();
    let events = webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::CreatedAt.lt(before))
        .filter(Expr::exists(referenced).not())
        .exec(db)
        .await?;
    Ok((deliveries.rows_affected, events.rows_affected))
}
