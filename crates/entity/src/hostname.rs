//! A server name a license is installed on, stored normalised (lower case, no trailing dot).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hostnames")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The one spelling of a hostname that is stored and looked up: trimmed, lower case, without
/// the trailing dot of a fully qualified name.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_lowercase()
}
