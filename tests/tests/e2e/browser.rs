//! The dashboard and the explorer in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) against the real gateway and version service on port 0, over
//! seeded databases.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the tests FAIL; set `LICENSEDOT_SKIP_BROWSER_TESTS=1`
//! to skip them locally (refused when `CI` is set). `CHROMIUM` and `CHROMEDRIVER` override the
//! binaries' paths. Screenshots land in `$CARGO_TARGET_TMPDIR/browser/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e_tests::browser::{Browser, WAIT, find, free_port};
use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

/// Where screenshots go: `$CARGO_TARGET_TMPDIR/browser/NAME.png`.
pub(crate) async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    e2e_tests::browser::save_screenshot(client, Path::new(env!("CARGO_TARGET_TMPDIR")), name).await
}

// ---- The servers ------------------------------------------------------------------------------

/// Twenty customers and the demo story (Acme Inc).
pub(crate) fn demo_data() -> seed::SeedOptions {
    seed::SeedOptions {
        customers: 20,
        seed: 7,
        today: chrono::Utc::now().date_naive(),
        include_demo_story: true,
    }
}

/// The real gateway connected to a real version service, both seeded with the demo story.
pub(crate) async fn seeded_servers() -> (Gateway, VersionService) {
    let version = VersionService::start(Backend::Sqlite, None).await;
    let url = version.graphql_url();
    let gateway = Gateway::start_with(Backend::Sqlite, move |config| {
        config.version_service.url = url;
        config.version_service.timeout_ms = 2000;
    })
    .await;
    seed::seed(&gateway.state.db, Some(&version.state.db), &demo_data())
        .await
        .unwrap();
    (gateway, version)
}

/// Opens the dashboard signed in as a support person: the token goes into the tab's session
/// storage, where the page's sign-in form would put it.
pub(crate) async fn open_signed_in(client: &Client, gateway: &Gateway) {
    client.goto(&gateway.url("/")).await.unwrap();
    let token = gateway.token(&["support"], &[]);
    client
        .execute(
            "sessionStorage.setItem('licensedot.token', arguments[0]);",
            vec![json!(token)],
        )
        .await
        .unwrap();
    client.refresh().await.unwrap();
}

// ---- Page helpers -----------------------------------------------------------------------------

pub(crate) async fn texts(client: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

/// Counts the page's `fetch` calls to /graphql independently of the page's own counter.
async fn instrument_fetch(client: &Client) {
    client
        .execute(
            r#"
            window.__testGraphqlFetches = 0;
            window.__graphqlRequests = 0;
            if (!window.__fetchWrapped) {
                const original = window.fetch;
                window.fetch = function (input, init) {
                    const url = typeof input === "string" ? input : input.url;
                    if (new URL(url, location.href).pathname === "/graphql") window.__testGraphqlFetches += 1;
                    return original.apply(this, arguments);
                };
                window.__fetchWrapped = true;
            }
            "#,
            vec![],
        )
        .await
        .unwrap();
}

pub(crate) async fn graphql_requests(client: &Client) -> (i64, i64) {
    let counts = client
        .execute(
            "return [window.__graphqlRequests, window.__testGraphqlFetches];",
            vec![],
        )
        .await
        .unwrap();
    (counts[0].as_i64().unwrap(), counts[1].as_i64().unwrap())
}

/// Searches for `text` by typing, then opens the result named `name` with the keyboard.
pub(crate) async fn search_and_open(client: &Client, text: &str, name: &str) {
    let search = find(client, "#search").await;
    search.send_keys(text).await.unwrap();
    // Results arrive after the debounce; walk them with the arrow keys as a person would.
    let wanted = find(client, "a.result[data-customer-id='1']").await;
    assert!(wanted.text().await.unwrap().contains(name));
    let results = client.find_all(Locator::Css("a.result")).await.unwrap();
    let mut position = None;
    for (i, result) in results.iter().enumerate() {
        if result.attr("data-customer-id").await.unwrap().as_deref() == Some("1") {
            position = Some(i);
        }
    }
    let position = position.unwrap();
    instrument_fetch(client).await;
    search.send_keys(&Key::Down).await.unwrap();
    for _ in 0..position {
        client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Down)
            .await
            .unwrap();
    }
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("data-customer-id").await.unwrap().as_deref(),
        Some("1")
    );
    focused.send_keys(&Key::Enter).await.unwrap();
}

