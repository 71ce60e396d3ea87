//! What the gateway and the version service do alike with their database connections: count
//! the SQL statements a connection runs, and keep passwords out of what they log.

mod redact;
mod statements;

pub use redact::redact_url;
pub use statements::StatementCounter;
