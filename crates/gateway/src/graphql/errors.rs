//! The errors a GraphQL caller can see, each with its `extensions.code` from the catalogue
//! (`error_catalogue::Code`), attached where the error is raised: [`coded`] for request
//! errors, [`code_error`] and [`ApiError`] for field errors; [`code_of`] reads it back.

use std::sync::Arc;

use async_graphql::{ErrorExtensions, FieldError};
use error_catalogue::Code;
pub use error_catalogue::graphql::{code_error, code_of, coded};

/// An error in a GraphQL response. Internal causes are logged, never shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// An argument the caller can fix (bad id, bad filter, ...).
    #[error("{0}")]
    BadUserInput(String),
    /// A pagination cursor this API did not hand out.
    #[error("{0}")]
    InvalidCursor(String),
    /// `first` or `last` beyond the allowed maximum.
    #[error("{0}")]
    PageTooLarge(String),
    /// The caller's role may not do this; nothing was read or written.
    #[error("{0}")]
    Forbidden(String),
    /// The data changed since the caller read it (a stale `expectedVersion`); nothing was
    /// written. `current` is the state now, answered in `extensions.current`.
    #[error("{message}")]
    Conflict {
        message: String,
        current: async_graphql::Value,
    },
    /// Something failed on our side; the details are in the log under the request id.
    #[error("internal error: the license database could not answer; see the gateway log")]
    Internal,
}

impl ApiError {
    /// Its code.
    pub fn code(&self) -> Code {
        match self {
            ApiError::BadUserInput(_) => Code::BadUserInput,
            ApiError::InvalidCursor(_) => Code::InvalidCursor,
            ApiError::PageTooLarge(_) => Code::PageTooLarge,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::Conflict { .. } => Code::Conflict,
            ApiError::Internal => Code::InternalServerError,
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> FieldError {
        let error = code_error(self.to_string(), self.code());
        match self {
            ApiError::Conflict { current, .. } => {
                error.extend_with(|_, extensions| extensions.set("current", current.clone()))
            }
            _ => error,
        }
    }
}

impl From<licenses::Error> for ApiError {
    fn from(error: licenses::Error) -> Self {
        match error {
            licenses::Error::InvalidCursor(message) => ApiError::InvalidCursor(message),
            error @ licenses::Error::PageTooLarge { .. } => {
                ApiError::PageTooLarge(error.to_string())
            }
            licenses::Error::InvalidArgument(message) => ApiError::BadUserInput(message),
            licenses::Error::Database(error) => {
                tracing::error!(%error, "license database query failed");
                ApiError::Internal
            }
        }
    }
}

impl From<Arc<licenses::Error>> for ApiError {
    fn from(error: Arc<licenses::Error>) -> Self {
        match Arc::try_unwrap(error) {
            Ok(error) => error.into(),
            Err(shared) => {
                tracing::error!(error = %shared, "license database batch load failed");
                ApiError::Internal
            }
        }
    }
}

/// Turns any service error into a GraphQL error with its code.
pub fn to_field_error(error: impl Into<ApiError>) -> FieldError {
    error.into().extend()
}

/// Parses a GraphQL `ID` into a database id, with a clear message naming what it is an id of.
pub fn parse_id(id: &async_graphql::ID, what: &str) -> Result<i64, FieldError> {
    id.parse::<i64>().map_err(|_| {
        ApiError::BadUserInput(format!(
            "`{}` is not a valid {what} id: ids are whole numbers",
            id.as_str().chars().take(64).collect::<String>()
        ))
        .extend()
    })
}
