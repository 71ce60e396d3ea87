//! The `usage_pings` table: every ping as sent (`payload`, stored once), with the fields the
//! graph shows extracted beside it. The usage counters stay in the payload.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_pings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub host_id: i64,
    pub uuid: String,
    pub hostname: String,
    pub recorded_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub version: Option<String>,
    pub edition: Option<String>,
    pub installation_type: Option<String>,
    pub active_user_count: Option<i64>,
    pub historical_max_users: Option<i64>,
    pub license_id: Option<i64>,
    pub license_md5: Option<String>,
    pub license_sha256: Option<String>,
    pub license_user_count: Option<i64>,
    pub license_plan: Option<String>,
    pub license_trial: Option<bool>,
    pub license_starts_at: Option<Date>,
    pub license_expires_at: Option<Date>,
    pub license_subscription_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
