//! Changing a license's owner (`changeLicenseContact`) end to end: a real gateway on port 0
//! over a fresh, seeded database, on SQLite and (with TEST_DATABASE_URL) PostgreSQL. Every
//! refusal is checked in the database too: nothing written.

use chrono::{DateTime, Utc};
use e2e_tests::{Backend, Gateway, backends, error_codes};
use entity::{audit_event, contact, license};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const CHANGE: &str = r#"mutation Change($input: ChangeLicenseContactInput!) {
  changeLicenseContact(input: $input) {
    replayed clientMutationId
    license { id version contact { id name email } }
    auditEvent {
      id occurredAt action requestId callerRequestId licenseId licenseVersion reason
      actor { subject email role }
      oldContact { id name email }
      newContact { id name email }
    }
  }
}"#;

const LICENSE: &str = r#"query License($id: ID!) {
  license(id: $id) {
    id version viewerCanChangeContact contact { id name email }
    customer { contacts { id email } }
    auditEvents {
      id action requestId licenseVersion reason
      actor { subject email role }
      oldContact { id name email }
      newContact { id name email }
    }
  }
}"#;

/// A gateway over the demo story (Acme Inc is customer 1, Globex customer 2).
async fn seeded(backend: Backend) -> Gateway {
    let gateway = Gateway::start(backend).await;
    let options = seed::SeedOptions {
        customers: 3,
        seed: 7,
        today: Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();
    gateway
}

/// A token for `role` with this subject and e-mail.
fn token(gateway: &Gateway, role: &str, subject: &str, email: Option<&str>) -> String {
    let claims = auth::MintClaims {
        sub: subject.to_owned(),
        email: email.map(str::to_owned),
        roles: vec![role.to_owned()],
        customer_ids: if role == "customer" { vec![1] } else { vec![] },
        ttl: std::time::Duration::from_secs(3600),
        issuer: None,
        audience: None,
    };
    auth::mint_hs256_for(&gateway.state.config.auth, &claims).unwrap()
}

fn support(gateway: &Gateway) -> String {
    token(
        gateway,
        "support",
        "support-sam",
        Some("sam.support@licensedot.example"),
    )
}

/// POSTs `query` with `variables` as the holder of `token`, with extra headers.
async fn post(
    gateway: &Gateway,
    token: &str,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> Value {
    let mut request = gateway
        .client()
        .post(gateway.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// Acme's paid license (the newest): its id, version and contact as an admin reads them.
async fn acme_license(gateway: &Gateway) -> Value {
    let response = gateway
        .query("{ customer(id: 1) { licenses { id } } }", json!({}))
        .await;
    let id = response["data"]["customer"]["licenses"][0]["id"].clone();
    let response = gateway.query(LICENSE, json!({"id": id})).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["license"].clone()
}

fn input(license: &Value, contact: Value, reason: &str) -> Value {
    let mut input = json!({
        "licenseId": license["id"],
        "reason": reason,
        "expectedVersion": license["version"],
    });
    let object = input.as_object_mut().unwrap();
    for (key, value) in contact.as_object().unwrap() {
        object.insert(key.clone(), value.clone());
    }
    json!({ "input": input })
}

fn person(name: &str, email: &str) -> Value {
    json!({"contact": {"name": name, "email": email}})
}

/// What the license database holds: (contact changes in the audit trail, contacts, the
/// license's version and contact id). Refused changes are recorded too, as refusals: see
/// `audit_trail.rs`.
async fn stored(gateway: &Gateway, license_id: &Value) -> (u64, u64, i64, i64) {
    let db = &gateway.state.db;
    let id: i64 = license_id.as_str().unwrap().parse().unwrap();
    let row = license::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    (
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(audit_event::Action::LicenseContactChanged))
            .count(db)
            .await
            .unwrap(),
        contact::Entity::find().count(db).await.unwrap(),
        row.version,
        row.contact_id,
    )
}

#[tokio::test]
async fn support_changes_the_owner_and_the_audit_event_records_everything() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let before = acme_license(&gateway).await;
        let version = before["version"].as_i64().unwrap();
        let started: DateTime<Utc> = Utc::now();
        let response = post(
            &gateway,
            &support(&gateway),
            &[("x-request-id", "owner-change-e2e-1")],
            CHANGE,
            input(
                &before,
                person("  Riley Roe ", "riley.roe@acmeinc.com"),
                " Jane left Acme; Riley runs their GitLab now ",
            ),
        )
        .await;
        assert!(response["errors"].is_null(), "{backend:?}: {response}");
        let payload = &response["data"]["changeLicenseContact"];
        assert_eq!(payload["replayed"], false);
        let new_contact = payload["license"]["contact"].clone();
        assert_eq!(new_contact["name"], "Riley Roe", "trimmed");
        assert_eq!(new_contact["email"], "riley.roe@acmeinc.com");
        assert_eq!(payload["license"]["version"], version + 1);

        let event = &payload["auditEvent"];
        // The request id is the gateway's own (a UUID); what the caller sent is kept apart.
        let request_id = event["requestId"].as_str().unwrap();
        assert_eq!(request_id.len(), 36, "{request_id}");
        assert_ne!(request_id, "owner-change-e2e-1");
        let occurred: DateTime<Utc> = event["occurredAt"].as_str().unwrap().parse().unwrap();
        assert!(occurred >= started - chrono::Duration::seconds(1) && occurred <= Utc::now());
        assert_eq!(
            event,
            &json!({
                "id": event["id"],
                "occurredAt": event["occurredAt"],
                "action": "LICENSE_CONTACT_CHANGED",
                "requestId": event["requestId"],
                "callerRequestId": "owner-change-e2e-1",
                "licenseId": before["id"],
                "licenseVersion": version + 1,
                "reason": "Jane left Acme; Riley runs their GitLab now",
                "actor": {
                    "subject": "support-sam",
                    "email": "sam.support@licensedot.example",
                    "role": "support",
                },
                "oldContact": before["contact"],
                "newContact": new_contact,
            }),
            "{backend:?}"
        );

        // The license reads the change back: new contact (now one of the customer's), the
        // event in its history, and the staff trail has it too.
        let after =
            gateway.query(LICENSE, json!({"id": before["id"]})).await["data"]["license"].clone();
        assert_eq!(after["contact"], new_contact);
        assert!(
            after["customer"]["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == new_contact["id"])
        );
        let history = after["auditEvents"].as_array().unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0]["id"], event["id"]);

        // A second change, back to the first contact by id: newest first in the history.
        let back = post(
            &gateway,
            &support(&gateway),
            &[],
            CHANGE,
            input(
                &after,
                json!({"contactId": before["contact"]["id"]}),
                "Riley was a stand-in",
            ),
        )
        .await;
        assert!(back["errors"].is_null(), "{back}");
        let history = gateway.query(LICENSE, json!({"id": before["id"]})).await["data"]["license"]
            ["auditEvents"]
            .clone();
        let ids: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["id"])
            .collect();
        assert_eq!(
            ids,
            vec![
                &back["data"]["changeLicenseContact"]["auditEvent"]["id"],
                &event["id"]
            ]
        );
        let trail = gateway
            .query(
                r#"query($id: ID) { auditEvents(filter: {licenseId: $id}, first: 1) {
                     totalCount pageInfo { hasNextPage } nodes { id newContact { email } } } }"#,
                json!({"id": before["id"]}),
            )
            .await;
        let trail = &trail["data"]["auditEvents"];
        assert_eq!(trail["totalCount"], 2, "{trail}");
        assert_eq!(trail["pageInfo"]["hasNextPage"], true);
        assert_eq!(
            trail["nodes"][0]["newContact"]["email"],
            before["contact"]["email"]
        );
        let (events, _, stored_version, _) = stored(&gateway, &before["id"]).await;
        assert_eq!((events, stored_version), (2, version + 2));
    }
}

