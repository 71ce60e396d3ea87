//! Many servers pinging at once: no ping is lost (SQLite's single writer included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{TestApp, for_each_backend, ping};
use futures::StreamExt;
use sea_orm::{EntityTrait, PaginatorTrait};
use version_service::{
    Config,
    store::{hosts, usage_pings},
};

const PINGS: usize = 2_000;
const SENDERS: usize = 50;
const HOSTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_senders_lose_no_ping() {
    for_each_backend(|db| async move {
        let app = Arc::new(TestApp::spawn(&db.url, Config::default()).await);
        let statuses: Vec<u16> = futures::stream::iter(0..PINGS)
            .map(|i| {
                let app = Arc::clone(&app);
                async move {
                    // Many pings per host, so host upserts contend too.
                    let body = ping(
                        &format!("uuid-{}", i % HOSTS),
                        &format!("host-{}.example.com", i % HOSTS),
                        &format!("2026-11-{:02}T00:00:{:02}Z", 1 + i / 100, i % 60),
                    );
                    app.post_ping(body.to_string()).await.status().as_u16()
                }
            })
            .buffer_unordered(SENDERS)
            .collect()
            .await;
        let failures: Vec<&u16> = statuses.iter().filter(|s| **s != 201).collect();
        assert!(
            failures.is_empty(),
            "{}: {} failures: {:?}",
            db.backend,
            failures.len(),
            &failures[..failures.len().min(10)]
        );
        let stored = usage_pings::Entity::find().count(app.db()).await.unwrap();
        assert_eq!(stored, PINGS as u64, "{}", db.backend);
        let host_count = hosts::Entity::find().count(app.db()).await.unwrap();
        assert_eq!(host_count, HOSTS as u64, "{}", db.backend);
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    })
    .await;
}
