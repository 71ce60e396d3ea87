//! Hostile and valid tokens against an authenticator with an HS256 secret and a JWKS file.

// Tests may panic on failure: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use crate::common;

use auth::{Algorithm, AuthConfig, AuthError, Authenticator, Role};
use common::*;
use jsonwebtoken::EncodingKey;
use serde_json::json;

fn full(jwks: &Path) -> Authenticator {
    Authenticator::new(full_config(jwks)).unwrap()
}

/// JWKS only (RSA + EC), no HS256 secret: the setup of an SSO-only deployment.
fn jwks_only(jwks: &Path) -> Authenticator {
    Authenticator::new(AuthConfig {
        jwks_file: Some(jwks.to_path_buf()),
        ..AuthConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn hostile_tokens_are_rejected_with_the_right_error() {
    let jwks = jwks_file(true);
    let full = full(&jwks);
    let jwks_only = jwks_only(&jwks);
    let good = good_claims();
    let rsa = rsa_key();

    let valid_hs = sign_hs(&good);
    let mut parts: Vec<String> = valid_hs.split('.').map(str::to_string).collect();
    let other_sig = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
        None,
        &good,
    );
    parts[2] = other_sig.split('.').nth(2).unwrap().to_string();
    let bad_signature = parts.join(".");

    let tampered_payload = {
        let mut p: Vec<String> = valid_hs.split('.').map(str::to_string).collect();
        p[1] = b64(&with(good.clone(), "roles", json!(["admin"])));
        p.join(".")
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    let alg_none_upper = format!("{}.{}.", b64(&json!({"alg": "None"})), b64(&good));
    // The classic confusion attack: HMAC "signed" with the RSA public key as the secret,
    // naming the RSA key's kid.
    let hs_with_rsa_public = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC),
        Some("rsa-1"),
        &good,
    );
    let rs_wrong_kid_type = sign(Algorithm::RS256, &rsa, Some("ec-1"), &good);
    let expired = sign_hs(&with(good.clone(), "exp", json!(now() - 120)));
    let not_yet = sign_hs(&with(good.clone(), "nbf", json!(now() + 120)));
    let wrong_iss = sign_hs(&with(good.clone(), "iss", json!("https://evil.test")));
    let no_iss = sign_hs(&without(good.clone(), "iss"));
    let null_iss = sign_hs(&with(good.clone(), "iss", json!(null)));
    let null_aud = sign_hs(&with(good.clone(), "aud", json!(null)));
    let wrong_aud = sign_hs(&with(good.clone(), "aud", json!("someone-else")));
    let no_exp = sign_hs(&without(good.clone(), "exp"));
    let no_sub = sign_hs(&without(good.clone(), "sub"));
    let unknown_kid = sign(Algorithm::RS256, &rsa, Some("rotated-away"), &good);
    let no_role = sign_hs(&with(good.clone(), "roles", json!(["owner", "root"])));
    let bad_customer_ids = sign_hs(&with(
        with(good.clone(), "roles", json!(["customer"])),
        "customer_ids",
        json!("12,13"),
    ));
    // Correctly signed, so that the payload itself is what fails.
    let hs_sign = |message: String| {
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{sig}")
    };
    let signed_bad_payload = hs_sign(format!("{}.!!!", b64(&json!({"alg": "HS256"}))));
    let signed_not_json = hs_sign(format!(
        "{}.{}",
        b64(&json!({"alg": "HS256"})),
        base64_of("[1,")
    ));
    let rs384_not_allowed = sign(Algorithm::RS384, &rsa, Some("rsa-1"), &good);

    let cases: Vec<(&str, &Authenticator, Option<String>, AuthError)> = vec![
        ("missing header", &full, None, AuthError::Missing),
        (
            "basic scheme",
            &full,
            Some("Basic dXNlcjpwdw==".into()),
            AuthError::Malformed("only the Bearer authorization scheme is supported"),
        ),
        (
            "bearer without token",
            &full,
            Some("Bearer ".into()),
            AuthError::Malformed("expected `Authorization: Bearer <token>`"),
        ),
        (
            "two parts",
            &full,
            Some(bearer("abc.def")),
            AuthError::Malformed("a JWT has three dot-separated parts"),
        ),
        (
            "four parts",
            &full,
            Some(bearer("a.b.c.d")),
            AuthError::Malformed("a JWT has three dot-separated parts"),
        ),
        (
            "bad base64 header",
            &full,
            Some(bearer("!!!.e30.c2ln")),
            AuthError::Malformed("the JWT header is not base64url"),
        ),
        (
            "header not json",
            &full,
            Some(bearer(&format!("{}.e30.c2ln", base64_of("nope")))),
            AuthError::Malformed("the JWT header is not a JSON object"),
        ),
        (
            "bad base64 payload, unsigned",
            &full,
            Some(bearer(&format!(
                "{}.!!!.c2ln",
                b64(&json!({"alg":"HS256"}))
            ))),
            AuthError::BadSignature,
        ),
        (
            "bad base64 payload, signed",
            &full,
            Some(bearer(&signed_bad_payload)),
            AuthError::Malformed("a JWT part is not base64url"),
        ),
        (
            "payload not json, signed",
            &full,
            Some(bearer(&signed_not_json)),
            AuthError::Malformed("the JWT payload is not a JSON object"),
        ),
        (
            "bad signature",
            &full,
            Some(bearer(&bad_signature)),
            AuthError::BadSignature,
        ),
        (
            "tampered payload",
            &full,
            Some(bearer(&tampered_payload)),
            AuthError::BadSignature,
        ),
        (
            "alg none",
            &full,
            Some(bearer(&alg_none)),
            AuthError::DisallowedAlgorithm,
        ),
        (
            "alg None",
            &full,
            Some(bearer(&alg_none_upper)),
            AuthError::DisallowedAlgorithm,
        ),
        (
            "HS256 with RSA public key, SSO-only",
            &jwks_only,
            Some(bearer(&hs_with_rsa_public)),
            AuthError::DisallowedAlgorithm,
        ),
        (
            "HS256 with RSA public key, HS256 configured",
            &full,
            Some(bearer(&hs_with_rsa_public)),
            AuthError::BadSignature,
        ),
        (
            "RS256 naming an EC key",
            &full,
            Some(bearer(&rs_wrong_kid_type)),
            AuthError::DisallowedAlgorithm,
        ),
        (
            "RS384 not configured",
            &full,
            Some(bearer(&rs384_not_allowed)),
            AuthError::DisallowedAlgorithm,
        ),
        ("expired", &full, Some(bearer(&expired)), AuthError::Expired),
        (
            "not yet valid",
            &full,
            Some(bearer(&not_yet)),
            AuthError::NotYetValid,
        ),
        (
            "wrong issuer",
            &full,
            Some(bearer(&wrong_iss)),
            AuthError::WrongIssuer,
        ),
        (
            "missing issuer",
            &full,
            Some(bearer(&no_iss)),
            AuthError::MissingClaim("iss".into()),
        ),
        (
            "null issuer",
            &full,
            Some(bearer(&null_iss)),
            AuthError::MissingClaim("iss".into()),
        ),
        (
            "null audience",
            &full,
            Some(bearer(&null_aud)),
            AuthError::MissingClaim("aud".into()),
        ),
        (
            "wrong audience",
            &full,
            Some(bearer(&wrong_aud)),
            AuthError::WrongAudience,
        ),
        (
            "missing exp",
            &full,
            Some(bearer(&no_exp)),
            AuthError::MissingClaim("exp".into()),
        ),
        (
            "missing sub",
            &full,
            Some(bearer(&no_sub)),
            AuthError::MissingClaim("sub".into()),
        ),
        (
            "unknown kid",
            &full,
            Some(bearer(&unknown_kid)),
            AuthError::UnknownKey,
        ),
        (
            "no known role",
            &full,
            Some(bearer(&no_role)),
            AuthError::NoRole,
        ),
        (
            "customer ids not numbers",
            &full,
            Some(bearer(&bad_customer_ids)),
            AuthError::InvalidClaim("customer_ids".into()),
        ),
    ];

    let mut failures = Vec::new();
    for (name, authenticator, header, expected) in cases {
        let got = authenticator.authenticate(header.as_deref()).await;
        match got {
            Err(err) if err == expected => {
                // Messages and challenges never echo the token.
                if let Some(token) = header
                    .as_deref()
                    .and_then(|h| h.split_once(' '))
                    .map(|(_, t)| t)
                    && token.len() > 8
                {
                    for part in token.split('.').filter(|p| p.len() > 8) {
                        assert!(
                            !err.to_string().contains(part),
                            "{name}: message echoes the token"
                        );
                        assert!(
                            !err.www_authenticate().contains(part),
                            "{name}: challenge echoes the token"
                        );
                    }
                }
            }
            other => failures.push(format!("{name}: expected Err({expected:?}), got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn id_tokens_are_refused_as_bearer_tokens() {
    let jwks = jwks_file(true);
    let auth = Authenticator::new(AuthConfig {
        sign_in_client_id: Some("licensedot-web".into()),
        ..full_config(&jwks)
    })
    .unwrap();
    let accepted = auth
        .authenticate(Some(&bearer(&sign_hs(&good_claims()))))
        .await;
    assert!(accepted.is_ok(), "{accepted:?}");
    // A nonce: only ID tokens carry one.
    let with_nonce = sign_hs(&with(good_claims(), "nonce", json!("n-1")));
    let refused = auth.authenticate(Some(&bearer(&with_nonce))).await;
    assert_eq!(refused, Err(AuthError::IdToken));
    assert_eq!(
        AuthError::IdToken.code().as_str(),
        "TOKEN_NOT_AN_ACCESS_TOKEN"
    );
    assert_eq!(AuthError::IdToken.http_status(), 401);
    // The sign-in client among the audiences.
    let both = sign_hs(&with(
        good_claims(),
        "aud",
        json!(["licensedot", "licensedot-web"]),
    ));
    assert_eq!(
        auth.authenticate(Some(&bearer(&both))).await,
        Err(AuthError::IdToken)
    );
    // Without an API audience configured, the sign-in client alone.
    let unchecked = Authenticator::new(AuthConfig {
        sign_in_client_id: Some("licensedot-web".into()),
        audience: None,
        ..full_config(&jwks)
    })
    .unwrap();
    let id_token = sign_hs(&with(good_claims(), "aud", json!("licensedot-web")));
    assert_eq!(
        unchecked.authenticate(Some(&bearer(&id_token))).await,
        Err(AuthError::IdToken)
    );
}

#[test]
fn an_api_audience_equal_to_the_sign_in_client_is_refused_at_start() {
    let error = Authenticator::new(AuthConfig {
        hs256_secret: Some(SECRET.into()),
        audience: Some("licensedot".into()),
        sign_in_client_id: Some("licensedot".into()),
        ..AuthConfig::default()
    })
    .unwrap_err();
    assert!(error.to_string().contains("sign-in client id"), "{error}");
}

#[tokio::test]
async fn an_unverified_email_is_not_the_callers() {
    let jwks = jwks_file(true);
    let auth = full(&jwks);
    for (verified, expected) in [
        (Some(json!(false)), None),
        (Some(json!("true")), None),
        (Some(json!(true)), Some("jane.doe@acmeinc.com")),
        (None, Some("jane.doe@acmeinc.com")),
    ] {
        let claims = match &verified {
            Some(value) => with(good_claims(), "email_verified", value.clone()),
            None => good_claims(),
        };
        let viewer = auth
            .authenticate(Some(&bearer(&sign_hs(&claims))))
            .await
            .unwrap();
        assert_eq!(viewer.email.as_deref(), expected, "{verified:?}");
        assert_eq!(viewer.subject, "user-1");
    }
}

#[tokio::test]
async fn leeway_accepts_small_clock_skew() {
    let jwks = jwks_file(true);
    let auth = full(&jwks);
    let recently_expired = sign_hs(&with(good_claims(), "exp", json!(now() - 10)));
    let almost_valid = sign_hs(&with(good_claims(), "nbf", json!(now() + 10)));
    assert!(
        auth.authenticate(Some(&bearer(&recently_expired)))
            .await
            .is_ok()
    );
    assert!(
        auth.authenticate(Some(&bearer(&almost_valid)))
            .await
            .is_ok()
    );

    let strict = Authenticator::new(AuthConfig {
        leeway_secs: 0,
        ..full_config(&jwks)
    })
    .unwrap();
    assert_eq!(
        strict.authenticate(Some(&bearer(&recently_expired))).await,
        Err(AuthError::Expired)
    );
}

#[tokio::test]
async fn valid_hs256_token_maps_claims_to_a_viewer() {
    let jwks = jwks_file(true);
    let auth = full(&jwks);
    let claims = with(
        with(
            good_claims(),
            "roles",
            json!(["viewer", "customer", "sales"]),
        ),
        "customer_ids",
        json!([7, "12"]),
    );
    let viewer = auth
        .authenticate(Some(&bearer(&sign_hs(&claims))))
        .await
        .unwrap();
    assert_eq!(viewer.subject, "user-1");
    assert_eq!(viewer.email.as_deref(), Some("jane.doe@acmeinc.com"));
    assert_eq!(viewer.role, Role::Sales);
    assert_eq!(
        viewer.roles,
        vec![Role::Viewer, Role::Customer, Role::Sales]
    );
    assert_eq!(viewer.customer_ids, vec![7, 12]);
    assert!(viewer.can_see_personal_data());
    // Staff role wins over customer: no customer scope.
    assert_eq!(viewer.customer_scope(), None);
}

#[tokio::test]
async fn valid_rs256_token_from_the_jwks() {
    let jwks = jwks_file(true);
    let auth = full(&jwks);
    let claims = with(good_claims(), "roles", json!("viewer unknown-role"));
    let token = sign(Algorithm::RS256, &rsa_key(), Some("rsa-1"), &claims);
    let viewer = auth.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(viewer.role, Role::Viewer);
    assert!(!viewer.can_see_personal_data());
    assert_eq!(viewer.customer_scope(), None);
}

#[tokio::test]
async fn valid_es256_token_scoped_to_customers() {
    let jwks = jwks_file(true);
    let auth = jwks_only(&jwks);
    let claims = json!({
        "sub": "customer-contact",
        "roles": ["customer"],
        "customer_ids": ["42", 7, 42],
        "exp": now() + 600,
    });
    let token = sign(Algorithm::ES256, &ec_key(), Some("ec-1"), &claims);
    let viewer = auth.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(viewer.role, Role::Customer);
    assert_eq!(viewer.email, None);
    assert_eq!(viewer.customer_scope(), Some(&[7_i64, 42][..]));
    assert!(viewer.can_see_customer(42));
    assert!(!viewer.can_see_customer(8));
}

#[tokio::test]
async fn a_single_key_of_the_right_type_needs_no_kid() {
    let jwks = jwks_file(true);
    let auth = jwks_only(&jwks);
    let token = sign(Algorithm::ES256, &ec_key(), None, &good_claims());
    assert!(auth.authenticate(Some(&bearer(&token))).await.is_ok());
}

#[tokio::test]
async fn customer_without_ids_sees_nothing() {
    let jwks = jwks_file(true);
    let auth = full(&jwks);
    let claims = with(good_claims(), "roles", json!(["customer"]));
    let viewer = auth
        .authenticate(Some(&bearer(&sign_hs(&claims))))
        .await
        .unwrap();
    assert_eq!(viewer.customer_scope(), Some(&[][..]));
    assert!(!viewer.can_see_customer(1));
}

#[tokio::test]
async fn roles_from_a_configured_groups_claim() {
    let jwks = jwks_file(true);
    let auth = Authenticator::new(AuthConfig {
        roles_claim: "groups".into(),
        customer_ids_claim: "tenants".into(),
        email_claim: "mail".into(),
        ..full_config(&jwks)
    })
    .unwrap();
    let claims = json!({
        "sub": "u", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60,
        "roles": ["admin"],             // ignored: not the configured claim
        "groups": "engineering Support",
        "mail": "a.b@example.com",
    });
    let viewer = auth
        .authenticate(Some(&bearer(&sign_hs(&claims))))
        .await
        .unwrap();
    assert_eq!(viewer.role, Role::Support);
    assert_eq!(viewer.email.as_deref(), Some("a.b@example.com"));

    // A nested claim path, as Keycloak puts roles.
    let nested = Authenticator::new(AuthConfig {
        roles_claim: "realm_access.roles".into(),
        ..full_config(&jwks)
    })
    .unwrap();
    let claims = with(
        without(good_claims(), "roles"),
        "realm_access",
        json!({"roles": ["admin"]}),
    );
    let viewer = nested
        .authenticate(Some(&bearer(&sign_hs(&claims))))
        .await
        .unwrap();
    assert_eq!(viewer.role, Role::Admin);
}

#[tokio::test]
async fn optional_auth_gives_an_anonymous_viewer_but_still_checks_tokens() {
    let jwks = jwks_file(true);
    let auth = Authenticator::new(AuthConfig {
        required: false,
        ..full_config(&jwks)
    })
    .unwrap();
    let viewer = auth.authenticate(None).await.unwrap();
    assert_eq!(viewer.role, Role::Viewer);
    assert!(!viewer.can_see_personal_data());
    assert_eq!(
        auth.authenticate(Some("Bearer x.y.z")).await,
        Err(AuthError::Malformed("the JWT header is not base64url"))
    );
}

#[tokio::test]
async fn minted_tokens_are_accepted() {
    let jwks = jwks_file(true);
    let config = full_config(&jwks);
    let auth = Authenticator::new(config.clone()).unwrap();
    let claims = auth::MintClaims {
        sub: "dev".into(),
        email: Some("dev@licensedot.test".into()),
        roles: vec!["customer".into()],
        customer_ids: vec![3, 1],
        ttl: auth::parse_ttl("1h").unwrap(),
        issuer: None,
        audience: None,
    };
    // mint_hs256_for fills issuer and audience from the config.
    let token = auth::mint_hs256_for(&config, &claims).unwrap();
    let viewer = auth.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(viewer.customer_scope(), Some(&[1_i64, 3][..]));
    assert_eq!(viewer.email.as_deref(), Some("dev@licensedot.test"));

    // Plain mint_hs256 without issuer/audience is refused by the strict config...
    let plain = auth::mint_hs256(SECRET, &claims).unwrap();
    assert_eq!(
        auth.authenticate(Some(&bearer(&plain))).await,
        Err(AuthError::MissingClaim("iss".into()))
    );
    // ...and accepted by a development config with just the secret.
    let dev = Authenticator::new(AuthConfig {
        hs256_secret: Some(SECRET.into()),
        ..AuthConfig::default()
    })
    .unwrap();
    assert_eq!(dev.algorithms(), &[Algorithm::HS256]);
    assert!(dev.authenticate(Some(&bearer(&plain))).await.is_ok());

    assert!(matches!(
        auth::mint_hs256("short", &claims),
        Err(AuthError::Signing(_))
    ));
}
