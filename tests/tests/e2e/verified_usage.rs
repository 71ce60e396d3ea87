//! Usage you can trust (issue 24), end to end on SQLite and PostgreSQL: the real gateway and the
//! real version service (verifying pings against the gateway's license database) over the demo
//! story, and strangers posting `POST /usage_data` with what anyone can type.
//!
//! - row 1: pings naming Acme's license by id only change none of its figures, and are shown
//!   as `ID_ONLY`;
//! - row 2: a ping under Acme's server name carrying another customer's (verified) license,
//!   recorded later, does not replace Acme's server's ping; it is shown as a second
//!   installation;
//! - row 3: the sender's own license's `current` under that name does not flip when Acme's
//!   server pings;
//! - the sweep turns pings stored `UNCHECKED` into `VERIFIED` once a license database answers;
//! - the name is taken over by an installation verifying the holder's license (a reinstall), or
//!   by any verified one after the holder's silence (`holder_silence_days`).

use chrono::{DateTime, Duration, Utc};
use e2e_tests::demo::{DemoLicense as License, license_of, verifying_pair};
use e2e_tests::version::VersionService;
use e2e_tests::{Gateway, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACME_HOST: &str = "gitlab.acmeinc.com";

const LICENSE: &str = r#"query($id: ID!) { license(id: $id) {
    utilization { licensedUsers maxActiveUsers overLicensed reportingServers }
    reportingHosts { name attached current lastUsagePingAt
      latestUsagePing { recordedAt uuid activeUserCount verification } } } }"#;

const HOSTNAME: &str = r#"query($name: String!) { hostname(name: $name) {
    lastUsagePingAt reportedLicense { id }
    latestUsagePing { uuid recordedAt activeUserCount verification verifiedLicenseId }
    installations { uuid holdsName verified lastUsagePingAt
      latestUsagePing { uuid verification licenseId } } } }"#;

/// Acme's paid license, and the license of another customer (Globex's lapsed one).
async fn licenses(gateway: &Gateway) -> (License, License) {
    (
        license_of(gateway, "1", "ACTIVE").await,
        license_of(gateway, "2", "EXPIRED").await,
    )
}

/// A ping as a server sends it, carrying `license` (all of id, md5 and sha256).
fn ping(uuid: &str, hostname: &str, at: DateTime<Utc>, license: &License, users: i64) -> Value {
    json!({
        "uuid": uuid, "hostname": hostname, "recorded_at": at.to_rfc3339(),
        "version": "17.5.1-ee", "edition": "EEP", "active_user_count": users,
        "license_id": license.id.parse::<i64>().unwrap(),
        "license_md5": license.md5, "license_sha256": license.sha256,
        "counts": { "projects": 1 }
    })
}

async fn post(gateway: &Gateway, version: &VersionService, body: &Value) {
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

async fn license(gateway: &Gateway, license: &License) -> Value {
    let answer = gateway.query(LICENSE, json!({ "id": license.id })).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["license"].clone()
}

async fn hostname(gateway: &Gateway, name: &str) -> Value {
    let answer = gateway.query(HOSTNAME, json!({ "name": name })).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["hostname"].clone()
}

/// The installation of `hostname`'s answer that sends as `uuid`.
fn installation<'a>(host: &'a Value, uuid: &str) -> &'a Value {
    host["installations"]
        .as_array()
        .unwrap_or_else(|| panic!("{host}"))
        .iter()
        .find(|i| i["uuid"] == uuid)
        .unwrap_or_else(|| panic!("no installation {uuid}: {host}"))
}

#[tokio::test]
async fn row_1_pings_naming_a_license_by_id_only_change_none_of_its_figures() {
    for backend in backends() {
        let (gateway, version) = verifying_pair(backend, 24, |_| {}).await;
        let (acme, _) = licenses(&gateway).await;
        let before = license(&gateway, &acme).await;
        assert!(
            before["utilization"]["reportingServers"].as_i64().unwrap() >= 1,
            "{backend:?}: the demo's servers report Acme's license: {before}"
        );
        for i in 0..3 {
            let forged = json!({
                "uuid": format!("made-up-{i}"), "hostname": format!("made-up-{i}.example"),
                "recorded_at": Utc::now().to_rfc3339(),
                "license_id": acme.id.parse::<i64>().unwrap(), "active_user_count": 999_999,
            });
            post(&gateway, &version, &forged).await;
        }
        let after = license(&gateway, &acme).await;
        assert_eq!(after, before, "{backend:?}: the figures did not move");
        assert_ne!(
            after["utilization"]["maxActiveUsers"], 999_999,
            "{backend:?}"
        );

        // Stored, and shown to whoever looks at that server, as unverified.
        let forged = hostname(&gateway, "made-up-0.example").await;
        assert_eq!(forged["latestUsagePing"]["activeUserCount"], 999_999);
        assert_eq!(
            forged["latestUsagePing"]["verification"], "ID_ONLY",
            "{backend:?}: {forged}"
        );
        assert!(forged["reportedLicense"].is_null(), "{backend:?}: {forged}");
        assert_eq!(installation(&forged, "made-up-0")["verified"], false);
    }
}

