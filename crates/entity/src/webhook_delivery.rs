//! One event's delivery to one endpoint: its status, how many attempts it took, when the next
//! one is due, and what the last one got.

use sea_orm::entity::prelude::*;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    /// Not delivered yet: due at `next_attempt_at` (or being attempted by a worker that
    /// leased it until then).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Given up: every attempt failed for the whole retry horizon, or the endpoint was
    /// disabled.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `webhook_events` row.
    pub event_id: i64,
    pub endpoint_id: i64,
    pub status: Status,
    /// Attempts started so far (a worker counts one when it claims the delivery).
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The HTTP status of the last answer, when there was one.
    pub last_status: Option<i32>,
    /// What went wrong last (bounded, never a secret).
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
