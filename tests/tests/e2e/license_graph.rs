//! The license graph end to end: a real gateway on port 0 over a fresh, seeded database, on
//! SQLite and (with TEST_DATABASE_URL) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, Utc};
use e2e_tests::{Backend, Gateway, backends, error_codes};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A gateway over the demo story plus `customers` generated customers.
pub(crate) async fn seeded_gateway(backend: Backend, customers: u64) -> Gateway {
    let gateway = Gateway::start(backend).await;
    let options = seed::SeedOptions {
        customers,
        seed: 7,
        today: today(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();
    gateway
}

async fn insert_customer(gateway: &Gateway, name: &str) -> i64 {
    let customer = entity::customer::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    customer.insert(&gateway.state.db).await.unwrap().id
}

fn names(response: &Value, path: &str) -> Vec<String> {
    response["data"][path]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {response}"))
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn acme_has_a_paid_license_an_earlier_trial_contacts_and_hostnames() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 20).await;
        let response = gateway
            .query(
                r#"{ customers(search: "acme inc") { totalCount nodes { name activeLicense { id trial }
                     licenses { id trial plan status usersCount contact { email } licensee { company } hostnames { name } } } } }"#,
                json!({}),
            )
            .await;
        let acme = response["data"]["customers"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Acme Inc")
            .unwrap_or_else(|| panic!("{backend:?}: no Acme Inc in {response}"))
            .clone();
        let licenses = acme["licenses"].as_array().unwrap();
        let paid = licenses
            .iter()
            .find(|l| l["trial"] == false)
            .expect("a paid license");
        let trial = licenses
            .iter()
            .find(|l| l["trial"] == true)
            .expect("a trial");
        assert_eq!(paid["status"], "ACTIVE", "{backend:?}");
        assert_eq!(trial["status"], "EXPIRED");
        assert_eq!(trial["plan"], "ULTIMATE");
        assert_eq!(
            acme["activeLicense"]["id"], paid["id"],
            "the active paid license wins over any trial"
        );
        assert!(
            paid["contact"]["email"]
                .as_str()
                .unwrap()
                .ends_with("@acmeinc.com")
        );
        assert!(
            paid["hostnames"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["name"] == "gitlab.acmeinc.com")
        );
        // Newest first.
        assert_eq!(licenses.first().unwrap()["id"], paid["id"]);
    }
}

#[tokio::test]
async fn search_is_case_insensitive_across_fields_and_takes_wildcards_literally() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 5).await;
        insert_customer(&gateway, "50% Off_Deals").await;
        insert_customer(&gateway, "500 Offices").await;
        insert_customer(&gateway, "50X OffXDeals").await;

        let search = |text: &str| {
            let gateway = &gateway;
            let text = text.to_owned();
            async move {
                gateway
                    .query(
                        "query($s: String) { customers(search: $s) { nodes { name } } }",
                        json!({"s": text}),
                    )
                    .await
            }
        };
        assert_eq!(
            names(&search("50%").await, "customers"),
            vec!["50% Off_Deals"],
            "{backend:?}: % is literal"
        );
        assert_eq!(
            names(&search("f_d").await, "customers"),
            vec!["50% Off_Deals"],
            "{backend:?}: _ is literal"
        );
        // By contact e-mail, any case: finds Acme.
        assert!(
            names(&search("JANE.DOE@ACMEINC").await, "customers").contains(&"Acme Inc".to_owned())
        );

        let licenses = gateway
            .query(
                r#"{ licenses(search: "ACMEINC.COM") { totalCount nodes { customer { name } } } }"#,
                json!({}),
            )
            .await;
        assert!(
            licenses["data"]["licenses"]["totalCount"].as_u64().unwrap() >= 2,
            "{licenses}"
        );
    }
}

