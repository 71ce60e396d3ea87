//! `POST /usage_data`: validation, extraction, normalisation, idempotency and size limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, fixture, for_each_backend, ping};
use sea_orm::{EntityTrait, PaginatorTrait};
use version_service::{
    Config,
    store::{hosts, usage_pings},
};

async fn ping_count(app: &TestApp) -> u64 {
    usage_pings::Entity::find().count(app.db()).await.unwrap()
}

#[tokio::test]
async fn stores_the_fixture_with_its_fields_and_whole_payload() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let mut payload = fixture();
        payload["hostname"] = " GitLab.AcmeInc.COM. ".into();
        let body = serde_json::to_string_pretty(&payload).unwrap();

        let response = app.post_ping(body.clone()).await;
        assert_eq!(response.status(), 201, "{}", db.backend);
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["status"], "created");

        let rows = usage_pings::Entity::find().all(app.db()).await.unwrap();
        assert_eq!(rows.len(), 1, "{}", db.backend);
        let row = &rows[0];
        assert_eq!(row.hostname, "gitlab.acmeinc.com");
        assert_eq!(row.uuid, "6f1b2c1e-8a53-4f0e-9a3c-2d41c7e9b0aa");
        assert_eq!(row.version.as_deref(), Some("17.3.2-ee"));
        assert_eq!(row.edition.as_deref(), Some("EEP"));
        assert_eq!(row.installation_type.as_deref(), Some("omnibus-gitlab"));
        assert_eq!(row.active_user_count, Some(87));
        assert_eq!(row.historical_max_users, Some(96));
        assert_eq!(row.license_id, Some(4102));
        assert_eq!(
            row.license_md5.as_deref(),
            Some("0c0f4c4e2b8d4f5c9a1e3b7d6a2f8e11")
        );
        assert!(
            row.license_sha256
                .as_deref()
                .unwrap()
                .starts_with("5d1a8f0e")
        );
        assert_eq!(row.license_user_count, Some(100));
        assert_eq!(row.license_plan.as_deref(), Some("premium"));
        assert_eq!(row.license_trial, Some(false));
        assert_eq!(row.license_starts_at.unwrap().to_string(), "2026-03-01");
        assert_eq!(row.license_expires_at.unwrap().to_string(), "2027-03-01");
        assert_eq!(
            row.license_subscription_id.as_deref(),
            Some("2c92a0ff5e09bd69015e0a93e3f00c8a")
        );
        assert_eq!(row.recorded_at.to_rfc3339(), "2026-11-22T03:14:07+00:00");
        assert_eq!(row.payload, body, "payload kept byte for byte");

        let host = hosts::Entity::find().one(app.db()).await.unwrap().unwrap();
        assert_eq!(host.hostname, "gitlab.acmeinc.com");
        assert_eq!(host.id, row.host_id);
        assert_eq!(host.last_ping_at, row.recorded_at);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_same_ping_twice_is_stored_once() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let body = fixture().to_string();
        assert_eq!(app.post_ping(body.clone()).await.status(), 201);
        let again = app.post_ping(body).await;
        assert_eq!(again.status(), 200, "{}", db.backend);
        let json: serde_json::Value = again.json().await.unwrap();
        assert_eq!(json["status"], "duplicate");
        // Same identity after normalisation is the same ping.
        let mut shouting = fixture();
        shouting["hostname"] = "GITLAB.ACMEINC.COM.".into();
        assert_eq!(app.post_ping(shouting.to_string()).await.status(), 200);
        assert_eq!(ping_count(&app).await, 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn host_keeps_the_latest_recorded_at() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        for at in [
            "2026-11-15T00:00:00Z",
            "2026-11-22T00:00:00Z",
            "2026-11-08T00:00:00Z",
        ] {
            let status = app
                .post_ping(ping("u", "h.example", at).to_string())
                .await
                .status();
            assert_eq!(status, 201, "{}", db.backend);
        }
        let host = hosts::Entity::find().one(app.db()).await.unwrap().unwrap();
        assert_eq!(host.last_ping_at.to_rfc3339(), "2026-11-22T00:00:00+00:00");
        assert_eq!(ping_count(&app).await, 3);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_payloads_are_refused_with_a_reason_and_nothing_stored() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let mut no_uuid = fixture();
        no_uuid.as_object_mut().unwrap().remove("uuid");
        let mut no_hostname = fixture();
        no_hostname.as_object_mut().unwrap().remove("hostname");
        let mut no_recorded_at = fixture();
        no_recorded_at
            .as_object_mut()
            .unwrap()
            .remove("recorded_at");
        let mut wrong_type = fixture();
        wrong_type["active_user_count"] = "eighty-seven".into();
        let mut bad_date = fixture();
        bad_date["license_expires_at"] = "soon".into();
        let cases = [
            (no_uuid.to_string(), 422, "`uuid` is required"),
            (no_hostname.to_string(), 422, "`hostname` is required"),
            (no_recorded_at.to_string(), 422, "`recorded_at` is required"),
            (
                wrong_type.to_string(),
                422,
                "`active_user_count` must be an integer",
            ),
            (
                bad_date.to_string(),
                422,
                "`license_expires_at` must be a date",
            ),
            ("[1, 2]".to_owned(), 422, "must be a JSON object"),
            ("this is not json".to_owned(), 400, "not valid JSON"),
            (String::new(), 400, "not valid JSON"),
        ];
        for (body, status, message) in cases {
            let response = app.post_ping(body).await;
            assert_eq!(response.status(), status, "{} {message}", db.backend);
            let json: serde_json::Value = response.json().await.unwrap();
            let error = json["error"].as_str().unwrap();
            assert!(
                error.contains(message),
                "{error:?} should contain {message:?}"
            );
        }
        assert_eq!(ping_count(&app).await, 0);
        app.stop().await;
    })
    .await;
}

