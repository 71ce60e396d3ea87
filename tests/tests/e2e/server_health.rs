//! Server health on the customer view (issue 25 item 3), end to end on SQLite and PostgreSQL:
//! the real gateway and the real version service (verifying pings against the gateway's license
//! database) over the demo story. Each flag of `License.serverHealth` is made to appear and to
//! disappear by real, verified pings and by attaching servers in the license database.

use chrono::{DateTime, Duration, Utc};
use e2e_tests::demo::{DemoLicense as License, license_of, verifying_pair};
use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway, backends};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

const HEALTH: &str = r#"query($id: ID!) { license(id: $id) {
    utilization { reportingServers }
    hostnames { name latestUsagePing { version } }
    reportingHosts { name latestUsagePing { version } }
    serverHealth { name attached health } } }"#;

/// Posts a ping from `hostname` carrying `license`'s real digests (so it is verified).
async fn ping(
    gateway: &Gateway,
    version: &VersionService,
    hostname: &str,
    at: DateTime<Utc>,
    license: &License,
    gitlab: &str,
) {
    let body = json!({
        "uuid": format!("uuid-{hostname}"), "hostname": hostname, "recorded_at": at.to_rfc3339(),
        "version": gitlab, "edition": "EEP", "active_user_count": 5,
        "license_id": license.id.parse::<i64>().unwrap(),
        "license_md5": license.md5, "license_sha256": license.sha256,
    });
    let posted = gateway
        .client()
        .post(format!("http://{}/usage_data", version.address))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED, "{body}");
}

/// Attaches server `name` to `license` in the license database, as the license app does.
async fn attach(gateway: &Gateway, license: &License, name: &str) {
    let found = entity::hostname::Entity::find()
        .filter(entity::hostname::Column::Name.eq(name))
        .one(&gateway.state.db)
        .await
        .unwrap();
    let row = match found {
        Some(row) => row,
        None => entity::hostname::ActiveModel {
            name: Set(name.to_owned()),
            ..Default::default()
        }
        .insert(&gateway.state.db)
        .await
        .unwrap(),
    };
    entity::license_hostname::ActiveModel {
        license_id: Set(license.id.parse().unwrap()),
        hostname_id: Set(row.id),
        first_seen_at: Set(Utc::now()),
    }
    .insert(&gateway.state.db)
    .await
    .unwrap();
}

async fn health(gateway: &Gateway, license: &License) -> Value {
    let answer = gateway.query(HEALTH, json!({ "id": license.id })).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["license"].clone()
}

