//! Queries and rules over the license database: search, lookups by what a ticket holds, status, batch loads by id, the one
//! write (a license's contact change with its audit trail, and the webhook event it causes),
//! the webhooks' tables, and what one caller sees of it ([`View`]: scope, masking of personal
//! data, "today").
//!
//! This crate is the only place that talks SQL to the license database. It knows nothing of
//! HTTP or GraphQL: every function is a plain `async fn(db, ...)` that the gateway's resolvers
//! and loaders call. Every query takes a [`Scope`], so a customer-scoped caller can never reach
//! another customer's rows, whatever entry point it uses.

pub mod audit;
pub mod audit_record;
pub mod contact_change;
pub mod contacts;
pub mod customers;
pub mod db;
pub mod digests;
pub mod error;
pub mod filter;
pub mod hostnames;
pub mod issued;
pub mod lookup;
pub mod page;
pub mod scope;
pub mod search;
pub mod status;
pub mod total;
pub mod trials;
pub mod view;
pub mod webhooks;

pub use database::StatementCounter;
pub use db::connect;
pub use error::Error;
pub use filter::LicenseFilter;
pub use page::{Cursor, Page, PageRequest};
pub use scope::Scope;
pub use search::{Fields as SearchFields, Search};
pub use status::LicenseStatus;
pub use total::Total;
pub use view::View;
