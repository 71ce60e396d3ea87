//! Signed webhooks end to end: real gateways on port 0 over a fresh database (SQLite, and
//! PostgreSQL with `TEST_DATABASE_URL`), a real receiver on loopback (allowed by the
//! development setting), the webhooks' clock moved by the test, and every signature checked
//! with the Standard Webhooks reference library (the `standardwebhooks` npm package, pinned in
//! `tests/webhooks/package-lock.json`).

mod admin;
mod delivery;
mod events;
mod harness;
mod page;
mod receiver;
mod replicas;
