//! The audit trail, complete and honest (issue 27), end to end on SQLite and (with
//! TEST_DATABASE_URL) PostgreSQL: the real gateway signing in with the real OpenID provider.
//!
//! - Sign-ins, sign-outs, refused changes (with their code) and CSV exports of personal data
//!   are recorded, under the gateway's own request id with the caller's kept apart.
//! - Staff page and filter every event by kind, actor, license, customer and time, and export
//!   the trail as CSV (itself recorded); customers and masked callers see what they may.
//! - Nobody is signed in, and no export is sent, without its record.

use e2e_tests::agent::Agent;
use e2e_tests::oidc::OidcProvider;
use e2e_tests::{Backend, Gateway, backends, error_codes};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn accounts() -> Value {
    json!({
        "sam.sales": {"email": "sam@corp.example", "groups": ["okta-sales"]},
        "unverified.user": {"email": "ceo@corp.example", "email_verified": false,
                            "groups": ["okta-sales"]},
    })
}

/// A gateway signing in with a fresh provider, over the demo story (Acme Inc is customer 1).
async fn gateway_with_provider(backend: Backend) -> (Gateway, OidcProvider) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let gateway =
        Gateway::start_on(listener, backend, |config| provider.configure(config, &url)).await;
    let options = seed::SeedOptions {
        customers: 3,
        seed: 7,
        today: chrono::Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();
    (gateway, provider)
}

const EVENT: &str = "id occurredAt action requestId callerRequestId licenseId customerId \
    reason actor { subject email role } refusal { code message } signInMethod \
    export { kind filter rows masked customerIds }";

/// The trail as an admin reads it, newest first, narrowed by `filter`.
async fn trail(gateway: &Gateway, filter: Value) -> Vec<Value> {
    let query = format!(
        "query($filter: AuditEventFilter) {{ auditEvents(filter: $filter, first: 100) \
         {{ totalCount nodes {{ {EVENT} }} }} }}"
    );
    let answer = gateway.query(&query, json!({"filter": filter})).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// A gateway-made request id: a UUID.
fn is_own_id(id: &Value) -> bool {
    id.as_str()
        .is_some_and(|id| id.len() == 36 && id.contains('-'))
}

const CHANGE: &str = r#"mutation($input: ChangeLicenseContactInput!) {
  changeLicenseContact(input: $input) { license { id } auditEvent { id requestId callerRequestId } }
}"#;

/// Acme's newest license: its id and version.
async fn acme_license(gateway: &Gateway) -> (String, i64) {
    let answer = gateway
        .query("{ customer(id: 1) { licenses { id version } } }", json!({}))
        .await;
    let license = &answer["data"]["customer"]["licenses"][0];
    (
        license["id"].as_str().unwrap().to_owned(),
        license["version"].as_i64().unwrap(),
    )
}

