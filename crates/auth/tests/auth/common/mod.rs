//! Shared helpers of the auth tests: TEST-ONLY keys from `fixtures/`, JWKS documents built
//! from them with jsonwebtoken's own `Jwk`, and token signing.
#![allow(dead_code)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use auth::{Algorithm, AuthConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

pub const SECRET: &str = "test-only-secret-of-at-least-32-bytes!";
pub const ISSUER: &str = "https://sso.licensedot.test";
pub const AUDIENCE: &str = "licensedot";

pub const RSA_PRIVATE: &[u8] = include_bytes!("../../fixtures/rsa_private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("../../fixtures/rsa_public.pem");
pub const EC_PRIVATE: &[u8] = include_bytes!("../../fixtures/ec_private.pem");

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()
}

pub fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_PRIVATE).unwrap()
}

/// The public JWK of a private key, with a key id.
pub fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, alg).unwrap();
    jwk.common.key_id = Some(kid.to_string());
    jwk
}

/// A JWKS with the RSA key as `rsa-1` and, if asked, the EC key as `ec-1`.
pub fn jwks_json(with_ec: bool) -> String {
    let mut keys = vec![jwk(&rsa_key(), Algorithm::RS256, "rsa-1")];
    if with_ec {
        keys.push(jwk(&ec_key(), Algorithm::ES256, "ec-1"));
    }
    serde_json::to_string(&JwkSet { keys }).unwrap()
}

/// A JWKS file with the RSA key and, if asked, the EC key, deleted when dropped: keep it as
/// long as the authenticator reading it (which re-reads it on an unknown key id).
pub fn jwks_file(with_ec: bool) -> tempfile::TempPath {
    test_support::scratch_file("jwks", &jwks_json(with_ec))
}

/// Claims that pass every check of `full_config`.
pub fn good_claims() -> Value {
    json!({
        "sub": "user-1",
        "email": "jane.doe@acmeinc.com",
        "roles": ["support"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 3600,
    })
}

pub fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

pub fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

pub fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

pub fn sign_hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        None,
        claims,
    )
}

pub fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(json).unwrap())
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// HS256 secret + the JWKS file `jwks` + issuer + audience.
pub fn full_config(jwks: &Path) -> AuthConfig {
    AuthConfig {
        hs256_secret: Some(SECRET.into()),
        jwks_file: Some(jwks.to_path_buf()),
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
        ..AuthConfig::default()
    }
}
