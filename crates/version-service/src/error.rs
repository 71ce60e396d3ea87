//! The crate's one error type; it knows which HTTP status each failure deserves.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sea_orm::DbErr;

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
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The body is not JSON at all.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is JSON but not a valid usage ping.
    #[error("{0}")]
    InvalidPayload(String),
    /// The body could not be read (too large, aborted, ...).
    #[error("{message}")]
    Body {
        /// Status chosen by axum's rejection (413 for a body over the limit).
        status: StatusCode,
        /// Its explanation.
        message: String,
    },
    /// `/graphql` needs a bearer token that was missing or wrong.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The database does not answer right now.
    #[error("database not ready: {0}")]
    NotReady(String),
}

impl Error {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::InvalidPayload(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Body { status, .. } => *status,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Connect { .. } | Self::Migrate(_) | Self::Db(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (status, body).into_response();
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
