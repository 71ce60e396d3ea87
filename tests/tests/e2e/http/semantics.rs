//! GraphQL over HTTP as the runtime serves it: status codes and media types, GET/POST rules,
//! batches, request limits (each with its code, refused before any SQL), persisted queries and
//! the safelist, internal errors that leak nothing, request errors, metrics, selection order.

use std::sync::{Arc, Mutex};

use e2e_tests::{Backend, Gateway, backends, error_codes};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::*;

#[tokio::test]
async fn status_codes_and_media_types_follow_the_graphql_over_http_spec() {
    let gateway = Gateway::start(Backend::Sqlite).await;

    // A good query: 200 under either media type, in the type asked for.
    for (accept, expected) in [
        (Some(GQL), GQL),
        (Some("application/json"), "application/json"),
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GQL,
        ),
    ] {
        let (status, ty, body) =
            parts(post(&gateway, accept, &json!({"query": QUERY})).await).await;
        assert_eq!((status, ty.as_str()), (200, expected), "{accept:?}: {body}");
        assert_eq!(body["data"]["customers"]["totalCount"], 0);
    }

    // Failures before execution: 400 with the GraphQL media type, 200 with application/json;
    // no `data` entry either way.
    for (query, code) in [
        ("{ customers { totalCount ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
        ("mutation { anything }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query A { __typename } query B { __typename }",
            "OPERATION_RESOLUTION_FAILURE",
        ),
    ] {
        let (status, ty, body) =
            parts(post(&gateway, Some(GQL), &json!({"query": query})).await).await;
        assert_eq!((status, ty.as_str()), (400, GQL), "{query}: {body}");
        let codes = error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == code),
            "{query}: {body}"
        );
        assert!(body.get("data").is_none(), "{body}");
        let (status, ty, body) =
            parts(post(&gateway, Some("application/json"), &json!({"query": query})).await).await;
        assert_eq!(
            (status, ty.as_str()),
            (200, "application/json"),
            "{query}: {body}"
        );
        assert_eq!(error_codes(&body), codes, "{query}: {body}");
    }

    // Not a GraphQL request at all: 400 under both.
    for accept in [GQL, "application/json"] {
        for body in [
            "{not json",
            "42",
            "{\"variables\": {}}",
            "{\"query\": 5}",
            "[]",
        ] {
            let (status, _, response) =
                parts(post_raw(&gateway, "application/json", Some(accept), body).await).await;
            assert_eq!(status, 400, "{body}: {response}");
            assert_eq!(
                error_codes(&response),
                vec!["BAD_REQUEST"],
                "{body}: {response}"
            );
        }
    }

    // A POST that is not JSON never reaches execution (also the CSRF protection).
    for ty in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let body = json!({"query": QUERY}).to_string();
        let (status, _, response) = parts(post_raw(&gateway, ty, None, body).await).await;
        assert_eq!(status, 415, "{ty}");
        assert_eq!(error_codes(&response), vec!["UNSUPPORTED_MEDIA_TYPE"]);
    }
    let charset = post_raw(
        &gateway,
        "application/json; charset=utf-8",
        None,
        json!({"query": QUERY}).to_string(),
    )
    .await;
    assert_eq!(charset.status(), 200);

    // An Accept that allows neither JSON type.
    let (status, _, body) =
        parts(post(&gateway, Some("text/plain"), &json!({"query": QUERY})).await).await;
    assert_eq!(status, 406);
    assert_eq!(error_codes(&body), vec!["NOT_ACCEPTABLE"]);

    // GET runs queries, with variables and an operation name.
    let (status, ty, body) = parts(
        get(
            &gateway,
            Some(GQL),
            &[
                (
                    "query",
                    "query Count($s: String) { customers(search: $s) { totalCount } }",
                ),
                ("variables", "{\"s\": \"acme\"}"),
                ("operationName", "Count"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, ty.as_str()), (200, GQL), "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 0);

    // ... but a mutation over GET is 405 with Allow: POST, whatever the schema says of it.
    for query in [
        "mutation { anything }",
        "query A { __typename } mutation B { x }",
    ] {
        let params: &[(&str, &str)] = if query.contains("B") {
            &[("query", query), ("operationName", "B")]
        } else {
            &[("query", query)]
        };
        let response = get(&gateway, Some(GQL), params).await;
        assert_eq!(response.status(), 405, "{query}");
        assert_eq!(response.headers()["allow"], "POST");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), vec!["METHOD_NOT_ALLOWED"]);
    }
    // GET with bad variables, or without a query: 400.
    for params in [
        vec![("query", QUERY), ("variables", "{nope")],
        vec![("operationName", "X")],
    ] {
        let response = get(&gateway, Some(GQL), &params).await;
        assert_eq!(response.status(), 400, "{params:?}");
    }
}

