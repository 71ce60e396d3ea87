//! Token checks that need no I/O: reading the `Authorization` header, reading the JWT header
//! ourselves to decide which algorithm and key are acceptable, and running jsonwebtoken's
//! signature and claim validation with our settings.
//!
//! The key is chosen from our configuration, by `kid` and by key type: the token's `alg` only
//! selects among keys we hold and must fit the chosen key. HMAC tokens are only ever checked
//! with the configured HS256 secret, never with bytes of a public key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::error::AuthError;

/// What we need from the JWT header before verification.
#[derive(Debug)]
pub(crate) struct TokenHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// Extracts the token from `Bearer <token>` (scheme case-insensitive, RFC 7235).
pub(crate) fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').ok_or(AuthError::Malformed(
        "expected `Authorization: Bearer <token>`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed(
            "only the Bearer authorization scheme is supported",
        ));
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed("the bearer token is empty"));
    }
    Ok(token)
}

/// Reads and checks the JWT header against the allowed algorithms. Done by hand (and not with
/// `jsonwebtoken::decode_header`) so that `alg: none` or an unknown algorithm is reported as
/// a disallowed algorithm rather than as an unparsable header.
pub(crate) fn read_header(token: &str, allowed: &[Algorithm]) -> Result<TokenHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("a JWT has three dot-separated parts"));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(AuthError::Malformed("a JWT part is empty"));
    }
    let _ = signature; // may be empty in an `alg: none` token; judged by the algorithm below
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed("the JWT header is not base64url"))?;
    let json: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("the JWT header is not a JSON object"))?;
    let alg_name = json
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(AuthError::Malformed("the JWT header has no `alg`"))?;
    // `none` and names jsonwebtoken does not know cannot parse, so they end here.
    let alg = alg_name
        .parse::<Algorithm>()
        .map_err(|_| AuthError::DisallowedAlgorithm)?;
    if !allowed.contains(&alg) {
        return Err(AuthError::DisallowedAlgorithm);
    }
    let kid = match json.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AuthError::Malformed("the JWT header `kid` is not a string")),
    };
    Ok(TokenHeader { alg, kid })
}

/// The claim checks of one authenticator, independent of the key.
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_secs: u64,
}

impl ClaimRules {
    fn validation(&self, alg: Algorithm) -> Validation {
        // Only the token's own algorithm, already checked against the allowed list and the
        // key: jsonwebtoken then also refuses a key of another family.
        let mut v = Validation::new(alg);
        v.leeway = self.leeway_secs;
        v.validate_exp = true;
        v.validate_nbf = true;
        if let Some(issuer) = &self.issuer {
            v.set_issuer(&[issuer]);
        }
        match &self.audience {
            Some(audience) => v.set_audience(&[audience]),
            None => v.validate_aud = false,
        }
        // Only `exp` here: jsonwebtoken keeps required claims in a HashSet, so with several
        // missing it would name a random one. `iss` and `aud` presence is checked in
        // `verify` in a fixed order; `sub` by the claim mapping.
        v.set_required_spec_claims(&["exp"]);
        v
    }

    /// Verifies the signature with `key` and validates the claims; returns the claims.
    pub(crate) fn verify(
        &self,
        token: &str,
        alg: Algorithm,
        key: &DecodingKey,
    ) -> Result<Map<String, Value>, AuthError> {
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation(alg))
            .map(|data| data.claims)
            .map_err(|e| map_jwt_error(e.into_kind()))?;
        // jsonwebtoken checks `iss`/`aud` only when present; a configured one is mandatory.
        for (claim, expected) in [("iss", &self.issuer), ("aud", &self.audience)] {
            if expected.is_some() && claims.get(claim).is_none_or(Value::is_null) {
                return Err(AuthError::MissingClaim(claim.into()));
            }
        }
        Ok(claims)
    }
}

/// Whether verified claims are an OpenID Connect ID token's: it carries a `nonce` (access
/// tokens never do), or its audience (a string or a list) names the client people sign in
/// with, `sign_in_client_id`.
///
/// An ID token proves a sign-in to the client it names; accepted as a bearer token, one kept
/// anywhere (a log, the provider's sign-out URL, a browser's history) would read the API until
/// it expires, long after its session was signed out.
pub(crate) fn is_id_token(claims: &Map<String, Value>, sign_in_client_id: Option<&str>) -> bool {
    if claims.contains_key("nonce") {
        return true;
    }
    let Some(client) = sign_in_client_id else {
        return false;
    };
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == client,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(client)),
        _ => false,
    }
}

/// jsonwebtoken's error kinds to ours. Its messages are not passed on: some quote input.
fn map_jwt_error(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm => AuthError::DisallowedAlgorithm,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim(claim),
        ErrorKind::InvalidSubject => AuthError::InvalidClaim("sub".into()),
        // A key that cannot verify (e.g. an EC key of another curve) is, from the token's
        // side, a signature that does not verify with the key it names.
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::Provider(_) => AuthError::BadSignature,
        ErrorKind::Base64(_) => AuthError::Malformed("a JWT part is not base64url"),
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            AuthError::Malformed("the JWT payload is not a JSON object")
        }
        _ => AuthError::Malformed("the token is not a valid JWT"),
    }
}
