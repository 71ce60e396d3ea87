//! What the runtime tells a service's metrics. Each service implements what it counts; every
//! method has an empty default, so a service without metrics passes [`Unobserved`].

use std::time::Duration;

use error_catalogue::Code;

/// Receives the runtime's events; called on the request's task, so implementations only
/// count (no I/O).
pub trait Observer: Send + Sync {
    /// An operation is about to run (after the checks that need no schema).
    fn operation(&self, _request: &async_graphql::Request) {}

    /// An operation ran (or was refused before it could): its name (the selected one, else
    /// the requested one), how long it took and the codes of its errors.
    fn executed(&self, _operation: Option<&str>, _elapsed: Duration, _codes: &[Code]) {}

    /// A request was refused as a whole with `code` (406, 413, 503, 504, ...).
    fn refused(&self, _code: Code) {}

    /// A request was refused because every concurrency permit was taken.
    fn shed(&self) {}

    /// `/graphql` answered with `status`.
    fn answered(&self, _status: u16) {}
}

/// No metrics.
pub struct Unobserved;

impl Observer for Unobserved {}
