//! The Federation v2 subgraph: SDL, entities, batching and the service token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, fixture, for_each_backend, ping};
use serde_json::{Value, json};
use version_service::{Config, schema_sdl};

const HOSTNAME_ENTITIES: &str = r#"
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Hostname {
      name
      lastUsagePingAt
      latestUsagePing { recordedAt version licenseId licenseStartsAt counts }
      usagePings(last: 2) { recordedAt uuid hostname }
    }
  }
}"#;

const LICENSE_ENTITIES: &str = r#"
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on License {
      id
      reportingHosts { hostname lastUsagePingAt latestUsagePing { recordedAt licensePlan } }
    }
  }
}"#;

const MIXED_ENTITIES: &str = r#"
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Hostname { name latestUsagePing { recordedAt } usagePings { uuid } }
    ... on License { id reportingHosts { hostname latestUsagePing { version } } }
  }
}"#;

fn hostname_reps(names: &[String]) -> Value {
    json!({
        "representations": names
            .iter()
            .map(|name| json!({ "__typename": "Hostname", "name": name }))
            .collect::<Vec<_>>()
    })
}

#[test]
fn sdl_declares_the_entities() {
    let sdl = schema_sdl();
    assert!(
        sdl.contains(r#"type Hostname @key(fields: "name")"#),
        "{sdl}"
    );
    assert!(sdl.contains(r#"type License @key(fields: "id")"#), "{sdl}");
    // Typed as the license subgraph declares them, or the two do not compose.
    assert!(sdl.contains("licenseMd5: String! @external"), "{sdl}");
    assert!(sdl.contains("licenseSha256: String! @external"), "{sdl}");
    assert!(
        sdl.contains(
            r#"reportingHosts: [ReportingHost!]! @requires(fields: "licenseMd5 licenseSha256") @shareable"#
        ),
        "{sdl}"
    );
    // The gateway serves these too (filled from here).
    assert!(sdl.contains("type UsagePing @shareable"), "{sdl}");
    assert!(sdl.contains("type ReportingHost @shareable"), "{sdl}");
    assert!(
        sdl.contains("last: Int! = 10\n\t): [UsagePing!]! @shareable"),
        "{sdl}"
    );
    assert!(
        sdl.contains("A host whose usage pings carry the license"),
        "{sdl}"
    );
    assert!(sdl.contains("counts: JSON"), "{sdl}");
    assert!(sdl.contains("licenseStartsAt: NaiveDate"), "{sdl}");
    assert!(sdl.contains("recordedAt: DateTime!"), "{sdl}");
    async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
}

#[tokio::test]
async fn service_sdl_is_served() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let app = TestApp::spawn(&db.url, Config::default()).await;
    let response = app.graphql("{ _service { sdl } }", json!({})).await;
    let sdl = response["data"]["_service"]["sdl"].as_str().unwrap();
    assert_eq!(sdl, schema_sdl());
    app.stop().await;
}

#[tokio::test]
async fn hostname_entities_resolve_and_unknown_ones_are_null() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        for at in [
            "2026-11-08T03:14:07Z",
            "2026-11-22T03:14:07Z",
            "2026-11-15T03:14:07Z",
        ] {
            let mut payload = fixture();
            payload["recorded_at"] = at.into();
            assert_eq!(app.post_ping(payload.to_string()).await.status(), 201);
        }
        let names = [
            "nobody.example.com",
            "GitLab.AcmeInc.com.",
            "nobody-else.example",
        ]
        .map(String::from);
        let response = app.graphql(HOSTNAME_ENTITIES, hostname_reps(&names)).await;
        assert!(
            response.get("errors").is_none(),
            "{}: {response}",
            db.backend
        );
        let entities = response["data"]["_entities"].as_array().unwrap();
        assert_eq!(entities.len(), 3);
        assert!(entities[0].is_null());
        assert!(entities[2].is_null());
        let host = &entities[1];
        assert_eq!(host["name"], "GitLab.AcmeInc.com.");
        assert_eq!(host["lastUsagePingAt"], "2026-11-22T03:14:07+00:00");
        let latest = &host["latestUsagePing"];
        assert_eq!(latest["recordedAt"], "2026-11-22T03:14:07+00:00");
        assert_eq!(latest["version"], "17.3.2-ee");
        assert_eq!(latest["licenseId"], "4102");
        assert_eq!(latest["licenseStartsAt"], "2026-03-01");
        assert_eq!(latest["counts"]["projects"], 1412);
        let pings = host["usagePings"].as_array().unwrap();
        assert_eq!(pings.len(), 2);
        assert_eq!(pings[0]["recordedAt"], "2026-11-22T03:14:07+00:00");
        assert_eq!(pings[1]["recordedAt"], "2026-11-15T03:14:07+00:00");
        assert_eq!(pings[0]["hostname"], "gitlab.acmeinc.com");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn usage_pings_last_is_capped() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        app.post_ping(ping("u", "h.example", "2026-11-22T00:00:00Z").to_string())
            .await;
        let query = r#"query ($r: [_Any!]!, $last: Int!) {
            _entities(representations: $r) { ... on Hostname { usagePings(last: $last) { uuid } } } }"#;
        let vars = |last: i32| json!({ "r": [{ "__typename": "Hostname", "name": "h.example" }], "last": last });
        let ok = app.graphql(query, vars(100)).await;
        assert_eq!(ok["data"]["_entities"][0]["usagePings"].as_array().unwrap().len(), 1);
        let too_many = app.graphql(query, vars(101)).await;
        let message = too_many["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("between 1 and 100"), "{message}");
        assert_eq!(too_many["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn license_entities_list_reporting_hosts_by_digest_never_by_id_alone() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let base = fixture();
        // Reports the license by id only: proves nothing, counts for nothing.
        let mut by_id_only = base.clone();
        by_id_only["hostname"] = "forged.example".into();
        by_id_only["uuid"] = "forged".into();
        by_id_only["license_md5"] = serde_json::Value::Null;
        by_id_only["license_sha256"] = serde_json::Value::Null;
        // The license's digest under another license's id: counts for neither.
        let mut wrong_id = base.clone();
        wrong_id["hostname"] = "wrong-id.example".into();
        wrong_id["uuid"] = "wrong-id".into();
        wrong_id["license_id"] = 1.into();
        // Reports it by all three.
        let mut by_id = base.clone();
        by_id["hostname"] = "gitlab.acmeinc.com".into();
        // Reports it by md5 only (the unattached server of the story).
        let mut by_md5 = base.clone();
        by_md5["hostname"] = "acmeinc.ninja".into();
        by_md5["uuid"] = "ninja".into();
        by_md5["license_id"] = serde_json::Value::Null;
        by_md5["license_sha256"] = serde_json::Value::Null;
        // Another license altogether.
        let mut other = base.clone();
        other["hostname"] = "other.example".into();
        other["license_id"] = 1.into();
        other["license_md5"] = "ffff".into();
        other["license_sha256"] = "eeee".into();
        for payload in [by_id_only, wrong_id, by_id, by_md5, other] {
            assert_eq!(app.post_ping(payload.to_string()).await.status(), 201);
        }
        let reps = json!({ "representations": [
            { "__typename": "License", "id": "4102", "licenseMd5": base["license_md5"], "licenseSha256": base["license_sha256"] },
            { "__typename": "License", "id": "999", "licenseMd5": "nobody", "licenseSha256": null },
            { "__typename": "License", "id": "1", "licenseMd5": "ffff", "licenseSha256": "eeee" },
            { "__typename": "License", "id": "1" },
        ]});
        let response = app.graphql(LICENSE_ENTITIES, reps).await;
        assert!(response.get("errors").is_none(), "{}: {response}", db.backend);
        let entities = response["data"]["_entities"].as_array().unwrap();
        let hosts: Vec<&str> = entities[0]["reportingHosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["hostname"].as_str().unwrap())
            .collect();
        assert_eq!(hosts, ["acmeinc.ninja", "gitlab.acmeinc.com"], "{}", db.backend);
        let first = &entities[0]["reportingHosts"][0];
        assert_eq!(first["lastUsagePingAt"], "2026-11-22T03:14:07+00:00");
        assert_eq!(first["latestUsagePing"]["licensePlan"], "premium");
        assert_eq!(entities[1]["id"], "999");
        assert_eq!(entities[1]["reportingHosts"], json!([]));
        let other_hosts: Vec<&str> = entities[2]["reportingHosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["hostname"].as_str().unwrap())
            .collect();
        assert_eq!(other_hosts, ["other.example"], "{}", db.backend);
        // Without its digests a license is found by nothing.
        assert_eq!(entities[3]["reportingHosts"], json!([]));
        app.stop().await;
    })
    .await;
}

/// Statements run by one `_entities` call over `n` representations.
async fn statements_for(app: &TestApp, query: &str, variables: Value) -> u64 {
    let before = app.state.statements.get();
    let response = app.graphql(query, variables).await;
    assert!(response.get("errors").is_none(), "{response}");
    app.state.statements.get() - before
}

#[tokio::test]
async fn entities_run_a_fixed_number_of_statements() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        for host in 0..100 {
            for day in [1, 8] {
                let mut payload = fixture();
                payload["hostname"] = format!("host-{host}.example").into();
                payload["recorded_at"] = format!("2026-11-{day:02}T00:00:00Z").into();
                assert_eq!(app.post_ping(payload.to_string()).await.status(), 201);
            }
        }
        let mut counts = Vec::new();
        for n in [1usize, 10, 100] {
            // Half of the names are unknown: they must cost nothing extra either.
            let names: Vec<String> = (0..n)
                .map(|i| {
                    if i % 2 == 0 {
                        format!("host-{i}.example")
                    } else {
                        format!("unknown-{i}")
                    }
                })
                .collect();
            let hosts = statements_for(&app, HOSTNAME_ENTITIES, hostname_reps(&names)).await;
            let licenses = statements_for(
                &app,
                LICENSE_ENTITIES,
                json!({ "representations": (0..n)
                    .map(|i| json!({ "__typename": "License", "id": (4102 + i).to_string(),
                                     "licenseMd5": fixture()["license_md5"],
                                     "licenseSha256": fixture()["license_sha256"] }))
                    .collect::<Vec<_>>() }),
            )
            .await;
            // Both entity types (and a repeated key) in one call.
            let mut mixed: Vec<Value> = names
                .iter()
                .map(|name| json!({ "__typename": "Hostname", "name": name }))
                .collect();
            mixed.push(json!({ "__typename": "Hostname", "name": "host-0.example" }));
            mixed.extend((0..n).map(|i| {
                json!({ "__typename": "License", "id": (4102 + i).to_string(),
                                       "licenseSha256": fixture()["license_sha256"] })
            }));
            let both =
                statements_for(&app, MIXED_ENTITIES, json!({ "representations": mixed })).await;
            // hosts, reporting hosts, recent pings, and the latest pings of both types' hosts
            // in one batch.
            assert_eq!(both, 4, "{}: mixed call over {n}", db.backend);
            counts.push((n, hosts, licenses));
        }
        eprintln!("{}: statements per _entities call: {counts:?}", db.backend);
        assert!(
            counts
                .iter()
                .all(|(_, h, l)| (*h, *l) == (counts[0].1, counts[0].2)),
            "{}: {counts:?}",
            db.backend
        );
        assert_eq!(
            counts[0].1, 4,
            "host, latest ping, recent pings, the counters of the pings answered"
        );
        assert_eq!(counts[0].2, 2, "reporting hosts, their latest pings");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn service_token_guards_graphql_but_not_ingestion() {
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let config = Config {
        service_token: Some("s3cret".to_owned()),
        ..Config::default()
    };
    let app = TestApp::spawn(&db.url, config).await;
    let url = format!("{}/graphql", app.base);
    let body = json!({ "query": "{ _service { sdl } }" });
    let missing = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    // GraphQL-shaped, so a GraphQL client shows the reason rather than a parse failure.
    let json: Value = missing.json().await.unwrap();
    assert_eq!(
        json["errors"][0]["message"], "missing or invalid service token",
        "{json}"
    );
    assert_eq!(json["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(json.get("data").is_none(), "{json}");
    let wrong = app
        .client
        .post(&url)
        .bearer_auth("nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app
        .client
        .post(&url)
        .bearer_auth("s3cret")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(app.post_ping(fixture().to_string()).await.status(), 201);
    app.stop().await;
}

const REPORTING: &str = r#"
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on License {
      id
      reportingHosts {
        hostname firstUsagePingAt lastUsagePingAt current
        latestUsagePing { recordedAt activeUserCount licenseId licenseSubscriptionId counts }
      }
    }
    ... on Hostname { name lastUsagePingAt latestUsagePing { recordedAt licenseId } }
  }
}"#;

/// A ping of `hostname` at `at` carrying license `license_id`.
fn licensed_ping(hostname: &str, at: &str, license_id: i64, active: i64) -> Value {
    json!({
        "uuid": format!("uuid-{hostname}"), "hostname": hostname, "recorded_at": at,
        "license_id": license_id, "license_md5": format!("md5-{license_id}"),
        "license_subscription_id": format!("sub-{license_id}"),
        "active_user_count": active, "counts": { "projects": active }
    })
}

fn license_rep(id: i64) -> Value {
    json!({ "__typename": "License", "id": id.to_string(),
            "licenseMd5": format!("md5-{id}"), "licenseSha256": null })
}

#[tokio::test]
async fn a_late_older_ping_does_not_move_the_latest_ping() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        for (at, active) in [("2026-11-15T00:00:00Z", 15), ("2026-11-22T00:00:00Z", 22)] {
            let body = licensed_ping("h.example", at, 1, active).to_string();
            assert_eq!(app.post_ping(body).await.status(), 201);
        }
        // Arrives last, recorded first: the newest stays the newest, the first report moves.
        let late = licensed_ping("h.example", "2026-11-01T00:00:00Z", 1, 1).to_string();
        assert_eq!(app.post_ping(late).await.status(), 201);
        let reps = json!({ "representations": [
            license_rep(1), { "__typename": "Hostname", "name": "h.example" }
        ] });
        let response = app.graphql(REPORTING, reps).await;
        assert!(
            response.get("errors").is_none(),
            "{}: {response}",
            db.backend
        );
        let host = &response["data"]["_entities"][0]["reportingHosts"][0];
        assert_eq!(host["firstUsagePingAt"], "2026-11-01T00:00:00+00:00");
        assert_eq!(host["lastUsagePingAt"], "2026-11-22T00:00:00+00:00");
        assert_eq!(
            host["latestUsagePing"]["activeUserCount"], 22,
            "{}",
            db.backend
        );
        assert_eq!(host["latestUsagePing"]["counts"]["projects"], 22);
        let named = &response["data"]["_entities"][1];
        assert_eq!(named["lastUsagePingAt"], "2026-11-22T00:00:00+00:00");
        assert_eq!(
            named["latestUsagePing"]["recordedAt"],
            "2026-11-22T00:00:00+00:00"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn reporting_hosts_show_only_pings_that_carry_the_license() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        // The real server runs license 1; later someone posts a ping under its name that
        // carries license 2 (anyone can post pings).
        let real = licensed_ping("gitlab.acme.example", "2026-11-20T00:00:00Z", 1, 87);
        assert_eq!(app.post_ping(real.to_string()).await.status(), 201);
        let spoof = licensed_ping("gitlab.acme.example", "2026-11-21T00:00:00Z", 2, 5);
        assert_eq!(app.post_ping(spoof.to_string()).await.status(), 201);

        let reps = json!({ "representations": [license_rep(1), license_rep(2)] });
        let response = app.graphql(REPORTING, reps).await;
        assert!(
            response.get("errors").is_none(),
            "{}: {response}",
            db.backend
        );
        let of_1 = &response["data"]["_entities"][0]["reportingHosts"][0];
        let of_2 = &response["data"]["_entities"][1]["reportingHosts"][0];
        // License 2's view shows only the ping that names license 2 ...
        assert_eq!(of_2["latestUsagePing"]["licenseId"], "2", "{}", db.backend);
        assert_eq!(of_2["latestUsagePing"]["licenseSubscriptionId"], "sub-2");
        assert_eq!(of_2["latestUsagePing"]["activeUserCount"], 5);
        assert_eq!(of_2["firstUsagePingAt"], "2026-11-21T00:00:00+00:00");
        assert_eq!(of_2["current"], true);
        // ... and license 1's only its own, no longer current on that host.
        assert_eq!(of_1["latestUsagePing"]["licenseId"], "1");
        assert_eq!(of_1["latestUsagePing"]["licenseSubscriptionId"], "sub-1");
        assert_eq!(of_1["latestUsagePing"]["activeUserCount"], 87);
        assert_eq!(of_1["lastUsagePingAt"], "2026-11-20T00:00:00+00:00");
        assert_eq!(of_1["current"], false);
        app.stop().await;
    })
    .await;
}

/// The read models as rows, for comparison.
async fn read_models(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    for sql in [
        "SELECT 'host ' || hostname || ' ' || COALESCE(CAST(latest_ping_id AS TEXT), '-') AS r \
         FROM hosts ORDER BY hostname",
        "SELECT license_key || ' ' || CAST(host_id AS TEXT) || ' ' || \
           CAST(latest_ping_id AS TEXT) AS r FROM host_licenses ORDER BY license_key, host_id",
    ] {
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            out.push(row.try_get::<String>("", "r").unwrap());
        }
    }
    // First and last seen, compared as instants (the text forms differ by backend).
    for row in db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT first_seen_at, last_seen_at FROM host_licenses ORDER BY license_key, host_id",
        ))
        .await
        .unwrap()
    {
        let first: chrono::DateTime<chrono::Utc> = row.try_get("", "first_seen_at").unwrap();
        let last: chrono::DateTime<chrono::Utc> = row.try_get("", "last_seen_at").unwrap();
        out.push(format!("{first} {last}"));
    }
    out
}