#[tokio::test]
async fn pagination_follows_cursors_and_caps_first() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 30).await;
        let query = "query($after: String) { customers(first: 7, after: $after) {
            totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = gateway.query(query, json!({"after": after})).await;
            let connection = &page["data"]["customers"];
            assert_eq!(connection["totalCount"], 30, "{backend:?}: {page}");
            for edge in connection["edges"].as_array().unwrap() {
                seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
            }
            assert_eq!(connection["pageInfo"]["hasPreviousPage"], !after.is_null());
            if connection["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            (seen.len(), unique.len()),
            (30, 30),
            "every customer exactly once"
        );

        let too_many = gateway
            .query("{ customers(first: 101) { totalCount } }", json!({}))
            .await;
        assert_eq!(error_codes(&too_many), vec!["PAGE_TOO_LARGE"]);
        assert!(
            too_many["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("100")
        );

        let bad_cursor = gateway
            .query(r#"{ licenses(after: "bm9wZQ") { totalCount } }"#, json!({}))
            .await;
        assert_eq!(error_codes(&bad_cursor), vec!["INVALID_CURSOR"]);
    }
}

#[tokio::test]
async fn filters_answer_how_many_trials_a_prospect_requested() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 10).await;
        let response = gateway
            .query(
                r#"{ trials: licenses(search: "Acme Inc", filter: {trial: true}) { totalCount nodes { usersCount issuedAt status } }
                     active: licenses(filter: {status: ACTIVE}) { totalCount nodes { status daysUntilExpiry } }
                     expiring: licenses(filter: {expiringWithinDays: 36500}) { totalCount }
                     premium: licenses(filter: {plan: PREMIUM, issuedAfter: "2000-01-01T00:00:00Z"}) { nodes { plan } } }"#,
                json!({}),
            )
            .await;
        assert!(response["errors"].is_null(), "{backend:?}: {response}");
        let trials = &response["data"]["trials"];
        assert!(trials["totalCount"].as_u64().unwrap() >= 1);
        assert!(
            trials["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["usersCount"].as_i64().unwrap() <= 100)
        );
        let active = &response["data"]["active"];
        assert!(
            active["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["status"] == "ACTIVE")
        );
        assert!(active["totalCount"].as_u64().unwrap() >= 1);
        // Active licenses with an expiry inside the horizon are all expiring ones: never more.
        assert!(
            response["data"]["expiring"]["totalCount"].as_u64().unwrap()
                <= active["totalCount"].as_u64().unwrap()
        );
        assert!(
            response["data"]["premium"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["plan"] == "PREMIUM")
        );

        let contradictory = gateway
            .query(
                r#"{ licenses(filter: {issuedAfter: "2026-01-01T00:00:00Z", issuedBefore: "2025-01-01T00:00:00Z"}) { totalCount } }"#,
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&contradictory), vec!["BAD_USER_INPUT"]);
    }
}

