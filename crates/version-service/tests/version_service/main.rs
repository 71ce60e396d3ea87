//! The version service's tests, one binary: the real server on port 0 over a fresh database per
//! test (one binary links the crate once instead of once per file).
// Helpers and tests alike: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod concurrency;
mod graphql;
mod http;
mod ingest;
