//! Sign-in against strangers and careless providers (issue 27), end to end: the real gateway on
//! port 0, the real OpenID provider (`tests/oidc`), each session store (the license database on
//! SQLite and PostgreSQL, and Redis on 127.0.0.1:6379).
//!
//! - A flood of `/auth/login` from one address gets 429 after its burst and stores nothing,
//!   while a person at another address signs in through the provider meanwhile (with Redis,
//!   the flood's count is shared by a second replica).
//! - Requests racing a sign-out never bring the session back.
//! - A string `groups` claim is one group; an unverified e-mail is not the session's.
//! - The ID token sent at sign-out is refused as a bearer token; an API audience equal to the
//!   sign-in client stops the start; the store holds no ID token in clear.

use std::sync::atomic::{AtomicU16, Ordering};

use e2e_tests::agent::Agent;
use e2e_tests::oidc::OidcProvider;
use e2e_tests::{Backend, Gateway, backends};
use futures::StreamExt;
use gateway::sso::StoreKind;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIS: &str = "redis://127.0.0.1:6379/0";

/// Where sessions are kept in one run of a test.
#[derive(Clone, Copy, Debug)]
enum Store {
    Database(Backend),
    Redis,
}

/// The license database on each backend, then Redis (over a SQLite license database).
fn stores() -> Vec<Store> {
    let mut stores: Vec<Store> = backends().into_iter().map(Store::Database).collect();
    stores.push(Store::Redis);
    stores
}

impl Store {
    fn backend(self) -> Backend {
        match self {
            Store::Database(backend) => backend,
            Store::Redis => Backend::Sqlite,
        }
    }

    fn configure(self, config: &mut gateway::Config) {
        if let Store::Redis = self {
            config.sessions.store = StoreKind::Redis;
            config.sessions.redis_url = Some(REDIS.to_owned());
        }
    }
}

/// A client address of the documentation range no other run of this test uses (Redis keeps
/// counts between runs), IPv6 so that it is keyed by its /64.
fn fresh_address() -> String {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "2001:db8:{:x}:{:x}::7",
        nanos >> 16,
        (nanos & 0xffff) as u16 ^ NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn accounts() -> Value {
    json!({
        "sam.sales": {"email": "sam@corp.example", "groups": ["okta-sales"]},
        "marketing.admin": {"email": "mia@corp.example", "groups": "Marketing Admins"},
        "unverified.user": {"email": "ceo@corp.example", "email_verified": false,
                            "groups": ["okta-sales"]},
        "api.sales": {"email": "ada@corp.example", "groups": ["okta-sales", "sales"]},
    })
}

/// A gateway signing in with a fresh provider, adjusted by `configure`.
async fn with_provider(
    backend: Backend,
    configure: impl FnOnce(&mut gateway::Config, &OidcProvider),
) -> (Gateway, OidcProvider) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let gateway = Gateway::start_on(listener, backend, |config| {
        provider.configure(config, &url);
        configure(config, &provider);
    })
    .await;
    (gateway, provider)
}

