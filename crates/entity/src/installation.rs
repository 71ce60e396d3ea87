//! The version database's `installations` table: one row per (host, uuid), i.e. per server
//! installation reporting under a hostname, kept at ingestion (a read model of the pings).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "installations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub host_id: i64,
    /// The installation's UUID as its pings send it.
    pub uuid: String,
    /// When its first and newest pings were recorded.
    pub first_ping_at: DateTimeUtc,
    pub last_ping_at: DateTimeUtc,
    /// Its newest ping (by `recorded_at`, then id).
    pub latest_ping_id: i64,
    /// Its most recently received verified ping, when it arrived, and the license it proved.
    pub latest_verified_ping_id: Option<i64>,
    pub last_verified_at: Option<DateTimeUtc>,
    pub verified_license_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
