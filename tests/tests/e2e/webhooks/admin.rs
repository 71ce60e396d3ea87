//! Managing endpoints: admin only, private addresses refused, bounded, secrets shown once and
//! rotated with a grace period, disable / enable / delete.

use std::time::Duration;

use e2e_tests::{backends, error_codes};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use super::harness::{
    CREATE, DELIVERIES, Site, assert_signed, change_contact, license_expiring_in, verify,
};

/// Every webhook operation, with variables that would work for an admin.
fn operations(url: &str, endpoint: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            CREATE,
            json!({"input": {"url": url, "events": ["LICENSE_EXPIRED"]}}),
        ),
        (
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
            json!({"id": endpoint}),
        ),
        (
            "mutation($id: ID!) { disableWebhookEndpoint(id: $id) { status } }",
            json!({"id": endpoint}),
        ),
        (
            "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { status } }",
            json!({"id": endpoint}),
        ),
        (
            "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
            json!({"id": endpoint}),
        ),
        ("{ webhookEndpoints { id url } }", json!({})),
        (DELIVERIES, json!({"id": endpoint})),
    ]
}

#[tokio::test]
async fn every_webhook_operation_is_for_admins_only() {
    for backend in backends() {
        let site = Site::start(backend, |_| {}).await;
        let (endpoint, _) = site.subscribe(&["LICENSE_EXPIRED"]).await;
        for role in ["viewer", "sales", "support", "customer"] {
            let token = site.node.token(role);
            for (operation, variables) in operations(&site.receiver.url(), &endpoint) {
                let answer = site.node.graphql(&token, operation, variables).await;
                assert_eq!(
                    error_codes(&answer),
                    vec!["FORBIDDEN"],
                    "{role}: {operation}"
                );
            }
        }
        // Nothing was written: one endpoint, still active, its secret the first one.
        let endpoints = entity::webhook_endpoint::Entity::find()
            .all(site.database())
            .await
            .unwrap();
        assert_eq!(endpoints.len(), 1, "{backend:?}");
        assert_eq!(
            endpoints[0].status,
            entity::webhook_endpoint::Status::Active
        );
        assert!(endpoints[0].previous_secret.is_none());
    }
}

#[tokio::test]
async fn a_gateway_without_webhooks_says_so_to_admins_and_forbids_the_rest() {
    for backend in backends() {
        let site = Site::start(backend, |c| c.webhooks.enabled = false).await;
        for (operation, variables) in operations("https://hooks.example.com/in", "1") {
            let admin = site
                .node
                .graphql(&site.node.token("admin"), operation, variables.clone())
                .await;
            assert_eq!(
                error_codes(&admin),
                vec!["WEBHOOKS_DISABLED"],
                "{operation}"
            );
            let sales = site
                .node
                .graphql(&site.node.token("sales"), operation, variables)
                .await;
            assert_eq!(error_codes(&sales), vec!["FORBIDDEN"], "{operation}");
        }
        // A change still works, and writes no event (nobody could subscribe).
        let license = license_expiring_in(site.database(), 30).await;
        change_contact(&site.node, license, 1, 1).await;
        let events = entity::webhook_event::Entity::find()
            .count(site.database())
            .await
            .unwrap();
        assert_eq!(events, 0);
    }
}