#[tokio::test]
async fn row_2_an_impostor_under_a_verified_name_is_shown_never_replacing_it() {
    for backend in backends() {
        let (gateway, version) = verifying_pair(backend, 24, |_| {}).await;
        let (acme, other) = licenses(&gateway).await;
        let acme_before = license(&gateway, &acme).await;
        let host_before = hostname(&gateway, ACME_HOST).await;
        let holder = host_before["latestUsagePing"]["uuid"].clone();
        assert_eq!(host_before["reportedLicense"]["id"], acme.id.as_str());
        assert_eq!(
            host_before["latestUsagePing"]["verification"], "VERIFIED",
            "{backend:?}: {host_before}"
        );

        // Another customer's genuine license file, under Acme's server name, recorded later.
        let at = Utc::now() + Duration::seconds(280);
        post(
            &gateway,
            &version,
            &ping("impostor", ACME_HOST, at, &other, 3),
        )
        .await;

        let host = hostname(&gateway, ACME_HOST).await;
        assert_eq!(
            host["latestUsagePing"], host_before["latestUsagePing"],
            "{backend:?}: the holder's ping stays the latest: {host}"
        );
        assert_eq!(host["lastUsagePingAt"], host_before["lastUsagePingAt"]);
        assert_eq!(
            host["reportedLicense"]["id"],
            acme.id.as_str(),
            "{backend:?}"
        );
        let acme_after = license(&gateway, &acme).await;
        assert_eq!(
            acme_after["utilization"], acme_before["utilization"],
            "{backend:?}"
        );
        // The impostor is there, verified (its own license), not holding the name.
        assert_eq!(host["installations"].as_array().unwrap().len(), 2, "{host}");
        let impostor = installation(&host, "impostor");
        assert_eq!(impostor["holdsName"], false, "{backend:?}: {host}");
        assert_eq!(impostor["verified"], true);
        assert_eq!(impostor["latestUsagePing"]["verification"], "VERIFIED");
        let genuine = installation(&host, holder.as_str().unwrap());
        assert_eq!(genuine["holdsName"], true, "{backend:?}: {host}");

        // Acme's own token sees that someone else reports under its name, not what it sends.
        let acme_token = gateway.token(&["customer"], &[1]);
        let seen = gateway
            .query_as(&acme_token, HOSTNAME, json!({ "name": ACME_HOST }))
            .await;
        assert!(seen["errors"].is_null(), "{seen}");
        let others: Vec<&Value> = seen["data"]["hostname"]["installations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["holdsName"] == false)
            .collect();
        assert_eq!(others.len(), 1, "{backend:?}: {seen}");
        assert!(others[0]["uuid"].is_null() && others[0]["latestUsagePing"].is_null());
    }
}

#[tokio::test]
async fn row_3_current_does_not_flip_when_another_installation_pings_under_the_name() {
    for backend in backends() {
        let (gateway, version) = verifying_pair(backend, 24, |_| {}).await;
        let (acme, other) = licenses(&gateway).await;
        let holder = hostname(&gateway, ACME_HOST).await["latestUsagePing"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        // The sender reports its own license under Acme's name ...
        post(
            &gateway,
            &version,
            &ping("sender", ACME_HOST, Utc::now(), &other, 3),
        )
        .await;
        let reported = |answer: Value| {
            answer["reportingHosts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["name"] == ACME_HOST)
                .cloned()
                .unwrap_or_else(|| panic!("{answer}"))
        };
        let before = reported(license(&gateway, &other).await);
        assert_eq!(before["current"], true, "{backend:?}: {before}");
        // ... and watches it while Acme's server pings.
        let at = Utc::now() + Duration::seconds(60);
        post(&gateway, &version, &ping(&holder, ACME_HOST, at, &acme, 40)).await;
        let after = reported(license(&gateway, &other).await);
        assert_eq!(
            after, before,
            "{backend:?}: nothing about Acme's ping shows"
        );
        // Acme's server is still current for Acme's license.
        let acme_host = reported(license(&gateway, &acme).await);
        assert_eq!(acme_host["current"], true, "{backend:?}");
        assert_eq!(acme_host["latestUsagePing"]["activeUserCount"], 40);
    }
}

#[tokio::test]
async fn the_sweep_verifies_pings_stored_while_no_license_database_answered() {
    for backend in backends() {
        // A license database with the demo story's licenses, and a version service that cannot
        // reach any.
        let gateway = Gateway::start(backend).await;
        let options = seed::SeedOptions {
            customers: 3,
            seed: 24,
            today: Utc::now().date_naive(),
            include_demo_story: true,
        };
        seed::seed(&gateway.state.db, None, &options).await.unwrap();
        let (acme, _) = licenses(&gateway).await;
        // Its license database is down (nothing listens on port 1): pings are still stored.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let version = VersionService::start_on(listener, backend, None, |config| {
            config.license_database_url = Some("postgres://postgres@127.0.0.1:1/down".to_owned());
            config.verification.lookup_timeout_ms = 500;
        })
        .await;
        post(
            &gateway,
            &version,
            &ping("server", "new.example", Utc::now(), &acme, 7),
        )
        .await;
        let stored = verification_of(&version, "new.example").await;
        assert_eq!(stored["latestUsagePing"]["verification"], "UNCHECKED");
        assert_eq!(stored["installations"][0]["holdsName"], false);
        let down = version_service::verify::sweep_once(&version.state)
            .await
            .unwrap();
        assert_eq!(down, 0, "{backend:?}: nothing decided while it is down");

        // The same version database, now with the license database.
        let mut config = (*version.state.config).clone();
        config.license_database_url = Some(gateway.db.url.clone());
        let state = version_service::AppState::open(config).await.unwrap();
        let decided = version_service::verify::sweep_once(&state).await.unwrap();
        assert_eq!(decided, 1, "{backend:?}");
        let verified = verification_of(&version, "new.example").await;
        assert_eq!(
            verified["latestUsagePing"]["verification"], "VERIFIED",
            "{backend:?}: {verified}"
        );
        assert_eq!(
            verified["latestUsagePing"]["verifiedLicenseId"],
            acme.id.as_str()
        );
        // The verified installation now holds the name.
        assert_eq!(
            verified["installations"][0]["holdsName"], true,
            "{verified}"
        );
        assert_eq!(
            version_service::verify::sweep_once(&state).await.unwrap(),
            0
        );
    }
}

/// What the version service's own subgraph says of `name`.
async fn verification_of(version: &VersionService, name: &str) -> Value {
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Hostname {
        latestUsagePing { verification verifiedLicenseId }
        installations { uuid holdsName verified } } } }"#;
    let answer: Value = reqwest::Client::new()
        .post(version.graphql_url())
        .json(&json!({ "query": query,
            "variables": { "r": [{ "__typename": "Hostname", "name": name }] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["_entities"][0].clone()
}

#[tokio::test]
async fn a_reinstall_verifying_the_holders_license_takes_the_name_over() {
    for backend in backends() {
        let (gateway, version) = verifying_pair(backend, 24, |_| {}).await;
        let (acme, _) = licenses(&gateway).await;
        let at = Utc::now() + Duration::seconds(120);
        post(
            &gateway,
            &version,
            &ping("reinstalled", ACME_HOST, at, &acme, 12),
        )
        .await;
        let host = hostname(&gateway, ACME_HOST).await;
        assert_eq!(
            host["latestUsagePing"]["uuid"], "reinstalled",
            "{backend:?}: {host}"
        );
        assert_eq!(installation(&host, "reinstalled")["holdsName"], true);
        assert_eq!(
            host["installations"][0]["uuid"], "reinstalled",
            "holder first"
        );
    }
}

#[tokio::test]
async fn after_the_holders_silence_another_verified_installation_takes_the_name() {
    for backend in backends() {
        // Every verified ping of the holder is older than a silence of zero days.
        let (gateway, version) = verifying_pair(backend, 24, |config| {
            config.verification.holder_silence_days = 0;
        })
        .await;
        let (_, other) = licenses(&gateway).await;
        post(
            &gateway,
            &version,
            &ping("successor", ACME_HOST, Utc::now(), &other, 5),
        )
        .await;
        let host = hostname(&gateway, ACME_HOST).await;
        assert_eq!(
            host["latestUsagePing"]["uuid"], "successor",
            "{backend:?}: {host}"
        );
        assert_eq!(host["reportedLicense"]["id"], other.id.as_str());
        // An unverified installation never takes it, silence or not.
        let forged = json!({ "uuid": "forger", "hostname": ACME_HOST,
            "recorded_at": (Utc::now() + Duration::seconds(60)).to_rfc3339(),
            "license_id": 1, "license_sha256": "not-a-digest" });
        post(&gateway, &version, &forged).await;
        let host = hostname(&gateway, ACME_HOST).await;
        assert_eq!(host["latestUsagePing"]["uuid"], "successor", "{host}");
        assert_eq!(
            installation(&host, "forger")["latestUsagePing"]["verification"],
            "DIGEST_MISMATCH"
        );
    }
}
