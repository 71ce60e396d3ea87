//! An event in the webhook outbox: written in the same transaction as the change that caused
//! it (or by the scheduler, once per `dedupe_key`), then delivered to every endpoint that was
//! subscribed to its type when it was written.

use sea_orm::entity::prelude::*;

/// The kinds of events licensedot sends. The wire name (`license.expiring`) is the event's
/// `type` in the payload and what endpoints subscribe to.
// The names follow the wire names (`license.*`); the `host.*` events of verified usage
// will join them.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
pub enum EventType {
    /// A license expires in at most one of the configured numbers of days (90, 30, 7).
    #[sea_orm(string_value = "license.expiring")]
    LicenseExpiring,
    /// A license expired (its expiry date is today or passed, within the last week).
    #[sea_orm(string_value = "license.expired")]
    LicenseExpired,
    /// A license was sent to another contact (`changeLicenseContact`).
    #[sea_orm(string_value = "license.contact_changed")]
    LicenseContactChanged,
}

impl EventType {
    /// Every event type, in the order they are listed to people.
    pub const ALL: [EventType; 3] = [
        EventType::LicenseExpiring,
        EventType::LicenseExpired,
        EventType::LicenseContactChanged,
    ];

    /// The wire name, e.g. `license.expiring`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LicenseExpiring => "license.expiring",
            EventType::LicenseExpired => "license.expired",
            EventType::LicenseContactChanged => "license.contact_changed",
        }
    }

    /// The type with this wire name.
    pub fn parse(name: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The types of an endpoint's `events` column (comma-separated names); unknown names are
    /// skipped (a type a newer release added and an older one does not know).
    pub fn parse_list(names: &str) -> Vec<EventType> {
        names
            .split(',')
            .filter_map(|n| Self::parse(n.trim()))
            .collect()
    }

    /// `types` as an endpoint's `events` column: sorted, without duplicates.
    pub fn join_list(types: &[EventType]) -> String {
        let mut types = types.to_vec();
        types.sort();
        types.dedup();
        types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The `webhook-id` header: stable across attempts and endpoints, what receivers
    /// deduplicate by.
    #[sea_orm(unique)]
    pub message_id: String,
    pub event_type: EventType,
    pub occurred_at: DateTimeUtc,
    /// The JSON body sent (`{"type", "timestamp", "data"}`).
    pub payload: String,
    /// What makes the event happen once: an audit event's id, or a license, threshold and
    /// expiry date.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_sorted_and_without_duplicates() {
        let joined = EventType::join_list(&[
            EventType::LicenseExpired,
            EventType::LicenseExpiring,
            EventType::LicenseExpired,
        ]);
        assert_eq!(joined, "license.expiring,license.expired");
        assert_eq!(
            EventType::parse_list(&format!("{joined}, host.future_kind")),
            vec![EventType::LicenseExpiring, EventType::LicenseExpired]
        );
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }
}
