//! What the runtime tells a service's metrics. Each service implements what it counts; every
//! method has an empty default, so a service without metrics passes [`Unobserved`].

use std::time::Duration;

use error_catalogue::Code;

use crate::model::FieldCoordinate;

/// One operation that ran (or was refused before it could).
#[derive(Debug)]
pub struct Executed<'a> {
    /// The operation's name (the selected one, else the requested one), as the caller wrote
    /// it: free text for a refused request, so never a metric label as it is.
    pub name: Option<&'a str>,
    /// Whether the operation is a registered one: every operation in safelist mode, and one
    /// sent by its APQ hash (or registered with it). Its name is then one the gateway has
    /// seen before, from a bounded set.
    pub registered: bool,
    /// How long it took, from reading to the answer.
    pub elapsed: Duration,
    /// The codes of its errors.
    pub codes: &'a [Code],
    /// The schema fields it selected, each once, as indexes into the list
    /// [`Observer::schema_fields`] was given; empty when it did not run.
    pub fields: &'a [usize],
}

/// Receives the runtime's events; called on the request's task, so implementations only
/// count (no I/O).
pub trait Observer: Send + Sync {
    /// The fields of the schema served, once, when the runtime starts (so that a counter per
    /// field can exist before anyone selects it).
    fn schema_fields(&self, _fields: &[FieldCoordinate]) {}

    /// An operation is about to run (after the checks that need no schema).
    fn operation(&self, _request: &async_graphql::Request) {}

    /// An operation ran, or was refused before it could.
    fn executed(&self, _operation: &Executed<'_>) {}

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