/// Sends `count` `GET /auth/login` as the client `address` (behind the trusted proxy), eight
/// at a time; the status of each and the `Retry-After` of each 429.
async fn flood(gateway: &Gateway, address: &str, count: usize) -> Vec<(u16, Option<u64>)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = gateway.url("/auth/login");
    futures::stream::iter(0..count)
        .map(|_| {
            let request = client.get(&url).header("x-forwarded-for", address).send();
            async move {
                let response = request.await.unwrap();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                (response.status().as_u16(), retry_after)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

const BURST: u32 = 30;

#[tokio::test]
async fn a_flood_of_sign_ins_from_one_address_leaves_a_person_at_another_signing_in() {
    for store in stores() {
        let (gateway, _provider) = with_provider(store.backend(), |config, _| {
            store.configure(config);
            config.trusted_proxies = vec!["127.0.0.1".to_owned()];
            config.sessions.auth_per_address_per_minute = BURST;
        })
        .await;
        let stranger = fresh_address();
        let person = Agent::from_address(&fresh_address());

        // The flood runs while the person signs in through the provider.
        let flooding = flood(&gateway, &stranger, 600);
        let signing_in = async {
            person.sign_in(&gateway, "sam.sales").await;
            person
                .query(&gateway, "{ customers(first: 1) { totalCount } }")
                .await
        };
        let (answers, signed_in) = tokio::join!(flooding, signing_in);
        assert!(
            signed_in["data"]["customers"]["totalCount"].is_number(),
            "{store:?}: {signed_in}"
        );

        let started = answers.iter().filter(|(status, _)| *status == 303).count();
        let limited: Vec<u64> = answers
            .iter()
            .filter(|(status, _)| *status == 429)
            .map(|(_, retry_after)| retry_after.expect("a 429 says when to retry"))
            .collect();
        // The burst, plus one more every 2 s while the flood lasts (a few seconds).
        assert!(
            (BURST as usize..BURST as usize + 10).contains(&started),
            "{store:?}: {started} sign-ins started"
        );
        assert_eq!(started + limited.len(), 600, "{store:?}: {answers:?}");
        assert!(
            limited.iter().all(|secs| (1..=60).contains(secs)),
            "{limited:?}"
        );

        // The refusal is coded, and so is the browser's page.
        let refused = reqwest::Client::new()
            .get(gateway.url("/auth/login"))
            .header("x-forwarded-for", &stranger)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 429);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");

        // Nothing the flood sent was stored: the one session is the person's.
        if let Store::Database(_) = store {
            let rows = gateway
                .state
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    gateway.state.db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM sessions",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            assert_eq!(rows, 1, "{store:?}");
        }
    }
}

/// With Redis, every replica counts an address's requests together.
#[tokio::test]
async fn replicas_sharing_redis_share_the_count_of_an_address() {
    let (first, _provider) = with_provider(Backend::Sqlite, |config, _| {
        Store::Redis.configure(config);
        config.trusted_proxies = vec!["127.0.0.1".to_owned()];
        config.sessions.auth_per_address_per_minute = BURST;
    })
    .await;
    let second = Gateway::start_with(Backend::Sqlite, |config| {
        Store::Redis.configure(config);
        config.trusted_proxies = vec!["127.0.0.1".to_owned()];
        config.sessions.auth_per_address_per_minute = BURST;
    })
    .await;
    let stranger = fresh_address();
    let answers = flood(&first, &stranger, 100).await;
    assert!(answers.iter().any(|(status, _)| *status == 429));
    // The second replica refuses the same address at once, and answers another.
    let ask = |address: String| {
        let url = second.url("/auth/session");
        async move {
            reqwest::Client::new()
                .get(url)
                .header("x-forwarded-for", address)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ask(stranger).await, 429);
    assert_eq!(ask(fresh_address()).await, 200);
}

/// A session's cookie, opened through a one-time sign-in link.
async fn session_cookie(gateway: &Gateway) -> String {
    let viewer = auth::Viewer {
        subject: "racer".to_owned(),
        email: None,
        role: auth::Role::Sales,
        roles: vec![auth::Role::Sales],
        customer_ids: Vec::new(),
    };
    let link = gateway.state.sso.sign_in_link(&viewer).await.unwrap();
    let opened = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(gateway.url(&link))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Moves every listed session's idle end two minutes back, as if it had been idle: its next
/// use writes the idle end back (that write is what used to resurrect a signed-out session).
async fn age(gateway: &Gateway, store: Store, cookies: &[String]) {
    match store {
        Store::Database(_) => {
            gateway
                .state
                .db
                .execute_unprepared(
                    "UPDATE sessions SET idle_expires_at = idle_expires_at - 120 \
                     WHERE kind = 'session'",
                )
                .await
                .unwrap();
        }
        Store::Redis => {
            let client = redis::Client::open(REDIS).unwrap();
            let mut redis = client.get_multiplexed_async_connection().await.unwrap();
            for cookie in cookies {
                let key = redis_key(cookie);
                let text: String = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                let mut record: Value = serde_json::from_str(&text).unwrap();
                record["idle_expires_at"] =
                    json!(record["idle_expires_at"].as_i64().unwrap() - 120);
                let () = redis::cmd("SET")
                    .arg(&key)
                    .arg(record.to_string())
                    .arg("KEEPTTL")
                    .query_async(&mut redis)
                    .await
                    .unwrap();
            }
        }
    }
}

/// The Redis key of the session a `licensedot_session=<secret>` cookie names.
fn redis_key(cookie: &str) -> String {
    let secret = cookie.split_once('=').unwrap().1;
    format!("licensedot:session:{:x}", Sha256::digest(secret.as_bytes()))
}

/// Whether the store still holds the session of `cookie`.
async fn stored(gateway: &Gateway, store: Store, cookie: &str) -> bool {
    match store {
        Store::Database(_) => {
            let secret = cookie.split_once('=').unwrap().1;
            let key = format!("{:x}", Sha256::digest(secret.as_bytes()));
            gateway
                .state
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    gateway.state.db.get_database_backend(),
                    format!("SELECT key_hash FROM sessions WHERE key_hash = '{key}'"),
                ))
                .await
                .unwrap()
                .is_some()
        }
        Store::Redis => {
            let client = redis::Client::open(REDIS).unwrap();
            let mut redis = client.get_multiplexed_async_connection().await.unwrap();
            redis::cmd("EXISTS")
                .arg(redis_key(cookie))
                .query_async::<bool>(&mut redis)
                .await
                .unwrap()
        }
    }
}

#[tokio::test]
async fn requests_racing_a_sign_out_never_bring_the_session_back() {
    const SESSIONS: usize = 20;
    const REQUESTS: usize = 8;
    for store in stores() {
        let gateway = Gateway::start_with(store.backend(), |config| {
            store.configure(config);
            config.sessions.auth_per_address_per_minute = 0;
        })
        .await;
        let mut cookies = Vec::new();
        for _ in 0..SESSIONS {
            cookies.push(session_cookie(&gateway).await);
        }
        age(&gateway, store, &cookies).await;

        // Each session: requests that push its idle end, and its sign-out, all at once.
        let gateway = &gateway;
        let races = cookies.iter().map(|cookie| {
            let requests = (0..REQUESTS).map(move |_| {
                gateway
                    .client()
                    .post(gateway.url("/graphql"))
                    .header("cookie", cookie)
                    .json(&json!({"query": "{ __typename }"}))
                    .send()
            });
            let sign_out = gateway
                .client()
                .post(gateway.url("/auth/logout"))
                .header("cookie", cookie)
                .json(&json!({}))
                .send();
            async move {
                let (answers, signed_out) =
                    tokio::join!(futures::future::join_all(requests), sign_out);
                for answer in answers {
                    let status = answer.unwrap().status().as_u16();
                    assert!(status == 200 || status == 401, "{status}");
                }
                let signed_out: Value = signed_out.unwrap().json().await.unwrap();
                assert_eq!(signed_out["signedOut"], true);
            }
        });
        futures::future::join_all(races).await;

        // Every signed-out cookie stays dead, in the store and at the door.
        let mut alive = Vec::new();
        for cookie in &cookies {
            let answer = gateway
                .client()
                .post(gateway.url("/graphql"))
                .header("cookie", cookie)
                .json(&json!({"query": "{ __typename }"}))
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap();
            if status != 401 || body["errors"][0]["extensions"]["code"] != "SESSION_ENDED" {
                alive.push(cookie.clone());
            } else if stored(gateway, store, cookie).await {
                alive.push(format!("{cookie} (still stored)"));
            }
        }
        assert!(
            alive.is_empty(),
            "{store:?}: {} of {SESSIONS} signed-out sessions came back: {alive:?}",
            alive.len()
        );
    }
}

#[tokio::test]
async fn a_single_string_groups_claim_is_one_group() {
    let mapping = |config: &mut gateway::Config| {
        config
            .sso
            .role_mapping
            .insert("admins".to_owned(), "admin".to_owned());
    };
    // "Marketing Admins" is not the group "admins": no access.
    let (gateway, _provider) = with_provider(Backend::Sqlite, |config, _| mapping(config)).await;
    let agent = Agent::new();
    let answer = agent.sign_in_at_provider(&gateway, "marketing.admin").await;
    let refused = agent.get(&answer).await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("You have no access to licensedot")
    );

    // A provider that sends space-separated lists, configured as such: two groups.
    let (gateway, _provider) = with_provider(Backend::Sqlite, |config, _| {
        mapping(config);
        config.sso.groups_space_separated = true;
    })
    .await;
    let agent = Agent::new();
    agent.sign_in(&gateway, "marketing.admin").await;
    let session: Value = agent
        .get(&gateway.url("/auth/session"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["role"], "admin", "{session}");
}

#[tokio::test]
async fn an_unverified_email_is_not_the_sessions() {
    let (gateway, _provider) = with_provider(Backend::Sqlite, |_, _| {}).await;
    let agent = Agent::new();
    agent.sign_in(&gateway, "unverified.user").await;
    let session: Value = agent
        .get(&gateway.url("/auth/session"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["signedIn"], true, "{session}");
    assert_eq!(session["subject"], "unverified.user");
    assert_eq!(session["email"], Value::Null, "{session}");
}

/// `[gateway.auth]` trusting the same provider, its groups as roles (`sales` is one of them).
fn trust_the_provider(config: &mut gateway::Config, provider: &OidcProvider) {
    config.auth.jwks_url = Some(format!("{}/jwks", provider.issuer));
    config.auth.issuer = Some(provider.issuer.clone());
    config.auth.roles_claim = "groups".to_owned();
    config.auth.algorithms = vec!["HS256".to_owned(), "RS256".to_owned()];
}

#[tokio::test]
async fn an_api_audience_equal_to_the_sign_in_client_stops_the_start() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let db = e2e_tests::TestDb::fresh(Backend::Sqlite, "gateway").await;
    let mut config = gateway::Config {
        database_url: db.url.clone(),
        ..gateway::Config::default()
    };
    provider.configure(&mut config, &url);
    trust_the_provider(&mut config, &provider);
    config.auth.audience = Some(e2e_tests::oidc::CLIENT_ID.to_owned());
    let error = gateway::AppState::start(config)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("sign-in client id"), "{error}");
}

#[tokio::test]
async fn the_id_token_of_a_sign_out_is_no_bearer_token_and_is_never_stored_in_clear() {
    for store in stores() {
        let (gateway, _provider) = with_provider(store.backend(), |config, provider| {
            store.configure(config);
            trust_the_provider(config, provider);
            config.sessions.auth_per_address_per_minute = 0;
        })
        .await;
        let agent = Agent::new();
        agent.sign_in(&gateway, "api.sales").await;
        let cookie = format!(
            "licensedot_session={}",
            agent.cookie(&gateway, "licensedot_session").unwrap()
        );
        // What the store holds: no ID token anyone could read (JWTs start with `eyJ`).
        let held = match store {
            Store::Database(_) => gateway
                .state
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    gateway.state.db.get_database_backend(),
                    "SELECT data FROM sessions WHERE kind = 'session'",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<String>("", "data")
                .unwrap(),
            Store::Redis => {
                let client = redis::Client::open(REDIS).unwrap();
                let mut redis = client.get_multiplexed_async_connection().await.unwrap();
                redis::cmd("GET")
                    .arg(redis_key(&cookie))
                    .query_async::<String>(&mut redis)
                    .await
                    .unwrap()
            }
        };
        assert!(held.contains("sealed_id_token"), "{held}");
        assert!(
            !held.contains("eyJ"),
            "{store:?}: an ID token in clear: {held}"
        );

        // Sign-out still hands the provider its ID token (opened with the browser's secret).
        let signed_out = agent.sign_out(&gateway).await;
        let logout = reqwest::Url::parse(signed_out["providerLogout"].as_str().unwrap()).unwrap();
        let id_token = logout
            .query_pairs()
            .find(|(k, _)| k == "id_token_hint")
            .expect("an id_token_hint")
            .1
            .into_owned();
        // That token, as a bearer token on the API: refused, not read as `sales`.
        let answer = gateway
            .post_graphql(
                Some(&format!("Bearer {id_token}")),
                &json!({"query": "{ customers(first: 1) { totalCount } }"}),
            )
            .await;
        assert_eq!(answer.status(), 401, "{store:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "TOKEN_NOT_AN_ACCESS_TOKEN",
            "{body}"
        );
    }
}
