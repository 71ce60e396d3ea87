//! The version database's `usage_pings` table: every ping as cleaned at ingestion (`payload`,
//! stored once: the fields the graph reads and the numeric usage counters), with the fields the
//! graph shows extracted beside it. The usage counters stay in the payload.

use sea_orm::entity::prelude::*;

/// Declares one shape of a ping row: the columns a ping gives about itself, listed here once,
/// between the columns the shape adds before and after them. Every shape below is checked
/// against the table's columns by its sea-orm derive, so a column added here reaches all three.
macro_rules! ping_row {
    ($(#[$attr:meta])* $name:ident { $($before:tt)* } { $($after:tt)* }) => {
        $(#[$attr])*
        pub struct $name {
            $($before)*
            pub uuid: String,
            /// Normalised (trimmed, lower case, no trailing dot): the join key with the
            /// license database's hostnames.
            pub hostname: String,
            pub recorded_at: DateTimeUtc,
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
            $($after)*
        }
    };
}

ping_row! {
    /// A stored ping.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_pings")]
    Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub host_id: i64,
        pub received_at: DateTimeUtc,
        /// Whether its license digest was found in the license database (decided at
        /// ingestion, or later by the version service's sweep while `Unchecked`).
        pub verification: Verification,
        /// The license its digest belongs to, when `Verified`.
        pub verified_license_id: Option<i64>,
    } {
        #[sea_orm(column_type = "Text")]
        pub payload: String,
    }
}

ping_row! {
    /// A validated ping, ready to store: what the ping itself gives. The store adds its host,
    /// the time it was received and its id.
    #[derive(Clone, Debug, PartialEq, DeriveIntoActiveModel)]
    #[sea_orm(active_model = "ActiveModel")]
    NewPing {} {
        /// The ping as cleaned at ingestion (`version_service::ingest::parse_ping`); the usage
        /// counters are read from it when asked for.
        pub payload: String,
    }
}

ping_row! {
    /// A stored ping without its payload: what the graph shows of it. The counters, which live
    /// in the (large) payload, are read separately and only when asked for.
    #[derive(Clone, Debug, PartialEq, DerivePartialModel)]
    #[sea_orm(entity = "Entity")]
    Summary {
        pub id: i64,
        pub host_id: i64,
        pub received_at: DateTimeUtc,
        pub verification: Verification,
        pub verified_license_id: Option<i64>,
    } {}
}

/// What the license database says of the license a ping carries (issue 24). Only a `Verified`
/// ping proves which license its server runs; the others are stored and shown, marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Verification {
    /// Its digest (sha256, else md5) is a license's, and the license id it names, if any, is
    /// that license's.
    #[sea_orm(string_value = "verified")]
    Verified,
    /// It sends a digest that no license has, or a license id that is not its digest's.
    #[sea_orm(string_value = "digest_mismatch")]
    DigestMismatch,
    /// It names a license only by id: no proof at all.
    #[sea_orm(string_value = "id_only")]
    IdOnly,
    /// It carries no license (the free edition).
    #[sea_orm(string_value = "no_license")]
    NoLicense,
    /// Not checked yet: no license database is configured, or it did not answer.
    #[sea_orm(string_value = "unchecked")]
    Unchecked,
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
