//! A license's status, computed from its dates against today; and which license is "the" active
//! one of a customer.

use chrono::NaiveDate;
use entity::license;
use sea_orm::ColumnTrait;
use sea_orm::sea_query::Condition;

/// Where a license stands today. A license is valid from `starts_at` up to, not including,
/// `expires_at` (a license that expires today has expired), and forever when it has no expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LicenseStatus {
    /// Started and not expired.
    Active,
    /// Its expiry date has come.
    Expired,
    /// Its start date is still to come.
    NotStarted,
}

/// The status of a license with these dates on `today`.
pub fn status(
    starts_at: NaiveDate,
    expires_at: Option<NaiveDate>,
    today: NaiveDate,
) -> LicenseStatus {
    match expires_at {
        Some(expiry) if expiry <= today => LicenseStatus::Expired,
        _ if starts_at > today => LicenseStatus::NotStarted,
        _ => LicenseStatus::Active,
    }
}

/// Whole days from `today` to the expiry date (negative once expired); `None` without expiry.
pub fn days_until_expiry(expires_at: Option<NaiveDate>, today: NaiveDate) -> Option<i64> {
    expires_at.map(|expiry| (expiry - today).num_days())
}

/// The same rule as [`status`], as an SQL condition over the licenses table.
pub fn condition(status: LicenseStatus, today: NaiveDate) -> Condition {
    use license::Column;
    let not_expired = Condition::any()
        .add(Column::ExpiresAt.is_null())
        .add(Column::ExpiresAt.gt(today));
    match status {
        LicenseStatus::Expired => Condition::all().add(Column::ExpiresAt.lte(today)),
        LicenseStatus::NotStarted => Condition::all()
            .add(Column::StartsAt.gt(today))
            .add(not_expired),
        LicenseStatus::Active => Condition::all()
            .add(Column::StartsAt.lte(today))
            .add(not_expired),
    }
}

/// A customer's active license: the active paid license issued last, else the active trial
/// issued last. Sales asks "what are they on now?", and a trial only answers when nothing paid is.
pub fn active_license(licenses: &[license::Model], today: NaiveDate) -> Option<&license::Model> {
    let active =
        |l: &&license::Model| status(l.starts_at, l.expires_at, today) == LicenseStatus::Active;
    let latest = |trial: bool| {
        licenses
            .iter()
            .filter(active)
            .filter(|l| l.trial == trial)
            .max_by_key(|l| (l.issued_at, l.id))
    };
    latest(false).or_else(|| latest(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn status_follows_the_dates() {
        let today = date("2026-11-27");
        assert_eq!(
            status(date("2026-01-01"), Some(date("2027-01-01")), today),
            LicenseStatus::Active
        );
        assert_eq!(
            status(date("2026-01-01"), None, today),
            LicenseStatus::Active
        );
        assert_eq!(
            status(date("2025-01-01"), Some(today), today),
            LicenseStatus::Expired
        );
        assert_eq!(
            status(date("2026-12-01"), Some(date("2027-12-01")), today),
            LicenseStatus::NotStarted
        );
        assert_eq!(
            status(today, Some(date("2026-11-28")), today),
            LicenseStatus::Active
        );
    }

    #[test]
    fn days_until_expiry_counts_whole_days() {
        let today = date("2026-11-27");
        assert_eq!(days_until_expiry(Some(date("2026-12-07")), today), Some(10));
        assert_eq!(days_until_expiry(Some(date("2026-11-20")), today), Some(-7));
        assert_eq!(days_until_expiry(None, today), None);
    }
}
