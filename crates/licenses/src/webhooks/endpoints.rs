//! The endpoints admins subscribe. Secrets arrive here already encrypted (the `webhooks`
//! crate holds the key); this module stores and returns them as opaque text.

use chrono::{DateTime, Utc};
use entity::webhook_delivery::{self, Status as DeliveryStatus};
use entity::webhook_endpoint::{self, Column, Status};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::Error;

/// Longest reason an endpoint is disabled with, in characters (an admin's text, or the
/// worker's, which quotes the last error).
pub const MAX_REASON_CHARS: usize = 500;

/// An endpoint to create, checked by the caller (URL, events, description, secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: String,
    /// Event type names, comma-separated.
    pub events: String,
    pub description: String,
    /// The signing secret, encrypted.
    pub secret: String,
    /// The admin's subject.
    pub created_by: String,
}

/// Every endpoint, oldest first (there are at most `max_endpoints`).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<webhook_endpoint::Model>, Error> {
    Ok(webhook_endpoint::Entity::find()
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// The endpoint with this id.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<webhook_endpoint::Model>, Error> {
    Ok(webhook_endpoint::Entity::find_by_id(id).one(db).await?)
}

/// The endpoints with these ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<webhook_endpoint::Model>, Error> {
    Ok(webhook_endpoint::Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Creates `endpoint`, active, unless `max` endpoints exist already (active or disabled: a
/// disabled one still holds its deliveries; delete it to make room).
pub async fn create(
    db: &DatabaseConnection,
    endpoint: NewEndpoint,
    max: u64,
    now: DateTime<Utc>,
) -> Result<webhook_endpoint::Model, Error> {
    let txn = db.begin().await?;
    let existing = webhook_endpoint::Entity::find().count(&txn).await?;
    if existing >= max {
        return Err(Error::InvalidArgument(format!(
            "there are {existing} webhook endpoints already, the most this gateway allows \
             ([gateway.webhooks] max_endpoints = {max}); delete one first"
        )));
    }
    let created = webhook_endpoint::ActiveModel {
        url: Set(endpoint.url),
        events: Set(endpoint.events),
        description: Set(endpoint.description),
        secret: Set(endpoint.secret),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        status: Set(Status::Active),
        disabled_reason: Set(None),
        disabled_at: Set(None),
        failing_since: Set(None),
        created_by: Set(endpoint.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Replaces the endpoint's secret with `secret`; the one it had keeps signing until
/// `previous_until`. `None` when there is no such endpoint.
pub async fn rotate_secret(
    db: &impl ConnectionTrait,
    id: i64,
    secret: String,
    previous_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<webhook_endpoint::Model>, Error> {
    let Some(endpoint) = get(db, id).await? else {
        return Ok(None);
    };
    let mut row: webhook_endpoint::ActiveModel = endpoint.clone().into();
    row.previous_secret = Set(Some(endpoint.secret));
    row.previous_secret_expires_at = Set(Some(previous_until));
    row.secret = Set(secret);
    row.updated_at = Set(now);
    Ok(Some(row.update(db).await?))
}

/// Disables the endpoint with `reason` and gives up its pending deliveries (they fail with the
/// reason), in one transaction. `None` when there is no such endpoint.
pub async fn disable(
    db: &DatabaseConnection,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<webhook_endpoint::Model>, Error> {
    let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    let txn = db.begin().await?;
    let Some(endpoint) = get(&txn, id).await? else {
        return Ok(None);
    };
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    row.status = Set(Status::Disabled);
    row.disabled_reason = Set(Some(reason.clone()));
    row.disabled_at = Set(Some(now));
    row.updated_at = Set(now);
    let endpoint = row.update(&txn).await?;
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(DeliveryStatus::Failed),
        )
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(format!("the endpoint was disabled: {reason}")),
        )
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(endpoint))
}

/// Makes the endpoint active again (it gets events written from now on). `None` when there is
/// no such endpoint.
pub async fn enable(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<webhook_endpoint::Model>, Error> {
    let Some(endpoint) = get(db, id).await? else {
        return Ok(None);
    };
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    row.status = Set(Status::Active);
    row.disabled_reason = Set(None);
    row.disabled_at = Set(None);
    row.failing_since = Set(None);
    row.updated_at = Set(now);
    Ok(Some(row.update(db).await?))
}

/// Deletes the endpoint and its deliveries; whether it existed.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool, Error> {
    let deleted = webhook_endpoint::Entity::delete_by_id(id).exec(db).await?;
    Ok(deleted.rows_affected > 0)
}

/// An attempt to the endpoint succeeded: it is not failing any more.
pub async fn note_success(db: &impl ConnectionTrait, id: i64) -> Result<(), Error> {
    webhook_endpoint::Entity::update_many()
        .col_expr(
            Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id))
        .filter(Column::FailingSince.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// An attempt to the endpoint failed at `now`: returns since when it has been failing (the
/// first failure since its last success).
pub async fn note_failure(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    webhook_endpoint::Entity::update_many()
        .col_expr(Column::FailingSince, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::FailingSince.is_null())
        .exec(db)
        .await?;
    Ok(get(db, id).await?.and_then(|e| e.failing_since))
}
