//! The admins' webhooks page in a real browser (headless Chromium, see `tests/src/browser.rs`):
//! an endpoint added there, its secret shown once and verifying the deliveries, the deliveries
//! listed; other roles told the page is not theirs.

use std::time::Duration;

use e2e_tests::Backend;
use e2e_tests::browser::{Browser, find};
use fantoccini::Client;
use serde_json::{Value, json};

use super::harness::{Site, assert_signed, change_contact, license_expiring_in};

async fn eval(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// Opens the dashboard with `token` in the tab's session storage, at `#/webhooks`.
async fn open_as(client: &Client, site: &Site, token: &str) {
    let url = format!("http://{}/", site.node.address);
    client.goto(&url).await.unwrap();
    client
        .execute(
            "sessionStorage.setItem('licensedot.token', arguments[0]);",
            vec![json!(token)],
        )
        .await
        .unwrap();
    client.goto(&format!("{url}#/webhooks")).await.unwrap();
    client.refresh().await.unwrap();
}

#[tokio::test]
async fn an_admin_adds_an_endpoint_sees_its_secret_once_and_its_deliveries() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let site = Site::start(Backend::Sqlite, |_| {}).await;
    client.set_window_size(1280, 1000).await.unwrap();

    open_as(client, &site, &site.node.token("admin")).await;
    find(client, "#webhooks-list[data-loaded='true'] p.empty").await;
    find(client, "#webhooks-url")
        .await
        .send_keys(&site.receiver.url())
        .await
        .unwrap();
    find(client, "#webhooks-description")
        .await
        .send_keys("Sales CRM")
        .await
        .unwrap();
    // Only the contact changes.
    for kind in [
        "LICENSE_EXPIRING",
        "LICENSE_EXPIRED",
        "LICENSE_CONTACT_CHANGED",
    ] {
        find(client, &format!("#webhooks-events input[value='{kind}']"))
            .await
            .click()
            .await
            .unwrap();
    }
    find(client, "#webhooks-submit")
        .await
        .click()
        .await
        .unwrap();
    let secret = find(client, "#webhooks-secret-value")
        .await
        .text()
        .await
        .unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let row = find(
        client,
        "#webhooks-list tr[data-endpoint-id][data-status='ACTIVE']",
    )
    .await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains(&site.receiver.url()) && text.contains("Sales CRM"),
        "{text}"
    );
    assert!(
        text.contains("license.contact_changed") && !text.contains("license.expired"),
        "{text}"
    );

    // The secret the page showed verifies what the receiver gets.
    let license = license_expiring_in(site.database(), 365).await;
    change_contact(&site.node, license, 1, 1).await;
    let received = site
        .receiver
        .wait_for(Duration::from_secs(10), "the change", |r| !r.is_empty())
        .await;
    assert_signed(&secret, &received);

    // Its deliveries, from the row's button; the secret is gone once the page is left.
    row.find(fantoccini::Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find(client, "#webhooks-deliveries[data-loaded]").await;
    let deliveries = eval(
        client,
        r##"return [...document.querySelectorAll(".deliveries-table tbody tr")].map((tr) => [tr.dataset.status, tr.textContent]);"##,
    )
    .await;
    assert_eq!(deliveries.as_array().unwrap().len(), 1, "{deliveries}");
    assert_eq!(deliveries[0][0], "SUCCEEDED");
    assert!(deliveries[0][1].as_str().unwrap().contains(&received[0].id));
    let _ = e2e_tests::browser::save_screenshot(
        client,
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        "webhooks",
    )
    .await;
    client
        .goto(&format!("http://{}/#/trials", site.node.address))
        .await
        .unwrap();
    let shown = client
        .execute(
            "return document.body.textContent.includes(arguments[0]);",
            vec![json!(secret)],
        )
        .await
        .unwrap();
    assert_eq!(shown, false, "the secret is shown once");
    browser.close().await;
}

#[tokio::test]
async fn other_roles_are_told_webhooks_are_for_admins() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let site = Site::start(Backend::Sqlite, |_| {}).await;
    open_as(client, &site, &site.node.token("sales")).await;
    let message = find(client, "#webhooks-list[data-loaded='error'] .message")
        .await
        .text()
        .await
        .unwrap();
    assert!(message.contains("managed by admins"), "{message}");
    let form_hidden = eval(
        client,
        "return document.getElementById('webhooks-form').hidden;",
    )
    .await;
    assert_eq!(form_hidden, true);
    browser.close().await;
}
