//! `POST /usage_data`: validation, extraction, normalisation, idempotency, size limits, the
//! media type, rate limits and the concurrency cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, fixture, for_each_backend, ping};
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use version_service::{
    Config,
    config::IngestConfig,
    store::{host, usage_ping},
};

async fn ping_count(app: &TestApp) -> u64 {
    usage_ping::Entity::find().count(app.db()).await.unwrap()
}

#[tokio::test]
async fn stores_the_fixture_with_its_fields_and_a_cleaned_payload() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let mut payload = fixture();
        payload["hostname"] = " GitLab.AcmeInc.COM. ".into();
        let body = serde_json::to_string_pretty(&payload).unwrap();

        let response = app.post_ping(body.clone()).await;
        assert_eq!(response.status(), 201, "{}", db.backend);
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["status"], "created");
        // The fields the graph does not read are named, and left out of what is stored.
        let stripped = [
            "counts_monthly",
            "license_add_ons",
            "license_billable_users",
            "licensee",
            "recording_ce_finished_at",
            "recording_ee_finished_at",
            "settings",
            "topology",
        ];
        assert_eq!(json["stripped"], serde_json::json!(stripped), "{json}");
        assert_eq!(json["stripped_count"], stripped.len());

        let rows = usage_ping::Entity::find().all(app.db()).await.unwrap();
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
        let stored: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
        let mut expected = payload.clone();
        for name in stripped {
            expected.as_object_mut().unwrap().remove(name);
        }
        assert_eq!(stored, expected, "the payload less what was stripped");
        assert_eq!(stored["counts"], fixture()["counts"]);

        let host = host::Entity::find().one(app.db()).await.unwrap().unwrap();
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
        let host = host::Entity::find().one(app.db()).await.unwrap().unwrap();
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
            let error = json["errors"][0]["message"].as_str().unwrap();
            assert!(
                error.contains(message),
                "{error:?} should contain {message:?}"
            );
            let code = if status == 400 {
                "BAD_REQUEST"
            } else {
                "INVALID_USAGE_PING"
            };
            assert_eq!(json["errors"][0]["extensions"]["code"], code, "{json}");
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
        let json: serde_json::Value = response.json().await.unwrap();
        let stripped = json["stripped"].as_array().unwrap();
        assert!(
            stripped.contains(&"usage_activity_by_stage".into()),
            "{json}"
        );
        let row = usage_ping::Entity::find()
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        // What is stored is what the graph reads: a kilobyte or two, not the 2.5 MB sent.
        assert!(row.payload.len() < 2_000, "{}", row.payload.len());
        assert!(!row.payload.contains("usage_activity_by_stage"));
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
            json["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("larger than the limit")
        );
        assert_eq!(json["errors"][0]["extensions"]["code"], "REQUEST_TOO_LARGE");
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
        let row = usage_ping::Entity::find()
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

/// The message of a refusal, asserting its status and its GraphQL shape first.
async fn refusal(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let json: serde_json::Value = response.json().await.unwrap();
    assert!(
        json["errors"][0]["extensions"]["code"].is_string(),
        "{json}"
    );
    json["errors"][0]["message"].as_str().unwrap().to_owned()
}

/// A ping recorded `minutes_ago` (distinct pings need distinct timestamps).
fn recent(uuid: &str, minutes_ago: i64) -> String {
    let at = chrono::Utc::now() - chrono::TimeDelta::minutes(minutes_ago);
    ping(uuid, "h.example", &at.to_rfc3339()).to_string()
}