#[tokio::test]
async fn private_and_unsafe_urls_are_refused() {
    for backend in backends() {
        let site = Site::start(backend, |c| {
            c.webhooks.development_allow_loopback = false;
            c.webhooks.max_endpoints = 2;
        })
        .await;
        let admin = site.node.token("admin");
        for (url, why) in [
            ("https://10.1.2.3/hook", "private address"),
            ("https://192.168.0.10/hook", "private address"),
            ("https://[fd00::1]/hook", "private address"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://127.0.0.1/hook", "loopback"),
            ("https://localhost/hook", "loopback"),
            (site.receiver.url().as_str(), "loopback"),
            ("http://hooks.example.com/hook", "https://"),
            ("https://user:pw@hooks.example.com/hook", "password"),
            ("ftp://hooks.example.com/hook", "https://"),
        ] {
            let answer = site
                .node
                .graphql(
                    &admin,
                    CREATE,
                    json!({"input": {"url": url, "events": ["LICENSE_EXPIRED"]}}),
                )
                .await;
            assert_eq!(
                error_codes(&answer),
                vec!["BAD_USER_INPUT"],
                "{url}: {answer}"
            );
            let message = answer["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(why), "{url}: {message}");
        }
        let no_events = site
            .node
            .graphql(
                &admin,
                CREATE,
                json!({"input": {"url": "https://hooks.example.com/", "events": []}}),
            )
            .await;
        assert_eq!(error_codes(&no_events), vec!["BAD_USER_INPUT"]);
        let endpoints = entity::webhook_endpoint::Entity::find()
            .count(site.database())
            .await
            .unwrap();
        assert_eq!(endpoints, 0, "{backend:?}: nothing written");
    }
}

#[tokio::test]
async fn endpoints_are_bounded_rotated_disabled_enabled_and_deleted() {
    for backend in backends() {
        let site = Site::start(backend, |c| c.webhooks.max_endpoints = 2).await;
        let (endpoint, first_secret) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        assert!(first_secret.starts_with("whsec_"));
        let listed = site
            .node
            .admin(
                "{ webhookEndpoints { id url events description status createdBy } }",
                json!({}),
            )
            .await;
        let listed = &listed["webhookEndpoints"][0];
        assert_eq!(listed["url"], site.receiver.url());
        assert_eq!(listed["events"], json!(["LICENSE_CONTACT_CHANGED"]));
        assert_eq!(listed["createdBy"], "e2e-admin");
        assert!(
            !listed.to_string().contains(&first_secret[6..]),
            "the secret is shown once"
        );
        let stored = entity::webhook_endpoint::Entity::find()
            .one(site.database())
            .await
            .unwrap()
            .unwrap();
        assert!(
            !stored.secret.contains(&first_secret[6..]),
            "encrypted at rest"
        );

        site.subscribe(&["LICENSE_EXPIRED"]).await;
        let third = site
            .node
            .graphql(
                &site.node.token("admin"),
                CREATE,
                json!({"input": {"url": site.receiver.url(), "events": ["LICENSE_EXPIRED"]}}),
            )
            .await;
        assert_eq!(error_codes(&third), vec!["BAD_USER_INPUT"]);
        assert!(
            third["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("max_endpoints = 2")
        );

        // Rotation: the new secret is shown once; for the grace period both sign.
        let rotated = site
            .node
            .admin(
                "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretValidUntil } } }",
                json!({"id": endpoint}),
            )
            .await;
        let new_secret = rotated["rotateWebhookSecret"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(new_secret, first_secret);
        assert!(!rotated["rotateWebhookSecret"]["endpoint"]["previousSecretValidUntil"].is_null());
        let license = license_expiring_in(site.database(), 365).await;
        change_contact(&site.node, license, 1, 1).await;
        let received = site
            .receiver
            .wait_for(Duration::from_secs(10), "the change", |r| !r.is_empty())
            .await;
        assert_eq!(received[0].signature.split(' ').count(), 2);
        assert_signed(&new_secret, &received);
        assert_signed(&first_secret, &received);
        let stranger = "whsec_".to_owned() + &"A".repeat(43) + "=";
        assert_eq!(verify(&[(stranger.as_str(), &received[0])])[0]["ok"], false);

        // Disabled: its pending deliveries fail with the reason, and it gets nothing new.
        site.receiver
            .plan(&[super::receiver::Answer::Status(500); 1000]);
        change_contact(&site.node, license, 2, 2).await;
        site.receiver
            .wait_for(Duration::from_secs(10), "the failing attempt", |r| {
                r.len() >= 2
            })
            .await;
        let disabled = site
            .node
            .admin(
                "mutation($id: ID!) { disableWebhookEndpoint(id: $id, reason: \"CRM migration\") { status disabledReason } }",
                json!({"id": endpoint}),
            )
            .await;
        assert_eq!(disabled["disableWebhookEndpoint"]["status"], "DISABLED");
        assert_eq!(
            disabled["disableWebhookEndpoint"]["disabledReason"],
            "disabled by e2e-admin: CRM migration"
        );
        let deliveries = site.deliveries(&endpoint).await;
        assert_eq!(
            deliveries[1]["status"], "FAILED",
            "{backend:?}: {deliveries:#?}"
        );
        assert!(
            deliveries[1]["lastError"]
                .as_str()
                .unwrap()
                .contains("CRM migration")
        );
        let by_status = site
            .node
            .admin(
                "query($id: ID!) {
                  failed: webhookDeliveries(endpointId: $id, status: FAILED) { totalCount nodes { id } }
                  succeeded: webhookDeliveries(endpointId: $id, status: SUCCEEDED) { totalCount }
                  all: webhookDeliveries(endpointId: $id, first: 1) { totalCount pageInfo { hasNextPage } }
                }",
                json!({"id": endpoint}),
            )
            .await;
        assert_eq!(by_status["failed"]["totalCount"], 1);
        assert_eq!(by_status["failed"]["nodes"][0]["id"], deliveries[1]["id"]);
        assert_eq!(by_status["succeeded"]["totalCount"], 1);
        assert_eq!(by_status["all"]["totalCount"], 2);
        assert_eq!(by_status["all"]["pageInfo"]["hasNextPage"], true);
        let enabled = site
            .node
            .admin(
                "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { status disabledReason } }",
                json!({"id": endpoint}),
            )
            .await;
        assert_eq!(
            enabled["enableWebhookEndpoint"],
            json!({"status": "ACTIVE", "disabledReason": null})
        );

        let deleted = site
            .node
            .admin(
                "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
                json!({"id": endpoint}),
            )
            .await;
        assert_eq!(deleted["deleteWebhookEndpoint"], endpoint);
        let again = site
            .node
            .graphql(
                &site.node.token("admin"),
                "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
                json!({"id": endpoint}),
            )
            .await;
        assert_eq!(error_codes(&again), vec!["BAD_USER_INPUT"]);
        let deliveries = entity::webhook_delivery::Entity::find()
            .count(site.database())
            .await
            .unwrap();
        assert_eq!(deliveries, 0, "deleted with the endpoint");
    }
}
