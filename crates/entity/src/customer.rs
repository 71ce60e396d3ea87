//! A customer or prospect: the account licenses are issued to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[sea_orm(unique)]
    pub salesforce_account_id: Option<String>,
    pub zuora_account_id: Option<String>,
    pub country: Option<String>,
    pub created_at: DateTimeUtc,
}

/// A customer's contacts and licenses point at it (`belongs_to` on their side); nothing here
/// points back, so the entities depend on one another in one direction only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