#[tokio::test]
async fn read_models_kept_at_ingestion_match_a_rebuild_from_history() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        // Out of order, duplicated, moving between licenses, a ping without a license, and
        // two pings recorded at the same instant.
        let pings = [
            licensed_ping("a.example", "2026-11-10T00:00:00Z", 1, 1),
            licensed_ping("a.example", "2026-11-03T00:00:00Z", 1, 2),
            licensed_ping("a.example", "2026-11-17T00:00:00Z", 2, 3),
            licensed_ping("a.example", "2026-11-10T00:00:00Z", 1, 1),
            licensed_ping("b.example", "2026-11-17T00:00:00Z", 2, 4),
            json!({ "uuid": "other", "hostname": "b.example", "recorded_at": "2026-11-17T00:00:00Z",
                    "license_sha256": "sha-9" }),
            ping("free", "c.example", "2026-11-12T00:00:00Z"),
            licensed_ping("b.example", "2026-11-01T00:00:00Z", 3, 5),
        ];
        for body in pings {
            assert!(app.post_ping(body.to_string()).await.status().is_success());
        }
        let maintained = read_models(app.db()).await;
        migration::usage_read_models::rebuild(app.db(), migration::usage_read_models::Hosts::All)
            .await
            .unwrap();
        let rebuilt = read_models(app.db()).await;
        assert_eq!(maintained, rebuilt, "{}", db.backend);
        assert!(
            maintained.iter().any(|r| r.starts_with("sha256:sha-9 ")),
            "{maintained:?}"
        );
        assert_eq!(
            maintained.iter().filter(|r| r.starts_with("id:")).count(),
            0,
            "{maintained:?}"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn counts_past_the_answer_budget_are_cut_with_an_error() {
    for_each_backend(|db| async move {
        let config = Config {
            max_counts_bytes: 2_500,
            ..Config::default()
        };
        let app = TestApp::spawn(&db.url, config).await;
        let big: serde_json::Map<String, Value> =
            (0..100).map(|i| (format!("counter_{i:03}"), json!(i))).collect();
        for day in 1..=5 {
            let mut body = ping("u", "big.example", &format!("2026-11-{day:02}T00:00:00Z"));
            body["counts"] = Value::Object(big.clone());
            assert_eq!(app.post_ping(body.to_string()).await.status(), 201);
        }
        let query = r#"query ($representations: [_Any!]!) { _entities(representations: $representations) {
            ... on Hostname { usagePings(last: 5) { recordedAt counts } } } }"#;
        let reps = hostname_reps(&["big.example".to_owned()]);
        let response = app.graphql(query, reps).await;
        let pings = response["data"]["_entities"][0]["usagePings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let errors = response["errors"].as_array().cloned().unwrap_or_default();
        // About 1.7 kB of counters a ping: the newest fits, the other four are cut, each with
        // an error that says why; the pings themselves are all there.
        assert_eq!(pings.len(), 5, "{}: {response}", db.backend);
        assert_eq!(pings[0]["recordedAt"], "2026-11-05T00:00:00+00:00");
        assert_eq!(pings[0]["counts"]["counter_099"], 99, "{response}");
        assert!(pings[1..].iter().all(|p| p["counts"].is_null()), "{response}");
        assert_eq!(errors.len(), 4, "{response}");
        assert!(
            errors.iter().all(|e| e["extensions"]["code"] == "ANSWER_TOO_LARGE"
                && e["message"].as_str().unwrap().contains("2500 bytes")),
            "{response}"
        );
        app.stop().await;
    })
    .await;
}

