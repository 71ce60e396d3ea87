//! `/health`, `/ready`, `/metrics`, what 5xx answers reveal, and the compose file's defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, fixture, for_each_backend};
use sea_orm::ConnectionTrait;
use version_service::{AppState, Config, StatementCounter};

#[tokio::test]
async fn health_ready_and_metrics() {
    for_each_backend(|db| async move {
        let app = TestApp::spawn(&db.url, Config::default()).await;
        let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
        assert_eq!(get("/health").await.unwrap().status(), 200);
        assert_eq!(get("/ready").await.unwrap().status(), 200, "{}", db.backend);

        assert_eq!(app.post_ping(fixture().to_string()).await.status(), 201);
        app.graphql("{ _service { sdl } }", serde_json::json!({})).await;
        app.graphql(
            r#"{ _entities(representations: [{__typename: "Hostname", name: "x"}]) { __typename } }"#,
            serde_json::json!({}),
        )
        .await;

        let response = get("/metrics").await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(text.contains("version_service_graphql_requests_total 2\n"), "{text}");
        assert!(text.contains("version_service_entities_calls_total 1\n"), "{text}");
        assert!(text.contains("version_service_usage_pings_ingested_total 1\n"), "{text}");
        let statements: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("version_service_sql_statements_total "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(statements >= 3, "{text}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let state = AppState::new(
        Default::default(),
        StatementCounter::default(),
        Config::default(),
    )
    .unwrap();
    let app = TestApp::spawn_with_state(state).await;
    let response = app
        .client
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        json["errors"][0]["extensions"]["code"], "NOT_READY",
        "{json}"
    );
    let error = json["errors"][0]["message"].as_str().unwrap();
    assert!(
        error.starts_with("database not ready (request id "),
        "{json}"
    );
    // The driver's reason goes to the log, not to the caller.
    assert!(!error.to_lowercase().contains("pool"), "{json}");
    assert!(!error.to_lowercase().contains("disconnected"), "{json}");
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn connect_explains_an_unreachable_database() {
    let Err(err) = version_service::connect("postgres://nobody:pw@127.0.0.1:1/none").await else {
        panic!("connecting to a closed port must fail");
    };
    let message = err.to_string();
    assert!(
        message
            .contains("cannot connect to the database at postgres://nobody:***@127.0.0.1:1/none"),
        "{message}"
    );
}

#[tokio::test]
async fn server_errors_are_generic_and_name_the_request_id() {
    // Without its table, storing a valid ping fails in the database with a telling message.
    let db = test_support::TestDb::fresh(test_support::Backend::Sqlite, "version").await;
    let app = TestApp::spawn(&db.url, Config::default()).await;
    app.db()
        .execute_unprepared("DROP TABLE usage_pings")
        .await
        .unwrap();
    let response = app
        .client
        .post(format!("{}/usage_data", app.base))
        .header("content-type", "application/json")
        .header("x-request-id", "req-5xx-check")
        .body(fixture().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        json,
        serde_json::json!({"errors": [{
            "message": "internal error (request id req-5xx-check)",
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-5xx-check"}
        }]})
    );

    // Without an id from the caller (no id layer in front), one is made up for body and log.
    let response = app.post_ping(fixture().to_string()).await;
    assert_eq!(response.status(), 500);
    let json: serde_json::Value = response.json().await.unwrap();
    let id = json["errors"][0]["extensions"]["requestId"]
        .as_str()
        .unwrap();
    assert_eq!(id.len(), 36, "{json}");
    assert_eq!(
        json["errors"][0]["message"],
        format!("internal error (request id {id})")
    );
    app.stop().await;
}

#[test]
fn compose_binds_loopback_and_has_no_default_service_token() {
    let compose = include_str!("../../../../docker/compose.yaml");
    let ports: Vec<&str> = compose
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("- \"") && line.matches(':').count() >= 2)
        .collect();
    assert!(!ports.is_empty(), "the compose file publishes ports");
    for port in ports {
        assert!(
            port.starts_with("- \"127.0.0.1:"),
            "{port} is published beyond loopback"
        );
    }
    assert!(
        !compose.contains("change-me"),
        "a default service token is in the compose file"
    );
    assert!(
        compose.contains("${LICENSEDOT_SERVICE_TOKEN:?"),
        "the service token must be required from the environment"
    );
}