#[tokio::test]
async fn batches_are_capped() {
    let gateway =
        Gateway::start_with(Backend::Sqlite, |c| c.limits.graphql.max_batch_size = 3).await;
    let one = json!({"query": QUERY});
    let (status, _, body) =
        parts(post(&gateway, Some(GQL), &json!([one, {"query": "{ nope }"}])).await).await;
    assert_eq!(status, 200, "{body}");
    let results = body.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["data"]["customers"]["totalCount"], 0);
    assert_eq!(error_codes(&results[1]), vec!["GRAPHQL_VALIDATION_FAILED"]);

    let (status, _, body) = parts(post(&gateway, None, &json!([one, one, one, one])).await).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&body), vec!["BATCH_TOO_LARGE"]);
}

/// Sends `query` and checks it is refused with `code`, by both media types, with no SQL run.
async fn assert_refused(gateway: &Gateway, query: &str, code: &str) {
    let before = gateway.statements();
    let (status, _, body) = parts(post(gateway, Some(GQL), &json!({"query": query})).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_codes(&body), vec![code], "{body}");
    let (status, _, body) = parts(post(gateway, None, &json!({"query": query})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_codes(&body), vec![code], "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        gateway.statements(),
        before,
        "{code}: SQL ran for a refused query"
    );
}

/// `depth` levels (leaves included) of license → customer → activeLicense → customer ...
/// (single objects, so the cost stays small and only the depth grows).
fn deep_query(depth: usize) -> String {
    let mut inner = "id".to_owned();
    for level in (1..depth - 1).rev() {
        let field = if level % 2 == 1 {
            "customer"
        } else {
            "activeLicense"
        };
        inner = format!("{field} {{ id {inner} }}");
    }
    format!("{{ license(id: \"1\") {{ {inner} }} }}")
}

#[tokio::test]
async fn every_limit_has_its_code_and_stops_the_query_before_any_sql() {
    for backend in backends() {
        let gateway = Gateway::start_with(backend, |c| {
            c.limits.graphql.max_depth = 8;
            c.limits.graphql.max_complexity = 1_000;
            c.limits.graphql.max_aliases = 5;
            c.limits.graphql.max_root_fields = 3;
        })
        .await;

        // Depth: 8 levels pass, 9 do not.
        let (status, _, body) =
            parts(post(&gateway, Some(GQL), &json!({"query": deep_query(8)})).await).await;
        assert_eq!(status, 200, "{body}");
        assert_refused(&gateway, &deep_query(9), "QUERY_TOO_DEEP").await;

        // Cost follows `first`: 20 customers with their licenses pass, 500 do not.
        let listing = |first: u32| {
            format!("{{ customers(first: {first}) {{ nodes {{ name licenses {{ id plan }} }} }} }}")
        };
        let ok = post(&gateway, Some(GQL), &json!({"query": listing(2)})).await;
        assert_eq!(ok.status(), 200);
        assert_refused(&gateway, &listing(500), "QUERY_TOO_COMPLEX").await;
        // ... also when `first` comes in a variable.
        let before = gateway.statements();
        let body = json!({
            "query": "query($n: Int) { customers(first: $n) { nodes { name licenses { id plan } } } }",
            "variables": {"n": 500}
        });
        let (status, _, response) = parts(post(&gateway, Some(GQL), &body).await).await;
        assert_eq!(status, 400);
        assert_eq!(error_codes(&response), vec!["QUERY_TOO_COMPLEX"]);
        assert_eq!(gateway.statements(), before);
        // Unpaginated lists count as several items each.
        assert_refused(
            &gateway,
            "{ license(id: \"1\") { hostnames { licenses { hostnames { licenses { hostnames { name } } } } } } }",
            "QUERY_TOO_COMPLEX",
        )
        .await;

        // Aliases, anywhere in the document.
        let aliases: Vec<String> = (0..6).map(|i| format!("a{i}: name")).collect();
        assert_refused(
            &gateway,
            &format!(
                "{{ customer(id: \"1\") {{ ...F }} }} fragment F on Customer {{ {} }}",
                aliases.join(" ")
            ),
            "TOO_MANY_ALIASES",
        )
        .await;

        // Root fields, fragments included.
        assert_refused(
            &gateway,
            "{ a: customer(id: \"1\") { id } b: customer(id: \"2\") { id } ...R } fragment R on Query { c: license(id: \"1\") { id } d: license(id: \"2\") { id } }",
            "TOO_MANY_ROOT_FIELDS",
        )
        .await;
    }
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let gateway =
        Gateway::start_with(Backend::Sqlite, |c| c.limits.graphql.max_body_bytes = 1_000).await;
    let before = gateway.statements();
    let padding = " ".repeat(2_000);
    let body = format!("{{\"query\": \"{{ customers {{ totalCount }} }}{padding}\"}}");
    let (status, _, response) =
        parts(post_raw(&gateway, "application/json", Some(GQL), body).await).await;
    assert_eq!(status, 413);
    assert_eq!(error_codes(&response), vec!["REQUEST_TOO_LARGE"]);
    assert_eq!(gateway.statements(), before);
    let small = post(&gateway, Some(GQL), &json!({"query": QUERY})).await;
    assert_eq!(small.status(), 200);
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn automatic_persisted_queries_register_then_hit_over_post_and_get() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    let query = "query Apq { customers { totalCount } }";
    let extensions = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}});

    // Unknown hash: the client must send the query.
    let (status, _, body) =
        parts(post(&gateway, None, &json!({"extensions": extensions})).await).await;
    assert_eq!(status, 200);
    assert_eq!(error_codes(&body), vec!["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let (status, _, _) =
        parts(post(&gateway, Some(GQL), &json!({"extensions": extensions})).await).await;
    assert_eq!(status, 400);

    // Register: query and hash together.
    let (status, _, body) = parts(
        post(
            &gateway,
            None,
            &json!({"query": query, "extensions": extensions}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 0);

    // Hit, by hash only, over POST and GET.
    let (_, _, body) = parts(post(&gateway, None, &json!({"extensions": extensions})).await).await;
    assert_eq!(body["data"]["customers"]["totalCount"], 0, "{body}");
    let extensions_param = extensions.to_string();
    let (status, _, body) = parts(
        get(
            &gateway,
            Some(GQL),
            &[("extensions", extensions_param.as_str())],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 0, "{body}");

    // A hash that does not match the query.
    let wrong = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256("{ x }")}});
    let (_, _, body) = parts(
        post(
            &gateway,
            None,
            &json!({"query": query, "extensions": wrong}),
        )
        .await,
    )
    .await;
    assert_eq!(error_codes(&body), vec!["PERSISTED_QUERY_HASH_MISMATCH"]);

    // With APQ off, a hash-only request is told so.
    let off = Gateway::start_with(Backend::Sqlite, |c| {
        c.limits.graphql.persisted_queries.apq = false
    })
    .await;
    let (_, _, body) = parts(post(&off, None, &json!({"extensions": extensions})).await).await;
    assert_eq!(error_codes(&body), vec!["PERSISTED_QUERY_NOT_SUPPORTED"]);
}

#[tokio::test]
async fn the_safelist_runs_registered_operations_only() {
    let registered = "query Count { customers { totalCount } }";
    let manifest =
        test_support::scratch_file("safelist", &json!({"count-v1": registered}).to_string());
    let path = manifest.to_path_buf();
    let gateway = Gateway::start_with(Backend::Sqlite, move |c| {
        c.limits.graphql.persisted_queries.safelist = Some(path);
    })
    .await
    .holding(manifest);

    // By id, over POST and GET.
    let by_id = json!({"persistedQuery": {"version": 1, "sha256Hash": "count-v1"}});
    let (status, _, body) =
        parts(post(&gateway, Some(GQL), &json!({"extensions": by_id})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 0);
    let param = by_id.to_string();
    let (status, _, body) =
        parts(get(&gateway, None, &[("extensions", param.as_str())]).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 0);
    // The registered text itself is allowed too.
    let (_, _, body) = parts(post(&gateway, None, &json!({"query": registered})).await).await;
    assert_eq!(body["data"]["customers"]["totalCount"], 0, "{body}");

    // Anything else is refused, before any SQL.
    let before = gateway.statements();
    let (status, _, body) = parts(
        post(
            &gateway,
            Some(GQL),
            &json!({"query": "{ customers { nodes { name } } }"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&body), vec!["QUERY_NOT_IN_SAFELIST"]);
    let unknown = json!({"persistedQuery": {"version": 1, "sha256Hash": "nope"}});
    let (_, _, body) = parts(post(&gateway, None, &json!({"extensions": unknown})).await).await;
    assert_eq!(error_codes(&body), vec!["PERSISTED_QUERY_NOT_IN_LIST"]);
    assert_eq!(gateway.statements(), before);

    // A manifest that cannot be read stops the start with a clear message.
    let mut config = gateway::Config {
        database_url: gateway.db.url.clone(),
        ..gateway::Config::default()
    };
    let scratch = test_support::scratch_dir("safelist");
    config.limits.graphql.persisted_queries.safelist =
        Some(scratch.path().join("missing-manifest.json"));
    let error = gateway::AppState::start(config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("safelist"), "{error}");
}

#[tokio::test]
async fn internal_errors_are_coded_and_leak_nothing() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        // Break the database behind the gateway's back.
        gateway
            .state
            .db
            .execute_unprepared("ALTER TABLE customers RENAME TO customers_gone")
            .await
            .unwrap();
        let response = post(
            &gateway,
            Some(GQL),
            &json!({"query": "{ customers { totalCount nodes { name } } }"}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        let codes = error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "INTERNAL_SERVER_ERROR"),
            "{text}"
        );
        for leak in [
            "SELECT",
            "select",
            "FROM",
            "customers_gone",
            "no such table",
            "does not exist",
            ".rs",
            "sqlx",
            "/tmp",
            "panicked",
        ] {
            assert!(
                !text.contains(leak),
                "{backend:?}: `{leak}` leaked in {text}"
            );
        }
        // The message names the request id, so the caller can quote it to an operator: the
        // gateway's own, the one its answer carries (a caller's id is kept apart).
        let response = gateway
            .client()
            .post(gateway.url("/graphql"))
            .header("authorization", bearer(&gateway))
            .header("x-request-id", "trace-internal-7")
            .json(&json!({"query": "{ customers { totalCount } }"}))
            .send()
            .await
            .unwrap();
        let own = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&own), "{own}: {body}");
        assert!(!message.contains("trace-internal-7"), "{body}");
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_count_requests() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    let before = scrape(&gateway).await;
    assert_eq!(
        sample(
            &before,
            "licensedot_graphql_requests_total",
            &[("operation", "Dash")]
        ),
        None
    );

    // A registered operation (APQ: sent with its hash, then by its hash alone) is named; the
    // same text sent plainly is not.
    let query = "query Dash { customers { totalCount } }";
    let persisted = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}});
    let registering = json!({"query": query, "extensions": persisted});
    assert_eq!(post(&gateway, None, &registering).await.status(), 200);
    let by_hash = json!({"extensions": persisted});
    assert_eq!(post(&gateway, None, &by_hash).await.status(), 200);
    assert_eq!(
        post(&gateway, None, &json!({"query": query}))
            .await
            .status(),
        200
    );
    post(&gateway, None, &json!({"query": "{ nope }"})).await;

    let after = scrape(&gateway).await;
    assert_eq!(
        sample(
            &after,
            "licensedot_graphql_requests_total",
            &[("operation", "Dash"), ("outcome", "ok")]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            "licensedot_graphql_request_duration_seconds_count",
            &[("operation", "Dash")]
        )
        .or_else(|| sample(
            &after,
            "licensedot_graphql_request_duration_seconds",
            &[("operation", "Dash")]
        )),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &after,
            "licensedot_graphql_requests_total",
            &[("operation", "unregistered"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &after,
            "licensedot_graphql_errors_total",
            &[("code", "GRAPHQL_VALIDATION_FAILED")]
        ),
        Some(1.0)
    );
    assert!(sample(&after, "licensedot_db_statements_total", &[]).unwrap() >= 2.0);
    assert!(
        sample(
            &after,
            "licensedot_db_pool_connections",
            &[("state", "max")]
        )
        .unwrap()
            >= 1.0
    );
    assert_eq!(
        sample(
            &after,
            "licensedot_graphql_http_responses_total",
            &[("status", "200")]
        ),
        Some(4.0)
    );
}

