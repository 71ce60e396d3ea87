//! The small pure parts: masking, durations, roles, configuration checks, error rendering.

// Tests may panic on failure: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth::{AuthConfig, AuthError, ConfigError, Role, mask_email, mask_name, parse_ttl};

#[test]
fn masking() {
    assert_eq!(mask_email("jane.doe@acmeinc.com"), "j***@acmeinc.com");
    assert_eq!(mask_email("x@y.org"), "x***@y.org");
    assert_eq!(mask_email("not-an-email"), "n***");
    assert_eq!(mask_email(""), "***");
    assert_eq!(mask_name("Jane Doe"), "J*** D***");
    assert_eq!(mask_name("  Émile   de la Tour "), "É*** d*** l*** T***");
    assert_eq!(mask_name(""), "");
}

#[test]
fn ttl_parsing() {
    assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
    assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(7 * 86_400)));
    assert_eq!(parse_ttl("3600s"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_ttl(" 1h30m "), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_ttl("2w"), Ok(Duration::from_secs(14 * 86_400)));
    for bad in [
        "",
        "h",
        "10",
        "1y",
        "0s",
        "-1h",
        "1.5h",
        "99999999999999999999s",
    ] {
        assert!(parse_ttl(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn roles() {
    assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
    assert_eq!(Role::parse("owner"), None);
    assert_eq!(
        Role::most_permissive(&[Role::Customer, Role::Viewer]),
        Some(Role::Viewer)
    );
    assert_eq!(
        Role::most_permissive(&[Role::Support, Role::Admin, Role::Sales]),
        Some(Role::Admin)
    );
    assert_eq!(Role::most_permissive(&[]), None);
    assert_eq!(Role::Support.to_string(), "support");
}

fn invalid(config: AuthConfig) -> String {
    match config.validate() {
        Err(ConfigError::Invalid(msg)) => msg,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn config_validation() {
    let secret = "0123456789abcdef0123456789abcdef".to_string();
    assert!(invalid(AuthConfig::default()).contains("no key is configured"));
    assert!(
        AuthConfig {
            required: false,
            ..AuthConfig::default()
        }
        .validate()
        .is_ok()
    );
    assert!(
        invalid(AuthConfig {
            hs256_secret: Some("short".into()),
            ..AuthConfig::default()
        })
        .contains("at least 32")
    );
    let ok = AuthConfig {
        hs256_secret: Some(secret.clone()),
        ..AuthConfig::default()
    };
    assert!(ok.validate().is_ok());
    assert_eq!(
        ok.effective_algorithms().unwrap(),
        vec![auth::Algorithm::HS256]
    );
    assert!(
        invalid(AuthConfig {
            algorithms: vec!["none".into()],
            ..ok.clone()
        })
        .contains("unknown JWT algorithm")
    );
    assert!(
        invalid(AuthConfig {
            algorithms: vec!["RS256".into()],
            ..ok.clone()
        })
        .contains("fits the configured keys")
    );
    assert!(
        invalid(AuthConfig {
            jwks_file: Some("/a".into()),
            jwks_url: Some("https://b".into()),
            ..ok.clone()
        })
        .contains("not both")
    );
    assert!(
        invalid(AuthConfig {
            jwks_url: Some("file:///etc/passwd".into()),
            ..AuthConfig::default()
        })
        .contains("http(s)")
    );
    assert!(
        invalid(AuthConfig {
            roles_claim: " ".into(),
            ..ok.clone()
        })
        .contains("roles_claim")
    );
}

#[test]
fn config_from_serde_with_defaults_and_redacted_debug() {
    let config: AuthConfig = serde_json::from_str(
        r#"{"hs256_secret": "0123456789abcdef0123456789abcdef-secret", "roles_claim": "groups"}"#,
    )
    .unwrap();
    assert!(config.required);
    assert_eq!(config.leeway_secs, 30);
    assert_eq!(config.jwks_refresh_secs, 300);
    assert_eq!(config.roles_claim, "groups");
    assert_eq!(config.customer_ids_claim, "customer_ids");
    assert!(!format!("{config:?}").contains("secret\""));
    assert!(!format!("{config:?}").contains("0123456789abcdef"));
    assert!(serde_json::from_str::<AuthConfig>(r#"{"rolez": "x"}"#).is_err());

    let from_env = AuthConfig::default().with_secret_from(|name| {
        (name == auth::JWT_SECRET_ENV).then(|| "from-the-environment-0123456789abcdef".into())
    });
    assert_eq!(
        from_env.hs256_secret.as_deref(),
        Some("from-the-environment-0123456789abcdef")
    );
}

#[test]
fn unreadable_jwks_file_is_a_config_error() {
    let err = auth::Authenticator::new(AuthConfig {
        jwks_file: Some("/nonexistent/licensedot/jwks.json".into()),
        ..AuthConfig::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConfigError::Jwks { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("/nonexistent/licensedot/jwks.json")
    );
}

#[test]
fn error_codes_statuses_and_challenges() {
    assert_eq!(AuthError::Missing.code().as_str(), "UNAUTHENTICATED");
    assert_eq!(AuthError::Missing.http_status(), 401);
    assert_eq!(
        AuthError::Missing.www_authenticate(),
        r#"Bearer realm="licensedot""#
    );
    assert_eq!(AuthError::Expired.code().as_str(), "TOKEN_EXPIRED");
    assert_eq!(
        AuthError::Expired.www_authenticate(),
        r#"Bearer realm="licensedot", error="invalid_token", error_description="the token expired""#
    );
    assert_eq!(AuthError::NoRole.http_status(), 403);
    assert!(
        AuthError::NoRole
            .www_authenticate()
            .contains(r#"error="insufficient_scope""#)
    );
    assert_eq!(AuthError::JwksUnavailable.http_status(), 503);
    // Config-provided claim names cannot break the header.
    let odd = AuthError::MissingClaim("we\"ird\\claim\n".into()).www_authenticate();
    assert_eq!(odd.matches('"').count(), 6, "{odd}");
    assert!(!odd.contains('\\') && !odd.contains('\n'));
}
