//! The errors of the license service layer, and what a caller is told of each.

use error_catalogue::Code;

/// What a caller is told of a failure on our side (the cause is in the log).
pub const INTERNAL: &str =
    "internal error: the license database could not answer; see the gateway log";

/// What can go wrong answering a question about licenses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or could not be reached; details go to the log, not to callers.
    #[error("license database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A pagination cursor that this service did not hand out.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A page size outside the allowed range.
    #[error("`first` must be between 0 and {max}, got {got}")]
    PageTooLarge { max: u64, got: i64 },
    /// Arguments that contradict each other or make no sense.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// What the caller is told: the code and a message that shows nothing of our side. A
    /// database failure is logged here, once, with its cause.
    pub fn public(&self) -> (Code, String) {
        match self {
            Error::Database(error) => {
                tracing::error!(%error, "license database query failed");
                (Code::InternalServerError, INTERNAL.to_owned())
            }
            Error::InvalidCursor(message) => (Code::InvalidCursor, message.clone()),
            error @ Error::PageTooLarge { .. } => (Code::PageTooLarge, error.to_string()),
            Error::InvalidArgument(message) => (Code::BadUserInput, message.clone()),
        }
    }
}
