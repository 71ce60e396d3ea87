//! The end-to-end tests, one binary: the real servers on port 0 against real databases. One
//! binary links the whole workspace once instead of once per file.
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod auth;
mod browser;
mod charts;
mod h2;
mod http;
mod license_graph;
mod lookup;
mod owner_change;
mod reports;
mod server_health;
mod sign_in_hardening;
mod sso;
mod telemetry;
mod usage;
mod verified_usage;
mod webhooks;