#[tokio::test]
async fn only_json_bodies_are_accepted_415_otherwise() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let body = fixture().to_string();
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let error = refusal(app.post_ping_as(content_type, body.clone()).await, 415).await;
            assert!(
                error.contains("`Content-Type` must be application/json"),
                "{error}"
            );
        }
        assert_eq!(ping_count(&app).await, 0, "{}", db.backend);
        let charset = app
            .post_ping_as(Some("application/json; charset=utf-8"), body)
            .await;
        assert_eq!(charset.status(), 201);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn invalid_hosts_negative_counts_and_future_timestamps_are_refused() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let mut bad_host = fixture();
        bad_host["hostname"] = "bad host.example".into();
        let mut negative = fixture();
        negative["active_user_count"] = (-5).into();
        let mut negative_count = fixture();
        negative_count["counts"]["ci_pipelines"] = (-7).into();
        let mut future = fixture();
        future["recorded_at"] = "9999-12-31T00:00:00Z".into();
        let mut ancient = fixture();
        ancient["recorded_at"] = "1999-01-01T00:00:00Z".into();
        let cases = [
            (bad_host, "`hostname` is not a valid host name"),
            (negative, "`active_user_count` must not be negative"),
            (negative_count, "`counts.ci_pipelines` must not be negative"),
            (future, "`recorded_at` is in the future"),
            (ancient, "`recorded_at` is too old"),
        ];
        for (body, message) in cases {
            let error = refusal(app.post_ping(body.to_string()).await, 422).await;
            assert!(
                error.contains(message),
                "{}: {error:?} should contain {message:?}",
                db.backend
            );
        }
        assert_eq!(ping_count(&app).await, 0, "{}", db.backend);
        assert_eq!(host::Entity::find().count(app.db()).await.unwrap(), 0);

        // A clock a little ahead is tolerated, and the skew is configurable.
        let ahead = (chrono::Utc::now() + chrono::TimeDelta::seconds(60)).to_rfc3339();
        let body = ping("u", "h.example", &ahead).to_string();
        assert_eq!(app.post_ping(body.clone()).await.status(), 201);
        app.stop().await;
        let strict = Config {
            ingest: IngestConfig {
                max_clock_skew_secs: 0,
                ..IngestConfig::default()
            },
            ..Config::default()
        };
        let app = TestApp::spawn(&db.url, strict).await;
        let ahead = (chrono::Utc::now() + chrono::TimeDelta::seconds(60)).to_rfc3339();
        let error = refusal(
            app.post_ping(ping("u", "h.example", &ahead).to_string())
                .await,
            422,
        )
        .await;
        assert!(error.contains("at most 0 s ahead"), "{error}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_flood_from_one_address_gets_429_with_retry_after() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    // The production defaults: 60 pings a minute per address.
    let app = TestApp::spawn_limited(&db.url, Config::default()).await;
    let mut statuses = Vec::new();
    for i in 0..100 {
        let response = app.post_ping(recent(&format!("flood-{i}"), i)).await;
        if response.status() == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after), "{retry_after}");
            let error = refusal(response, 429).await;
            assert!(error.contains("from this address"), "{error}");
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    // A burst of 60, plus one per second the loop took.
    assert!((60..=70).contains(&created), "{created} created");
    assert_eq!(created + limited, 100, "{statuses:?}");
    assert_eq!(ping_count(&app).await, created as u64);
    app.stop().await;
}

