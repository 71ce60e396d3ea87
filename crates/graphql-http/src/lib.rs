//! GraphQL over HTTP for both licensedot services: a schema served as the
//! GraphQL-over-HTTP spec has it, within limits, knowing nothing of what the schema is about.
//!
//! A service builds a [`Runtime`] from its schema builder and its [`LimitsConfig`], and its
//! `/graphql` handler calls [`Runtime::serve`] with what it knows of the caller. The runtime:
//!
//! - reads the request (`read`, `get_request`): GET's query string, POST's JSON body or batch,
//!   bounded in size and time;
//! - refuses what it must before the schema runs (`prepare`): persisted queries (`persisted`:
//!   APQ and the safelist), parsing through a cache of parsed documents (`documents`), the
//!   nesting bound, the operation's selection, required variables, GET-only-queries, root
//!   fields and aliases (`document`, `variables`); the operation's estimated cost and the
//!   schema fields it selects, from the schema's own `@cost`/`@listSize` (`model`,
//!   `analysis`); then depth from validation, and the cost limit (`checks`);
//! - takes a concurrency permit and keeps the deadline (`admission`, shared with other routes
//!   that do as much work);
//! - executes, answering failed fields with `null` per the spec and maps in selection order
//!   (`field_errors`, `selection_order`), every error with its code (`execute`);
//! - shapes the answer: status per media type, batches, the bound on its size (`answer`),
//!   and its cache hints (`caching`).
//!
//! Each operation runs in a span named and described as OpenTelemetry's GraphQL conventions
//! have it (`telemetry`, with the document `sanitize`d), and a service's metrics hear of all
//! this through an [`Observer`].

mod admission;
mod analysis;
mod answer;
mod caching;
mod checks;
mod config;
mod document;
mod documents;
mod execute;
mod field_errors;
mod get_request;
mod model;
mod observer;
mod persisted;
mod prepare;
mod read;
mod sanitize;
mod selection_order;
mod serve;
mod telemetry;
mod variables;

pub use admission::Admission;
pub use analysis::{MUTATION_COST, UNSIZED_LIST};
pub use caching::Caching;
pub use config::{ConfigError, LimitsConfig, PersistedQueriesConfig, SafelistError};
pub use model::{FieldCoordinate, ModelError, SchemaModel};
pub use observer::{Executed, Observer, Unobserved};
pub use sanitize::MAX_DOCUMENT_BYTES;
pub use telemetry::MAX_NAME_BYTES;

pub use prepare::MAX_NESTING;
pub use serve::{Admit, Decorate, Runtime, StartError};
