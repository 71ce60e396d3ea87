//! The scheduler's windows and dedupe keys.

use chrono::Days;
use entity::webhook_event::EventType;
use licenses::webhooks::outbox::{self, Recorded};
use licenses::webhooks::schedule;
use serde_json::Value;
use test_support::backends;

use crate::support::{Db, at, day, endpoint, license};

#[tokio::test]
async fn each_license_is_due_the_event_of_the_window_it_is_in_once() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_schedule").await;
        let today = day("2027-03-01");
        let now = at("2027-03-01T09:00:00Z");
        endpoint(db, &[EventType::LicenseExpiring, EventType::LicenseExpired]).await;
        let mut ids = std::collections::BTreeMap::new();
        for offset in [-8i64, -7, 0, 1, 7, 8, 30, 31, 90, 91] {
            let expires = if offset < 0 {
                today.checked_sub_days(Days::new(offset.unsigned_abs()))
            } else {
                today.checked_add_days(Days::new(offset as u64))
            };
            ids.insert(license(db, expires).await.id, offset);
        }
        license(db, None).await;

        let due = |events: Vec<outbox::NewEvent>| -> Vec<(i64, Option<i64>)> {
            let mut due: Vec<(i64, Option<i64>)> = events
                .iter()
                .map(|e| {
                    let id: i64 = e.data["license"]["id"].as_str().unwrap().parse().unwrap();
                    (ids[&id], e.data["thresholdDays"].as_i64())
                })
                .collect();
            due.sort();
            due
        };
        let expiring = schedule::expiring(db, today, &[90, 30, 7], now, 100)
            .await
            .unwrap();
        assert_eq!(
            due(expiring.clone()),
            vec![
                (1, Some(7)),
                (7, Some(7)),
                (8, Some(30)),
                (30, Some(30)),
                (31, Some(90)),
                (90, Some(90)),
            ],
            "{backend:?}"
        );
        let expired = schedule::expired(db, today, now, 100).await.unwrap();
        assert_eq!(due(expired.clone()), vec![(-7, None), (0, None)]);

        let seven = expiring
            .iter()
            .find(|e| e.data["thresholdDays"] == 7)
            .unwrap();
        assert_eq!(seven.data["daysUntilExpiry"], 1);
        assert_eq!(seven.data["customer"]["name"], "Acme Inc");
        assert!(
            seven.data["contact"]["email"]
                .as_str()
                .unwrap()
                .ends_with("@acme.example")
        );
        let body: Value = serde_json::from_str(&seven.body().unwrap()).unwrap();
        assert_eq!(body["type"], "license.expiring");

        for event in expiring.iter().chain(&expired) {
            assert!(matches!(
                outbox::record(db, event, now).await.unwrap(),
                Recorded::Written { .. }
            ));
        }
        // Computed again (another tick, another replica): nothing is due twice.
        assert!(
            schedule::expiring(db, today, &[90, 30, 7], now, 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            schedule::expired(db, today, now, 100)
                .await
                .unwrap()
                .is_empty()
        );
        // A day on, the licenses at 8, 31 and 91 days enter the next windows: new events.
        let later = today.checked_add_days(Days::new(1)).unwrap();
        let next = schedule::expiring(db, later, &[90, 30, 7], now, 100)
            .await
            .unwrap();
        assert_eq!(
            due(next),
            vec![(8, Some(7)), (31, Some(30)), (91, Some(90))]
        );
    }
}

#[tokio::test]
async fn a_tick_writes_at_most_its_limit_most_urgent_first() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_schedule_limit").await;
        let today = day("2027-03-01");
        let now = at("2027-03-01T09:00:00Z");
        for offset in [60u64, 20, 5, 3] {
            license(db, today.checked_add_days(Days::new(offset))).await;
        }
        let due = schedule::expiring(db, today, &[90, 30, 7], now, 2)
            .await
            .unwrap();
        let days: Vec<i64> = due
            .iter()
            .map(|e| e.data["daysUntilExpiry"].as_i64().unwrap())
            .collect();
        assert_eq!(days, vec![3, 5]);
    }
}
