//! The webhooks' tables: endpoints, the outbox of events and their deliveries. The statements
//! only; the rules around them (signing, retries, address checks, the scheduler's clock) live
//! in the `webhooks` crate, which calls these functions.
//!
//! - [`outbox`]: writes an event and one delivery per subscribed endpoint, in the caller's
//!   transaction (the change that caused it), or once per dedupe key (the scheduler);
//! - [`payload`]: the JSON each event type carries;
//! - [`endpoints`]: the admin's subscriptions;
//! - [`deliveries`]: claiming due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL), recording
//!   attempts, listing them, the queue's depth, retention;
//! - [`schedule`]: which licenses are due a time-based event.

pub mod deliveries;
pub mod endpoints;
pub mod outbox;
pub mod payload;
pub mod schedule;

pub use entity::webhook_event::EventType;
