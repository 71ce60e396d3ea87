//! Delivery that loses nothing: retries after 500s and timeouts, a receiver down for a while,
//! a gateway that dies mid-delivery, and what happens when an endpoint keeps failing.

use std::collections::HashSet;
use std::time::Duration;

use e2e_tests::backends;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::harness::{
    Node, Site, assert_signed, change_contact, config, idle, license_expiring_in,
};
use super::receiver::Answer;

#[tokio::test]
async fn a_delivery_is_retried_after_500s_and_a_timeout_until_it_succeeds() {
    for backend in backends() {
        let site = Site::start(backend, |_| {}).await;
        let (endpoint, secret) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        let license = license_expiring_in(site.database(), 365).await;
        site.receiver.plan(&[
            Answer::Status(500),
            Answer::Status(503),
            // Longer than the 1 s attempt timeout.
            Answer::After(Duration::from_millis(1_500)),
        ]);
        change_contact(&site.node, license, 1, 1).await;
        let received = site
            .receiver
            .wait_for(Duration::from_secs(15), "four attempts", |r| r.len() >= 4)
            .await;
        let statuses: Vec<u16> = received.iter().map(|r| r.answered).collect();
        assert_eq!(statuses, vec![500, 503, 200, 200], "{backend:?}");
        assert!(
            received.iter().all(|r| r.id == received[0].id),
            "one webhook-id"
        );
        // Backoff: never sooner than half the initial wait (100 ms), doubling.
        for pair in received.windows(2) {
            assert!(pair[1].at - pair[0].at >= Duration::from_millis(50));
        }
        assert_signed(&secret, &received);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let delivery = loop {
            let delivery = site.deliveries(&endpoint).await.remove(0);
            if delivery["status"] == "SUCCEEDED" || std::time::Instant::now() > deadline {
                break delivery;
            }
            idle(Duration::from_millis(50)).await;
        };
        assert_eq!(delivery["status"], "SUCCEEDED", "{delivery:#}");
        assert_eq!(delivery["attempts"], 4);
        assert_eq!(delivery["lastStatusCode"], 200);
        assert!(delivery["lastError"].is_null());
        idle(Duration::from_millis(500)).await;
        assert_eq!(
            site.receiver.received().len(),
            4,
            "nothing after the success"
        );
        let metrics = site.node.metrics().await;
        for line in [
            "licensedot_webhook_attempts_total{result=\"http_error\"} 2",
            "licensedot_webhook_attempts_total{result=\"timeout\"} 1",
            "licensedot_webhook_attempts_total{result=\"delivered\"} 1",
            "licensedot_webhook_deliveries_total{outcome=\"succeeded\"} 1",
            "licensedot_webhook_queue_depth 0",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_afterwards_in_order() {
    for backend in backends() {
        let mut site = Site::start(backend, |_| {}).await;
        let (endpoint, secret) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        let license = license_expiring_in(site.database(), 365).await;
        site.receiver.stop().await;
        for n in 1..=5 {
            change_contact(&site.node, license, n as i64, n).await;
        }
        // While it is down the first event is retried; the others wait their turn.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let deliveries = site.deliveries(&endpoint).await;
            if deliveries[0]["attempts"].as_i64() >= Some(3) {
                assert!(
                    deliveries[0]["lastError"]
                        .as_str()
                        .unwrap()
                        .contains("could not reach")
                );
                assert!(
                    deliveries[1..].iter().all(|d| d["attempts"] == 0),
                    "{deliveries:#?}"
                );
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{deliveries:#?}");
            idle(Duration::from_millis(50)).await;
        }
        let metrics = site.node.metrics().await;
        assert!(
            metrics.contains("licensedot_webhook_queue_depth 5"),
            "{metrics}"
        );
        site.receiver.restart().await;
        let received = site
            .receiver
            .wait_for(Duration::from_secs(15), "all five", |r| r.len() >= 5)
            .await;
        let order: Vec<String> = site
            .deliveries(&endpoint)
            .await
            .iter()
            .map(|d| d["eventId"].as_str().unwrap().to_owned())
            .collect();
        let got: Vec<String> = received.iter().map(|r| r.id.clone()).collect();
        assert_eq!(got, order, "{backend:?}: in order of creation, each once");
        let reasons: Vec<String> = received
            .iter()
            .map(|r| r.json()["data"]["reason"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            reasons,
            (1..=5).map(|n| format!("handover {n}")).collect::<Vec<_>>()
        );
        assert_signed(&secret, &received);
    }
}

#[tokio::test]
async fn a_gateway_that_dies_mid_delivery_loses_and_duplicates_nothing() {
    for backend in backends() {
        let site = Site::start(backend, |c| c.webhooks.attempt_timeout_ms = 2_000).await;
        let (_, secret) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        let license = license_expiring_in(site.database(), 365).await;
        // The receiver takes the first delivery and is slow to answer it.
        site.receiver
            .plan(&[Answer::After(Duration::from_millis(1_500))]);
        for n in 1..=3 {
            change_contact(&site.node, license, n as i64, n).await;
        }
        site.receiver
            .wait_for(Duration::from_secs(10), "the first delivery", |r| {
                !r.is_empty()
            })
            .await;
        let Site {
            db,
            clock,
            receiver,
            node,
        } = site;
        node.crash();
        let mut replacement = config(&db.url);
        replacement.webhooks.attempt_timeout_ms = 2_000;
        let node = Node::start(replacement, clock).await;
        // The lost attempt's lease (2 s + 5 s) runs out, and the new process delivers it again
        // with the same webhook-id, then the rest.
        let received = receiver
            .wait_for(Duration::from_secs(30), "every event", |r| {
                r.iter().map(|r| r.id.clone()).collect::<HashSet<_>>().len() >= 3
            })
            .await;
        idle(Duration::from_millis(500)).await;
        let events = entity::webhook_event::Entity::find()
            .all(&node.state.db)
            .await
            .unwrap();
        let written: HashSet<String> = events.iter().map(|e| e.message_id.clone()).collect();
        let got: HashSet<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
        assert_eq!(written.len(), 3, "{backend:?}");
        assert_eq!(got, written, "every event, under its one id");
        // The one in flight when the process died came again (same id), then the rest, once.
        let order: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
        assert_eq!(order.len(), 4, "{order:?}");
        assert_eq!(order[0], order[1], "{order:?}");
        assert_eq!(
            order[1..].iter().collect::<HashSet<_>>().len(),
            3,
            "{order:?}"
        );
        let pending = entity::webhook_delivery::Entity::find()
            .all(&node.state.db)
            .await
            .unwrap();
        assert!(
            pending
                .iter()
                .all(|d| d.status == entity::webhook_delivery::Status::Succeeded),
            "{pending:#?}"
        );
        assert_signed(&secret, &received);
        drop(db);
    }
}

#[tokio::test]
async fn a_delivery_fails_after_the_horizon_and_an_endpoint_failing_for_days_is_disabled() {
    for backend in backends() {
        let site = Site::start(backend, |_| {}).await;
        let (endpoint, _) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        let license = license_expiring_in(site.database(), 365).await;
        site.receiver.plan(&[Answer::Status(500); 1000]);
        change_contact(&site.node, license, 1, 1).await;
        site.receiver
            .wait_for(Duration::from_secs(10), "two attempts", |r| r.len() >= 2)
            .await;
        // Six days on: the delivery is past its 24 h horizon and the endpoint has failed for
        // longer than 5 days.
        site.clock.shift_days(6);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let delivery = loop {
            let delivery = site.deliveries(&endpoint).await.remove(0);
            if delivery["status"] != "PENDING" || std::time::Instant::now() > deadline {
                break delivery;
            }
            idle(Duration::from_millis(50)).await;
        };
        assert_eq!(delivery["status"], "FAILED", "{backend:?}: {delivery:#}");
        assert_eq!(delivery["lastStatusCode"], 500);
        assert!(delivery["lastError"].as_str().unwrap().contains("HTTP 500"));
        assert!(delivery["nextAttemptAt"].is_null());
        let data = site
            .node
            .admin(
                "{ webhookEndpoints { id status disabledReason failingSince } }",
                serde_json::json!({}),
            )
            .await;
        let endpoint = &data["webhookEndpoints"][0];
        assert_eq!(endpoint["status"], "DISABLED", "{endpoint:#}");
        assert!(
            endpoint["disabledReason"]
                .as_str()
                .unwrap()
                .contains("disabled automatically"),
            "{endpoint:#}"
        );
        // Disabled: a new event is not written for it.
        change_contact(&site.node, license, 2, 2).await;
        let count = entity::webhook_delivery::Entity::find()
            .count(site.database())
            .await
            .unwrap();
        assert_eq!(count, 1);
        let metrics = site.node.metrics().await;
        assert!(
            metrics.contains("licensedot_webhook_endpoints_disabled_total 1"),
            "{metrics}"
        );
        assert!(
            metrics.contains("licensedot_webhook_deliveries_total{outcome=\"failed\"} 1"),
            "{metrics}"
        );
    }
}
