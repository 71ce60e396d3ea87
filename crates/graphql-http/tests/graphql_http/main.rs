//! The runtime served over a small schema of the tests' own, as a service would serve it.
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod telemetry;