/// async-graphql leaves the entity's index out of the paths of errors below `_entities`; the
/// service puts it back, so that a gateway can place each error (the issue's row "usage
/// counters over the answer budget, through the gateway").
#[tokio::test]
async fn counts_cut_by_the_budget_carry_their_entitys_index_in_the_path() {
    for_each_backend(|db| async move {
        let config = Config {
            max_counts_bytes: 2_500,
            ..Config::default()
        };
        let app = TestApp::spawn(&db.url, config).await;
        let big: serde_json::Map<String, Value> =
            (0..100).map(|i| (format!("counter_{i:03}"), json!(i))).collect();
        for (host, days) in [("a.example", 1..=2), ("b.example", 3..=5)] {
            for day in days {
                let mut body = ping("u", host, &format!("2026-11-{day:02}T00:00:00Z"));
                body["counts"] = Value::Object(big.clone());
                assert_eq!(app.post_ping(body.to_string()).await.status(), 201);
            }
        }
        let query = r#"query ($representations: [_Any!]!) { _entities(representations: $representations) {
            ... on Hostname { name latest: latestUsagePing { uuid hostname recordedAt counts }
              usagePings(last: 5) { uuid hostname recordedAt counts } } } }"#;
        let names = ["b.example".to_owned(), "a.example".to_owned()];
        let response = app.graphql(query, hostname_reps(&names)).await;
        let entities = &response["data"]["_entities"];
        let errors = response["errors"].as_array().cloned().unwrap_or_default();
        let nulls = entities
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| {
                let mut pings = e["usagePings"].as_array().cloned().unwrap_or_default();
                pings.push(e["latest"].clone());
                pings
            })
            .filter(|p| p["counts"].is_null())
            .count();
        // Five pings, each asked for once or twice: one fits, the rest are cut.
        assert!(nulls >= 4, "{}: {response}", db.backend);
        assert_eq!(errors.len(), nulls, "one error per cut counter: {response}");
        for error in &errors {
            let path = error["path"].as_array().unwrap();
            let index = path[1].as_u64().unwrap_or_else(|| panic!("no index: {error}"));
            let mut at = &entities[index as usize];
            for segment in &path[2..path.len() - 1] {
                at = match segment {
                    Value::String(field) => &at[field.as_str()],
                    Value::Number(i) => &at[i.as_u64().unwrap() as usize],
                    _ => panic!("{error}"),
                };
            }
            assert_eq!(path.last().unwrap(), "counts", "{error}");
            assert!(at["counts"].is_null(), "{error} points at {at}");
            assert_eq!(at["hostname"], entities[index as usize]["name"], "{error}");
            assert_eq!(error["extensions"]["code"], "ANSWER_TOO_LARGE");
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn migration_backfills_read_models_from_existing_pings() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    for_each_backend(|db| async move {
        let (conn, _) = version_service::connect(&db.url).await.unwrap();
        // The schema before the read models, with pings stored as it stored them.
        migration::VersionMigrator::up(&conn, Some(1))
            .await
            .unwrap();
        conn.execute_unprepared(
            "INSERT INTO hosts (id, hostname, uuid, first_seen_at, last_ping_at) VALUES \
             (1, 'old.example', 'u', '2026-11-01 00:00:00+00:00', '2026-11-15 00:00:00+00:00')",
        )
        .await
        .unwrap();
        conn.execute_unprepared(
            "INSERT INTO usage_pings (id, host_id, uuid, hostname, recorded_at, received_at, \
               license_id, license_md5, active_user_count, counts, payload) VALUES \
             (1, 1, 'u', 'old.example', '2026-11-15 00:00:00+00:00', '2026-11-15 00:00:00+00:00', \
              7, 'md5-7', 70, NULL, '{\"counts\":{\"projects\":70}}'), \
             (2, 1, 'u', 'old.example', '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00', \
              7, 'md5-7', 10, NULL, '{}')",
        )
        .await
        .unwrap();
        migration::VersionMigrator::up(&conn, None).await.unwrap();
        let models = read_models(&conn).await;
        assert!(
            models.contains(&"host old.example 1".to_owned()),
            "{}: {models:?}",
            db.backend
        );
        // Keyed once, by digest and the id the pings name; never by id alone.
        assert!(models.contains(&"md5:md5-7@7 1 1".to_owned()), "{models:?}");
        assert!(!models.iter().any(|m| m.starts_with("id:")), "{models:?}");
        let _ = conn.close().await;

        let app = TestApp::spawn(&db.url, Config::default()).await;
        let response = app
            .graphql(REPORTING, json!({ "representations": [license_rep(7)] }))
            .await;
        let host = &response["data"]["_entities"][0]["reportingHosts"][0];
        assert_eq!(
            host["firstUsagePingAt"], "2026-11-01T00:00:00+00:00",
            "{response}"
        );
        assert_eq!(host["latestUsagePing"]["activeUserCount"], 70, "{response}");
        assert_eq!(
            host["latestUsagePing"]["counts"]["projects"], 70,
            "{response}"
        );
        app.stop().await;
    })
    .await;
}