#[tokio::test]
async fn lookups_by_id_and_hostname_name() {
    for backend in backends() {
        // A name the license database does not know is asked of the version service, which
        // knows it neither.
        let version = e2e_tests::version::VersionService::start(backend, None).await;
        let url = version.graphql_url();
        let gateway = Gateway::start_with(backend, |config| config.version_service.url = url).await;
        let options = seed::SeedOptions {
            customers: 3,
            seed: 7,
            today: today(),
            include_demo_story: true,
        };
        seed::seed(&gateway.state.db, None, &options).await.unwrap();
        let response = gateway
            .query(
                r#"{ known: hostname(name: "GitLab.AcmeInc.com.") { name known licenses { customer { name } } }
                     unknownHost: hostname(name: "nowhere.example") { name }
                     unknownLicense: license(id: "999999") { id }
                     unknownCustomer: customer(id: "999999") { id }
                     customer(id: "1") { name contacts { email licenses { id } } } }"#,
                json!({}),
            )
            .await;
        assert!(response["errors"].is_null(), "{backend:?}: {response}");
        let data = &response["data"];
        assert_eq!(data["known"]["name"], "gitlab.acmeinc.com");
        assert_eq!(data["known"]["licenses"][0]["customer"]["name"], "Acme Inc");
        assert!(
            data["unknownHost"].is_null()
                && data["unknownLicense"].is_null()
                && data["unknownCustomer"].is_null()
        );
        assert_eq!(data["customer"]["name"], "Acme Inc");
        assert!(data["customer"]["contacts"].as_array().unwrap().len() >= 2);

        let malformed = gateway
            .query(r#"{ license(id: "abc") { id } }"#, json!({}))
            .await;
        assert_eq!(error_codes(&malformed), vec!["BAD_USER_INPUT"]);
        assert!(
            malformed["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("not a valid license id")
        );
    }
}

#[tokio::test]
async fn bad_queries_get_clear_errors_not_failures() {
    let gateway = seeded_gateway(Backend::Sqlite, 1).await;
    let client = reqwest::Client::new();
    let syntax = gateway.query("{ customers(search: ", json!({})).await;
    assert!(
        syntax["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("expected"),
        "{syntax}"
    );
    let wrong_type = gateway
        .query("{ customers(first: \"ten\") { totalCount } }", json!({}))
        .await;
    assert!(!wrong_type["errors"].as_array().unwrap().is_empty());
    let unknown_field = gateway.query("{ customers { nope } }", json!({})).await;
    assert!(
        unknown_field["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
    let not_json = client
        .post(gateway.url("/graphql"))
        .header("authorization", gateway.admin_authorization())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

/// The dashboard query's statements, for a customer with `licenses` licenses.
async fn dashboard_statements(gateway: &Gateway, customer_id: i64) -> u64 {
    let before = gateway.statements();
    let response = gateway
        .query(
            "query($id: ID!) { customer(id: $id) { name contacts { name } activeLicense { id }
               licenses { id status contact { name email } licensee { name } hostnames { name licenses { id } } } } }",
            json!({"id": customer_id.to_string()}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    gateway.statements() - before
}

#[tokio::test]
async fn statements_per_dashboard_query_do_not_grow_with_licenses() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let mut counts = Vec::new();
        for (i, size) in [1u32, 10, 100].into_iter().enumerate() {
            let id = seed::seed_customer_with_licenses(
                &gateway.state.db,
                None,
                &format!("Scale {size}"),
                size,
                i as u64,
                today(),
            )
            .await
            .unwrap();
            let count = dashboard_statements(&gateway, id).await;
            counts.push((size, count));
        }
        println!(
            "{backend:?}: SQL statements per dashboard query (licenses, statements): {counts:?}"
        );
        assert!(
            counts.iter().all(|(_, n)| *n == counts[0].1),
            "{backend:?}: {counts:?}"
        );
        assert!(
            counts[0].1 <= 8,
            "a handful of batched statements, not one per row: {counts:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_startup_error() {
    let config = gateway::Config {
        database_url: "postgres://nobody:secret@127.0.0.1:1/none".to_owned(),
        ..gateway::Config::default()
    };
    let error = gateway::AppState::start(config)
        .await
        .err()
        .expect("start must fail")
        .to_string();
    assert!(error.contains("license database"), "{error}");
    assert!(
        !error.contains("secret"),
        "no password in messages: {error}"
    );
}

#[tokio::test]
async fn the_gateway_is_itself_a_federation_subgraph() {
    let gateway = seeded_gateway(Backend::Sqlite, 2).await;
    let sdl = gateway.query("{ _service { sdl } }", json!({})).await;
    let sdl = sdl["data"]["_service"]["sdl"]
        .as_str()
        .unwrap_or_else(|| panic!("{sdl}"))
        .to_owned();
    for (ty, key) in [("Customer", "id"), ("License", "id"), ("Hostname", "name")] {
        let declaration = sdl
            .lines()
            .find(|line| line.starts_with(&format!("type {ty} ")))
            .unwrap_or_else(|| panic!("no type {ty} in {sdl}"));
        assert!(
            declaration.contains(&format!("@key(fields: \"{key}\")")),
            "{declaration}"
        );
    }
    assert!(
        sdl.contains("federation/v2"),
        "a Federation v2 subgraph: {sdl}"
    );

    let entities = gateway
        .query(
            r#"query($r: [_Any!]!) { _entities(representations: $r) {
                 ... on Customer { name } ... on License { trial customer { name } } ... on Hostname { name known } } }"#,
            json!({"r": [
                {"__typename": "Customer", "id": "1"},
                {"__typename": "License", "id": "999999"},
                {"__typename": "Hostname", "name": "gitlab.acmeinc.com"},
                {"__typename": "License", "id": "2"}
            ]}),
        )
        .await;
    let list = entities["data"]["_entities"]
        .as_array()
        .unwrap_or_else(|| panic!("{entities}"));
    assert_eq!(list[0]["name"], "Acme Inc");
    assert!(
        list[1].is_null(),
        "an unknown key is null, the others resolve: {entities}"
    );
    assert_eq!(list[2]["known"], true);
    assert_eq!(list[3]["customer"]["name"], "Acme Inc");
}

#[tokio::test]
async fn statements_per_customer_list_do_not_grow_with_the_page() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 40).await;
        let mut counts = Vec::new();
        for first in [1, 10, 40] {
            let before = gateway.statements();
            let response = gateway
                .query(
                    "query($first: Int) { customers(first: $first) { nodes { name contacts { email }
                       activeLicense { id contact { name } }
                       licenses { status contact { name } hostnames { name } } } } }",
                    json!({"first": first}),
                )
                .await;
            assert!(response["errors"].is_null(), "{response}");
            counts.push((first, gateway.statements() - before));
        }
        println!("{backend:?}: SQL statements per customer list (first, statements): {counts:?}");
        assert!(
            counts.iter().all(|(_, n)| *n == counts[0].1),
            "{backend:?}: {counts:?}"
        );
    }
}