/// Asserts a request error under `application/graphql-response+json`: 400, no `data`, every
/// error with `code`; returns the first.
async fn assert_request_error(gateway: &Gateway, body: &Value, code: &str) -> Value {
    let (status, media, body) = parts(post(gateway, Some(GQL), body).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(media.starts_with(GQL), "{media}");
    let object = body.as_object().unwrap();
    assert!(!object.contains_key("data"), "no data: {body}");
    let codes = error_codes(&body);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == code),
        "{body}"
    );
    body["errors"][0].clone()
}

#[tokio::test]
async fn request_errors_are_400_without_data_and_with_a_stable_code() {
    let gateway = Gateway::start(Backend::Sqlite).await;
    let by_id = "query Q($id: ID!) { customer(id: $id) { name } }";

    // A required variable missing, or null: the caller's input, refused before execution.
    for variables in [json!({}), json!({"id": null}), Value::Null] {
        let error = assert_request_error(
            &gateway,
            &json!({"query": by_id, "variables": variables}),
            "BAD_USER_INPUT",
        )
        .await;
        assert_eq!(error["locations"], json!([{"line": 1, "column": 10}]));
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with(r#"Variable "$id" of required type "ID!" "#),
            "{message}"
        );
    }
    // A variable of the wrong type fails validation.
    assert_request_error(
        &gateway,
        &json!({"query": by_id, "variables": {"id": {"not": "an id"}}}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    assert_request_error(
        &gateway,
        &json!({"query": "query Q($n: Int) { customers(first: $n) { totalCount } }", "variables": {"n": "ten"}}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    // A parse error: one line, where it is in `locations`.
    let error = assert_request_error(
        &gateway,
        &json!({"query": "{ customers(search: "}),
        "GRAPHQL_PARSE_FAILED",
    )
    .await;
    assert_eq!(
        error,
        json!({
            "message": error["message"],
            "locations": [{"line": 1, "column": 21}],
            "extensions": {"code": "GRAPHQL_PARSE_FAILED"}
        })
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Syntax error: expected ") && !message.contains('\n'),
        "{message}"
    );
    // A validation error keeps its code too.
    assert_request_error(
        &gateway,
        &json!({"query": "{ customers { nope } }"}),
        "GRAPHQL_VALIDATION_FAILED",
    )
    .await;
    // Under `application/json` the same refusals answer 200 (the spec's legacy rule), still
    // without `data`.
    let (status, _, body) =
        parts(post(&gateway, Some("application/json"), &json!({"query": by_id})).await).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
}

/// The keys of every map come back in the order of the selection set (not alphabetical, not
/// in the order fields finish resolving), aliases, fragments and merged fields included,
/// compared with the body the spec gives, byte for byte.
#[tokio::test]
async fn answers_keep_the_selection_set_order() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        seed_story(&gateway, None).await;
        let query = r#"query { zeta: __typename customer(id: "1") { name ...Ids createdAt: name contacts { email } licenses(filter: {trial: false}) { usersCount trial id } } alpha: __typename }
            fragment Ids on Customer { id country }"#;
        let response = gateway
            .client()
            .post(gateway.url("/graphql"))
            .header("authorization", bearer(&gateway))
            .json(&json!({"query": query}))
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        // The reference: the same answer re-serialised in the order the query writes.
        let value: Value = serde_json::from_str(&text).unwrap();
        let customer = &value["data"]["customer"];
        let licenses: Vec<String> = customer["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    r#"{{"usersCount":{},"trial":{},"id":{}}}"#,
                    l["usersCount"], l["trial"], l["id"]
                )
            })
            .collect();
        let contacts: Vec<String> = customer["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!(r#"{{"email":{}}}"#, c["email"]))
            .collect();
        let expected = format!(
            r#"{{"data":{{"zeta":"Query","customer":{{"name":{name},"id":{id},"country":{country},"createdAt":{name},"contacts":[{contacts}],"licenses":[{licenses}]}},"alpha":"Query"}}}}"#,
            name = customer["name"],
            id = customer["id"],
            country = customer["country"],
            contacts = contacts.join(","),
            licenses = licenses.join(","),
        );
        assert!(!licenses.is_empty() && !contacts.is_empty(), "{text}");
        assert_eq!(text, expected, "{backend:?}");
    }
}

/// The gateway's log lines, captured in process for the current thread, which is where a
/// `#[tokio::test]` runtime runs the gateway's tasks too.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go while a [`CapturedLog`] is started on it.
    static CAPTURING: std::cell::RefCell<Option<CapturedLog>> = const { std::cell::RefCell::new(None) };
}

