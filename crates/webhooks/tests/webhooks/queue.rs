//! Claiming and recording deliveries.

use std::collections::HashSet;

use chrono::Duration;
use entity::webhook_delivery::{self, Status};
use entity::webhook_event::{self, EventType};
use licenses::webhooks::deliveries::{self, Attempt, Claimed};
use licenses::webhooks::endpoints;
use licenses::webhooks::outbox::Recorded;
use sea_orm::{EntityTrait, PaginatorTrait};
use test_support::backends;

use crate::support::{Db, at, endpoint, event};

const CHANGED: EventType = EventType::LicenseContactChanged;

fn keys(claimed: &[Claimed]) -> Vec<(i64, String)> {
    let mut keys: Vec<(i64, String)> = claimed
        .iter()
        .map(|c| (c.endpoint.id, c.event.dedupe_key.clone()))
        .collect();
    keys.sort();
    keys
}

fn ok() -> Attempt {
    Attempt {
        status: Some(200),
        error: None,
    }
}

fn refused() -> Attempt {
    Attempt {
        status: Some(500),
        error: Some("the endpoint answered HTTP 500".into()),
    }
}

#[tokio::test]
async fn each_endpoint_gets_its_deliveries_one_at_a_time_in_the_order_written() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_order").await;
        let t0 = at("2027-01-01T00:00:00Z");
        let (a, b) = (
            endpoint(db, &[CHANGED]).await,
            endpoint(db, &[CHANGED]).await,
        );
        for key in ["e1", "e2", "e3"] {
            assert!(matches!(
                event(db, key, t0).await,
                Recorded::Written { deliveries: 2, .. }
            ));
        }
        let lease = t0 + Duration::minutes(1);
        let first = deliveries::claim(db, t0, lease, 10).await.unwrap();
        assert_eq!(
            keys(&first),
            vec![(a.id, "e1".into()), (b.id, "e1".into())],
            "{backend:?}"
        );
        assert!(first.iter().all(|c| c.delivery.attempts == 1));
        // Both heads are leased: nothing else is due, however much room there is.
        assert!(
            deliveries::claim(db, t0, lease, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A's first succeeds; B's first fails and is retried later: A moves on, B waits.
        let (to_a, to_b) = if first[0].endpoint.id == a.id {
            (&first[0], &first[1])
        } else {
            (&first[1], &first[0])
        };
        assert!(
            deliveries::succeeded(db, &to_a.delivery, &ok(), t0)
                .await
                .unwrap()
        );
        let later = t0 + Duration::minutes(10);
        assert!(
            deliveries::retry(db, &to_b.delivery, &refused(), later)
                .await
                .unwrap()
        );
        let next = deliveries::claim(db, t0, lease, 10).await.unwrap();
        assert_eq!(keys(&next), vec![(a.id, "e2".into())]);
        assert!(
            deliveries::succeeded(db, &next[0].delivery, &ok(), t0)
                .await
                .unwrap()
        );

        // When B's retry is due, its first event goes before its second.
        let retried = deliveries::claim(db, later, later + Duration::minutes(1), 10)
            .await
            .unwrap();
        assert_eq!(
            keys(&retried),
            vec![(a.id, "e3".into()), (b.id, "e1".into())]
        );
        let again = retried.iter().find(|c| c.endpoint.id == b.id).unwrap();
        assert_eq!(again.delivery.attempts, 2);
        assert_eq!(again.delivery.last_status, Some(500));
    }
}

#[tokio::test]
async fn a_lease_that_runs_out_is_due_again_and_the_old_lease_records_nothing() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_lease").await;
        let t0 = at("2027-01-01T00:00:00Z");
        endpoint(db, &[CHANGED]).await;
        event(db, "e1", t0).await;
        let lease = Duration::seconds(15);
        let first = deliveries::claim(db, t0, t0 + lease, 1).await.unwrap();
        assert_eq!(first.len(), 1);
        let during = t0 + Duration::seconds(10);
        assert!(
            deliveries::claim(db, during, during + lease, 1)
                .await
                .unwrap()
                .is_empty()
        );
        // The first worker died: after its lease another one takes the delivery.
        let after = t0 + Duration::seconds(16);
        let second = deliveries::claim(db, after, after + lease, 1)
            .await
            .unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].delivery.id, first[0].delivery.id);
        assert_eq!(second[0].delivery.attempts, 2);
        assert_eq!(
            second[0].event.message_id, first[0].event.message_id,
            "same webhook-id"
        );
        // A late word from the first worker changes nothing; the current lease records.
        assert!(
            !deliveries::succeeded(db, &first[0].delivery, &ok(), after)
                .await
                .unwrap()
        );
        assert!(
            deliveries::succeeded(db, &second[0].delivery, &ok(), after)
                .await
                .unwrap()
        );
        let stored = webhook_delivery::Entity::find_by_id(first[0].delivery.id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.status, stored.attempts), (Status::Succeeded, 2));
    }
}