/// Waits until the customer view has rendered; returns its `data-loaded` state.
pub(crate) async fn customer_view_loaded(client: &Client) -> String {
    let view = find(client, "#customer-view[data-loaded]").await;
    view.attr("data-loaded").await.unwrap().unwrap()
}

/// The licenses shown: (status, trial badge text, marked active).
async fn licenses_shown(client: &Client) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for article in client
        .find_all(Locator::Css("article.license"))
        .await
        .unwrap()
    {
        let status = article.attr("data-status").await.unwrap().unwrap();
        let kind = article
            .find(Locator::Css(".badge.trial, .badge.paid"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let active = article
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default()
            .split(' ')
            .any(|c| c == "active");
        out.push((status, kind, active));
    }
    out
}

/// The customer view loaded partially: the licenses show, with the note that usage data is
/// unavailable and `gitlab.acmeinc.com`'s usage marked so (screenshot saved as `screenshot`).
async fn shows_usage_unavailable(client: &Client, screenshot: &str) {
    let loaded = customer_view_loaded(client).await;
    let screenshot = save_screenshot(client, screenshot).await;
    assert_eq!(loaded, "partial", "see {}", screenshot.display());
    let note = find(client, "#usage-unavailable")
        .await
        .text()
        .await
        .unwrap();
    assert!(note.contains("Usage data is unavailable"), "{note}");
    let row = find(client, "tr[data-hostname='gitlab.acmeinc.com']")
        .await
        .text()
        .await
        .unwrap();
    assert!(row.contains("unavailable"), "{row}");
}

// ---- The tests --------------------------------------------------------------------------------

#[tokio::test]
async fn a_person_finds_acme_and_sees_its_licenses_servers_and_usage_in_one_request() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;

    open_signed_in(client, &gateway).await;
    search_and_open(client, "Acme", "Acme Inc").await;
    let loaded = customer_view_loaded(client).await;
    let screenshot = save_screenshot(client, "customer-view").await;
    assert_eq!(loaded, "complete", "see {}", screenshot.display());
    assert_eq!(
        find(client, "#customer-name").await.text().await.unwrap(),
        "Acme Inc"
    );

    // The paid license is active and marked; the earlier trial has expired.
    let licenses = licenses_shown(client).await;
    assert!(
        licenses.contains(&("ACTIVE".to_owned(), "Paid".to_owned(), true)),
        "{licenses:?}"
    );
    assert!(
        licenses.contains(&("EXPIRED".to_owned(), "Trial".to_owned(), false)),
        "{licenses:?}"
    );
    assert_eq!(
        licenses.iter().filter(|l| l.2).count(),
        1,
        "exactly one active license"
    );
    let badges = texts(client, "article.license .badge[data-status]").await;
    assert!(
        badges.iter().any(|b| b.contains("Active")) && badges.iter().any(|b| b.contains("Expired"))
    );

    // Its servers: gitlab.acmeinc.com attached and reporting; acmeinc.ninja flagged.
    let attached = find(client, "tr.attached[data-hostname='gitlab.acmeinc.com']").await;
    assert!(
        !attached.text().await.unwrap().contains("never"),
        "gitlab.acmeinc.com has pinged"
    );
    let ninja = find(client, "tr.unattached[data-hostname='acmeinc.ninja']").await;
    assert!(ninja.text().await.unwrap().contains("Not attached"));
    // Its health in words: Acme's paid license runs on two servers and is attached to one.
    let over = find(
        client,
        "tr[data-hostname='acmeinc.ninja'] [data-health='OVER_REPORTED']",
    )
    .await;
    assert_eq!(
        over.text().await.unwrap(),
        "⚠ License on more servers than attached"
    );
    let utilization = texts(client, ".utilization").await;
    assert!(
        utilization.iter().any(|u| u.contains("licensed users")),
        "{utilization:?}"
    );

    // The whole view came from one GraphQL request, counted by the page and by our fetch hook.
    assert_eq!(
        graphql_requests(client).await,
        (1, 1),
        "one request for the customer view"
    );

    // A server's ping history, newest first, in a second request.
    ninja
        .find(Locator::Css("button.server-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find(client, "#server-dialog[data-loaded]").await;
    let recorded = texts(
        client,
        "#server-dialog table.history tbody tr td:first-child",
    )
    .await;
    assert!(!recorded.is_empty(), "acmeinc.ninja has a ping history");
    let mut sorted = recorded.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(recorded, sorted, "newest first");
    save_screenshot(client, "server-history").await;
    assert_eq!(graphql_requests(client).await.0, 2);

    browser.close().await;
}

#[tokio::test]
async fn with_the_version_service_stopped_licenses_still_show_and_usage_is_marked_unavailable() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, mut version) = seeded_servers().await;
    version.stop().await;

    open_signed_in(client, &gateway).await;
    search_and_open(client, "acmeinc.com", "Acme Inc").await;
    shows_usage_unavailable(client, "customer-view-usage-unavailable").await;
    let licenses = licenses_shown(client).await;
    assert!(
        licenses.contains(&("ACTIVE".to_owned(), "Paid".to_owned(), true)),
        "{licenses:?}"
    );
    assert!(
        licenses.contains(&("EXPIRED".to_owned(), "Trial".to_owned(), false)),
        "{licenses:?}"
    );
    assert_eq!(graphql_requests(client).await, (1, 1));

    browser.close().await;
}

