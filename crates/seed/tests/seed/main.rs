//! The seed's tests, one binary: fresh, migrated databases per test (one binary links the crate
//! once instead of once per file).
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod customer_with_licenses;
mod demo_story;
mod determinism;
mod sanity;
