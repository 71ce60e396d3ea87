//! The auth crate's tests, one binary (linked once instead of once per file).
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod jwks_url;
mod tokens;
mod units;
