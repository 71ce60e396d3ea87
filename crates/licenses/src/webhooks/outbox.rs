//! Writing events to the outbox: the event and one pending delivery per active endpoint
//! subscribed to its type, in one transaction. An event nobody subscribes to is not written at
//! all (nothing would ever deliver or delete it), and an event whose dedupe key was written
//! before is written again never: the insert does nothing on that key's conflict.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::webhook_delivery::{self, Status as DeliveryStatus};
use entity::webhook_endpoint::{self, Status as EndpointStatus};
use entity::webhook_event::{self, EventType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait, TryInsertResult,
};
use serde_json::{Value, json};

use crate::Error;

/// The largest payload an event may carry, in bytes. Events are built from bounded columns, so
/// this is never reached by the data licensedot holds; it keeps a bug from filling the outbox.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// An event to write: its type, when it happened, what makes it unique, and its `data`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// What happened.
    pub event_type: EventType,
    /// When it happened (the payload's `timestamp`).
    pub occurred_at: DateTime<Utc>,
    /// Writes with the same key after the first do nothing.
    pub dedupe_key: String,
    /// The payload's `data`.
    pub data: Value,
}

impl NewEvent {
    /// The JSON body receivers get: `{"type", "timestamp", "data"}` (the Standard Webhooks
    /// envelope).
    pub fn body(&self) -> Result<String, Error> {
        let body = json!({
            "type": self.event_type.as_str(),
            "timestamp": self.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": self.data,
        })
        .to_string();
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::InvalidArgument(format!(
                "a {} event of {} bytes is larger than the {MAX_PAYLOAD_BYTES} bytes an event may carry",
                self.event_type.as_str(),
                body.len()
            )));
        }
        Ok(body)
    }
}

/// A fresh `webhook-id`: `msg_` and 32 hex digits of a random UUID.
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// The active endpoints subscribed to `event_type`, oldest first.
pub async fn subscribers(
    db: &impl ConnectionTrait,
    event_type: EventType,
) -> Result<Vec<webhook_endpoint::Model>, Error> {
    let active = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Status.eq(EndpointStatus::Active))
        .all(db)
        .await?;
    Ok(active
        .into_iter()
        .filter(|e| EventType::parse_list(&e.events).contains(&event_type))
        .collect())
}

/// What [`record`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Written, with this many deliveries.
    Written { event_id: i64, deliveries: usize },
    /// No active endpoint subscribes to the type: nothing written.
    NoSubscribers,
    /// An event with this dedupe key exists: nothing written.
    Duplicate,
}

/// Writes `event` for `endpoints` (the subscribers, read in the same transaction) with
/// deliveries due `now`. Runs on the caller's connection: inside the caller's transaction when
/// it passes one.
pub async fn write(
    db: &impl ConnectionTrait,
    event: &NewEvent,
    endpoints: &[webhook_endpoint::Model],
    now: DateTime<Utc>,
) -> Result<Recorded, Error> {
    if endpoints.is_empty() {
        return Ok(Recorded::NoSubscribers);
    }
    let row = webhook_event::ActiveModel {
        message_id: Set(message_id()),
        event_type: Set(event.event_type),
        occurred_at: Set(event.occurred_at),
        payload: Set(event.body()?),
        dedupe_key: Set(event.dedupe_key.clone()),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = webhook_event::Entity::insert(row)
        .on_conflict_do_nothing_on([webhook_event::Column::DedupeKey])
        .exec(db)
        .await?;
    let event_id = match inserted {
        TryInsertResult::Inserted(result) => result.last_insert_id,
        TryInsertResult::Conflicted | TryInsertResult::Empty => return Ok(Recorded::Duplicate),
    };
    let deliveries = endpoints
        .iter()
        .map(|endpoint| webhook_delivery::ActiveModel {
            event_id: Set(event_id),
            endpoint_id: Set(endpoint.id),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        });
    webhook_delivery::Entity::insert_many(deliveries)
        .exec_without_returning(db)
        .await?;
    Ok(Recorded::Written {
        event_id,
        deliveries: endpoints.len(),
    })
}

/// Writes `event` in a transaction of its own: the subscribers, the event and its deliveries
/// together (the scheduler's events, which no other change carries).
pub async fn record(
    db: &DatabaseConnection,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Recorded, Error> {
    let txn = db.begin().await?;
    let endpoints = subscribers(&txn, event.event_type).await?;
    let recorded = write(&txn, event, &endpoints, now).await?;
    txn.commit().await?;
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_standard_envelope_and_is_bounded() {
        let at = DateTime::parse_from_rfc3339("2027-01-02T03:04:05.678Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let event = NewEvent {
            event_type: EventType::LicenseExpired,
            occurred_at: at,
            dedupe_key: "k".into(),
            data: json!({"license": {"id": "7"}}),
        };
        let body: Value =
            serde_json::from_str(&event.body().unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            body,
            json!({"type": "license.expired", "timestamp": "2027-01-02T03:04:05.678Z", "data": {"license": {"id": "7"}}})
        );
        let huge = NewEvent {
            data: json!({"reason": "x".repeat(MAX_PAYLOAD_BYTES)}),
            ..event
        };
        assert!(huge.body().is_err());
    }

    #[test]
    fn message_ids_are_unique_and_shaped_like_the_spec_examples() {
        let (a, b) = (message_id(), message_id());
        assert_ne!(a, b);
        assert!(a.starts_with("msg_") && a.len() == 36, "{a}");
    }
}
