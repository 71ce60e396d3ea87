//! The version database's `usage_pings` table: every ping as sent (`payload`, stored once),
//! with the fields the graph shows extracted beside it. The usage counters stay in the payload.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_pings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub host_id: i64,
    pub uuid: String,
    pub hostname: String,
    pub recorded_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub version: Option<String>,
    pub edition: Option<String>,
    pub installation_type: Option<String>,
    pub active_user_count: Option<i64>,
    pub historical_max_users: Option<i64>,
    pub license_id: Option<i64>,
    pub license_md5: Option<String>,
    pub license_sha256: Option<String>,
    pub license_user_count: Option<i64>,
    pub license_plan: Option<String>,
    pub license_trial: Option<bool>,
    pub license_starts_at: Option<Date>,
    pub license_expires_at: Option<Date>,
    pub license_subscription_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How many pings `Hostname.usagePings(last:)` returns: the one rule of both subgraphs (the
/// gateway checks the argument before it asks, the version service again when asked directly).
pub mod history {
    use std::ops::RangeInclusive;

    /// Pings returned when `last` is not given.
    pub const DEFAULT: u32 = 10;
    /// What `last` may be: at least one ping, at most 100 (what one answer may cost is
    /// bounded by it; see docs/operations.md).
    pub const RANGE: RangeInclusive<u32> = 1..=100;

    /// `last` defaulted and checked, or the message that says what is allowed.
    pub fn length(last: Option<i32>) -> Result<u32, String> {
        let Some(last) = last else {
            return Ok(DEFAULT);
        };
        match u32::try_from(last) {
            Ok(n) if RANGE.contains(&n) => Ok(n),
            _ => Err(format!(
                "`last` must be between {} and {}, got {last}",
                RANGE.start(),
                RANGE.end()
            )),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn defaults_and_bounds() {
            assert_eq!(length(None), Ok(10));
            assert_eq!(length(Some(1)), Ok(1));
            assert_eq!(length(Some(100)), Ok(100));
            for refused in [0, -1, 101, i32::MIN] {
                let message = length(Some(refused)).unwrap_err();
                assert!(message.contains("between 1 and 100"), "{message}");
            }
        }
    }
}
