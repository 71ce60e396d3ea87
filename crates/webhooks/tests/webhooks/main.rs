//! The webhooks' statements against real databases (SQLite, and PostgreSQL with
//! `TEST_DATABASE_URL`): claiming, leases, order per endpoint, the scheduler's windows and
//! dedupe keys, retention. The worker and the scheduler end to end are in the e2e tests
//! (`tests/tests/e2e/webhooks`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod queue;
mod schedule;
mod support;