#[tokio::test]
async fn an_installation_resending_gets_429_with_retry_after() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let config = Config {
        ingest: IngestConfig {
            per_address_per_minute: 0,
            ..IngestConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::spawn_limited(&db.url, config).await;
    // The default: 10 pings an hour per installation uuid.
    for i in 0..10 {
        assert_eq!(app.post_ping(recent("same-install", i)).await.status(), 201);
    }
    let response = app.post_ping(recent("same-install", 10)).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One ping replenishes every 6 minutes.
    assert!((300..=360).contains(&retry_after), "{retry_after}");
    let error = refusal(response, 429).await;
    assert!(error.contains("from this installation"), "{error}");
    // Others are not affected.
    assert_eq!(
        app.post_ping(recent("other-install", 0)).await.status(),
        201
    );
    assert_eq!(ping_count(&app).await, 11);
    app.stop().await;
}

/// Redis for the tests of shared limits: `TEST_REDIS_URL`, else the local server. Unreachable
/// fails the test: never a silent skip.
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Two instances over one database whose limits `ingest` are counted in the same Redis; fails
/// when no Redis answers (these tests need one: `./test` starts it).
async fn two_instances_sharing_redis(
    ingest: IngestConfig,
) -> (test_support::TestDb, TestApp, TestApp) {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let config = Config {
        redis_url: Some(redis_url()),
        ingest,
        ..Config::default()
    };
    let first = TestApp::spawn_limited(&db.url, config.clone()).await;
    let second = TestApp::spawn_limited(&db.url, config).await;
    first
        .state
        .limits
        .check_backend()
        .await
        .unwrap_or_else(|err| panic!("this test needs Redis at {}: {err}", redis_url()));
    (db, first, second)
}

#[tokio::test]
async fn two_instances_share_the_installation_limit_through_redis() {
    let (_db, first, second) = two_instances_sharing_redis(IngestConfig {
        per_address_per_minute: 0,
        per_installation_per_hour: 3,
        ..IngestConfig::default()
    })
    .await;
    // Unique per run, so runs in parallel and earlier runs do not share counts.
    let uuid = format!("redis-{}", uuid::Uuid::new_v4());
    assert_eq!(first.post_ping(recent(&uuid, 0)).await.status(), 201);
    assert_eq!(first.post_ping(recent(&uuid, 1)).await.status(), 201);
    assert_eq!(second.post_ping(recent(&uuid, 2)).await.status(), 201);
    // Each instance alone would allow a third ping; together they have used the three.
    let refused = second.post_ping(recent(&uuid, 3)).await;
    assert!(refused.headers().contains_key("retry-after"));
    refusal(refused, 429).await;
    refusal(first.post_ping(recent(&uuid, 4)).await, 429).await;
    assert_eq!(ping_count(&first).await, 3);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn above_the_concurrency_cap_ingestion_answers_503_with_retry_after() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let config = Config {
        ingest: IngestConfig {
            max_concurrent: 2,
            retry_after_secs: 2,
            ..IngestConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::spawn(&db.url, config).await;
    // Two pings being parsed and stored: the slots taken as a slow database would hold them.
    let first = app.state.limits.acquire().unwrap();
    let _second = app.state.limits.acquire().unwrap();
    let busy = app.post_ping(recent("other", 1)).await;
    assert_eq!(busy.headers()["retry-after"], "2");
    let error = refusal(busy, 503).await;
    assert!(error.contains("busy"), "{error}");
    drop(first);
    assert_eq!(app.post_ping(recent("other", 1)).await.status(), 201);
    assert_eq!(ping_count(&app).await, 1);
    app.stop().await;
}

/// `ping` with a `padding` field that makes it `bytes` long.
fn padded(ping: &str, bytes: usize) -> String {
    let mut value: serde_json::Value = serde_json::from_str(ping).unwrap();
    value["padding"] = "".into();
    let short = value.to_string().len();
    value["padding"] = "p".repeat(bytes - short).into();
    let body = value.to_string();
    assert_eq!(body.len(), bytes);
    body
}

/// Opens a connection to `app` from 127.0.0.2 (another address than the tests' client), sends
/// the headers of a ping of `body`, then `sent` bytes of it, and leaves it there.
async fn trickle(app: &TestApp, body: &str, sent: usize) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut slow = socket.connect(app.addr).await.unwrap();
    let headers = format!(
        "POST /usage_data HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(headers.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..sent]).await.unwrap();
    slow
}

/// Waits until the bodies in the server's memory hold `bytes` (the trickling senders' bytes
/// have arrived).
async fn until_bodies_hold(app: &TestApp, bytes: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.state.limits.body_bytes_in_memory() != bytes {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the bodies hold {} bytes, not {bytes}",
            app.state.limits.body_bytes_in_memory()
        )
    });
}

/// The issue's row "64 connections that send headers and a few body bytes": before, each held
/// an ingestion slot until the body deadline and genuine pings got 503. The slot is now taken
/// once the body is in, and a trickling body holds only the memory of the bytes it sent.
#[tokio::test]
async fn senders_trickling_their_bodies_do_not_hold_the_ingestion_slots() {
    for_each_backend(|db| async move {
        // The production bounds (64 slots), without the per-address rate that would refuse
        // the slow senders' connections past the 60th before they send a body.
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let max = app.state.config.ingest.max_concurrent;
        let mut slow = Vec::new();
        for i in 0..max {
            slow.push(trickle(&app, &recent(&format!("slow-{i}"), i as i64), 5).await);
        }
        until_bodies_hold(&app, max * 5).await;
        let genuine = app.post_ping(recent("genuine", 0)).await;
        assert_eq!(genuine.status(), 201, "{}", db.backend);
        assert_eq!(ping_count(&app).await, 1);
        drop(slow);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bodies_past_the_memory_bound_get_503_and_a_trickling_body_holds_only_its_bytes() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let config = Config {
        ingest: IngestConfig {
            max_body_memory_bytes: 1_000,
            retry_after_secs: 3,
            ..IngestConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::spawn(&db.url, config).await;
    let body = padded(&recent("slow", 0), 900);
    let mut slow = trickle(&app, &body, 800).await;
    until_bodies_hold(&app, 800).await;
    // 800 of the 1000 bytes are taken: a ping of 400 does not fit.
    let other = padded(&recent("other", 1), 400);
    let busy = app.post_ping(other.clone()).await;
    assert_eq!(busy.headers()["retry-after"], "3");
    refusal(busy, 503).await;
    // A small one does, while the slow body waits.
    assert_eq!(app.post_ping(r#"{}"#).await.status(), 422);

    // When the slow sender finishes, it is stored and its memory given back.
    slow.write_all(&body.as_bytes()[800..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_string(&mut answer))
        .await
        .expect("the slow sender got no answer")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains(r#""stripped":["padding"]"#), "{answer}");
    until_bodies_hold(&app, 0).await;
    assert_eq!(app.post_ping(other).await.status(), 201);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_check_and_lets_pings_through() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    // Nothing listens on port 1.
    let config = Config {
        redis_url: Some("redis://127.0.0.1:1/".to_owned()),
        ingest: IngestConfig {
            per_installation_per_hour: 1,
            ..IngestConfig::default()
        },
        ..Config::default()
    };
    let app = TestApp::spawn_limited(&db.url, config).await;
    let err = app.state.limits.check_backend().await.unwrap_err();
    assert!(err.contains("Redis"), "{err}");
    // Once running, a Redis outage costs a bounded wait, not the pings.
    let started = std::time::Instant::now();
    assert_eq!(app.post_ping(recent("no-redis", 0)).await.status(), 201);
    assert_eq!(app.post_ping(recent("no-redis", 1)).await.status(), 201);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

/// Bytes the SQLite database file holds (pages in use, the write-ahead log included).
async fn sqlite_bytes(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let mut bytes = 1;
    for pragma in ["PRAGMA page_count", "PRAGMA page_size"] {
        let row = db
            .query_one_raw(Statement::from_string(backend, pragma))
            .await
            .unwrap()
            .unwrap();
        bytes *= row.try_get_by_index::<i64>(0).unwrap();
    }
    bytes
}

/// The issue's row "10 pings of 3.9 MB each: 78 MB added, each body stored twice": the usage
/// counters are kept only in the raw body, so storing a ping costs about its size once.
/// Measured on SQLite, which stores text as sent (PostgreSQL compresses it, hiding a copy).
#[tokio::test]
async fn a_ping_is_stored_once_not_twice() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let app = TestApp::spawn(&db.url, Config::default()).await;
    // Warm the tables so their first pages do not count.
    assert_eq!(app.post_ping(fixture().to_string()).await.status(), 201);
    let before = sqlite_bytes(app.db()).await;
    let mut sent = 0;
    for i in 0..5 {
        // Counters of about 120 kB (near the most entries `counts` may hold), nearly the whole
        // body: what a copy of `counts` would double.
        let counts: serde_json::Map<String, serde_json::Value> = (0..4_500)
            .map(|j| {
                (
                    format!("metric_{j:06}"),
                    serde_json::json!(i * 1_000_000 + j),
                )
            })
            .collect();
        let mut body = ping(&format!("u{i}"), "big.example", "2026-11-22T00:00:00Z");
        body["counts"] = counts.into();
        let body = body.to_string();
        sent += body.len() as i64;
        assert_eq!(app.post_ping(body).await.status(), 201);
    }
    let grown = sqlite_bytes(app.db()).await - before;
    assert!(
        grown < sent * 13 / 10,
        "{grown} bytes stored for {sent} bytes of pings: more than one copy"
    );
    app.stop().await;
}

/// A client whose connections come from 127.0.0.2: another sender than the tests' usual client.
fn client_from_another_address() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap()
}

/// A ping of `uuid` with a string `pad` inside `counts` that makes it about `bytes` long.
fn padded_counts(uuid: &str, minutes_ago: i64, bytes: usize) -> String {
    let mut body: serde_json::Value = serde_json::from_str(&recent(uuid, minutes_ago)).unwrap();
    body["counts"] = serde_json::json!({ "projects": 3, "pad": "x".repeat(bytes) });
    body.to_string()
}

/// Bytes of payload stored, all pings together.
async fn payload_bytes(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db().get_database_backend();
    let row = app
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT CAST(COALESCE(SUM(LENGTH(payload)), 0) AS BIGINT) AS bytes FROM usage_pings",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "bytes").unwrap()
}

/// The issue's row "30 pings of 3.9 MB from one address (a string `pad` inside `counts`)":
/// before, all were stored as sent (+113 MB). With the production limits they are accepted,
/// but what is stored is the cleaned ping, the pad stripped, and each answer says so.
#[tokio::test]
async fn padded_pings_are_stored_without_their_padding() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn_limited(&db.url, Config::default()).await;
        let mut sent = 0;
        for i in 0..30 {
            let body = padded_counts(&format!("padded-{i}"), i, 3_900_000);
            sent += body.len();
            let response = app.post_ping(body).await;
            assert_eq!(response.status(), 201, "{}: ping {i}", db.backend);
            let json: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                json["stripped"],
                serde_json::json!(["counts.pad"]),
                "{json}"
            );
            assert_eq!(json["stripped_count"], 1);
        }
        assert_eq!(ping_count(&app).await, 30);
        let stored = payload_bytes(&app).await;
        // About 130 bytes a ping, for 3.9 MB sent.
        assert!(stored < 30 * 200, "{}: {stored} bytes stored", db.backend);
        assert!(sent > 30 * 3_900_000);
        let counts = usage_ping::Entity::find()
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert!(
            counts.payload.contains(r#""counts":{"projects":3}"#),
            "{}",
            counts.payload
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn past_a_days_bytes_an_address_and_an_installation_get_429() {
    for_each_backend(|db| async move {
        let config = Config {
            ingest: IngestConfig {
                per_address_bytes_per_day: 16 * 1024 * 1024,
                per_installation_bytes_per_day: 8 * 1024 * 1024,
                ..IngestConfig::default()
            },
            ..Config::default()
        };
        let app = TestApp::spawn_limited(&db.url, config).await;
        let mb = 3_900_000;
        assert_eq!(app.post_ping(padded_counts("a", 0, mb)).await.status(), 201);
        assert_eq!(app.post_ping(padded_counts("a", 1, mb)).await.status(), 201);
        // A third would take installation `a` past its 8 MiB.
        let response = app.post_ping(padded_counts("a", 2, mb)).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let error = refusal(response, 429).await;
        assert!(
            error.contains("this installation has sent its 8388608 bytes"),
            "{error}"
        );
        // About 3.3 MB to win back at 8 MiB a day: some eight hours.
        assert!(
            (7 * 3600..=10 * 3600).contains(&retry_after),
            "{retry_after}"
        );
        // Another installation from the same address may still send, until the address has
        // sent its 16 MiB (the refused ping's bytes count: they were sent).
        assert_eq!(app.post_ping(padded_counts("b", 3, mb)).await.status(), 201);
        let error = refusal(app.post_ping(padded_counts("b", 4, mb)).await, 429).await;
        assert!(
            error.contains("this address has sent its 16777216 bytes"),
            "{error}"
        );
        // Installation `a` sending from another address has its own budget.
        let elsewhere = client_from_another_address()
            .post(format!("{}/usage_data", app.base))
            .header("content-type", "application/json")
            .body(padded_counts("a", 5, mb))
            .send()
            .await
            .unwrap();
        assert_eq!(elsewhere.status(), 201, "{}", db.backend);
        assert_eq!(ping_count(&app).await, 4);
        app.stop().await;
    })
    .await;
}

/// The issue's row "10 pings under another installation's `uuid` from another address": before,
/// the installation's genuine pings got 429 for up to an hour.
#[tokio::test]
async fn a_stranger_cannot_spend_an_installations_rate() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn_limited(&db.url, Config::default()).await;
        let stranger = client_from_another_address();
        let victim = "6f1b2c1e-8a53-4f0e-9a3c-2d41c7e9b0aa";
        let mut statuses = Vec::new();
        for i in 0..11 {
            let response = stranger
                .post(format!("{}/usage_data", app.base))
                .header("content-type", "application/json")
                .body(recent(victim, 100 + i))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        // The stranger spends its own allowance (10 an hour), not the installation's.
        assert_eq!(statuses[..10], [201; 10], "{}: {statuses:?}", db.backend);
        assert_eq!(statuses[10], 429, "{statuses:?}");
        // The genuine installation, from its own address, is still accepted.
        for i in 0..10 {
            let genuine = app.post_ping(recent(victim, i)).await;
            assert_eq!(genuine.status(), 201, "{}: genuine ping {i}", db.backend);
        }
        assert_eq!(app.post_ping(recent(victim, 10)).await.status(), 429);
        assert_eq!(ping_count(&app).await, 20);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn two_instances_share_an_installations_byte_budget_through_redis() {
    let (_db, first, second) = two_instances_sharing_redis(IngestConfig {
        per_installation_bytes_per_day: 4 * 1024,
        ..IngestConfig::unthrottled()
    })
    .await;
    // Unique per run, so runs in parallel and earlier runs do not share counts.
    let uuid = format!("redis-bytes-{}", uuid::Uuid::new_v4());
    let ping = |minutes_ago| padded(&recent(&uuid, minutes_ago), 3 * 1024);
    assert_eq!(first.post_ping(ping(0)).await.status(), 201);
    // Each instance alone would take these 3 KiB; together they are past the 4 KiB.
    let error = refusal(second.post_ping(ping(1)).await, 429).await;
    assert!(error.contains("4096 bytes"), "{error}");
    assert_eq!(ping_count(&first).await, 1);
    first.stop().await;
    second.stop().await;
}
