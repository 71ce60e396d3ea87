//! The errors a GraphQL caller can see, each with its `extensions.code` from the catalogue
//! (`error_catalogue::Code`), attached where the error is raised: [`coded`] for request
//! errors, [`code_error`] and [`ApiError`] for field errors; [`code_of`] reads it back.

use std::sync::Arc;

use async_graphql::{ErrorExtensions, FieldError};
use error_catalogue::Code;

pub use error_catalogue::graphql::code_error;

/// An error in a GraphQL response. Internal causes are logged, never shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// An argument the caller can fix (bad id, bad filter, ...).
    #[error("{0}")]
    BadUserInput(String),
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
    /// What the license layer tells a caller of its failure (`licenses::Error::public`: a bad
    /// cursor or page size, a bad argument, or an internal error whose cause it logged).
    #[error("{message}")]
    Licenses { code: Code, message: String },
}

impl ApiError {
    /// Something failed on our side; it was logged where it happened.
    pub fn internal() -> Self {
        ApiError::Licenses {
            code: Code::InternalServerError,
            message: licenses::error::INTERNAL.to_owned(),
        }
    }

    /// Its code.
    pub fn code(&self) -> Code {
        match self {
            ApiError::BadUserInput(_) => Code::BadUserInput,
            ApiError::Forbidden(_) => Code::Forbidden,
            ApiError::Conflict { .. } => Code::Conflict,
            ApiError::Licenses { code, .. } => *code,
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
        let (code, message) = error.public();
        ApiError::Licenses { code, message }
    }
}

impl From<Arc<licenses::Error>> for ApiError {
    fn from(error: Arc<licenses::Error>) -> Self {
        let (code, message) = error.public();
        ApiError::Licenses { code, message }
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
