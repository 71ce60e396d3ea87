//! One audited change to a license: who made it (as their token said), when, under which
//! request, what changed and why. Written in the same transaction as the change; never updated.

use sea_orm::entity::prelude::*;

/// What an audit event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Action {
    /// The contact a license is sent to (its owner) was changed.
    #[sea_orm(string_value = "license_contact_changed")]
    LicenseContactChanged,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub license_id: i64,
    /// The license's customer at the time, so scoped and filtered reads need no join.
    pub customer_id: i64,
    pub occurred_at: DateTimeUtc,
    pub action: Action,
    /// The token's `sub`.
    pub actor_subject: String,
    /// The token's e-mail claim, when it had one.
    pub actor_email: Option<String>,
    /// The role that allowed the change (`support` or `admin`).
    pub actor_role: String,
    /// The `x-request-id` of the HTTP request that made the change.
    pub request_id: String,
    pub old_contact_id: i64,
    /// The old contact's name and e-mail as they were at the change.
    pub old_contact_name: String,
    pub old_contact_email: String,
    pub new_contact_id: i64,
    pub new_contact_name: String,
    pub new_contact_email: String,
    pub reason: String,
    /// The license's version after the change.
    pub license_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
