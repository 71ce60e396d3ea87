//! The HTTP edge both licensedot servers (gateway and version service) share, so that slow
//! clients, restarts and shutdowns are handled the same way on both:
//!
//! - [`serve`]: hyper's server for HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one port,
//!   with header, idle and write timeouts, bounded HTTP/2 streams and header lists, keep-alive
//!   PINGs, a cap on open connections below the process's file limit, and a graceful shutdown
//!   that closes idle and half-sent connections at once and gives in-flight requests a
//!   deadline. No TLS: a TLS terminator in front does that;
//! - [`layers`]: request ids (`x-request-id`), the `request` span, response compression (gzip,
//!   brotli), request bodies in gzip or brotli, the request-body deadline (408) and the panic
//!   guard (a coded 500 naming the request id);
//! - [`Asset`]: static files served precompressed;
//! - [`Readiness`]: the one `/ready` contract.

mod assets;
mod body;
mod config;
mod connection;
mod connections;
mod encoding;
mod layers;
mod progress;
mod protocol;
mod ready;
mod server;

pub use assets::{Asset, Coding};
pub use body::is_length_limit;
pub use config::{ConfigError, ServerConfig};
pub use connections::{connection_cap, open_file_limit};
pub use encoding::Precompressed;
pub use layers::{
    CallerRequestId, REQUEST_ID_HEADER, RequestId, layers, own_request_ids, request_id,
};
pub use ready::{PROBE_TIMEOUT, Readiness, probe};
pub use server::serve;
