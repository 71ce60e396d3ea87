//! The errors of the license service layer.

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
