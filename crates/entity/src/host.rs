//! The version database's `hosts` table: one row per server that ever pinged, keyed by
//! normalised hostname, with its newest ping (a read model kept at ingestion).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub hostname: String,
    pub uuid: String,
    pub first_seen_at: DateTimeUtc,
    /// When its newest ping was recorded.
    pub last_ping_at: DateTimeUtc,
    /// Its newest ping (by `recorded_at`, then id), or the newest ping of the installation
    /// that holds the name when one does; null only while the first ping's transaction is
    /// under way.
    pub latest_ping_id: Option<i64>,
    /// The installation that holds the name (see `installation`): the first that sent a
    /// verified ping, until another takes it over. Null while none has verified a license.
    pub holder_installation_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
