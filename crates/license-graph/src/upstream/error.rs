//! How a call to the version service can fail, each with the code callers see.

use error_catalogue::Code;

/// Why usage data is missing. Cloned into every field the failure affects.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Connection refused, reset, or an HTTP error status.
    #[error("the version service is unavailable: {0}")]
    Unavailable(String),
    /// No answer within the configured timeout.
    #[error("the version service did not answer within {0} ms")]
    Timeout(u64),
    /// Recent calls failed, so calls are paused for a while.
    #[error("the version service failed repeatedly; calls are paused for a moment")]
    CircuitOpen,
    /// The answer was not the GraphQL response expected.
    #[error("the version service sent an unusable answer: {0}")]
    BadResponse(String),
    /// The answer was larger than `max_response_bytes` (it was not read further).
    #[error("the version service's answer is larger than {0} bytes; ask for less")]
    TooLarge(usize),
    /// The version service answered with an error for this key.
    #[error("the version service reported an error: {0}")]
    Remote(String),
}

impl UpstreamError {
    /// Its code.
    pub fn code(&self) -> Code {
        match self {
            UpstreamError::Unavailable(_) => Code::UpstreamUnavailable,
            UpstreamError::Timeout(_) => Code::UpstreamTimeout,
            UpstreamError::CircuitOpen => Code::UpstreamCircuitOpen,
            UpstreamError::BadResponse(_) | UpstreamError::TooLarge(_) => Code::UpstreamBadResponse,
            UpstreamError::Remote(_) => Code::UpstreamError,
        }
    }

    /// Whether this failure says the service is unhealthy (and counts toward opening the
    /// circuit). An oversized answer says the query asked too much, not that the service is
    /// down.
    pub fn is_service_failure(&self) -> bool {
        !matches!(
            self,
            UpstreamError::Remote(_) | UpstreamError::CircuitOpen | UpstreamError::TooLarge(_)
        )
    }
}
