//! Sign-in with the company's identity provider, end to end: a real OpenID provider (panva's
//! `oidc-provider`, pinned in `tests/oidc/package-lock.json`, run by Node) and the real gateway
//! on port 0 over real databases.
//!
//! - In headless Chromium (needs `chromium` and `chromedriver`, see `e2e_tests::browser`): click
//!   "Sign in", fill the provider's login form, land on the dashboard, find Acme, sign out (at
//!   the gateway and at the provider), and check the old session cookie no longer works.
//! - Over HTTP, on SQLite and PostgreSQL: each way a sign-in must be refused, with its page.
//!   The provider is real throughout; what a correct provider never produces is made by
//!   altering what the test controls: the `state` in the URL, a code sent twice, the nonce
//!   kept server-side (so the provider's genuine ID token no longer matches it), and an ID
//!   token signed with the provider's own key (the test gives the provider its signing key) that
//!   has expired.

use std::path::Path;

use e2e_tests::agent::Agent;
use e2e_tests::browser::{Browser, find, save_screenshot};
use e2e_tests::oidc::OidcProvider;
use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway, backends};
use serde_json::{Value, json};

/// The provider's people: a salesperson, a partner of Acme Inc (customer 1), and someone in
/// no group licensedot knows.
fn accounts() -> Value {
    json!({
        "sam.sales": {"email": "sam@corp.example", "groups": ["Everyone", "okta-sales"]},
        "pat.partner": {"email": "pat@acmeinc.example", "groups": ["acme-partners"]},
        "mallory": {"email": "mallory@corp.example", "groups": ["marketing"]},
    })
}

/// A gateway configured to sign in with a fresh provider, seeded with the demo story.
async fn gateway_with_provider(backend: Backend) -> (Gateway, OidcProvider) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let gateway =
        Gateway::start_on(listener, backend, |config| provider.configure(config, &url)).await;
    seed_demo(&gateway, None).await;
    (gateway, provider)
}

async fn seed_demo(gateway: &Gateway, version: Option<&VersionService>) {
    let options = seed::SeedOptions {
        customers: 10,
        seed: 7,
        today: chrono::Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, version.map(|v| &v.state.db), &options)
        .await
        .unwrap();
}

// ---- The browser ------------------------------------------------------------------------------

#[tokio::test]
async fn a_person_signs_in_with_the_company_account_finds_acme_and_signs_out() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let version = VersionService::start(Backend::Sqlite, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let version_url = version.graphql_url();
    let gateway = Gateway::start_on(listener, Backend::Sqlite, |config| {
        provider.configure(config, &url);
        config.version_service.url = version_url;
    })
    .await;
    seed_demo(&gateway, Some(&version)).await;
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR"));

    // The dashboard offers the company sign-in; the provider's own form asks who we are.
    client.goto(&gateway.url("/")).await.unwrap();
    find(client, "#sso-sign-in:not([hidden])")
        .await
        .click()
        .await
        .unwrap();
    find(client, "input[name='login']")
        .await
        .send_keys("sam.sales")
        .await
        .unwrap();
    find(client, "input[name='password']")
        .await
        .send_keys("any password")
        .await
        .unwrap();
    save_screenshot(client, screenshots, "sso-provider-login").await;
    find(client, "button[type='submit']")
        .await
        .click()
        .await
        .unwrap();

    // Back on the dashboard, signed in as sales.
    let who = find(client, "#signed-in-as:not([hidden])")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        who.contains("sam@corp.example") && who.contains("sales"),
        "{who}"
    );
    let stored = client
        .execute("return sessionStorage.length;", vec![])
        .await
        .unwrap();
    assert_eq!(
        stored,
        json!(0),
        "no token in the page: the session is an HttpOnly cookie"
    );
    let cookie = client
        .get_named_cookie("licensedot_session")
        .await
        .expect("the session cookie is set");
    assert_eq!(cookie.http_only(), Some(true));
    let session = format!("licensedot_session={}", cookie.value());

    // Acme, found and opened with the session alone: a sales person sees e-mails unmasked.
    find(client, "#search")
        .await
        .send_keys("Acme")
        .await
        .unwrap();
    find(client, "a.result[data-customer-id='1']")
        .await
        .click()
        .await
        .unwrap();
    let loaded = find(client, "#customer-view[data-loaded]")
        .await
        .attr("data-loaded")
        .await
        .unwrap()
        .unwrap();
    let shot = save_screenshot(client, screenshots, "sso-customer-view").await;
    assert_eq!(loaded, "complete", "see {}", shot.display());
    assert_eq!(
        find(client, "#customer-name").await.text().await.unwrap(),
        "Acme Inc"
    );
    let view = find(client, "#customer-view").await.text().await.unwrap();
    assert!(
        view.contains('@') && !view.contains("***"),
        "unmasked: {view}"
    );

    // Sign out: the gateway ends the session, the provider asks to end its own, and the
    // browser comes back to the dashboard signed out.
    find(client, "#sign-out").await.click().await.unwrap();
    find(client, "button[name='logout'][value='yes']")
        .await
        .click()
        .await
        .unwrap();
    find(client, "#sso-sign-in:not([hidden])").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&url)
    );
    save_screenshot(client, screenshots, "sso-signed-out").await;

    // The old cookie signs nobody in any more.
    let refused = gateway
        .client()
        .post(gateway.url("/graphql"))
        .header("cookie", &session)
        .json(&json!({"query": "{ customers(first: 1) { totalCount } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "SESSION_ENDED");

    // Signing in again goes through the provider's form again (its session ended too).
    client.goto(&gateway.url("/auth/login")).await.unwrap();
    find(client, "input[name='login']").await;

    browser.close().await;
}

// ---- Over HTTP --------------------------------------------------------------------------------

/// A refusal page's status and reason.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"sign-in-refused\""),
        "not a refusal page: {html}"
    );
    (status, html)
}