#[tokio::test]
async fn only_support_and_admin_may_change_and_refusals_write_nothing() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let nothing_written = stored(&gateway, &license["id"]).await;
        let variables = input(
            &license,
            person("Mallory", "mallory@acmeinc.com"),
            "I would like to own it",
        );
        for role in ["sales", "viewer", "customer"] {
            let caller = token(&gateway, role, &format!("{role}-1"), None);
            let response = post(&gateway, &caller, &[], CHANGE, variables.clone()).await;
            assert_eq!(
                error_codes(&response),
                vec!["FORBIDDEN"],
                "{role}: {response}"
            );
            assert!(response["data"].is_null(), "{response}");
            let read = post(
                &gateway,
                &caller,
                &[],
                LICENSE,
                json!({"id": license["id"]}),
            )
            .await;
            assert_eq!(
                read["data"]["license"]["viewerCanChangeContact"], false,
                "{role}: {read}"
            );
        }
        // Never over GET, never without JSON, whoever asks.
        let get = gateway
            .client()
            .get(gateway.url("/graphql"))
            .bearer_auth(support(&gateway))
            .query(&[("query", CHANGE), ("variables", &variables.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 405);
        let form = gateway
            .client()
            .post(gateway.url("/graphql"))
            .bearer_auth(support(&gateway))
            .header("content-type", "text/plain")
            .body(json!({"query": CHANGE, "variables": variables}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 415);
        // Bad input is refused in words, and writes nothing either.
        let globex_contact = gateway
            .query("{ customer(id: 2) { contacts { id } } }", json!({}))
            .await["data"]["customer"]["contacts"][0]["id"]
            .clone();
        for (contact, reason, why) in [
            (
                person("Mallory", "not-an-address"),
                "moving",
                "not an e-mail address",
            ),
            (
                person("Mallory", "m@acmeinc.com"),
                "   ",
                "`reason` is required",
            ),
            (
                json!({"contactId": globex_contact}),
                "moving",
                "not a contact of the license's customer",
            ),
            (
                json!({"contactId": license["contact"]["id"]}),
                "moving",
                "already sent to",
            ),
            (
                json!({"contactId": globex_contact, "contact": {"name": "M", "email": "m@acmeinc.com"}}),
                "moving",
                "exactly one of",
            ),
        ] {
            let response = post(
                &gateway,
                &support(&gateway),
                &[],
                CHANGE,
                input(&license, contact, reason),
            )
            .await;
            assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{response}");
            let message = response["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(why), "{why}: {message}");
        }
        assert_eq!(
            stored(&gateway, &license["id"]).await,
            nothing_written,
            "{backend:?}"
        );
        let admin = token(&gateway, "admin", "admin-ada", None);
        let response = post(&gateway, &admin, &[], CHANGE, variables).await;
        assert_eq!(
            response["data"]["changeLicenseContact"]["auditEvent"]["actor"],
            json!({"subject": "admin-ada", "email": null, "role": "admin"}),
            "{response}"
        );
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_that_shows_the_current_owner() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let version = license["version"].as_i64().unwrap();
        let first = post(
            &gateway,
            &support(&gateway),
            &[],
            CHANGE,
            input(
                &license,
                person("Riley Roe", "riley@acmeinc.com"),
                "handover",
            ),
        )
        .await;
        assert!(first["errors"].is_null(), "{first}");
        let written = stored(&gateway, &license["id"]).await;

        let stale = post(
            &gateway,
            &support(&gateway),
            &[],
            CHANGE,
            input(
                &license,
                person("Quinn Poe", "quinn@acmeinc.com"),
                "handover",
            ),
        )
        .await;
        assert!(stale["data"].is_null(), "{stale}");
        let error = &stale["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "CONFLICT",
            "{backend:?}: {stale}"
        );
        assert_eq!(error["path"], json!(["changeLicenseContact"]));
        let current = &error["extensions"]["current"];
        assert_eq!(current["licenseId"], license["id"]);
        assert_eq!(current["version"], version + 1);
        assert_eq!(
            current["contact"],
            first["data"]["changeLicenseContact"]["license"]["contact"]
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains(&format!("changed since version {version}")),
            "{error}"
        );
        assert_eq!(
            stored(&gateway, &license["id"]).await,
            written,
            "nothing written"
        );

        // An unknown license is not a conflict.
        let mut unknown = input(&license, person("Q", "q@acmeinc.com"), "x");
        unknown["input"]["licenseId"] = json!("999999");
        let response = post(&gateway, &support(&gateway), &[], CHANGE, unknown).await;
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{response}");
    }
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_result_without_a_second_event() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let variables = input(
            &license,
            person("Riley Roe", "riley@acmeinc.com"),
            "handover",
        );
        let key = [("idempotency-key", "7f1c2d0e-retry-1")];
        let first = post(
            &gateway,
            &support(&gateway),
            &key,
            CHANGE,
            variables.clone(),
        )
        .await;
        assert!(first["errors"].is_null(), "{first}");
        let written = stored(&gateway, &license["id"]).await;

        let retry = post(
            &gateway,
            &support(&gateway),
            &key,
            CHANGE,
            variables.clone(),
        )
        .await;
        assert!(retry["errors"].is_null(), "{backend:?}: {retry}");
        let (first, retry) = (
            &first["data"]["changeLicenseContact"],
            &retry["data"]["changeLicenseContact"],
        );
        assert_eq!(retry["replayed"], true);
        assert_eq!(first["replayed"], false);
        assert_eq!(retry["auditEvent"], first["auditEvent"]);
        assert_eq!(retry["license"], first["license"]);
        assert_eq!(stored(&gateway, &license["id"]).await, written, "one event");

        // The same key for another change is refused; another caller's same key is theirs.
        let other = input(
            &license,
            person("Quinn Poe", "quinn@acmeinc.com"),
            "handover",
        );
        let reused = post(&gateway, &support(&gateway), &key, CHANGE, other).await;
        assert_eq!(error_codes(&reused), vec!["BAD_USER_INPUT"], "{reused}");
        let colleague = token(&gateway, "support", "support-kim", None);
        let theirs = post(&gateway, &colleague, &key, CHANGE, variables.clone()).await;
        assert_eq!(error_codes(&theirs), vec!["CONFLICT"], "{theirs}");

        // `clientMutationId` does the same when no header can be sent, and is echoed.
        let current = acme_license(&gateway).await;
        let mut by_id = input(&current, person("Quinn Poe", "quinn@acmeinc.com"), "again");
        by_id["input"]["clientMutationId"] = json!("client-42");
        let once = post(&gateway, &support(&gateway), &[], CHANGE, by_id.clone()).await;
        let twice = post(&gateway, &support(&gateway), &[], CHANGE, by_id).await;
        assert_eq!(
            once["data"]["changeLicenseContact"]["auditEvent"]["id"],
            twice["data"]["changeLicenseContact"]["auditEvent"]["id"],
            "{twice}"
        );
        assert_eq!(
            twice["data"]["changeLicenseContact"]["clientMutationId"],
            "client-42"
        );
        assert_eq!(twice["data"]["changeLicenseContact"]["replayed"], true);
        assert_eq!(stored(&gateway, &license["id"]).await.0, 2);
    }
}

#[tokio::test]
async fn viewers_see_the_event_masked_and_customers_without_the_actor() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let changed = post(
            &gateway,
            &support(&gateway),
            &[],
            CHANGE,
            input(
                &license,
                person("Riley Roe", "riley.roe@acmeinc.com"),
                "Jane left",
            ),
        )
        .await;
        assert!(changed["errors"].is_null(), "{changed}");
        let event = &changed["data"]["changeLicenseContact"]["auditEvent"];
        let old_contact = &license["contact"];

        let viewer = token(&gateway, "viewer", "viewer-1", None);
        let seen = post(
            &gateway,
            &viewer,
            &[],
            LICENSE,
            json!({"id": license["id"]}),
        )
        .await;
        let mask_email = |email: &Value| auth::mask_email(email.as_str().unwrap());
        let mask_name = |name: &Value| auth::mask_name(name.as_str().unwrap());
        assert_eq!(
            seen["data"]["license"]["auditEvents"],
            json!([{
                "id": event["id"],
                "action": "LICENSE_CONTACT_CHANGED",
                "requestId": event["requestId"],
                "licenseVersion": event["licenseVersion"],
                "reason": null,
                "actor": {"subject": null, "email": "s***@licensedot.example", "role": "support"},
                "oldContact": {
                    "id": old_contact["id"],
                    "name": mask_name(&old_contact["name"]),
                    "email": mask_email(&old_contact["email"]),
                },
                "newContact": {
                    "id": event["newContact"]["id"],
                    "name": "R*** R***",
                    "email": "r***@acmeinc.com",
                },
            }]),
            "{backend:?}"
        );
        let trail = post(
            &gateway,
            &viewer,
            &[],
            "{ auditEvents { nodes { newContact { email } actor { email } } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            trail["data"]["auditEvents"]["nodes"],
            json!([{"newContact": {"email": "r***@acmeinc.com"}, "actor": {"email": "s***@licensedot.example"}}])
        );
        let by_actor = post(
            &gateway,
            &viewer,
            &[],
            r#"{ auditEvents(filter: {actorSubject: "support-sam"}) { totalCount } }"#,
            json!({}),
        )
        .await;
        assert_eq!(error_codes(&by_actor), vec!["FORBIDDEN"], "{by_actor}");

        // The customer sees its own people, not which staff member made the change, nor staff's
        // reason and request ids, and not the staff trail.
        let customer = token(&gateway, "customer", "acme-admin", None);
        let own = post(
            &gateway,
            &customer,
            &[],
            LICENSE,
            json!({"id": license["id"]}),
        )
        .await;
        let own_event = &own["data"]["license"]["auditEvents"][0];
        assert_eq!(
            own_event["actor"],
            json!({"subject": null, "email": null, "role": "support"})
        );
        assert_eq!(own_event["newContact"], event["newContact"]);
        assert_eq!(own_event["reason"], Value::Null);
        assert_eq!(own_event["requestId"], Value::Null);
        let trail = post(
            &gateway,
            &customer,
            &[],
            "{ auditEvents { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(error_codes(&trail), vec!["FORBIDDEN"], "{trail}");
    }
}

