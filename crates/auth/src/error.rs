//! The errors of authentication and of configuration.
//!
//! `AuthError` is what a request gets back. Each variant has a `code()` from the error
//! catalogue (GraphQL `extensions.code`), an HTTP status, and an RFC 6750
//! `WWW-Authenticate` challenge. Messages are fixed text or names from our own configuration:
//! they never contain the token or any part of it, so they are safe to log and to return.

use error_catalogue::Code;
use thiserror::Error;

/// The realm of every `WWW-Authenticate` challenge we send.
pub const REALM: &str = "licensedot";

/// Why a request could not be turned into a [`crate::Viewer`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header although authentication is required.
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Missing,
    /// The header is not `Bearer <token>`, or the token is not a JWT (three base64url parts
    /// with a JSON header and payload). The reason is fixed text, never token content.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token was issued by an unexpected issuer")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// The token names a key (`kid`) that the key set does not hold, even after a refresh.
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    /// `none`, an algorithm not in the configuration, or one that does not fit the key.
    #[error("the token's signing algorithm is not allowed")]
    DisallowedAlgorithm,
    /// A claim the configuration requires (`exp`, `sub`, `iss`, `aud`) is absent.
    #[error("the token lacks the required claim `{0}`")]
    MissingClaim(String),
    /// A claim is present but has the wrong shape (e.g. `customer_ids: "12,13"`).
    #[error("the token claim `{0}` has an invalid value")]
    InvalidClaim(String),
    /// An OpenID Connect ID token (a `nonce` claim, or the sign-in client as audience): it
    /// says who signed in to the gateway, it is no access token for the API.
    #[error("an ID token is not an access token: send an access token issued for this API")]
    IdToken,
    /// The token is genuine but carries none of the roles we know: authenticated, not
    /// authorised, hence 403 and not 401 (a new token from the same issuer would not help).
    #[error("the token carries no licensedot role")]
    NoRole,
    /// The key set could not be fetched, so a token with a new key cannot be checked.
    #[error("the signing keys are unavailable; try again later")]
    JwksUnavailable,
    /// Minting a development token failed (bad secret, or the signer refused).
    #[error("could not mint the token: {0}")]
    Signing(String),
    /// The browser's session cookie names no live session (signed out, idle or too old).
    #[error("the sign-in session has ended; sign in again")]
    SessionEnded,
    /// A request authenticated by the session cookie came from another site (CSRF).
    #[error("a request from another site may not use this site's sign-in session")]
    CrossSite,
    /// The session store (database or Redis) did not answer.
    #[error("sessions are unavailable; try again later")]
    SessionStoreUnavailable,
}

impl AuthError {
    /// Its code (GraphQL `extensions.code`), from the error catalogue.
    pub fn code(&self) -> Code {
        match self {
            AuthError::Missing => Code::Unauthenticated,
            AuthError::Malformed(_) => Code::TokenMalformed,
            AuthError::Expired => Code::TokenExpired,
            AuthError::NotYetValid => Code::TokenNotYetValid,
            AuthError::BadSignature => Code::TokenBadSignature,
            AuthError::WrongIssuer => Code::TokenWrongIssuer,
            AuthError::WrongAudience => Code::TokenWrongAudience,
            AuthError::UnknownKey => Code::TokenUnknownKey,
            AuthError::DisallowedAlgorithm => Code::TokenAlgorithmNotAllowed,
            AuthError::MissingClaim(_) => Code::TokenMissingClaim,
            AuthError::InvalidClaim(_) => Code::TokenInvalidClaim,
            AuthError::IdToken => Code::TokenNotAnAccessToken,
            AuthError::NoRole => Code::ForbiddenNoRole,
            AuthError::JwksUnavailable => Code::AuthUnavailable,
            AuthError::Signing(_) => Code::TokenSigningFailed,
            AuthError::SessionEnded => Code::SessionEnded,
            AuthError::CrossSite => Code::CrossSiteRequest,
            AuthError::SessionStoreUnavailable => Code::AuthUnavailable,
        }
    }

    /// The HTTP status a route should answer with.
    ///
    /// 401 for anything a new or different token could fix, 403 for a valid token without a
    /// role, 503 when our key source is down (the client is not at fault), 500 for minting.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::NoRole | AuthError::CrossSite => 403,
            AuthError::JwksUnavailable | AuthError::SessionStoreUnavailable => 503,
            AuthError::Signing(_) => 500,
            _ => 401,
        }
    }

    /// The RFC 6750 `error` attribute, if the challenge should carry one. RFC 6750 section 3.1:
    /// a request without credentials gets a bare challenge, no error code.
    fn rfc6750_error(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing
            | AuthError::JwksUnavailable
            | AuthError::Signing(_)
            | AuthError::SessionEnded
            | AuthError::CrossSite
            | AuthError::SessionStoreUnavailable => None,
            AuthError::NoRole => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }

    /// The value of the `WWW-Authenticate` header (RFC 6750), e.g.
    /// `Bearer realm="licensedot", error="invalid_token", error_description="the token expired"`.
    pub fn www_authenticate(&self) -> String {
        match self.rfc6750_error() {
            None => format!("Bearer realm=\"{REALM}\""),
            Some(error) => format!(
                "Bearer realm=\"{REALM}\", error=\"{error}\", error_description=\"{}\"",
                description_chars(&self.to_string())
            ),
        }
    }
}

/// RFC 6750 allows only %x20-21 / %x23-5B / %x5D-7E in `error_description`: no quote, no
/// backslash, no control or non-ASCII characters. Claim names come from configuration and
/// could contain any of them, so drop what does not fit rather than break the header.
fn description_chars(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(*c, ' '..='~') && *c != '"' && *c != '\\')
        .collect()
}

/// An impossible configuration, or a key source that cannot be read at start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("invalid auth configuration: {0}")]
    Invalid(String),
    #[error("could not load the JWKS from {source_name}: {reason}")]
    Jwks { source_name: String, reason: String },
}
