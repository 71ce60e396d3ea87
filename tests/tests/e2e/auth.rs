//! Authentication and authorisation end to end: a real gateway on port 0, real tokens, on
//! SQLite and (with TEST_DATABASE_URL) PostgreSQL.
//!
//! The RSA and EC keys are the auth crate's TEST-ONLY fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use e2e_tests::{Backend, Gateway, TEST_JWT_SECRET, backends};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const RSA_PRIVATE: &[u8] = include_bytes!("../../../crates/auth/tests/fixtures/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../../crates/auth/tests/fixtures/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../../../crates/auth/tests/fixtures/ec_private.pem");
const ISSUER: &str = "https://sso.licensedot.test";
const AUDIENCE: &str = "licensedot";
/// Acme Inc is the first customer of the seeded data (the demo story).
const ACME: i64 = 1;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()
}

fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_PRIVATE).unwrap()
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A JWKS file with the RSA key as `rsa-1` and the EC key as `ec-1`.
fn jwks_file() -> tempfile::TempPath {
    let jwk = |key: &EncodingKey, alg, kid: &str| {
        let mut jwk = Jwk::from_encoding_key(key, alg).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        jwk
    };
    let set = JwkSet {
        keys: vec![
            jwk(&rsa_key(), Algorithm::RS256, "rsa-1"),
            jwk(&ec_key(), Algorithm::ES256, "ec-1"),
        ],
    };
    test_support::scratch_file("jwks", &serde_json::to_string(&set).unwrap())
}

/// A gateway that takes HS256 tokens and RS256/ES256 tokens of our test issuer.
async fn sso_gateway(backend: Backend) -> Gateway {
    let jwks = jwks_file();
    let path = jwks.to_path_buf();
    Gateway::start_with(backend, move |config| {
        config.auth.jwks_file = Some(path);
        config.auth.issuer = Some(ISSUER.to_owned());
        config.auth.audience = Some(AUDIENCE.to_owned());
        config.auth.leeway_secs = 5;
    })
    .await
    .holding(jwks)
}