#[tokio::test]
async fn with_the_version_service_answering_garbage_usage_is_marked_unavailable() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let garbage = e2e_tests::version::answering_garbage().await;
    let gateway = Gateway::start_with(Backend::Sqlite, move |config| {
        config.version_service.url = garbage;
    })
    .await;
    seed::seed(&gateway.state.db, None, &demo_data())
        .await
        .unwrap();

    open_signed_in(client, &gateway).await;
    search_and_open(client, "acmeinc.com", "Acme Inc").await;
    // UPSTREAM_BAD_RESPONSE: the usage is unavailable, not merely unreported.
    shows_usage_unavailable(client, "customer-view-usage-garbage").await;

    browser.close().await;
}

#[tokio::test]
async fn the_page_asks_for_a_token_keeps_it_in_the_session_and_sends_it() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;

    client.goto(&gateway.url("/")).await.unwrap();
    find(client, "#search")
        .await
        .send_keys("Acme")
        .await
        .unwrap();
    // The gateway answers 401: the page asks for a token instead of showing results.
    let form = find(client, "#sign-in:not([hidden])").await;
    assert!(form.text().await.unwrap().contains("needs an access token"));
    let token = gateway.token(&["support"], &[]);
    let input = find(client, "#token").await;
    // Pasted as `licensedot demo` prints it.
    input
        .send_keys(&format!("Authorization: Bearer {token}"))
        .await
        .unwrap();
    input.send_keys(&Key::Enter).await.unwrap();
    // The search it interrupted runs again, now with the token.
    find(client, "a.result[data-customer-id='1']").await;
    let stored = client
        .execute(
            "return [sessionStorage.getItem('licensedot.token'), localStorage.length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stored, json!([token, 0]), "in the session only");

    // A bad token brings the form back, with the reason.
    client
        .execute(
            "sessionStorage.setItem('licensedot.token', 'not-a-jwt');",
            vec![],
        )
        .await
        .unwrap();
    client
        .execute("location.hash = '#/customer/1';", vec![])
        .await
        .unwrap();
    let reason = find(client, "#sign-in:not([hidden]) #sign-in-reason")
        .await
        .text()
        .await
        .unwrap();
    assert!(reason.contains("refused"), "{reason}");
    save_screenshot(client, "sign-in").await;

    browser.close().await;
}

