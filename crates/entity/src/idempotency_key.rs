//! An `Idempotency-Key` (or client mutation id) a caller used, with what it produced: a retry
//! with the same key and the same input gets that result back instead of a second change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Keys are scoped to the caller (the token's `sub`): one caller cannot replay another's.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 (hex) of the request's input: the same key with another input is refused.
    pub fingerprint: String,
    /// The audit event the first request wrote.
    pub audit_event_id: i64,
    pub created_at: DateTimeUtc,
    /// After this the key is forgotten (and may be used again).
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