async fn seeded_gateway(backend: Backend) -> Gateway {
    let gateway = Gateway::start(backend).await;
    let options = seed::SeedOptions {
        customers: 20,
        seed: 7,
        today: Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();
    gateway
}

/// Claims that pass every check of `sso_gateway`.
fn good_claims() -> Value {
    json!({"sub": "jane", "roles": ["support"], "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 3600})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

const TYPENAME: &str = "{ __typename }";

#[tokio::test]
async fn hostile_tokens_are_refused_with_401_and_a_challenge() {
    let hs = |claims: &Value| {
        sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
            None,
            claims,
        )
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing", None, "UNAUTHENTICATED"),
        (
            "not a bearer header",
            Some("Basic dXNlcjpwYXNz".into()),
            "TOKEN_MALFORMED",
        ),
        (
            "malformed",
            Some("Bearer not-a-jwt".into()),
            "TOKEN_MALFORMED",
        ),
        (
            "garbage parts",
            Some("Bearer aaa.bbb.ccc".into()),
            "TOKEN_MALFORMED",
        ),
        (
            "bad signature",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
                    None,
                    &good_claims()
                )
            )),
            "TOKEN_BAD_SIGNATURE",
        ),
        (
            "alg none",
            Some(format!(
                "Bearer {}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&with(good_claims(), "roles", json!(["admin"])))
            )),
            "TOKEN_ALGORITHM_NOT_ALLOWED",
        ),
        (
            "HS256 signed with the RSA public key",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(RSA_PUBLIC),
                    Some("rsa-1"),
                    &good_claims()
                )
            )),
            "TOKEN_BAD_SIGNATURE",
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::RS256,
                    &rsa_key(),
                    Some("rsa-1"),
                    &with(good_claims(), "exp", json!(now() - 3600))
                )
            )),
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::RS256,
                    &rsa_key(),
                    Some("rsa-1"),
                    &with(good_claims(), "nbf", json!(now() + 3600))
                )
            )),
            "TOKEN_NOT_YET_VALID",
        ),
        (
            "wrong issuer",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::RS256,
                    &rsa_key(),
                    Some("rsa-1"),
                    &with(good_claims(), "iss", json!("https://evil.test"))
                )
            )),
            "TOKEN_WRONG_ISSUER",
        ),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::ES256,
                    &ec_key(),
                    Some("ec-1"),
                    &with(good_claims(), "aud", json!("another-app"))
                )
            )),
            "TOKEN_WRONG_AUDIENCE",
        ),
        (
            "unknown kid",
            Some(format!(
                "Bearer {}",
                sign(
                    Algorithm::RS256,
                    &rsa_key(),
                    Some("rotated-away"),
                    &good_claims()
                )
            )),
            "TOKEN_UNKNOWN_KEY",
        ),
        (
            "HS256 expired",
            Some(format!(
                "Bearer {}",
                hs(&with(good_claims(), "exp", json!(now() - 3600)))
            )),
            "TOKEN_EXPIRED",
        ),
    ];
    for backend in backends() {
        let gateway = sso_gateway(backend).await;
        for (name, authorization, code) in &cases {
            let response = gateway
                .post_graphql(authorization.as_deref(), &json!({"query": TYPENAME}))
                .await;
            assert_eq!(response.status(), 401, "{backend:?} {name}");
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                challenge.starts_with("Bearer realm=\"licensedot\""),
                "{name}: {challenge}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"], *code,
                "{backend:?} {name}: {body}"
            );
            assert!(body.get("data").is_none(), "{name}: {body}");
            if *code == "TOKEN_EXPIRED" {
                assert!(
                    body["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("expired"),
                    "{body}"
                );
                assert!(challenge.contains("expired"), "{challenge}");
            }
            // The same over GET.
            let mut get = gateway
                .client()
                .get(gateway.url("/graphql"))
                .query(&[("query", TYPENAME)])
                .header("accept", "application/json");
            if let Some(authorization) = authorization {
                get = get.header("authorization", authorization);
            }
            let response = get.send().await.unwrap();
            assert_eq!(response.status(), 401, "{backend:?} GET {name}");
            assert!(
                response.headers().contains_key("www-authenticate"),
                "GET {name}"
            );
        }

        // The genuine articles pass: RS256, ES256 and HS256.
        for token in [
            sign(Algorithm::RS256, &rsa_key(), Some("rsa-1"), &good_claims()),
            sign(Algorithm::ES256, &ec_key(), Some("ec-1"), &good_claims()),
            hs(&good_claims()),
        ] {
            let body = gateway.query_as(&token, TYPENAME, json!({})).await;
            assert_eq!(body["data"]["__typename"], "Query", "{body}");
        }

        // A genuine token without a licensedot role: authenticated, not authorised.
        let token = sign(
            Algorithm::RS256,
            &rsa_key(),
            Some("rsa-1"),
            &with(good_claims(), "roles", json!(["billing"])),
        );
        let response = gateway
            .post_graphql(
                Some(&format!("Bearer {token}")),
                &json!({"query": TYPENAME}),
            )
            .await;
        assert_eq!(response.status(), 403);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("insufficient_scope")
        );
    }
}