#[tokio::test]
async fn concurrent_changes_from_the_same_version_exactly_one_wins() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let version = license["version"].as_i64().unwrap();
        let caller = support(&gateway);
        let attempts = (0..8).map(|i| {
            let variables = input(
                &license,
                person(&format!("Racer {i}"), &format!("racer{i}@acmeinc.com")),
                "race",
            );
            let (gateway, caller) = (&gateway, &caller);
            async move { post(gateway, caller, &[], CHANGE, variables).await }
        });
        let answers = futures::future::join_all(attempts).await;
        let winners: Vec<&Value> = answers.iter().filter(|a| a["errors"].is_null()).collect();
        assert_eq!(winners.len(), 1, "{backend:?}: {answers:?}");
        for answer in answers.iter().filter(|a| !a["errors"].is_null()) {
            assert_eq!(error_codes(answer), vec!["CONFLICT"], "{answer}");
        }
        let (events, _, stored_version, contact_id) = stored(&gateway, &license["id"]).await;
        assert_eq!((events, stored_version), (1, version + 1));
        let winner = &winners[0]["data"]["changeLicenseContact"]["license"]["contact"]["id"];
        assert_eq!(winner.as_str().unwrap(), contact_id.to_string());
    }
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_change_and_share_its_result() {
    for backend in backends() {
        let gateway = seeded(backend).await;
        let license = acme_license(&gateway).await;
        let caller = support(&gateway);
        let variables = input(
            &license,
            person("Riley Roe", "riley@acmeinc.com"),
            "handover",
        );
        let retries = (0..4).map(|_| {
            let (gateway, caller, variables) = (&gateway, &caller, variables.clone());
            async move {
                post(
                    gateway,
                    caller,
                    &[("idempotency-key", "same-attempt")],
                    CHANGE,
                    variables,
                )
                .await
            }
        });
        let answers = futures::future::join_all(retries).await;
        let events: Vec<&Value> = answers
            .iter()
            .map(|a| &a["data"]["changeLicenseContact"]["auditEvent"]["id"])
            .collect();
        assert!(
            events.iter().all(|id| id.is_string() && *id == events[0]),
            "{backend:?}: {answers:?}"
        );
        let replayed = answers
            .iter()
            .filter(|a| a["data"]["changeLicenseContact"]["replayed"] == true)
            .count();
        assert_eq!(replayed, 3, "{answers:?}");
        assert_eq!(stored(&gateway, &license["id"]).await.0, 1, "one event");
    }
}