/// POSTs `query` as an admin; returns the status and the body as text (the order of its keys
/// is part of what is checked), the gateway's request id (the answer's `x-request-id`, never
/// the caller's) written `<request id>`.
async fn post_text(gateway: &Gateway, query: &str, variables: Value) -> (u16, String) {
    let response = gateway
        .client()
        .post(gateway.url("/graphql"))
        .header("authorization", gateway.admin_authorization())
        .header("accept", "application/graphql-response+json")
        .header("x-request-id", "req-12")
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(request_id, "req-12", "the gateway's ids are its own");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, body.replace(&request_id, "<request id>"))
}

/// Asserts the whole body, key order included: `expected` is compact JSON written in the
/// order the spec gives (the selection set's).
async fn assert_body(gateway: &Gateway, query: &str, expected: &str) {
    let (status, body) = post_text(gateway, query, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, expected, "{query}");
}

#[tokio::test]
async fn field_errors_answer_null_and_propagate_to_the_nearest_nullable_parent() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let id = insert_customer(&gateway, "Acme Inc").await;

        // A nullable object field failing on its argument: `null` in its place, the error
        // with its path; the sibling keeps its place.
        assert_body(
            &gateway,
            r#"{ customer(id: "abc") { name } __typename }"#,
            r#"{"data":{"customer":null,"__typename":"Query"},"errors":[{"message":"`abc` is not a valid customer id: ids are whole numbers","locations":[{"line":1,"column":3}],"path":["customer"],"extensions":{"code":"BAD_USER_INPUT"}}]}"#,
        )
        .await;

        // A non-null list failing nulls its nullable parent, not just itself.
        let query = format!(
            r#"{{ customer(id: "{id}") {{ name licenses(filter: {{expiringWithinDays: -5}}) {{ id }} }} }}"#
        );
        let (_, body) = post_text(&gateway, &query, json!({})).await;
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"], json!({"customer": null}), "{body}");
        assert_eq!(
            parsed["errors"][0]["path"],
            json!(["customer", "licenses"]),
            "{body}"
        );
        assert_eq!(parsed["errors"].as_array().unwrap().len(), 1, "{body}");

        // Non-null all the way up (a list item, its list, the connection, the root field):
        // `data` itself is null.
        let (_, body) = post_text(
            &gateway,
            "{ customers { nodes { name licenses(filter: {expiringWithinDays: -5}) { id } } } }",
            json!({}),
        )
        .await;
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"], Value::Null, "{body}");
        assert!(body.starts_with(r#"{"data":null,"errors":["#), "{body}");
        assert_eq!(
            parsed["errors"][0]["path"],
            json!(["customers", "nodes", 0, "licenses"]),
            "{body}"
        );

        // A non-null root field failing: `data` is null.
        let (_, body) = post_text(
            &gateway,
            "{ customers(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["data"], Value::Null, "{body}");
        assert_eq!(error_codes(&parsed), ["PAGE_TOO_LARGE"], "{body}");
        assert_eq!(parsed["errors"][0]["path"], json!(["customers"]), "{body}");

        // Database failures: a nullable object is null, a non-null list nulls its parent;
        // what did not fail keeps its value and place.
        use sea_orm::ConnectionTrait;
        gateway
            .state
            .db
            .execute_unprepared("ALTER TABLE licenses RENAME TO licenses_gone")
            .await
            .unwrap();
        let internal = r#""extensions":{"code":"INTERNAL_SERVER_ERROR"}"#;
        let message = "internal error: the license database could not answer; see the gateway log (request id <request id>)";
        assert_body(
            &gateway,
            &format!(r#"{{ customer(id: "{id}") {{ name activeLicense {{ id }} id }} }}"#),
            &format!(
                r#"{{"data":{{"customer":{{"name":"Acme Inc","activeLicense":null,"id":"{id}"}}}},"errors":[{{"message":"{message}","locations":[{{"line":1,"column":{col}}}],"path":["customer","activeLicense"],{internal}}}]}}"#,
                col = 27 + id.to_string().len()
            ),
        )
        .await;
        let (_, body) = post_text(
            &gateway,
            &format!(r#"{{ customer(id: "{id}") {{ name licenses {{ id }} }} __typename }}"#),
            json!({}),
        )
        .await;
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert!(
            body.starts_with(r#"{"data":{"customer":null,"__typename":"Query"},"errors":["#),
            "{body}"
        );
        assert_eq!(
            parsed["errors"][0]["path"],
            json!(["customer", "licenses"]),
            "{body}"
        );
        assert_eq!(
            error_codes(&parsed),
            ["INTERNAL_SERVER_ERROR"],
            "{backend:?}: {body}"
        );
    }
}

/// `{ <root>(search: $s) { totalCount totalCountIsExact nodes { name } } }` as `token` (the
/// admin when `None`).
async fn search_as(gateway: &Gateway, token: Option<&str>, root: &str, text: &str) -> Value {
    let nodes = if root == "customers" {
        "nodes { name }"
    } else {
        "nodes { customer { name } }"
    };
    let query = format!(
        "query($s: String) {{ {root}(search: $s) {{ totalCount totalCountIsExact {nodes} }} }}"
    );
    match token {
        Some(token) => gateway.query_as(token, &query, json!({"s": text})).await,
        None => gateway.query(&query, json!({"s": text})).await,
    }
}

fn total(response: &Value, root: &str) -> u64 {
    response["data"][root]["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("no totalCount in {response}"))
}

#[tokio::test]
async fn search_ranks_whole_fields_first_and_follows_every_write() {
    use entity::{contact, customer};
    use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

    for backend in backends() {
        let gateway = seeded_gateway(backend, 3).await;
        let db = &gateway.state.db;
        // Inserted substring match first, exact match last: the rank, not the insertion order
        // (nor the name), decides.
        let sport = insert_customer(&gateway, "Bigmotorsport").await;
        insert_customer(&gateway, "Tyrell Motors").await;
        insert_customer(&gateway, "Motors").await;
        assert_eq!(
            names(
                &search_as(&gateway, None, "customers", "MOTORS").await,
                "customers"
            ),
            vec!["Motors", "Tyrell Motors", "Bigmotorsport"],
            "{backend:?}: whole field, then a word's start, then anywhere"
        );

        // A renamed customer is found by its new name only.
        let mut renamed = customer::Entity::find_by_id(sport)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        renamed.name = Set("Gamma Sport".to_owned());
        renamed.update(db).await.unwrap();
        assert_eq!(
            names(
                &search_as(&gateway, None, "customers", "motors").await,
                "customers"
            ),
            vec!["Motors", "Tyrell Motors"],
            "{backend:?}"
        );
        assert_eq!(
            names(
                &search_as(&gateway, None, "customers", "gamma").await,
                "customers"
            ),
            vec!["Gamma Sport"]
        );

        // A contact's new e-mail finds its customer and the licenses delivered to it.
        let jane = contact::Entity::find()
            .filter(contact::Column::Email.eq("jane.doe@acmeinc.com"))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut moved = jane.into_active_model();
        moved.email = Set("jane.roe@acmeinc.com".to_owned());
        moved.update(db).await.unwrap();
        let customers = search_as(&gateway, None, "customers", "jane.roe@").await;
        assert_eq!(
            names(&customers, "customers"),
            vec!["Acme Inc"],
            "{backend:?}"
        );
        let licenses = search_as(&gateway, None, "licenses", "jane.roe@").await;
        assert!(total(&licenses, "licenses") >= 1, "{backend:?}: {licenses}");
        // A new contact is searchable at once.
        contact::ActiveModel {
            customer_id: Set(sport),
            name: Set("Quentin Quux".to_owned()),
            email: Set("qq@gammasport.example".to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        assert_eq!(
            names(
                &search_as(&gateway, None, "customers", "quux").await,
                "customers"
            ),
            vec!["Gamma Sport"]
        );
    }
}

#[tokio::test]
async fn search_text_must_be_2_to_200_characters() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 1).await;
        for root in ["customers", "licenses"] {
            for text in ["a".to_owned(), "x".repeat(201), "y".repeat(250_000)] {
                let response = search_as(&gateway, None, root, &text).await;
                assert_eq!(
                    error_codes(&response),
                    vec!["BAD_USER_INPUT"],
                    "{backend:?} {root} with {} characters",
                    text.len()
                );
            }
            // Two characters, 200 characters and blank text (no search) are fine.
            for text in ["ac".to_owned(), "z".repeat(200), "   ".to_owned()] {
                let response = search_as(&gateway, None, root, &text).await;
                assert!(
                    response["errors"].is_null(),
                    "{backend:?} {root}: {response}"
                );
            }
        }
        let two = search_as(&gateway, None, "customers", "ac").await;
        assert!(names(&two, "customers").contains(&"Acme Inc".to_owned()));
    }
}

#[tokio::test]
async fn total_count_is_exact_up_to_1000_and_says_when_it_is_not() {
    use sea_orm::EntityTrait;

    for backend in backends() {
        let gateway = seeded_gateway(backend, 1).await;
        let many = (0..1001).map(|i| entity::customer::ActiveModel {
            name: Set(format!("Capped {i:04}")),
            created_at: Set(Utc::now()),
            ..Default::default()
        });
        entity::customer::Entity::insert_many(many)
            .exec(&gateway.state.db)
            .await
            .unwrap();
        let all = search_as(&gateway, None, "customers", "capped").await;
        assert_eq!(total(&all, "customers"), 1000, "{backend:?}");
        assert_eq!(all["data"]["customers"]["totalCountIsExact"], false);
        let some = search_as(&gateway, None, "customers", "capped 01").await;
        assert_eq!(total(&some, "customers"), 100, "{backend:?}");
        assert_eq!(some["data"]["customers"]["totalCountIsExact"], true);
        // Without a search too: more than 1,000 customers in all.
        let unsearched = gateway
            .query("{ customers { totalCount totalCountIsExact } }", json!({}))
            .await;
        assert_eq!(unsearched["data"]["customers"]["totalCount"], 1000);
        assert_eq!(unsearched["data"]["customers"]["totalCountIsExact"], false);
    }
}

#[tokio::test]
async fn a_viewer_cannot_test_guesses_at_masked_fields_by_searching() {
    for backend in backends() {
        let gateway = seeded_gateway(backend, 3).await;
        let viewer = gateway.token(&["viewer"], &[]);
        for root in ["customers", "licenses"] {
            // Staff find Acme by the contact's e-mail and name.
            for text in ["jane.doe@acmeinc.com", "jane doe"] {
                let staff = search_as(&gateway, None, root, text).await;
                assert!(total(&staff, root) >= 1, "{backend:?} {root}: {staff}");
            }
            // A viewer gets the same answer for the right guess as for a wrong one: nothing.
            for text in ["jane.doe@acmeinc.com", "jane.dog@acmeinc.com", "jane doe"] {
                let masked = search_as(&gateway, Some(&viewer), root, text).await;
                assert_eq!(
                    total(&masked, root),
                    0,
                    "{backend:?} {root} `{text}`: {masked}"
                );
            }
            // What a viewer sees unmasked stays searchable.
            let company = search_as(&gateway, Some(&viewer), root, "acme inc").await;
            assert!(total(&company, root) >= 1, "{backend:?} {root}: {company}");
        }
    }
}
