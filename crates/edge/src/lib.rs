//! The HTTP edge both licensedot servers (gateway and version service) share, so that slow
//! clients, restarts and shutdowns are handled the same way on both:
//!
//! - [`serve`]: the hyper HTTP/1.1 server with a header-read timeout, a cap on open
//!   connections below the process's file limit, and a graceful shutdown that closes idle and
//!   half-sent connections at once and gives in-flight requests a deadline;
//! - [`layers`]: request ids (`x-request-id`), the `request` span, the request-body deadline
//!   (408 and `Connection: close`) and the panic guard (a coded 500 naming the request id);
//! - [`Readiness`]: the one `/ready` contract.

mod body;
mod config;
mod connections;
mod layers;
mod ready;
mod server;

pub use config::{ConfigError, ServerConfig};
pub use connections::{connection_cap, open_file_limit};
pub use layers::{
    CallerRequestId, REQUEST_ID_HEADER, RequestId, layers, own_request_ids, request_id,
};
pub use ready::{PROBE_TIMEOUT, Readiness, probe};
pub use server::serve;
