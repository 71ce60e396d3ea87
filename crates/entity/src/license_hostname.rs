//! Which license is installed on which hostname, and since when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "license_hostnames")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub license_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hostname_id: i64,
    pub first_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::license::Entity",
        from = "Column::LicenseId",
        to = "super::license::Column::Id"
    )]
    License,
    #[sea_orm(
        belongs_to = "super::hostname::Entity",
        from = "Column::HostnameId",
        to = "super::hostname::Column::Id"
    )]
    Hostname,
}

impl Related<super::hostname::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Hostname.def()
    }
}

impl Related<super::license::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::License.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
