//! The GraphQL face of license filters and enums.

use async_graphql::{Enum, EnumType, InputObject};
use chrono::{DateTime, Utc};
use entity::license::{LicenseType as DbLicenseType, Plan as DbPlan};

/// The subscription plan of a license.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The Starter (Premium-lite) tier.
    Starter,
    /// The Premium tier.
    Premium,
    /// The Ultimate tier; every trial is Ultimate.
    Ultimate,
}

impl From<DbPlan> for Plan {
    fn from(plan: DbPlan) -> Self {
        match plan {
            DbPlan::Starter => Plan::Starter,
            DbPlan::Premium => Plan::Premium,
            DbPlan::Ultimate => Plan::Ultimate,
        }
    }
}

impl From<Plan> for DbPlan {
    fn from(plan: Plan) -> Self {
        match plan {
            Plan::Starter => DbPlan::Starter,
            Plan::Premium => DbPlan::Premium,
            Plan::Ultimate => DbPlan::Ultimate,
        }
    }
}

/// How a license reaches the customer's server.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LicenseType {
    /// A license file uploaded by an administrator.
    LegacyLicense,
    /// Activated online with an activation code (Cloud Licensing), synchronised daily.
    OnlineCloud,
    /// Cloud Licensing for offline servers, synchronised by file.
    OfflineCloud,
}

impl From<DbLicenseType> for LicenseType {
    fn from(kind: DbLicenseType) -> Self {
        match kind {
            DbLicenseType::LegacyLicense => LicenseType::LegacyLicense,
            DbLicenseType::OnlineCloud => LicenseType::OnlineCloud,
            DbLicenseType::OfflineCloud => LicenseType::OfflineCloud,
        }
    }
}

/// Where a license stands today, from its start and expiry dates.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LicenseStatus {
    /// Started and not yet expired.
    Active,
    /// Its expiry date has come (a license expiring today has expired).
    Expired,
    /// Its start date is still to come.
    NotStarted,
}

impl From<licenses::LicenseStatus> for LicenseStatus {
    fn from(status: licenses::LicenseStatus) -> Self {
        match status {
            licenses::LicenseStatus::Active => LicenseStatus::Active,
            licenses::LicenseStatus::Expired => LicenseStatus::Expired,
            licenses::LicenseStatus::NotStarted => LicenseStatus::NotStarted,
        }
    }
}

/// A license status as callers read it, in GraphQL and in the CSV exports alike: the name of
/// this enum's item (`ACTIVE`, `EXPIRED`, `NOT_STARTED`), so the wire names have one home.
pub fn status_name(status: licenses::LicenseStatus) -> &'static str {
    let status = LicenseStatus::from(status);
    LicenseStatus::items()
        .iter()
        .find(|item| item.value == status)
        .map_or("UNKNOWN", |item| item.name)
}

impl From<LicenseStatus> for licenses::LicenseStatus {
    fn from(status: LicenseStatus) -> Self {
        match status {
            LicenseStatus::Active => licenses::LicenseStatus::Active,
            LicenseStatus::Expired => licenses::LicenseStatus::Expired,
            LicenseStatus::NotStarted => licenses::LicenseStatus::NotStarted,
        }
    }
}

/// Narrows a list of licenses. Every field is optional; the fields given all apply.
#[derive(InputObject, Clone, Debug, Default)]
pub struct LicenseFilter {
    /// Only licenses on this plan.
    pub plan: Option<Plan>,
    /// `true` for trials only, `false` for paid licenses only.
    pub trial: Option<bool>,
    /// Only licenses with this status today.
    pub status: Option<LicenseStatus>,
    /// Only active licenses that expire within this many days from today (0 to 36500).
    pub expiring_within_days: Option<i32>,
    /// Only licenses issued at or after this instant (RFC 3339).
    pub issued_after: Option<DateTime<Utc>>,
    /// Only licenses issued before this instant (RFC 3339).
    pub issued_before: Option<DateTime<Utc>>,
}

impl LicenseFilter {
    /// The service-layer filter, checking ranges the type system cannot.
    pub fn to_service(&self) -> Result<licenses::LicenseFilter, crate::errors::ApiError> {
        let expiring_within_days = match self.expiring_within_days {
            None => None,
            Some(days @ 0..=36_500) => Some(days.unsigned_abs()),
            Some(days) => {
                return Err(crate::errors::ApiError::BadUserInput(format!(
                    "`expiringWithinDays` must be between 0 and 36500, got {days}"
                )));
            }
        };
        Ok(licenses::LicenseFilter {
            customer_id: None,
            plan: self.plan.map(Into::into),
            trial: self.trial,
            status: self.status.map(Into::into),
            expiring_within_days,
            issued_after: self.issued_after,
            issued_before: self.issued_before,
        })
    }
}