#[tokio::test]
async fn concurrent_claims_never_take_the_same_delivery() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_concurrent").await;
        let t0 = at("2027-01-01T00:00:00Z");
        for _ in 0..30 {
            endpoint(db, &[CHANGED]).await;
        }
        event(db, "e1", t0).await;
        let claims = (0..8).map(|_| {
            let db = db.clone();
            async move { deliveries::claim(&db, t0, t0 + Duration::minutes(1), 5).await }
        });
        let results = futures::future::join_all(claims).await;
        let mut seen = HashSet::new();
        for claimed in results {
            for claimed in claimed.unwrap() {
                assert!(
                    seen.insert(claimed.delivery.id),
                    "claimed twice: {backend:?}"
                );
            }
        }
        assert_eq!(seen.len(), 30, "{backend:?}");
    }
}

#[tokio::test]
async fn events_are_written_once_and_only_for_subscribers() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_outbox").await;
        let t0 = at("2027-01-01T00:00:00Z");
        assert_eq!(event(db, "e1", t0).await, Recorded::NoSubscribers);
        endpoint(db, &[EventType::LicenseExpired]).await;
        assert_eq!(event(db, "e1", t0).await, Recorded::NoSubscribers);
        let subscribed = endpoint(db, &[EventType::LicenseExpired, CHANGED]).await;
        assert!(matches!(
            event(db, "e1", t0).await,
            Recorded::Written { deliveries: 1, .. }
        ));
        assert_eq!(event(db, "e1", t0).await, Recorded::Duplicate);
        assert_eq!(webhook_event::Entity::find().count(db).await.unwrap(), 1);
        // A disabled endpoint gets nothing new, and its pending deliveries fail.
        endpoints::disable(db, subscribed.id, "disabled by test", t0)
            .await
            .unwrap();
        assert_eq!(event(db, "e2", t0).await, Recorded::NoSubscribers);
        let deliveries = webhook_delivery::Entity::find().all(db).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].status, Status::Failed);
        assert!(
            deliveries[0]
                .last_error
                .as_deref()
                .unwrap()
                .contains("disabled by test")
        );
        assert!(deliveries::claim(db, t0, t0, 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn retention_deletes_old_completed_deliveries_and_their_events_only() {
    for backend in backends() {
        let Db { db, .. } = &Db::fresh(backend, "wh_purge").await;
        let t0 = at("2027-01-01T00:00:00Z");
        endpoint(db, &[CHANGED]).await;
        event(db, "old-done", t0).await;
        event(db, "old-pending", t0).await;
        let claimed = deliveries::claim(db, t0, t0, 1).await.unwrap();
        assert!(
            deliveries::succeeded(db, &claimed[0].delivery, &ok(), t0)
                .await
                .unwrap()
        );
        let later = t0 + Duration::days(200);
        event(db, "recent-done", later).await;
        let claimed = deliveries::claim(db, later, later, 1).await.unwrap();
        assert_eq!(claimed[0].event.dedupe_key, "old-pending");
        assert!(
            deliveries::succeeded(db, &claimed[0].delivery, &ok(), later)
                .await
                .unwrap()
        );
        let (gone_deliveries, gone_events) = deliveries::purge(db, later - Duration::days(120))
            .await
            .unwrap();
        assert_eq!((gone_deliveries, gone_events), (1, 1), "{backend:?}");
        let mut left: Vec<String> = webhook_event::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.dedupe_key)
            .collect();
        left.sort();
        assert_eq!(left, vec!["old-pending", "recent-done"]);
        let queue = deliveries::queue(db).await.unwrap();
        assert_eq!(queue.depth, 1);
        assert_eq!(queue.oldest_created_at, Some(later));
    }
}
