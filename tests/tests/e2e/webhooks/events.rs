//! Each event type fires once, at the right moment, signed.

use std::time::Duration;

use e2e_tests::backends;
use serde_json::json;

use super::harness::{Site, assert_signed, change_contact, idle, license_expiring_in};

/// An event received: its type, and its `thresholdDays` for `license.expiring`.
type Expected = (&'static str, Option<i64>);

/// Two scheduler ticks and then some: enough for anything due to have been sent.
const TICKS: Duration = Duration::from_millis(2_500);

#[tokio::test]
async fn license_expiring_fires_once_at_each_threshold_and_expired_once_at_expiry() {
    for backend in backends() {
        let site = Site::start(backend, |_| {}).await;
        let (_, secret) = site
            .subscribe(&["LICENSE_EXPIRING", "LICENSE_EXPIRED"])
            .await;
        let license = license_expiring_in(site.database(), 100).await;

        // (days the clock moves, the events received so far)
        let stages: [(i64, &[Expected]); 6] = [
            (0, &[]),
            (9, &[]),
            (10, &[("license.expiring", Some(90))]),
            (69, &[("license.expiring", Some(90))]),
            (
                70,
                &[
                    ("license.expiring", Some(90)),
                    ("license.expiring", Some(30)),
                ],
            ),
            (
                100,
                &[
                    ("license.expiring", Some(90)),
                    ("license.expiring", Some(30)),
                    ("license.expired", None),
                ],
            ),
        ];
        for (days, expected) in stages {
            site.clock.shift_days(days);
            site.receiver
                .wait_for(Duration::from_secs(10), "the due events", |r| {
                    r.len() >= expected.len()
                })
                .await;
            idle(TICKS).await;
            let received = site.receiver.received();
            let got: Vec<(String, Option<i64>)> = received
                .iter()
                .map(|r| (r.event_type(), r.json()["data"]["thresholdDays"].as_i64()))
                .collect();
            let expected: Vec<(String, Option<i64>)> = expected
                .iter()
                .map(|(t, d)| ((*t).to_owned(), *d))
                .collect();
            assert_eq!(got, expected, "{backend:?}, clock +{days} days");
        }
        let received = site.receiver.received();
        let ids: std::collections::HashSet<_> = received.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), received.len(), "each event once");
        let expired = received[2].json();
        assert_eq!(expired["data"]["license"]["id"], license.to_string());
        assert_eq!(expired["data"]["daysSinceExpiry"], 0);
        assert_eq!(expired["data"]["customer"]["name"], "Initech");
        let thirty = received[1].json();
        assert_eq!(thirty["data"]["daysUntilExpiry"], 30);
        assert_eq!(thirty["data"]["contact"]["name"], "Peter Gibbons");
        assert_signed(&secret, &received);
    }
}

#[tokio::test]
async fn license_contact_changed_fires_once_per_change_with_the_audit_event() {
    for backend in backends() {
        let site = Site::start(backend, |_| {}).await;
        let (endpoint, secret) = site.subscribe(&["LICENSE_CONTACT_CHANGED"]).await;
        let license = license_expiring_in(site.database(), 365).await;
        let changed = change_contact(&site.node, license, 1, 1).await;
        let audit = changed["data"]["changeLicenseContact"]["auditEvent"]["id"].clone();
        let received = site
            .receiver
            .wait_for(Duration::from_secs(10), "the change", |r| !r.is_empty())
            .await;
        // A refused change (a stale version) sends nothing.
        let stale = site
            .node
            .graphql(
                &site.node.token("support"),
                super::harness::CHANGE,
                json!({"input": {"licenseId": license.to_string(), "contactId": "1",
                        "reason": "stale", "expectedVersion": 1}}),
            )
            .await;
        assert_eq!(e2e_tests::error_codes(&stale), vec!["CONFLICT"]);
        idle(Duration::from_millis(500)).await;
        assert_eq!(site.receiver.received().len(), 1, "{backend:?}");
        let event = received[0].json();
        assert_eq!(event["type"], "license.contact_changed");
        let data = &event["data"];
        assert_eq!(data["auditEventId"], audit);
        assert_eq!(data["license"]["id"], license.to_string());
        assert_eq!(data["license"]["version"], 2);
        assert_eq!(data["oldContact"]["name"], "Peter Gibbons");
        assert_eq!(data["newContact"]["email"], "contact1@initech.example");
        assert_eq!(data["actor"]["role"], "support");
        assert_eq!(data["reason"], "handover 1");
        assert_signed(&secret, &received);
        let deliveries = site.deliveries(&endpoint).await;
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0]["status"], "SUCCEEDED");
        assert_eq!(deliveries[0]["attempts"], 1);
        assert_eq!(deliveries[0]["eventId"], received[0].id);
        assert_eq!(deliveries[0]["payload"], received[0].body);
    }
}
