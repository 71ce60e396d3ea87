//! Two gateway replicas over one database share the work: each event is written once by the
//! two schedulers and delivered once by the two workers.

use std::collections::HashMap;
use std::time::Duration;

use e2e_tests::{Backend, backends};
use sea_orm::{EntityTrait, PaginatorTrait};

use super::harness::{Node, Site, assert_signed, config, idle, license_expiring_in};
use super::receiver::Receiver;

#[tokio::test]
async fn two_replicas_deliver_each_event_once() {
    for backend in backends() {
        if backend != Backend::Postgres {
            continue; // Replicas share a PostgreSQL server; SQLite serves one process.
        }
        let site = Site::start(backend, |_| {}).await;
        let second = Node::start(config(&site.db.url), site.clock.clone()).await;
        // Two endpoints: the work is per delivery, and each endpoint gets its own in order.
        let receivers = [Receiver::start().await, Receiver::start().await];
        let mut secrets = Vec::new();
        for receiver in &receivers {
            let (_, secret) = site
                .subscribe_url(&receiver.url(), &["LICENSE_EXPIRING"])
                .await;
            secrets.push(secret);
        }
        const LICENSES: usize = 40;
        for _ in 0..LICENSES {
            license_expiring_in(site.database(), 95).await;
        }
        site.clock.shift_days(5);
        for receiver in &receivers {
            receiver
                .wait_for(Duration::from_secs(30), "every event", |r| {
                    r.len() >= LICENSES
                })
                .await;
        }
        idle(Duration::from_millis(2_500)).await;
        let events = entity::webhook_event::Entity::find()
            .count(site.database())
            .await
            .unwrap();
        assert_eq!(events, LICENSES as u64, "each event written once");
        for (receiver, secret) in receivers.iter().zip(&secrets) {
            let mut per_id: HashMap<String, usize> = HashMap::new();
            for request in receiver.received() {
                *per_id.entry(request.id).or_default() += 1;
            }
            assert_eq!(per_id.len(), LICENSES);
            assert!(
                per_id.values().all(|n| *n == 1),
                "delivered twice: {per_id:?}"
            );
            assert_signed(secret, &receiver.received()[..3]);
        }
        let attempted = |metrics: String| {
            metrics
                .lines()
                .find(|l| l.starts_with("licensedot_webhook_attempts_total{result=\"delivered\"}"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (first, other) = (
            attempted(site.node.metrics().await),
            attempted(second.metrics().await),
        );
        assert_eq!(first + other, 2 * LICENSES, "{first} + {other}");
    }
}