#[tokio::test]
async fn explorer_and_operations_endpoints_stay_open() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let explorer = gateway
            .client()
            .get(gateway.url("/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(explorer.status(), 200, "{backend:?} explorer");
        assert!(
            explorer
                .text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("<html")
        );
        for path in ["/health", "/ready"] {
            let response = gateway
                .client()
                .get(gateway.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{backend:?} {path}");
        }
        for path in ["/", "/metrics"] {
            let response = gateway
                .client()
                .get(gateway.url(path))
                .send()
                .await
                .unwrap();
            assert_ne!(response.status(), 401, "{backend:?} {path}");
        }
    }
}

const INTROSPECTION: &str = "{ __schema { queryType { name } } }";

#[tokio::test]
async fn introspection_needs_a_token_unless_configured_otherwise() {
    for backend in backends() {
        let gateway = Gateway::start(backend).await;
        let response = gateway
            .post_graphql(None, &json!({"query": INTROSPECTION}))
            .await;
        assert_eq!(response.status(), 401, "{backend:?}");
        let token = gateway.token(&["viewer"], &[]);
        let body = gateway.query_as(&token, INTROSPECTION, json!({})).await;
        assert_eq!(
            body["data"]["__schema"]["queryType"]["name"], "Query",
            "{body}"
        );

        // Published schema: introspection alone passes without a token, nothing else does.
        let open = Gateway::start_with(backend, |config| {
            config.auth.introspection_requires_token = false
        })
        .await;
        let response = open
            .post_graphql(None, &json!({"query": INTROSPECTION}))
            .await;
        assert_eq!(response.status(), 200, "{backend:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["data"]["__schema"]["queryType"]["name"], "Query",
            "{body}"
        );
        for query in [
            "{ __schema { queryType { name } } customers { totalCount } }",
            "{ customers { totalCount } }",
            "{ ...F } fragment F on Query { customers { totalCount } }",
        ] {
            let response = open.post_graphql(None, &json!({"query": query})).await;
            assert_eq!(response.status(), 401, "{backend:?} {query}");
        }

        // Optional auth: the anonymous caller reads masked data but not the schema.
        let optional = Gateway::start_with(backend, |config| config.auth.required = false).await;
        let response = optional
            .post_graphql(None, &json!({"query": INTROSPECTION}))
            .await;
        assert_eq!(response.status(), 401, "{backend:?}");
        let response = optional
            .post_graphql(None, &json!({"query": "{ customers { totalCount } }"}))
            .await;
        assert_eq!(response.status(), 200, "{backend:?}");
    }
}

/// Another customer's objects, as an admin sees them.
struct Other {
    customer_id: String,
    customer_name: String,
    license_ids: Vec<String>,
    hostnames: Vec<String>,
    contact_email: String,
    cursor: String,
}

async fn another_customer(gateway: &Gateway) -> Other {
    let body = gateway
        .query(
            r#"{ customers(first: 100) { edges { cursor node { id name contacts { email } licenses { id hostnames { name } } } } } }"#,
            json!({}),
        )
        .await;
    let edges = body["data"]["customers"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let edge = edges
        .iter()
        .find(|e| {
            let node = &e["node"];
            node["id"].as_str() != Some(ACME.to_string().as_str())
                && !node["contacts"].as_array().unwrap().is_empty()
                && node["licenses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| !l["hostnames"].as_array().unwrap().is_empty())
        })
        .unwrap_or_else(|| panic!("no other customer with contacts and hostnames in {body}"));
    let node = &edge["node"];
    let licenses = node["licenses"].as_array().unwrap();
    Other {
        customer_id: node["id"].as_str().unwrap().to_owned(),
        customer_name: node["name"].as_str().unwrap().to_owned(),
        license_ids: licenses
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect(),
        hostnames: licenses
            .iter()
            .flat_map(|l| {
                l["hostnames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["name"].as_str().unwrap().to_owned())
            })
            .collect(),
        contact_email: node["contacts"][0]["email"].as_str().unwrap().to_owned(),
        cursor: edge["cursor"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn a_customer_token_sees_nothing_of_another_customer_at_any_entry_point() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        let other = another_customer(&gateway).await;
        let acme_licenses = gateway
            .query(
                &format!(r#"{{ customer(id: {ACME}) {{ name licenses {{ id }} }} }}"#),
                json!({}),
            )
            .await;
        assert_eq!(
            acme_licenses["data"]["customer"]["name"], "Acme Inc",
            "{acme_licenses}"
        );
        let acme_license_count = acme_licenses["data"]["customer"]["licenses"]
            .as_array()
            .unwrap()
            .len();
        let token = gateway.token(&["customer"], &[ACME]);
        let ask = |query: String| {
            let token = token.clone();
            let gateway = &gateway;
            async move { gateway.query_as(&token, &query, json!({})).await }
        };
        let mut bodies = Vec::new();

        // Its own customer is there.
        let own = ask(format!(r#"{{ customer(id: {ACME}) {{ name }} hostname(name: "gitlab.acmeinc.com") {{ name }} }}"#)).await;
        assert_eq!(
            own["data"]["customer"]["name"], "Acme Inc",
            "{backend:?} {own}"
        );
        assert_eq!(
            own["data"]["hostname"]["name"], "gitlab.acmeinc.com",
            "{backend:?} {own}"
        );

        // By id, by name.
        let body = ask(format!(
            r#"{{ customer(id: {}) {{ id name }} }}"#,
            other.customer_id
        ))
        .await;
        assert_eq!(body["data"]["customer"], Value::Null, "{backend:?} {body}");
        assert!(body.get("errors").is_none(), "{body}");
        bodies.push(body);
        for id in &other.license_ids {
            let body = ask(format!(r#"{{ license(id: {id}) {{ id }} }}"#)).await;
            assert_eq!(body["data"]["license"], Value::Null, "{backend:?} {body}");
            assert!(body.get("errors").is_none(), "{body}");
            bodies.push(body);
        }
        for name in &other.hostnames {
            let body = ask(format!(
                r#"{{ hostname(name: "{name}") {{ name licenses {{ id }} }} }}"#
            ))
            .await;
            assert_eq!(body["data"]["hostname"], Value::Null, "{backend:?} {body}");
            bodies.push(body);
        }

        // Search and counts.
        for search in [other.customer_name.as_str(), other.contact_email.as_str()] {
            let body = ask(format!(
                r#"{{ customers(search: {search:?}) {{ totalCount nodes {{ id }} }} licenses(search: {search:?}) {{ totalCount nodes {{ id }} }} }}"#
            ))
            .await;
            assert_eq!(
                body["data"]["customers"]["totalCount"], 0,
                "{backend:?} {body}"
            );
            assert_eq!(
                body["data"]["licenses"]["totalCount"], 0,
                "{backend:?} {body}"
            );
            bodies.push(body);
        }
        let body = ask(
            "{ customers(first: 100) { totalCount nodes { id } } licenses(first: 100) { totalCount nodes { customer { id } } } }".into(),
        )
        .await;
        assert_eq!(
            body["data"]["customers"]["totalCount"], 1,
            "{backend:?} {body}"
        );
        assert_eq!(
            body["data"]["customers"]["nodes"],
            json!([{"id": ACME.to_string()}]),
            "{body}"
        );
        assert_eq!(
            body["data"]["licenses"]["totalCount"], acme_license_count,
            "{backend:?} {body}"
        );
        for node in body["data"]["licenses"]["nodes"].as_array().unwrap() {
            assert_eq!(node["customer"]["id"], ACME.to_string(), "{body}");
        }
        bodies.push(body);

        // Cursors: paging one by one, and a cursor of another customer taken from an admin.
        let mut after: Option<String> = None;
        let mut seen = 0;
        loop {
            let body = gateway
                .query_as(
                    &token,
                    "query($after: String) { licenses(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { customer { id } } } }",
                    json!({"after": after}),
                )
                .await;
            let connection = &body["data"]["licenses"];
            for node in connection["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
            {
                assert_eq!(node["customer"]["id"], ACME.to_string(), "{body}");
                seen += 1;
            }
            if connection["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = connection["pageInfo"]["endCursor"]
                .as_str()
                .map(str::to_owned);
            assert!(
                seen <= acme_license_count,
                "paged past Acme's licenses: {body}"
            );
        }
        assert_eq!(seen, acme_license_count);
        let body = gateway
            .query_as(
                &token,
                "query($after: String) { customers(first: 100, after: $after) { nodes { id } } }",
                json!({"after": other.cursor}),
            )
            .await;
        for node in body["data"]["customers"]["nodes"]
            .as_array()
            .unwrap_or(&Vec::new())
        {
            assert_eq!(node["id"], ACME.to_string(), "{body}");
        }
        bodies.push(body);

        // Federation entities.
        let mut representations = vec![json!({"__typename": "Customer", "id": other.customer_id})];
        representations.extend(
            other
                .license_ids
                .iter()
                .map(|id| json!({"__typename": "License", "id": id})),
        );
        representations.extend(
            other
                .hostnames
                .iter()
                .map(|name| json!({"__typename": "Hostname", "name": name})),
        );
        let body = gateway
            .query_as(
                &token,
                "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Customer { id name } ... on License { id } ... on Hostname { name } } }",
                json!({"r": representations}),
            )
            .await;
        let entities = body["data"]["_entities"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(entities.len(), representations.len(), "{body}");
        assert!(entities.iter().all(Value::is_null), "{backend:?} {body}");
        bodies.push(body);

        // Nothing in any answer names the other customer or its people.
        for body in &bodies {
            let text = body.to_string();
            assert!(
                !text.contains(&other.customer_name),
                "{backend:?} leaked the name: {text}"
            );
            assert!(
                !text.contains(&other.contact_email),
                "{backend:?} leaked an e-mail: {text}"
            );
        }

        // A customer token without customer ids sees nothing at all.
        let empty = gateway.token(&["customer"], &[]);
        let body = gateway
            .query_as(
                &empty,
                "{ customers { totalCount } licenses { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["customers"]["totalCount"], 0, "{body}");
        assert_eq!(body["data"]["licenses"]["totalCount"], 0, "{body}");
    }
}

/// Every place a person's name or e-mail appears, in queries small enough for the gateway's
/// complexity limit.
const BROAD: &[&str] = &[
    r#"{ customers(first: 30) { nodes { id name contacts { id name email licenses { licensee { name email company } } } } } }"#,
    r#"{ customers(first: 30) { nodes { licenses { licensee { name email } contact { name email } } activeLicense { licensee { name email } contact { name email } } } } }"#,
    r#"query($after: String) { licenses(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { licensee { name email } contact { name email customer { contacts { name email } } } } } }"#,
    r#"{ hostname(name: "gitlab.acmeinc.com") { licenses { licensee { name email } contact { name email } } } }"#,
];

/// The bodies of the broad queries as the holder of `token`, every license page included.
async fn broad_bodies(gateway: &Gateway, token: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    for query in BROAD {
        let mut after: Option<String> = None;
        loop {
            let body = gateway
                .query_as(token, query, json!({"after": after}))
                .await;
            let page = &body["data"]["licenses"]["pageInfo"];
            let next = (page["hasNextPage"] == true)
                .then(|| page["endCursor"].as_str().unwrap().to_owned());
            bodies.push(body);
            match next {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
    }
    bodies
}

#[tokio::test]
async fn a_viewer_never_receives_an_unmasked_email() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        let mut emails: Vec<String> = entity::contact::Entity::find()
            .all(&gateway.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.email)
            .collect();
        emails.extend(
            entity::license::Entity::find()
                .all(&gateway.state.db)
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.licensee_email),
        );
        emails.sort();
        emails.dedup();
        let acme_email = emails
            .iter()
            .find(|e| e.ends_with("@acmeinc.com"))
            .expect("the demo story has Acme's contact")
            .clone();

        let staff = broad_bodies(&gateway, &gateway.token(&["sales"], &[])).await;
        assert!(staff.iter().all(|b| b.get("errors").is_none()), "{staff:?}");
        assert!(
            staff.iter().any(|b| b.to_string().contains(&acme_email)),
            "staff see e-mails"
        );

        let token = gateway.token(&["viewer"], &[]);
        let mut bodies = broad_bodies(&gateway, &token).await;
        let representations: Vec<Value> = (1..=40)
            .map(|id| json!({"__typename": "License", "id": id.to_string()}))
            .collect();
        bodies.push(
            gateway
                .query_as(
                    &token,
                    "query($r: [_Any!]!) { _entities(representations: $r) { ... on License { licensee { name email } contact { name email } } } }",
                    json!({"r": representations}),
                )
                .await,
        );
        for body in &bodies {
            assert!(body.get("errors").is_none(), "{backend:?} {body}");
            let text = body.to_string();
            assert!(
                text.contains("***"),
                "{backend:?} masked data is there: {text}"
            );
            for email in &emails {
                assert!(
                    !text.contains(email.as_str()),
                    "{backend:?}: a viewer received {email}"
                );
            }
        }
        // The same broad query as a customer shows its own contacts unmasked.
        let customer = gateway.token(&["customer"], &[ACME]);
        let bodies = broad_bodies(&gateway, &customer).await;
        assert!(
            bodies.iter().any(|b| b.to_string().contains(&acme_email)),
            "{bodies:?}"
        );
    }
}
