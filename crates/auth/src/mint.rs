//! Development tokens: HS256 JWTs signed with the shared secret (`licensedot token`, the demo,
//! tests). Production tokens come from an SSO provider, never from here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::config::{AuthConfig, MIN_HS256_SECRET_BYTES};
use crate::error::AuthError;

/// What a development token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintClaims {
    pub sub: String,
    pub email: Option<String>,
    /// Role names as they appear in the token (`admin`, `customer`, ...).
    pub roles: Vec<String>,
    pub customer_ids: Vec<i64>,
    pub ttl: Duration,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

/// Mints an HS256 token with the default claim names (`roles`, `customer_ids`, `email`).
pub fn mint_hs256(secret: &str, claims: &MintClaims) -> Result<String, AuthError> {
    mint_with_names(secret, claims, "roles", "customer_ids", "email")
}

/// Mints an HS256 token that the authenticator built from `config` accepts: its secret, its
/// claim names, and its issuer and audience where `claims` leaves them unset.
pub fn mint_hs256_for(config: &AuthConfig, claims: &MintClaims) -> Result<String, AuthError> {
    let secret = config.hs256_secret.as_deref().ok_or_else(|| {
        AuthError::Signing("no HS256 secret is configured (LICENSEDOT_JWT_SECRET)".into())
    })?;
    let mut claims = claims.clone();
    if claims.issuer.is_none() {
        claims.issuer.clone_from(&config.issuer);
    }
    if claims.audience.is_none() {
        claims.audience.clone_from(&config.audience);
    }
    mint_with_names(
        secret,
        &claims,
        &config.roles_claim,
        &config.customer_ids_claim,
        &config.email_claim,
    )
}

fn mint_with_names(
    secret: &str,
    claims: &MintClaims,
    roles_claim: &str,
    customer_ids_claim: &str,
    email_claim: &str,
) -> Result<String, AuthError> {
    // Same floor as the verifier's config check, so that we never hand out a token that a
    // correctly configured gateway would refuse to verify.
    if secret.len() < MIN_HS256_SECRET_BYTES {
        return Err(AuthError::Signing(format!(
            "the HS256 secret must be at least {MIN_HS256_SECRET_BYTES} bytes"
        )));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| AuthError::Signing("the system clock is before 1970".into()))?
        .as_secs();
    let exp = now
        .checked_add(claims.ttl.as_secs())
        .ok_or_else(|| AuthError::Signing("the ttl is too large".into()))?;

    let mut body = Map::new();
    body.insert("sub".into(), json!(claims.sub));
    body.insert("iat".into(), json!(now));
    body.insert("nbf".into(), json!(now));
    body.insert("exp".into(), json!(exp));
    if let Some(iss) = &claims.issuer {
        body.insert("iss".into(), json!(iss));
    }
    if let Some(aud) = &claims.audience {
        body.insert("aud".into(), json!(aud));
    }
    if let Some(email) = &claims.email {
        body.insert(email_claim.into(), json!(email));
    }
    body.insert(roles_claim.into(), json!(claims.roles));
    if !claims.customer_ids.is_empty() {
        body.insert(customer_ids_claim.into(), json!(claims.customer_ids));
    }

    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        &Value::Object(body),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| AuthError::Signing(e.to_string()))
}

/// A duration that [`parse_ttl`] could not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid duration {input:?}: {reason} (examples: 3600s, 30m, 1h, 7d, 1h30m)")]
pub struct TtlError {
    pub input: String,
    pub reason: &'static str,
}

/// Parses a token lifetime: one or more `<number><unit>` groups with units `s`, `m`, `h`,
/// `d`, `w` (`1h`, `30m`, `7d`, `3600s`, `1h30m`). Zero is refused: a token that is born
/// expired is always a mistake.
pub fn parse_ttl(input: &str) -> Result<Duration, TtlError> {
    let err = |reason| TtlError {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(err("empty"));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(digit)))
                .ok_or_else(|| err("too large"))?;
            number = Some(n);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(err("unknown unit; use s, m, h, d or w")),
        };
        let n = number
            .take()
            .ok_or_else(|| err("a unit needs a number before it"))?;
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| err("too large"))?;
    }
    if number.is_some() {
        return Err(err("the last number has no unit"));
    }
    if total == 0 {
        return Err(err("must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}