/// The flags of server `name` in `answer`.
fn flags(answer: &Value, name: &str) -> Vec<String> {
    answer["serverHealth"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {answer}"))["health"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

fn has(answer: &Value, name: &str, flag: &str) -> bool {
    flags(answer, name).iter().any(|f| f == flag)
}

/// The newest `major.minor` among the versions the license's servers report, as the test reads
/// it back from the answer.
fn newest_version(answer: &Value) -> (u64, u64) {
    ["hostnames", "reportingHosts"]
        .iter()
        .flat_map(|list| answer[list].as_array().cloned().unwrap_or_default())
        .filter_map(|h| h["latestUsagePing"]["version"].as_str().map(str::to_owned))
        .filter_map(|v| {
            let mut parts = v.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            Some((major, minor))
        })
        .max()
        .unwrap()
}

/// Whether any server of the license is `OVER_REPORTED`, checked against a recount: more
/// servers run the license (`utilization.reportingServers`) than are attached to it.
fn over_reported(answer: &Value, backend: Backend) -> bool {
    let servers = answer["serverHealth"].as_array().unwrap();
    let attached = servers.iter().filter(|s| s["attached"] == true).count() as i64;
    let running = answer["utilization"]["reportingServers"].as_i64().unwrap();
    let over = servers.iter().any(|s| {
        s["health"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "OVER_REPORTED")
    });
    assert_eq!(over, running > attached, "{backend:?}: a recount: {answer}");
    over
}

/// Attaches every server that reports `license` without being attached to it.
async fn attach_unattached(gateway: &Gateway, license: &License) {
    let unattached: Vec<String> = health(gateway, license).await["serverHealth"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["attached"] == false)
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!unattached.is_empty());
    for name in &unattached {
        attach(gateway, license, name).await;
    }
}

#[tokio::test]
async fn each_health_flag_appears_and_disappears() {
    for backend in backends() {
        let (gateway, version) = verifying_pair(backend, 25, |_| {}).await;
        let acme = license_of(&gateway, "1", "ACTIVE").await;
        let other = license_of(&gateway, "2", "EXPIRED").await;
        let now = Utc::now();
        let server = "health-check.example";

        // OVER_REPORTED: the demo's Acme license runs on a server nobody attached; attaching
        // it clears the flag.
        let answer = health(&gateway, &acme).await;
        assert!(over_reported(&answer, backend), "{backend:?}: {answer}");
        attach_unattached(&gateway, &acme).await;
        let answer = health(&gateway, &acme).await;
        assert!(!over_reported(&answer, backend), "{backend:?}: {answer}");

        // STALE: attached and never heard from; then pinged 40 days ago; then today.
        attach(&gateway, &acme, server).await;
        let answer = health(&gateway, &acme).await;
        assert_eq!(flags(&answer, server), ["STALE"], "{backend:?}: {answer}");
        ping(
            &gateway,
            &version,
            server,
            now - Duration::days(40),
            &acme,
            "17.5.0-ee",
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert!(has(&answer, server, "STALE"), "{backend:?}: {answer}");
        ping(
            &gateway,
            &version,
            server,
            now - Duration::days(1),
            &acme,
            "17.5.0-ee",
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert!(!has(&answer, server, "STALE"), "{backend:?}: {answer}");

        // REPORTS_OTHER_LICENSE: its newest verified ping proves Globex's license; then Acme's.
        ping(
            &gateway,
            &version,
            server,
            now - Duration::hours(12),
            &other,
            "17.5.0-ee",
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert!(
            has(&answer, server, "REPORTS_OTHER_LICENSE"),
            "{backend:?}: {answer}"
        );
        ping(
            &gateway,
            &version,
            server,
            now - Duration::hours(11),
            &acme,
            "17.5.0-ee",
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert!(
            !has(&answer, server, "REPORTS_OTHER_LICENSE"),
            "{backend:?}: {answer}"
        );

        // VERSION_BEHIND: more than 3 minors (the default) behind the newest; then up to date.
        ping(
            &gateway,
            &version,
            server,
            now - Duration::hours(10),
            &acme,
            "1.0.0-ee",
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert_eq!(
            flags(&answer, server),
            ["VERSION_BEHIND"],
            "{backend:?}: {answer}"
        );
        let (major, minor) = newest_version(&answer);
        let current = format!("{major}.{minor}.0-ee");
        ping(
            &gateway,
            &version,
            server,
            now - Duration::hours(9),
            &acme,
            &current,
        )
        .await;
        let answer = health(&gateway, &acme).await;
        assert!(flags(&answer, server).is_empty(), "{backend:?}: {answer}");

        // OVER_REPORTED again: unattached servers run the license until more run it than are
        // attached; attaching them clears it.
        let mut extra: Vec<String> = Vec::new();
        loop {
            let answer = health(&gateway, &acme).await;
            if over_reported(&answer, backend) {
                for name in &extra {
                    assert!(has(&answer, name, "OVER_REPORTED"), "{backend:?}: {answer}");
                }
                break;
            }
            assert!(
                extra.len() < 20,
                "{backend:?}: never over-reported: {answer}"
            );
            let name = format!("extra-{}.example", extra.len());
            ping(
                &gateway,
                &version,
                &name,
                now - Duration::hours(8),
                &acme,
                &current,
            )
            .await;
            extra.push(name);
        }
        assert!(
            !extra.is_empty(),
            "{backend:?}: it was not over-reported before"
        );
        attach_unattached(&gateway, &acme).await;
        let answer = health(&gateway, &acme).await;
        assert!(!over_reported(&answer, backend), "{backend:?}: {answer}");
    }
}