/// The agent's session answers a query.
async fn query_with_session(agent: &Agent, gateway: &Gateway, query: &str) -> Value {
    agent.query(gateway, query).await
}

#[tokio::test]
async fn a_signed_in_session_yields_the_mapped_roles_and_customer_scope() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;

        // Sales: everything, unmasked.
        let sales = Agent::new();
        let answer = sales.sign_in_at_provider(&gateway, "sam.sales").await;
        let opened = sales.get(&answer).await;
        let status = opened.status();
        let location = opened.headers().get("location").cloned();
        assert_eq!(status, 303, "{backend:?}: {}", opened.text().await.unwrap());
        let opened_location = location.unwrap();
        assert_eq!(opened_location, "/");
        let all =
            query_with_session(&sales, &gateway, "{ customers(first: 1) { totalCount } }").await;
        assert!(
            all["data"]["customers"]["totalCount"].as_i64().unwrap() > 1,
            "{all}"
        );

        // A partner of Acme: Acme only, as a customer-scoped token would.
        let partner = Agent::new();
        let answer = partner.sign_in_at_provider(&gateway, "pat.partner").await;
        assert_eq!(partner.get(&answer).await.status(), 303);
        let scoped = query_with_session(
            &partner,
            &gateway,
            "{ customers(first: 5) { totalCount nodes { id name } } }",
        )
        .await;
        assert_eq!(
            scoped["data"]["customers"],
            json!({"totalCount": 1, "nodes": [{"id": "1", "name": "Acme Inc"}]}),
            "{backend:?}"
        );

        // A cookie-authenticated request from another site is refused (CSRF); the same
        // request from the page itself passes.
        let cross = partner
            .http
            .post(gateway.url("/graphql"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .json(&json!({"query": "{ customers(first: 1) { totalCount } }"}))
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        let body: Value = cross.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "CROSS_SITE_REQUEST"
        );
        let same = partner
            .http
            .post(gateway.url("/graphql"))
            .header("origin", gateway.url(""))
            .header("sec-fetch-site", "same-origin")
            .json(&json!({"query": "{ customers(first: 1) { totalCount } }"}))
            .send()
            .await
            .unwrap();
        assert_eq!(same.status(), 200);
        // A form cannot post to the endpoint either way: only JSON bodies are taken.
        let form = partner
            .http
            .post(gateway.url("/graphql"))
            .header("content-type", "text/plain")
            .body(r#"{"query":"{ customers(first: 1) { totalCount } }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 415);
    }
}

