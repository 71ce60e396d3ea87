//! The migrations' tests, one binary: each on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL, over a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod lookup_indexes;
mod search_documents;
mod verified_usage;
mod webhooks;
