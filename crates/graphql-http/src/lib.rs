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
//!   fields and aliases (`document`, `variables`); then depth and complexity from validation
//!   (`checks`);
//! - takes a concurrency permit and keeps the deadline (`admission`, shared with other routes
//!   that do as much work);
//! - executes, answering failed fields with `null` per the spec and maps in selection order
//!   (`field_errors`, `selection_order`), every error with its code (`execute`);
//! - shapes the answer: status per media type, batches, the bound on its size (`answer`).
//!
//! A service's metrics hear of all this through an [`Observer`].

mod admission;
mod answer;
mod checks;
mod config;
mod document;
mod documents;
mod execute;
mod field_errors;
mod get_request;
mod observer;
mod persisted;
mod prepare;
mod read;
mod selection_order;
mod serve;
mod variables;

pub use admission::Admission;
pub use config::{ConfigError, LimitsConfig, PersistedQueriesConfig, SafelistError};
pub use observer::{Observer, Unobserved};

pub use prepare::MAX_NESTING;
pub use serve::{Admit, Decorate, Runtime, StartError};