#[tokio::test]
async fn the_explorer_pins_its_assets_and_explains_when_they_cannot_load() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    // A base URL nobody answers on: what a machine without internet sees.
    let dead = format!("http://127.0.0.1:{}/assets", free_port());
    let base = dead.clone();
    let gateway = Gateway::start_with(Backend::Sqlite, move |config| {
        config.explorer.asset_base_url = base;
    })
    .await;

    client.goto(&gateway.url("/graphql")).await.unwrap();
    let message = find(client, "#explorer-missing")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        message.contains("could not load") && message.contains(&dead),
        "{message}"
    );
    let scripts = client
        .execute(
            r#"return Array.from(document.querySelectorAll("script[integrity], link[integrity]"))
                 .map(e => [e.src || e.href, e.integrity, e.crossOrigin]);"#,
            vec![],
        )
        .await
        .unwrap();
    let scripts = scripts.as_array().unwrap();
    assert_eq!(scripts.len(), 4, "{scripts:?}");
    for script in scripts {
        assert!(script[0].as_str().unwrap().starts_with(&dead), "{script}");
        assert!(
            script[0].as_str().unwrap().contains('@'),
            "pinned by version: {script}"
        );
        assert!(
            script[1].as_str().unwrap().starts_with("sha384-"),
            "{script}"
        );
        assert_eq!(script[2], "anonymous");
    }

    browser.close().await;
}

/// Serves `dir` over HTTP on port 0 with `Access-Control-Allow-Origin: *` (the explorer's tags
/// are `crossorigin="anonymous"`), as an offline site's asset host would. Returns its base URL.
async fn serve_directory(dir: PathBuf) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let dir = dir.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0; 8192];
                let n = stream.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]);
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = (!path.contains(".."))
                    .then(|| std::fs::read(dir.join(path.trim_start_matches('/'))).ok())
                    .flatten();
                let (status, body) = match file {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", Vec::new()),
                };
                let content_type = if path.ends_with(".css") {
                    "text/css"
                } else {
                    "text/javascript"
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                     Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    base
}

/// GraphiQL for real, with no internet: from the copies embedded in the gateway (the default),
/// and from a mirror on another origin serving the same files (`asset_base_url`), each under
/// the explorer's Content-Security-Policy.
#[tokio::test]
async fn the_explorer_runs_graphiql_offline_under_its_csp_with_the_session_token() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/gateway/assets/explorer");
    let mirror = serve_directory(embedded).await;
    // The browser really is offline: the CDN GraphiQL used to load from does not resolve.
    let cdn = client
        .goto("https://unpkg.com/graphiql@3.8.3/graphiql.min.js")
        .await;
    assert!(
        cdn.as_ref()
            .is_err_and(|e| e.to_string().contains("ERR_NAME_NOT_RESOLVED")),
        "the browser reached the internet: {cdn:?}"
    );
    for base in [None, Some(mirror)] {
        let gateway = Gateway::start_with(Backend::Sqlite, |config| {
            if let Some(base) = base.clone() {
                config.explorer.asset_base_url = base;
            }
        })
        .await;
        let page = reqwest::Client::new()
            .get(gateway.url("/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-eval") && !csp.contains("https://unpkg.com"),
            "{csp}"
        );
        explorer_answers(client, &gateway).await;
    }

    browser.close().await;
}

