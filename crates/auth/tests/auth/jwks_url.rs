//! The JWKS URL: fetched at start, refreshed on an unknown `kid` (once, rate-limited, one at a
//! time) and periodically. A tiny axum server on 127.0.0.1:0 serves the key set and counts hits.

// Tests may panic on failure: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth::{Algorithm, AuthConfig, AuthError, Authenticator, ConfigError};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use common::*;

#[derive(Clone, Default)]
struct Jwks {
    hits: Arc<AtomicUsize>,
    /// `None`: answer 500, as a provider in trouble would.
    body: Arc<Mutex<Option<String>>>,
}

impl Jwks {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    fn serve(&self, body: Option<String>) {
        *self.body.lock().unwrap() = body;
    }
}

async fn jwks_handler(State(jwks): State<Jwks>) -> Result<String, StatusCode> {
    jwks.hits.fetch_add(1, Ordering::SeqCst);
    // A little latency so that concurrent unknown-kid requests overlap with the fetch.
    tokio::time::sleep(Duration::from_millis(50)).await;
    jwks.body
        .lock()
        .unwrap()
        .clone()
        .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn spawn_jwks_server(body: Option<String>) -> (Jwks, String) {
    let jwks = Jwks::default();
    jwks.serve(body);
    let app = Router::new()
        .route("/.well-known/jwks.json", get(jwks_handler))
        .with_state(jwks.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (jwks, format!("http://{addr}/.well-known/jwks.json"))
}

fn url_config(url: String) -> AuthConfig {
    AuthConfig {
        jwks_url: Some(url),
        ..AuthConfig::default()
    }
}

#[tokio::test]
async fn unknown_kid_triggers_exactly_one_refresh_then_is_rate_limited() {
    let (jwks, url) = spawn_jwks_server(Some(jwks_json(false))).await;
    let auth = Authenticator::start(url_config(url)).await.unwrap();
    assert_eq!(jwks.hits(), 1, "fetched once at start");

    let good = sign(Algorithm::RS256, &rsa_key(), Some("rsa-1"), &good_claims());
    assert!(auth.authenticate(Some(&bearer(&good))).await.is_ok());
    assert_eq!(jwks.hits(), 1, "a known kid needs no fetch");

    let unknown = sign(
        Algorithm::RS256,
        &rsa_key(),
        Some("unknown"),
        &good_claims(),
    );
    assert_eq!(
        auth.authenticate(Some(&bearer(&unknown))).await,
        Err(AuthError::UnknownKey)
    );
    assert_eq!(jwks.hits(), 2, "exactly one refresh for the unknown kid");

    let other = sign(
        Algorithm::RS256,
        &rsa_key(),
        Some("unknown-2"),
        &good_claims(),
    );
    assert_eq!(
        auth.authenticate(Some(&bearer(&other))).await,
        Err(AuthError::UnknownKey)
    );
    assert_eq!(jwks.hits(), 2, "rate-limited: no second fetch");
    // Known keys keep working meanwhile.
    assert!(auth.authenticate(Some(&bearer(&good))).await.is_ok());
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let (jwks, url) = spawn_jwks_server(Some(jwks_json(false))).await;
    let auth = Authenticator::start(AuthConfig {
        jwks_min_refresh_secs: 0,
        ..url_config(url)
    })
    .await
    .unwrap();
    assert_eq!(jwks.hits(), 1);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let token = sign(
                Algorithm::RS256,
                &rsa_key(),
                Some(&format!("k{i}")),
                &good_claims(),
            );
            auth.authenticate(Some(&bearer(&token))).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(AuthError::UnknownKey));
    }
    assert_eq!(jwks.hits(), 2, "one fetch served every waiting request");
}

#[tokio::test]
async fn a_rotated_in_key_is_picked_up_on_first_use() {
    let (jwks, url) = spawn_jwks_server(Some(jwks_json(false))).await;
    let auth = Authenticator::start(url_config(url)).await.unwrap();
    let es = sign(Algorithm::ES256, &ec_key(), Some("ec-1"), &good_claims());
    // The provider publishes the EC key after our start-up fetch.
    jwks.serve(Some(jwks_json(true)));
    let viewer = auth.authenticate(Some(&bearer(&es))).await.unwrap();
    assert_eq!(viewer.subject, "user-1");
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn provider_down_gives_jwks_unavailable_and_keeps_known_keys() {
    let (jwks, url) = spawn_jwks_server(Some(jwks_json(false))).await;
    let auth = Authenticator::start(url_config(url)).await.unwrap();
    jwks.serve(None);
    let unknown = sign(Algorithm::RS256, &rsa_key(), Some("new"), &good_claims());
    let err = auth
        .authenticate(Some(&bearer(&unknown)))
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::JwksUnavailable);
    assert_eq!(err.http_status(), 503);
    let good = sign(Algorithm::RS256, &rsa_key(), Some("rsa-1"), &good_claims());
    assert!(auth.authenticate(Some(&bearer(&good))).await.is_ok());
}

#[tokio::test]
async fn start_fails_fast_when_the_provider_is_down() {
    let (_jwks, url) = spawn_jwks_server(None).await;
    let err = Authenticator::start(url_config(url)).await.unwrap_err();
    assert!(matches!(err, ConfigError::Jwks { .. }), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
}

#[tokio::test]
async fn background_refresh_runs_periodically() {
    let (jwks, url) = spawn_jwks_server(Some(jwks_json(false))).await;
    let auth = Authenticator::start(AuthConfig {
        jwks_refresh_secs: 1,
        ..url_config(url)
    })
    .await
    .unwrap();
    jwks.serve(Some(jwks_json(true)));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(jwks.hits() >= 2, "hits: {}", jwks.hits());
    // The background refresh already brought the EC key: no fetch on its first use.
    let hits = jwks.hits();
    let es = sign(Algorithm::ES256, &ec_key(), Some("ec-1"), &good_claims());
    assert!(auth.authenticate(Some(&bearer(&es))).await.is_ok());
    assert_eq!(jwks.hits(), hits);

    // Dropping the authenticator stops the task.
    drop(auth);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(jwks.hits(), hits);
}

#[tokio::test]
async fn jwks_file_is_reread_on_unknown_kid() {
    let path = jwks_file(false);
    let auth = Authenticator::new(AuthConfig {
        jwks_file: Some(path.to_path_buf()),
        ..AuthConfig::default()
    })
    .unwrap();
    let es = sign(Algorithm::ES256, &ec_key(), Some("ec-1"), &good_claims());
    std::fs::write(&path, jwks_json(true)).unwrap();
    assert!(auth.authenticate(Some(&bearer(&es))).await.is_ok());
}
