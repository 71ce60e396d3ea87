//! Filters over licenses, applied in SQL for searches and in memory for a customer's list, with
//! one meaning for both.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::license::{self, Plan};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::Condition;

use crate::Error;
use crate::status::{self, LicenseStatus};

/// What a license list can be narrowed to. Every field is optional; set fields all apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenseFilter {
    /// Only licenses of this customer.
    pub customer_id: Option<i64>,
    /// Only this plan.
    pub plan: Option<Plan>,
    /// Only trials (`true`) or only paid licenses (`false`).
    pub trial: Option<bool>,
    /// Only licenses with this status today.
    pub status: Option<LicenseStatus>,
    /// Only active licenses that expire within this many days from today.
    pub expiring_within_days: Option<u32>,
    /// Only licenses issued at or after this instant.
    pub issued_after: Option<DateTime<Utc>>,
    /// Only licenses issued before this instant.
    pub issued_before: Option<DateTime<Utc>>,
}

impl LicenseFilter {
    /// Rejects filters that can match nothing because they contradict themselves.
    pub fn validate(&self) -> Result<(), Error> {
        if let (Some(after), Some(before)) = (self.issued_after, self.issued_before)
            && after >= before
        {
            return Err(Error::InvalidArgument(
                "`issuedAfter` must be earlier than `issuedBefore`".to_owned(),
            ));
        }
        Ok(())
    }

    fn expiry_horizon(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.expiring_within_days.map(|days| {
            today
                .checked_add_days(Days::new(u64::from(days)))
                .unwrap_or(NaiveDate::MAX)
        })
    }

    /// The filter as an SQL condition over the licenses table.
    pub fn condition(&self, today: NaiveDate) -> Condition {
        use license::Column;
        let mut condition = Condition::all();
        if let Some(customer_id) = self.customer_id {
            condition = condition.add(Column::CustomerId.eq(customer_id));
        }
        if let Some(plan) = self.plan {
            condition = condition.add(Column::Plan.eq(plan));
        }
        if let Some(trial) = self.trial {
            condition = condition.add(Column::Trial.eq(trial));
        }
        if let Some(wanted) = self.status {
            condition = condition.add(status::condition(wanted, today));
        }
        if let Some(horizon) = self.expiry_horizon(today) {
            condition = condition
                .add(status::condition(LicenseStatus::Active, today))
                .add(Column::ExpiresAt.lte(horizon));
        }
        if let Some(after) = self.issued_after {
            condition = condition.add(Column::IssuedAt.gte(after));
        }
        if let Some(before) = self.issued_before {
            condition = condition.add(Column::IssuedAt.lt(before));
        }
        condition
    }

    /// The same filter, for a license already loaded.
    pub fn matches(&self, license: &license::Model, today: NaiveDate) -> bool {
        let current = status::status(license.starts_at, license.expires_at, today);
        self.customer_id.is_none_or(|id| license.customer_id == id)
            && self.plan.is_none_or(|plan| license.plan == plan)
            && self.trial.is_none_or(|trial| license.trial == trial)
            && self.status.is_none_or(|wanted| current == wanted)
            && self.expiry_horizon(today).is_none_or(|horizon| {
                current == LicenseStatus::Active && license.expires_at.is_some_and(|e| e <= horizon)
            })
            && self
                .issued_after
                .is_none_or(|after| license.issued_at >= after)
            && self
                .issued_before
                .is_none_or(|before| license.issued_at < before)
    }
}