/// `InstallationUuid` answers the hosts whose pings carried the uuid, by name, at most
/// `MAX_HOSTS_PER_UUID` of them however many names a sender used it under; several uuids in one
/// call each get their own hosts.
#[tokio::test]
async fn installation_uuids_list_their_hosts_up_to_the_cap() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let cap = version_service::store::MAX_HOSTS_PER_UUID as usize;
        let mut sprayed: Vec<String> = (0..cap + 5).map(|i| format!("h{i:02}.example")).collect();
        for name in &sprayed {
            app.post_ping(ping("sprayed", name, "2026-11-22T00:00:00Z").to_string())
                .await;
        }
        app.post_ping(ping("single", "one.example", "2026-11-22T00:00:00Z").to_string())
            .await;
        app.post_ping(ping("single", "one.example", "2026-11-23T00:00:00Z").to_string())
            .await;
        let query = r#"query ($r: [_Any!]!) { _entities(representations: $r) {
            ... on InstallationUuid { uuid hosts { name lastUsagePingAt } } } }"#;
        let reps: Vec<Value> = ["sprayed", "single", "unknown"]
            .iter()
            .map(|uuid| json!({ "__typename": "InstallationUuid", "uuid": uuid }))
            .collect();
        let reps = json!({ "r": reps });
        let answer = app.graphql(query, reps).await;
        assert!(answer["errors"].is_null(), "{answer}");
        let names = |i: usize| -> Vec<String> {
            answer["data"]["_entities"][i]["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["name"].as_str().unwrap().to_owned())
                .collect()
        };
        sprayed.sort();
        sprayed.truncate(cap);
        assert_eq!(names(0), sprayed);
        assert_eq!(names(1), ["one.example"]);
        assert_eq!(
            answer["data"]["_entities"][1]["hosts"][0]["lastUsagePingAt"],
            "2026-11-23T00:00:00+00:00"
        );
        assert!(names(2).is_empty());
        assert_eq!(answer["data"]["_entities"][2]["uuid"], "unknown");
        app.stop().await;
    })
    .await;
}
