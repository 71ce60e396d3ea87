//! The add-ons a license carries, with their quantity.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "license_add_ons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub license_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub add_on_code: String,
    pub quantity: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