/// Opens the explorer signed in, runs its default query and checks the answer.
async fn explorer_answers(client: &Client, gateway: &Gateway) {
    let options = seed::SeedOptions {
        customers: 5,
        seed: 7,
        today: chrono::Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, None, &options).await.unwrap();

    // The dashboard's session token is filled into GraphiQL's headers.
    open_signed_in(client, gateway).await;
    client.goto(&gateway.url("/graphql")).await.unwrap();
    find(client, ".graphiql-container").await;
    // GraphiQL rendered its editor (React and GraphiQL ran, not just the page's shell), with
    // the default query in it.
    let editor = find(client, ".graphiql-query-editor .CodeMirror").await;
    assert!(
        editor.text().await.unwrap().contains("customers"),
        "the query editor holds the default query"
    );
    find(client, ".graphiql-execute-button")
        .await
        .click()
        .await
        .unwrap();
    let mut result = String::new();
    for _ in 0..100 {
        result = client
            .execute(
                "const r = document.querySelector('.result-window'); return r ? r.innerText : '';",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if result.contains("Acme Inc") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    save_screenshot(client, "explorer").await;
    assert!(
        result.contains("Acme Inc"),
        "GraphiQL's query answered with the token: {result}"
    );
}

#[tokio::test]
async fn support_changes_a_license_owner_through_the_dialog_and_the_history_shows_it() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;

    open_signed_in(client, &gateway).await;
    search_and_open(client, "Acme", "Acme Inc").await;
    customer_view_loaded(client).await;
    let card = find(client, "article.license.active").await;
    let license_id = card.attr("data-license-id").await.unwrap().unwrap();
    let history = format!("details.license-history[data-license-id='{license_id}']");
    assert_eq!(
        find(client, &history)
            .await
            .attr("data-events")
            .await
            .unwrap()
            .as_deref(),
        Some("0")
    );
    card.find(Locator::Css("button.change-owner"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find(client, "#owner-dialog[open]").await;
    let current = find(client, "#owner-current").await.text().await.unwrap();
    assert!(current.contains("jane.doe@acmeinc.com"), "{current}");

    // A new contact, typed in as a person would.
    find(client, "#owner-choice-new")
        .await
        .click()
        .await
        .unwrap();
    find(client, "#owner-name:not([disabled])")
        .await
        .send_keys("Riley Roe")
        .await
        .unwrap();
    find(client, "#owner-email")
        .await
        .send_keys("riley.roe@acmeinc.com")
        .await
        .unwrap();
    find(client, "#owner-reason")
        .await
        .send_keys("Jane left Acme")
        .await
        .unwrap();

    // Meanwhile a colleague hands the license to someone else: the page's version is stale.
    let version = gateway
        .query(
            "query($id: ID!) { license(id: $id) { version } }",
            json!({"id": license_id}),
        )
        .await["data"]["license"]["version"]
        .clone();
    let colleague = gateway
        .query(
            r#"mutation($input: ChangeLicenseContactInput!) {
                 changeLicenseContact(input: $input) { license { version } } }"#,
            json!({"input": {
                "licenseId": license_id,
                "contact": {"name": "Quinn Poe", "email": "quinn.poe@acmeinc.com"},
                "reason": "Quinn owns the renewal",
                "expectedVersion": version,
            }}),
        )
        .await;
    assert!(colleague["errors"].is_null(), "{colleague}");

    find(client, "#owner-submit").await.click().await.unwrap();
    let error = find(client, "#owner-error:not([hidden])")
        .await
        .text()
        .await
        .unwrap();
    save_screenshot(client, "owner-dialog-conflict").await;
    assert!(
        error.contains("Someone changed this license") && error.contains("quinn.poe@acmeinc.com"),
        "{error}"
    );

    // Retry: the page now knows the current version, and the change goes through.
    find(client, "#owner-retry:not([hidden])")
        .await
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#owner-dialog:not([open])"))
        .await
        .unwrap();
    let history = find(client, &format!("{history}[data-events='2']")).await;
    history
        .find(Locator::Css("summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let events = texts(
        client,
        &format!("details.license-history[data-license-id='{license_id}'] li"),
    )
    .await;
    save_screenshot(client, "owner-history").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events[0].contains("Riley Roe <riley.roe@acmeinc.com>")
            && events[0].contains("Quinn Poe")
            && events[0].contains("Jane left Acme")
            && events[0].contains("(support)"),
        "newest first: {events:?}"
    );
    assert!(events[1].contains("Jane Doe"), "{events:?}");
    let sent_to = find(client, "article.license.active")
        .await
        .text()
        .await
        .unwrap();
    assert!(sent_to.contains("riley.roe@acmeinc.com"), "{sent_to}");

    browser.close().await;
}
