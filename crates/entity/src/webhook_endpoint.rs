//! A webhook endpoint an admin subscribed: where to send which event types, and the secret
//! that signs them (stored encrypted by the gateway; the previous one too, while a rotation's
//! grace period runs).

use sea_orm::entity::prelude::*;

/// Whether an endpoint gets deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    /// Gets every new event of its types.
    #[sea_orm(string_value = "active")]
    Active,
    /// Gets nothing: disabled by an admin, or by the worker after failing for days
    /// (`disabled_reason` says which).
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    /// Event type names, comma-separated (see [`super::webhook_event::EventType`]).
    pub events: String,
    pub description: String,
    /// The signing secret, encrypted at rest (opaque here).
    pub secret: String,
    /// The secret before the last rotation, encrypted; it signs too until
    /// `previous_secret_expires_at`, so receivers can switch without losing a delivery.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub status: Status,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTimeUtc>,
    /// The first failed attempt since the last success; the worker disables an endpoint that
    /// has been failing for long enough.
    pub failing_since: Option<DateTimeUtc>,
    /// The subject (`sub`) of the admin who created it.
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
