//! sea-orm entities of the license database: plain data, no GraphQL and no HTTP.
//!
//! One module per table of the license database. The GraphQL layer maps these to its own types;
//! the `licenses` crate is the only place that queries them.

pub mod add_on;
pub mod audit_event;
pub mod contact;
pub mod customer;
pub mod hostname;
pub mod idempotency_key;
pub mod license;
pub mod license_add_on;
pub mod license_hostname;

pub use license::{LicenseType, Plan};
