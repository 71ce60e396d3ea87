//! Authentication for the licensedot gateway: an `Authorization: Bearer <JWT>` header in,
//! a [`Viewer`] (who, which role, which customers) or a precise [`AuthError`] out.
//!
//! Knows nothing of GraphQL, HTTP frameworks or the database: the gateway maps `AuthError`
//! to a response with [`AuthError::http_status`], [`AuthError::code`] and
//! [`AuthError::www_authenticate`], and asks the `Viewer` what may be shown.
//!
//! Tokens: HS256 with a shared secret (development), RS256/ES256 (and the other asymmetric
//! algorithms jsonwebtoken supports) with keys from a JWKS file or URL.

#![forbid(unsafe_code)]

mod authenticator;
mod config;
mod error;
mod jwks;
mod mint;
mod verify;
mod viewer;

pub use authenticator::Authenticator;
pub use config::{AuthConfig, JWT_SECRET_ENV, MIN_HS256_SECRET_BYTES};
pub use error::{AuthError, ConfigError, REALM};
pub use jsonwebtoken::Algorithm;
pub use mint::{MintClaims, TtlError, mint_hs256, mint_hs256_for, parse_ttl};
pub use viewer::{Role, Viewer, find_claim, mask_email, mask_name};
