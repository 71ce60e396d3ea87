//! The error catalogue of both licensedot services (the gateway and the version service):
//!
//! - [`Code`]: every `extensions.code` either service answers with, in one enum;
//! - [`Media`] and [`negotiate`]: the one reading of `Accept` (GraphQL over HTTP);
//! - [`graphql`]: codes on async-graphql's errors, attached where they are raised, and the
//!   extension that codes the request errors async-graphql raises itself;
//! - [`Refusal`]: a request refused with a status, a code and a message, answered as a
//!   GraphQL-shaped body (`{"errors": [{"message", "extensions": {"code"}}]}`) in the
//!   negotiated media type; [`respond`] writes any other response body the same way.
//!
//! Nothing else builds an error body, so every error of both services has the same shape and
//! a code from this list.

mod code;
pub mod graphql;
mod media;
mod refusal;

pub use code::Code;

/// The header that carries a request's id: in, out, in error bodies' messages, and on to the
/// version service.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub use media::{GRAPHQL_RESPONSE_JSON, Media, accepts_html, negotiate};
pub use refusal::{ErrorBody, Refusal, error_body, respond};
