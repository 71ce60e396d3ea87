//! sea-orm entities of both databases, and the rules the two services share about them: plain
//! data, no GraphQL and no HTTP.
//!
//! One module per table. The license database: `customer`, `contact`, `license`, `hostname`,
//! `license_hostname`, `add_on`, `license_add_on`, and the webhooks' `webhook_endpoint`,
//! `webhook_event`, `webhook_delivery` (the `licenses` crate is the only place that queries
//! them). The version database: `host`, `usage_ping` (queried only by the version
//! service's `store`). The seed writes both through these same entities. Shared rules:
//! [`hostname::normalise`] (the join key between the services) and [`usage_ping::history`]
//! (`usagePings(last:)` in both subgraphs).

pub mod add_on;
pub mod audit_event;
pub mod contact;
pub mod customer;
pub mod host;
pub mod hostname;
pub mod idempotency_key;
pub mod installation;
pub mod license;
pub mod license_add_on;
pub mod license_hostname;
pub mod usage_ping;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;

pub use license::{LicenseType, Plan};
