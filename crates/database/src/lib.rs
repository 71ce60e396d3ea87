//! What the gateway and the version service do alike with their database connections: count
//! the SQL statements a connection runs, keep passwords out of what they log, and check pooled
//! connections without a round trip per statement.

mod pool;
mod redact;
mod statements;

pub use pool::{PING_AFTER_IDLE, ping_only_after_idle};
pub use redact::redact_url;
pub use statements::StatementCounter;