/// Writes a log line to the capture of the thread that logged it, or nowhere.
struct ThisThreadsCapture;

impl std::io::Write for ThisThreadsCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with_borrow(|capture| {
            if let Some(log) = capture {
                log.0.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops the capture of this thread when dropped.
struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.set(None);
    }
}

impl CapturedLog {
    /// Captures everything this thread logs at `INFO` and above until the guard is dropped.
    ///
    /// The subscriber is the test binary's global one, installed once: tracing caches each call
    /// site's interest process-wide, so a per-thread subscriber (`set_default`) can miss the
    /// very line it waits for when another test, running at the same time without one, cached
    /// that call site as switched off.
    fn start() -> (CapturedLog, CaptureGuard) {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThisThreadsCapture)
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .without_time()
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the e2e tests");
        });
        let log = CapturedLog::default();
        CAPTURING.set(Some(log.clone()));
        (log, CaptureGuard)
    }

    /// The lines logged at `ERROR` since `start` (or the last call), which are then forgotten.
    fn take_errors(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.trim_start().starts_with("ERROR"))
            .map(str::to_owned)
            .collect()
    }
}

/// Request errors are the caller's: however malformed the request, the gateway never logs an
/// `ERROR` line for one (an operator's alert on ERROR must mean something broke on our side).
/// The capture itself is checked by a real internal error, which must log one.
#[tokio::test]
async fn request_errors_never_log_an_error_line() {
    let (log, _guard) = CapturedLog::start();
    let gateway = Gateway::start(Backend::Sqlite).await;
    let by_id = "query Q($id: ID!) { customer(id: $id) { name } }";
    let deep = deep_query(40);
    let requests = [
        json!({"query": "{ customers(search: "}),
        json!({"query": "{ customers { nope } }"}),
        json!({"query": by_id}),
        json!({"query": by_id, "variables": {"id": null}}),
        json!({"query": by_id, "variables": {"id": {"not": "an id"}}}),
        json!({"query": "query Q($n: Int) { customers(first: $n) { totalCount } }", "variables": {"n": "ten"}}),
        json!({"query": r#"{ licenses(filter: {issuedAfter: "not a date"}) { totalCount } }"#}),
        json!({"query": "query A { __typename } query B { __typename }"}),
        json!({"query": "{ __typename }", "operationName": "Missing"}),
        json!({"query": deep}),
        json!({"query": "{ customers(first: 1000) { totalCount } }"}),
        json!({"query": r#"{ customer(id: "abc") { name } }"#}),
        json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0".repeat(64)}}}),
        json!({"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0".repeat(64)}}}),
        json!({"query": 42}),
        json!([]),
    ];
    for accept in [Some(GQL), Some("application/json"), None] {
        for request in &requests {
            let response = post(&gateway, accept, request).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert!(status < 500, "{request} answered {status}: {text}");
            assert!(text.contains(r#""code":"#), "{request}: {text}");
        }
        for (content_type, body) in [
            ("application/json", "{not json"),
            ("text/plain", "{}"),
            ("application/json", ""),
        ] {
            let response = post_raw(&gateway, content_type, accept, body).await;
            assert!(response.status().is_client_error(), "{body}");
        }
        let response = get(&gateway, accept, &[("query", "mutation { __typename }")]).await;
        assert!(response.status().is_client_error());
        let response = gateway
            .post_graphql(Some("Bearer not.a.token"), &json!({"query": QUERY}))
            .await;
        assert_eq!(response.status(), 401);
    }
    let errors = log.take_errors();
    assert!(
        errors.is_empty(),
        "request errors logged ERROR:\n{}",
        errors.join("\n")
    );

    // A failure of ours does log at ERROR (so the capture above could have seen one).
    gateway
        .state
        .db
        .execute_unprepared("ALTER TABLE customers RENAME TO customers_gone")
        .await
        .unwrap();
    let response = post(&gateway, Some(GQL), &json!({"query": QUERY})).await;
    assert_eq!(response.status(), 200);
    assert!(
        !log.take_errors().is_empty(),
        "a database failure logs an ERROR line"
    );
}