/// `changeLicenseContact` as the holder of `token`, with `x-request-id: caller_id`: the
/// answer's `x-request-id` and body.
async fn change(
    gateway: &Gateway,
    token: &str,
    caller_id: &str,
    license: &str,
    version: i64,
) -> (String, Value) {
    let response = gateway
        .client()
        .post(gateway.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", caller_id)
        .json(&json!({"query": CHANGE, "variables": {"input": {
            "licenseId": license, "expectedVersion": version, "reason": "Jane left",
            "contact": {"name": "Riley Roe", "email": "riley.roe@acmeinc.com"}}}}))
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (id, response.json().await.unwrap())
}

#[tokio::test]
async fn sign_ins_sign_outs_refusals_and_exports_are_recorded() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        agent.sign_in(&gateway, "sam.sales").await;
        let export = agent
            .http
            .get(gateway.url("/export/customers/1/licenses.csv"))
            .header("x-request-id", "my-export-1")
            .send()
            .await
            .unwrap();
        assert_eq!(export.status(), 200);
        let rows = export.text().await.unwrap().lines().count() - 1;
        assert_eq!(agent.sign_out(&gateway).await["signedOut"], true);

        // Refused: a viewer may not change owners; support with a stale version conflicts.
        let (license, version) = acme_license(&gateway).await;
        let viewer = gateway.token(&["viewer"], &[]);
        let (_, refused) = change(&gateway, &viewer, "viewer-try", &license, version).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let support = gateway.token(&["support"], &[]);
        let (_, stale) = change(&gateway, &support, "stale-try", &license, version - 1).await;
        assert_eq!(error_codes(&stale), ["CONFLICT"]);

        let events = trail(&gateway, json!({})).await;
        let of = |action: &str| -> Vec<&Value> {
            events.iter().filter(|e| e["action"] == action).collect()
        };
        let signed_in = of("SIGNED_IN");
        assert_eq!(signed_in.len(), 1, "{backend:?}: {events:?}");
        assert_eq!(
            signed_in[0]["actor"],
            json!({"subject": "sam.sales", "email": "sam@corp.example", "role": "sales"})
        );
        assert_eq!(signed_in[0]["signInMethod"], "SSO");
        assert!(is_own_id(&signed_in[0]["requestId"]), "{}", signed_in[0]);
        assert_eq!(of("SIGNED_OUT").len(), 1);
        assert_eq!(of("SIGNED_OUT")[0]["actor"]["subject"], "sam.sales");

        let exported = of("PERSONAL_DATA_EXPORTED");
        assert_eq!(exported.len(), 1, "{events:?}");
        assert_eq!(
            exported[0]["export"],
            json!({"kind": "CUSTOMER_LICENSES", "filter": "customer 1", "rows": rows,
                   "masked": false, "customerIds": null})
        );
        assert_eq!(exported[0]["customerId"], "1");
        assert_eq!(exported[0]["callerRequestId"], "my-export-1");
        assert!(is_own_id(&exported[0]["requestId"]));

        let refusals = of("CONTACT_CHANGE_REFUSED");
        let codes: Vec<&Value> = refusals.iter().map(|e| &e["refusal"]["code"]).collect();
        assert_eq!(
            codes,
            [&json!("CONFLICT"), &json!("FORBIDDEN")],
            "newest first"
        );
        for refusal in &refusals {
            assert_eq!(refusal["licenseId"], license.as_str());
            assert_eq!(refusal["customerId"], "1");
            assert_eq!(refusal["reason"], "Jane left");
            assert!(refusal["refusal"]["message"].as_str().is_some());
        }
        assert_eq!(refusals[1]["actor"]["role"], "viewer");
        assert_eq!(refusals[1]["callerRequestId"], "viewer-try");
        assert_eq!(refusals[0]["actor"]["role"], "support");
    }
}

