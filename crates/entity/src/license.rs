//! A license as issued: who it was for, on which plan, for how many users, for which dates.

use sea_orm::entity::prelude::*;

/// The subscription plan written into the license.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Plan {
    #[sea_orm(string_value = "starter")]
    Starter,
    #[sea_orm(string_value = "premium")]
    Premium,
    #[sea_orm(string_value = "ultimate")]
    Ultimate,
}

/// How the license reaches the customer's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LicenseType {
    #[sea_orm(string_value = "legacy_license")]
    LegacyLicense,
    #[sea_orm(string_value = "online_cloud")]
    OnlineCloud,
    #[sea_orm(string_value = "offline_cloud")]
    OfflineCloud,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "licenses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: i64,
    pub licensee_name: String,
    pub licensee_email: String,
    pub licensee_company: String,
    pub plan: Plan,
    pub users_count: i32,
    pub previous_users_count: Option<i32>,
    pub trueup_quantity: i32,
    pub trial: bool,
    pub issued_at: DateTimeUtc,
    pub starts_at: Date,
    /// `None` means the license never expires.
    pub expires_at: Option<Date>,
    pub license_type: LicenseType,
    pub zuora_subscription_id: Option<String>,
    pub zuora_subscription_name: Option<String>,
    pub license_md5: String,
    #[sea_orm(unique)]
    pub license_sha256: String,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Bumped by every change made through licensedot: a writer says which version it saw, and
    /// a change to any other version is refused (optimistic concurrency).
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::ContactId",
        to = "super::contact::Column::Id"
    )]
    Contact,
}

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl Related<super::contact::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contact.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
