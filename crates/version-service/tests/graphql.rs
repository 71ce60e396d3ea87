//! The Federation v2 subgraph: SDL, entities, batching and the service token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
    assert!(sdl.contains("licenseMd5: String @external"), "{sdl}");
    assert!(sdl.contains("licenseSha256: String @external"), "{sdl}");
    assert!(
        sdl.contains(
            r#"reportingHosts: [ReportingHost!]! @requires(fields: "licenseMd5 licenseSha256")"#
        ),
        "{sdl}"
    );
    assert!(sdl.contains("last: Int! = 10\n\t): [UsagePing!]!"), "{sdl}");
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
    let db = common::TestDb::sqlite();
    let app = TestApp::spawn(&db.url, Config::default()).await;
    let response = app.graphql("{ _service { sdl } }", json!({})).await;
    let sdl = response["data"]["_service"]["sdl"].as_str().unwrap();
    assert_eq!(sdl, schema_sdl());
    app.stop().await;
    db.drop_database().await;
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
        assert!(message.contains("between 0 and 100"), "{message}");
        assert_eq!(too_many["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn license_entities_list_reporting_hosts_by_id_md5_or_sha256() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let base = fixture();
        // Reports the license by id only.
        let mut by_id = base.clone();
        by_id["hostname"] = "gitlab.acmeinc.com".into();
        by_id["license_md5"] = serde_json::Value::Null;
        by_id["license_sha256"] = serde_json::Value::Null;
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
        for payload in [by_id, by_md5, other] {
            assert_eq!(app.post_ping(payload.to_string()).await.status(), 201);
        }
        let reps = json!({ "representations": [
            { "__typename": "License", "id": "4102", "licenseMd5": base["license_md5"], "licenseSha256": base["license_sha256"] },
            { "__typename": "License", "id": "999", "licenseMd5": "nobody", "licenseSha256": null },
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
        assert_eq!(entities[2]["reportingHosts"][0]["hostname"], "other.example");
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
                                     "licenseMd5": format!("md5-{i}"), "licenseSha256": null }))
                    .collect::<Vec<_>>() }),
            )
            .await;
            // Both entity types (and a repeated key) in one call.
            let mut mixed: Vec<Value> = names
                .iter()
                .map(|name| json!({ "__typename": "Hostname", "name": name }))
                .collect();
            mixed.push(json!({ "__typename": "Hostname", "name": "host-0.example" }));
            mixed.extend(
                (0..n).map(|i| json!({ "__typename": "License", "id": (4102 + i).to_string() })),
            );
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
        assert_eq!(counts[0].1, 3, "host, latest ping, recent pings");
        assert_eq!(counts[0].2, 2, "reporting hosts, their latest pings");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn service_token_guards_graphql_but_not_ingestion() {
    let db = common::TestDb::sqlite();
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
    db.drop_database().await;
}