#[tokio::test]
async fn staff_page_and_filter_the_trail_by_kind_actor_license_customer_and_time() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let started = chrono::Utc::now();
        let agent = Agent::new();
        agent.sign_in(&gateway, "sam.sales").await;
        agent.sign_out(&gateway).await;
        let (license, version) = acme_license(&gateway).await;
        let support = gateway.token(&["support"], &[]);
        let (_, changed) = change(&gateway, &support, "ok-1", &license, version).await;
        assert!(changed["errors"].is_null(), "{changed}");
        let (_, stale) = change(&gateway, &support, "stale-1", &license, version).await;
        assert_eq!(error_codes(&stale), ["CONFLICT"]);

        let actions = |events: Vec<Value>| -> Vec<String> {
            events
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            actions(trail(&gateway, json!({})).await),
            [
                "CONTACT_CHANGE_REFUSED",
                "LICENSE_CONTACT_CHANGED",
                "SIGNED_OUT",
                "SIGNED_IN"
            ]
        );
        assert_eq!(
            actions(trail(&gateway, json!({"actions": ["SIGNED_IN", "SIGNED_OUT"]})).await),
            ["SIGNED_OUT", "SIGNED_IN"]
        );
        assert_eq!(
            actions(trail(&gateway, json!({"actorSubject": "sam.sales"})).await),
            ["SIGNED_OUT", "SIGNED_IN"]
        );
        assert_eq!(
            actions(trail(&gateway, json!({"licenseId": license})).await),
            ["CONTACT_CHANGE_REFUSED", "LICENSE_CONTACT_CHANGED"]
        );
        assert_eq!(
            actions(trail(&gateway, json!({"customerId": "1"})).await).len(),
            2
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(5)).to_rfc3339();
        assert!(
            trail(&gateway, json!({"occurredFrom": later}))
                .await
                .is_empty()
        );
        assert_eq!(
            trail(
                &gateway,
                json!({"occurredFrom": started.to_rfc3339(), "occurredBefore": later})
            )
            .await
            .len(),
            4
        );

        // Pages of two, newest first, then the rest.
        let page = |after: Value| {
            gateway.query(
                "query($after: String) { auditEvents(first: 2, after: $after) \
                 { totalCount pageInfo { hasNextPage endCursor } nodes { action } } }",
                json!({"after": after}),
            )
        };
        let first = page(Value::Null).await;
        let connection = &first["data"]["auditEvents"];
        assert_eq!(connection["totalCount"], 4, "{first}");
        assert_eq!(connection["pageInfo"]["hasNextPage"], true);
        let second = page(connection["pageInfo"]["endCursor"].clone()).await;
        assert_eq!(
            second["data"]["auditEvents"]["nodes"],
            json!([{"action": "SIGNED_OUT"}, {"action": "SIGNED_IN"}])
        );

        // The customer sees its license's change only, without staff's reason and request ids.
        let customer = gateway.token(&["customer"], &[1]);
        let own = gateway
            .query_as(
                &customer,
                &format!("{{ license(id: \"{license}\") {{ auditEvents {{ {EVENT} }} }} }}"),
                json!({}),
            )
            .await;
        let own = own["data"]["license"]["auditEvents"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0]["action"], "LICENSE_CONTACT_CHANGED");
        for hidden in ["reason", "requestId", "callerRequestId"] {
            assert_eq!(own[0][hidden], Value::Null, "{hidden}: {}", own[0]);
        }
        assert_eq!(own[0]["actor"]["subject"], Value::Null);
    }
}

#[tokio::test]
async fn request_ids_are_the_gateways_own_and_the_callers_is_kept_apart() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let (license, version) = acme_license(&gateway).await;
        let support = gateway.token(&["support"], &[]);
        let spoofed = "spoofed-0b6c-request-id";
        let (answered_id, changed) = change(&gateway, &support, spoofed, &license, version).await;
        assert_ne!(answered_id, spoofed);
        let event = &changed["data"]["changeLicenseContact"]["auditEvent"];
        assert_eq!(event["requestId"], answered_id.as_str(), "{changed}");
        assert!(is_own_id(&event["requestId"]));
        assert_eq!(event["callerRequestId"], spoofed);

        // An id that is no usable id (too long) is not kept at all.
        let (_, version) = acme_license(&gateway).await;
        let (_, stale) = change(&gateway, &support, &"x".repeat(129), &license, version - 1).await;
        assert_eq!(error_codes(&stale), ["CONFLICT"]);
        let refused = trail(&gateway, json!({"actions": ["CONTACT_CHANGE_REFUSED"]})).await;
        assert_eq!(refused[0]["callerRequestId"], Value::Null);
        assert!(is_own_id(&refused[0]["requestId"]));
    }
}

#[tokio::test]
async fn an_unverified_email_is_not_the_audit_actors() {
    let (gateway, _provider) = gateway_with_provider(Backend::Sqlite).await;
    let agent = Agent::new();
    agent.sign_in(&gateway, "unverified.user").await;
    let events = trail(&gateway, json!({"actions": ["SIGNED_IN"]})).await;
    assert_eq!(
        events[0]["actor"],
        json!({"subject": "unverified.user", "email": null, "role": "sales"})
    );
}