/// A valid ping padded with metrics up to `bytes`.
fn big_ping(bytes: usize) -> String {
    let mut payload = fixture();
    let metric = "x".repeat(1000);
    let metrics: serde_json::Map<String, serde_json::Value> = (0..bytes / 1000 + 1)
        .map(|i| (format!("metric_{i:06}"), metric.clone().into()))
        .collect();
    payload["usage_activity_by_stage"] = metrics.into();
    let body = payload.to_string();
    assert!(body.len() >= bytes);
    body
}

#[tokio::test]
async fn accepts_payloads_over_two_megabytes() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let body = big_ping(2_500_000);
        let response = app.post_ping(body.clone()).await;
        assert_eq!(response.status(), 201, "{}", db.backend);
        let row = usage_pings::Entity::find()
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.payload.len(), body.len());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn refuses_oversized_payloads_with_413() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let response = app.post_ping(big_ping(5 * 1024 * 1024)).await;
        assert_eq!(response.status(), 413, "{}", db.backend);
        let json: serde_json::Value = response.json().await.unwrap();
        assert!(
            json["error"]
                .as_str()
                .unwrap()
                .contains("larger than the limit")
        );
        assert_eq!(ping_count(&app).await, 0);
        app.stop().await;

        // The limit is configurable.
        let small = Config {
            max_payload_bytes: 1024,
            ..Config::default()
        };
        let app = TestApp::spawn(&db.url, small).await;
        assert_eq!(app.post_ping(fixture().to_string()).await.status(), 413);
        assert_eq!(ping_count(&app).await, 0);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn free_edition_pings_have_no_license_fields() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let payload = serde_json::json!({
            "uuid": "0a6e3f0c-free",
            "hostname": "gitlab.example.org",
            "recorded_at": "2026-11-22T03:14:07Z",
            "version": "17.3.2",
            "edition": "CE",
            "installation_type": "gitlab-helm-chart",
            "active_user_count": 5,
            "counts": { "projects": 3 }
        });
        assert_eq!(app.post_ping(payload.to_string()).await.status(), 201);
        let row = usage_pings::Entity::find()
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.edition.as_deref(), Some("CE"));
        assert_eq!(row.license_id, None);
        assert_eq!(row.license_md5, None);
        assert_eq!(row.license_sha256, None);
        assert_eq!(row.license_user_count, None);
        assert_eq!(row.license_plan, None);
        assert_eq!(row.license_trial, None);
        assert_eq!(row.license_starts_at, None);
        assert_eq!(row.license_expires_at, None);
        assert_eq!(row.license_subscription_id, None);
        app.stop().await;
    })
    .await;
}