#[tokio::test]
async fn a_tampered_state_is_refused() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        let answer = agent.sign_in_at_provider(&gateway, "sam.sales").await;
        let mut url = reqwest::Url::parse(&answer).unwrap();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    format!("{v}x")
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        let (status, page) = refusal(agent.get(url.as_str()).await).await;
        assert_eq!(status, 400, "{backend:?}");
        assert!(page.contains("not started in this browser"), "{page}");
        let nobody = query_with_session(&agent, &gateway, "{ __typename }").await;
        assert_eq!(nobody["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        let answer = agent.sign_in_at_provider(&gateway, "sam.sales").await;
        let login_cookie = agent
            .cookie(&gateway, "licensedot_login")
            .expect("the sign-in's login cookie");
        assert_eq!(agent.get(&answer).await.status(), 303);

        // The same answer again in the same browser: the callback cleared the login cookie.
        let (status, page) = refusal(agent.get(&answer).await).await;
        assert_eq!(status, 400, "{backend:?}");
        assert!(page.contains("already been used"), "{page}");

        // With the login cookie it was bound to, kept aside: the provider exchanges a code
        // once, and refuses it the second time.
        let again = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&answer)
            .header("cookie", format!("licensedot_login={login_cookie}"))
            .send()
            .await
            .unwrap();
        let (status, page) = refusal(again).await;
        assert_eq!(status, 401, "{backend:?}");
        assert!(
            page.contains("refused to exchange the sign-in code"),
            "{page}"
        );

        // With the bare state as the cookie (what the login cookie held before it was sealed):
        // not a sign-in this gateway started.
        let state = reqwest::Url::parse(&answer)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let forged = reqwest::Client::new()
            .get(&answer)
            .header("cookie", format!("licensedot_login={state}"))
            .send()
            .await
            .unwrap();
        let (status, page) = refusal(forged).await;
        assert_eq!(status, 400, "{backend:?}");
        assert!(page.contains("not started in this browser"), "{page}");

        // The code under a new sign-in's state: the provider refuses to exchange it twice.
        let code = reqwest::Url::parse(&answer)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        let fresh = agent.sign_in_at_provider(&gateway, "sam.sales").await;
        let mut replay = reqwest::Url::parse(&fresh).unwrap();
        let pairs: Vec<(String, String)> = replay
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "code" {
                    code.clone()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        replay.query_pairs_mut().clear().extend_pairs(pairs);
        let (status, page) = refusal(agent.get(replay.as_str()).await).await;
        assert_eq!(status, 401, "{backend:?}");
        assert!(
            page.contains("refused to exchange the sign-in code"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn an_unmapped_group_is_refused_with_a_page_that_says_so() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        let answer = agent.sign_in_at_provider(&gateway, "mallory").await;
        let (status, page) = refusal(agent.get(&answer).await).await;
        assert_eq!(status, 403, "{backend:?}");
        assert!(page.contains("You have no access to licensedot"), "{page}");
        assert!(page.contains("none of your groups"), "{page}");
        let nobody = query_with_session(&agent, &gateway, "{ __typename }").await;
        assert_eq!(nobody["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    for backend in backends() {
        let (gateway, _provider) = gateway_with_provider(backend).await;
        let agent = Agent::new();
        // The nonce of the authorization request, altered on its way to the provider: the
        // provider's genuine ID token then carries another nonce than the sealed sign-in.
        let answer = agent
            .sign_in_at_provider_with(&gateway, "sam.sales", |mut url| {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "nonce" {
                            format!("forged{v}")
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
                url
            })
            .await;
        let (status, page) = refusal(agent.get(&answer).await).await;
        assert_eq!(status, 401, "{backend:?}");
        assert!(
            page.contains("ID token is not valid") && page.contains("nonce"),
            "{page}"
        );
    }
}

/// The ID token's validation itself, with tokens signed by the provider's own key (the test
/// gives the provider its signing key): one the provider could have issued is accepted, and the
/// same token once expired, or under another nonce, is refused with the reason the refusal
/// page shows.
#[tokio::test]
async fn an_expired_id_token_signed_by_the_provider_is_refused() {
    use gateway::sso::provider::IdToken;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    let pem = include_str!("../../../crates/auth/tests/fixtures/rsa_private.pem");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start_with_key(&url, accounts(), Some(pem)).await;
    let gateway = Gateway::start_on(listener, Backend::Sqlite, |config| {
        provider.configure(config, &url);
    })
    .await;
    let validator = gateway.state.sso.provider().expect("SSO is configured");

    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(e2e_tests::oidc::SIGNING_KEY_ID.to_owned());
    let now = chrono::Utc::now().timestamp();
    let sign_verified = |expires_at: i64, email_verified: bool| -> IdToken {
        let claims = json!({
            "iss": provider.issuer,
            "aud": e2e_tests::oidc::CLIENT_ID,
            "sub": "sam.sales",
            "email": "sam@corp.example",
            "email_verified": email_verified,
            "groups": ["okta-sales"],
            "nonce": "nonce-1",
            "iat": expires_at - 600,
            "exp": expires_at,
        });
        jsonwebtoken::encode(&header, &claims, &key)
            .unwrap()
            .parse()
            .unwrap()
    };
    let sign = |expires_at: i64| sign_verified(expires_at, true);

    let fresh = validator
        .validate(&sign(now + 600), "nonce-1")
        .unwrap_or_else(|e| panic!("a token the provider could issue: {e}"));
    assert_eq!(fresh.viewer.role, auth::Role::Sales);
    assert_eq!(fresh.viewer.email.as_deref(), Some("sam@corp.example"));
    // An address the provider has not verified is not taken: the subject alone.
    let unverified = validator
        .validate(&sign_verified(now + 600, false), "nonce-1")
        .unwrap_or_else(|e| panic!("a token the provider could issue: {e}"));
    assert_eq!(unverified.viewer.subject, "sam.sales");
    assert_eq!(unverified.viewer.email, None);

    let expired = validator
        .validate(&sign(now - 60), "nonce-1")
        .err()
        .expect("an expired ID token is refused");
    assert!(
        expired.to_string().contains("ID token is not valid")
            && expired.to_string().contains("Expired"),
        "{expired}"
    );
    let other_nonce = validator
        .validate(&sign(now + 600), "nonce-2")
        .err()
        .expect("another nonce is refused");
    assert!(other_nonce.to_string().contains("nonce"), "{other_nonce}");

    // A key the provider does not publish (what a rotation looks like before the keys are
    // read again; `finish` then reads them once more).
    header.kid = Some("not-published".to_owned());
    let unknown = jsonwebtoken::encode(
        &header,
        &json!({"iss": provider.issuer, "aud": e2e_tests::oidc::CLIENT_ID, "sub": "x",
                "nonce": "nonce-1", "iat": now, "exp": now + 600}),
        &key,
    )
    .unwrap()
    .parse::<IdToken>()
    .unwrap();
    assert!(matches!(
        validator.validate(&unknown, "nonce-1"),
        Err(gateway::sso::provider::SignInError::UnknownKey)
    ));
}

/// With `store = "redis"`, replicas share sessions: a person signed in through one gateway is
/// signed in at another that shares the Redis (and not its database), and signing out at one
/// ends the session at both. Needs Redis on 127.0.0.1:6379 (`.ci/run` starts it).
#[tokio::test]
async fn sessions_in_redis_are_shared_by_replicas_and_end_at_once() {
    use gateway::sso::StoreKind;
    const REDIS: &str = "redis://127.0.0.1:6379/0";

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let provider = OidcProvider::start(&url, accounts()).await;
    let first = Gateway::start_on(listener, Backend::Sqlite, |config| {
        provider.configure(config, &url);
        config.sessions.store = StoreKind::Redis;
        config.sessions.redis_url = Some(REDIS.to_owned());
    })
    .await;
    let second = Gateway::start_with(Backend::Sqlite, |config| {
        config.sessions.store = StoreKind::Redis;
        config.sessions.redis_url = Some(REDIS.to_owned());
    })
    .await;
    seed_demo(&second, None).await;

    let agent = Agent::new();
    let answer = agent.sign_in_at_provider(&first, "sam.sales").await;
    let opened = agent.get(&answer).await;
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();
    let ask_second = || async {
        let response = second
            .client()
            .post(second.url("/graphql"))
            .header("cookie", &session)
            .json(&json!({"query": "{ customers(search: \"Acme Inc\") { nodes { name } } }"}))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    let (status, body) = ask_second().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["customers"]["nodes"][0]["name"], "Acme Inc");

    // A replayed answer finds no sign-in in progress.
    let (status, page) = refusal(agent.get(&answer).await).await;
    assert_eq!(status, 400);
    assert!(page.contains("already been used"), "{page}");

    let signed_out: Value = agent
        .http
        .post(first.url("/auth/logout"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(signed_out["signedOut"], true);
    assert!(
        signed_out["providerLogout"]
            .as_str()
            .is_some_and(|u| u.starts_with(&provider.issuer) && u.contains("id_token_hint")),
        "{signed_out}"
    );
    let (status, body) = ask_second().await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "SESSION_ENDED");
}