/// `GET path` with a bearer token; status and body.
async fn download(gateway: &Gateway, token: &str, path: &str) -> (u16, String) {
    let response = gateway
        .client()
        .get(gateway.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_trail_exports_as_csv_for_staff_and_the_export_is_recorded_too() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        agent.sign_in(&gateway, "sam.sales").await;
        agent.sign_out(&gateway).await;

        let admin = gateway.token(&["admin"], &[]);
        let (status, body) = download(
            &gateway,
            &admin,
            "/export/audit-events.csv?actions=signed_in,signed_out&actor=sam.sales",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let table: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .from_reader(body.trim_start_matches('\u{feff}').as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(table.len(), 2, "{body}");
        assert_eq!(table[0][2], "signed_out");
        assert_eq!(table[1][2], "signed_in");
        assert_eq!(table[1][3], "sam.sales");
        assert_eq!(table[1][4], "sam@corp.example");

        // Masked for a viewer (no subject, a masked e-mail); a viewer may not filter by actor.
        let viewer = gateway.token(&["viewer"], &[]);
        let (status, body) = download(&gateway, &viewer, "/export/audit-events.csv").await;
        assert_eq!(status, 200);
        assert!(
            !body.contains("sam.sales") && body.contains("s***@corp.example"),
            "{body}"
        );
        let (status, body) = download(
            &gateway,
            &viewer,
            "/export/audit-events.csv?actor=sam.sales",
        )
        .await;
        assert_eq!(status, 403, "{body}");
        // Customers: the trail is not theirs. Nonsense: a coded 400.
        let customer = gateway.token(&["customer"], &[1]);
        let (status, body) = download(&gateway, &customer, "/export/audit-events.csv").await;
        assert_eq!((status, body.contains("FORBIDDEN")), (403, true), "{body}");
        let (status, body) =
            download(&gateway, &admin, "/export/audit-events.csv?actions=sneezed").await;
        assert_eq!(
            (status, body.contains("BAD_USER_INPUT")),
            (400, true),
            "{body}"
        );

        // Each export that was sent is in the trail: the admin's and the viewer's (masked).
        let exports = trail(&gateway, json!({"actions": ["PERSONAL_DATA_EXPORTED"]})).await;
        let kinds: Vec<(&Value, &Value, &Value)> = exports
            .iter()
            .map(|e| {
                (
                    &e["export"]["kind"],
                    &e["export"]["masked"],
                    &e["export"]["rows"],
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (&json!("AUDIT_EVENTS"), &json!(true), &json!(3)),
                (&json!("AUDIT_EVENTS"), &json!(false), &json!(2)),
            ],
            "{backend:?}: {exports:?}"
        );
        assert_eq!(
            exports[1]["export"]["filter"],
            "actions=signed_in,signed_out&actor=sam.sales"
        );
    }
}

#[tokio::test]
async fn nobody_signs_in_and_no_export_is_sent_without_its_record() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        gateway
            .state
            .db
            .execute_unprepared("ALTER TABLE audit_events RENAME TO audit_events_gone")
            .await
            .unwrap();
        let admin = gateway.token(&["admin"], &[]);
        let (status, body) = download(&gateway, &admin, "/export/customers/1/licenses.csv").await;
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("audit trail") && !body.contains("Acme"),
            "{body}"
        );

        let agent = Agent::new();
        let answer = agent.sign_in_at_provider(&gateway, "sam.sales").await;
        let refused = agent.get(&answer).await;
        assert_eq!(refused.status(), 503, "{backend:?}");
        let session = agent.query(&gateway, "{ __typename }").await;
        assert_eq!(error_codes(&session), ["UNAUTHENTICATED"], "{session}");
    }
}
