//! The crate's one error type; it knows which HTTP status and which code each failure
//! deserves, and answers as the error catalogue's `Refusal` (a GraphQL-shaped body, like every
//! error of both services).
//!
//! Client errors explain themselves (naming the field at fault); server errors answer a generic
//! message with the request id, and their detail goes to the log under the same id.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use error_catalogue::{Code, Refusal};
use sea_orm::DbErr;

use crate::{limits::Scope, request_id};

/// Everything that can go wrong in the version service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database did not answer at start.
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        /// The URL, without credentials.
        url: String,
        /// What the driver said.
        source: DbErr,
    },
    /// Applying the version database migrations failed.
    #[error("cannot migrate the version database: {0}")]
    Migrate(DbErr),
    /// `[version_service.graphql]` is not usable.
    #[error("invalid configuration: {0}")]
    Config(#[from] graphql_http::StartError),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The body is not JSON at all.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is JSON but not a valid usage ping.
    #[error("{0}")]
    InvalidPayload(String),
    /// The body is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body could not be read (too large, aborted, ...).
    #[error("{message}")]
    Body {
        /// Status chosen by axum's rejection (413 for a body over the limit).
        status: StatusCode,
        /// Its explanation.
        message: String,
    },
    /// The sender is over its rate limit.
    #[error("too many usage pings from this {}; retry after {retry_after_secs} s", scope.name())]
    RateLimited {
        /// What the sender was counted by.
        scope: Scope,
        /// Seconds until it may send again.
        retry_after_secs: u64,
    },
    /// The sender has sent its day's bytes of pings.
    #[error(
        "this {} has sent its {budget_bytes} bytes of usage pings for the day; retry after \
         {retry_after_secs} s",
        scope.name()
    )]
    OverBudget {
        /// What the sender was counted by.
        scope: Scope,
        /// The budget, in bytes a day.
        budget_bytes: u64,
        /// Seconds until the ping fits again.
        retry_after_secs: u64,
    },
    /// Too many ingestion requests at once.
    #[error("the service is busy; retry after {retry_after_secs} s")]
    Busy {
        /// Seconds the sender should wait.
        retry_after_secs: u64,
    },
    /// `/graphql` needs a bearer token that was missing or wrong.
    #[error("missing or invalid service token")]
    Unauthorized,
}

impl Error {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::InvalidPayload(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Body { status, .. } => *status,
            Self::RateLimited { .. } | Self::OverBudget { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Connect { .. } | Self::Migrate(_) | Self::Config(_) | Self::Db(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Its code.
    pub fn code(&self) -> Code {
        match self {
            Self::MalformedJson(_) => Code::BadRequest,
            Self::InvalidPayload(_) => Code::InvalidUsagePing,
            Self::UnsupportedMediaType(_) => Code::UnsupportedMediaType,
            Self::Body { status, .. } => match *status {
                StatusCode::PAYLOAD_TOO_LARGE => Code::RequestTooLarge,
                StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
                _ => Code::BadRequest,
            },
            Self::RateLimited { .. } | Self::OverBudget { .. } => Code::RateLimited,
            Self::Busy { .. } => Code::ServiceOverloaded,
            Self::Unauthorized => Code::Unauthenticated,
            Self::Connect { .. } | Self::Migrate(_) | Self::Config(_) | Self::Db(_) => {
                Code::InternalServerError
            }
        }
    }

    /// What the caller may read: the error itself for client errors and load shedding, a
    /// generic sentence for failures of ours (their text can hold SQL, hosts, or paths).
    fn public_message(&self) -> String {
        match self {
            Self::Busy { .. } => self.to_string(),
            _ if self.status().is_server_error() => "internal error".to_owned(),
            _ => self.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            }
            | Self::OverBudget {
                retry_after_secs, ..
            }
            | Self::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let request_id = request_id::current();
        let id = request_id.as_deref().unwrap_or("-");
        if status.is_server_error() && !matches!(self, Self::Busy { .. }) {
            tracing::error!(request_id = id, error = %self, "request failed");
        }
        let mut message = self.public_message();
        if status.is_server_error()
            && let Some(id) = &request_id
        {
            message = format!("{message} (request id {id})");
        }
        let mut refusal = Refusal::new(status, self.code(), message);
        if let Some(id) = request_id {
            refusal = refusal.with_request_id(id);
        }
        if matches!(self, Self::Unauthorized) {
            refusal =
                refusal.with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after() {
            refusal = refusal.with_header(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        refusal.into_response()
    }
}
