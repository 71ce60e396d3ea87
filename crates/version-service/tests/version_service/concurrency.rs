//! Many servers pinging at once: no ping is lost (SQLite's single writer included), and none
//! that was acknowledged is lost when PostgreSQL restarts under the load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::private_postgres;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use private_postgres::PrivatePostgres;
use sea_orm::{ConnectionTrait, Statement};

use common::{TestApp, for_each_backend, ping};
use futures::StreamExt;
use sea_orm::{EntityTrait, PaginatorTrait};
use version_service::{
    Config,
    store::{host, usage_ping},
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
        let stored = usage_ping::Entity::find().count(app.db()).await.unwrap();
        assert_eq!(stored, PINGS as u64, "{}", db.backend);
        let host_count = host::Entity::find().count(app.db()).await.unwrap();
        assert_eq!(host_count, HOSTS as u64, "{}", db.backend);
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    })
    .await;
}

const DURABLE_SENDERS: usize = 50;
const PINGS_PER_SENDER: usize = 200;
/// Every this-many-th ping is sent a second time once acknowledged (a sender retrying).
const DUPLICATE_EVERY: usize = 10;
/// How long a sender keeps retrying one ping that got a 5xx or a connection error.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// Every attempt's outcome, by (sender, ping number).
type Attempts = HashMap<(usize, usize), Vec<Outcome>>;

/// What one attempt to send a ping got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    ConnectionError,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_ping_is_lost_when_postgres_restarts_under_load() {
    let test = async {
        let cluster = Arc::new(
            tokio::task::spawn_blocking(PrivatePostgres::start)
                .await
                .unwrap(),
        );
        let app = Arc::new(TestApp::spawn(&cluster.url(), Config::default()).await);
        // Whole seconds, so what is stored compares equal to what was sent.
        let base = DateTime::<Utc>::from_timestamp(Utc::now().timestamp() - 3600, 0).unwrap();
        let attempts: Arc<Mutex<Attempts>> = Arc::default();
        let answered = Arc::new(AtomicUsize::new(0));
        let restarted = Arc::new(AtomicBool::new(false));
        let acknowledged_after_restart = Arc::new(AtomicUsize::new(0));

        // Crash and restart the database once a third of the pings are in.
        let restart = {
            let (cluster, answered, restarted) = (
                Arc::clone(&cluster),
                Arc::clone(&answered),
                Arc::clone(&restarted),
            );
            tokio::spawn(async move {
                while answered.load(Ordering::SeqCst) < DURABLE_SENDERS * PINGS_PER_SENDER / 3 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let crashed_at = Instant::now();
                let c = Arc::clone(&cluster);
                tokio::task::spawn_blocking(move || c.crash())
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
                tokio::task::spawn_blocking(move || cluster.pg_ctl_start())
                    .await
                    .unwrap();
                restarted.store(true, Ordering::SeqCst);
                (crashed_at.elapsed(), answered.load(Ordering::SeqCst))
            })
        };

        let senders: Vec<_> = (0..DURABLE_SENDERS)
            .map(|sender| {
                let (app, attempts, answered, restarted, after) = (
                    Arc::clone(&app),
                    Arc::clone(&attempts),
                    Arc::clone(&answered),
                    Arc::clone(&restarted),
                    Arc::clone(&acknowledged_after_restart),
                );
                tokio::spawn(async move {
                    for n in 0..PINGS_PER_SENDER {
                        let body = ping(
                            &format!("durable-{sender:02}"),
                            &format!("sender-{sender:02}.example"),
                            &(base - TimeDelta::minutes(n as i64)).to_rfc3339(),
                        )
                        .to_string();
                        let sends = if n % DUPLICATE_EVERY == 0 { 2 } else { 1 };
                        for _ in 0..sends {
                            let deadline = Instant::now() + RETRY_FOR;
                            loop {
                                let outcome = match app
                                    .client
                                    .post(format!("{}/usage_data", app.base))
                                    .header("content-type", "application/json")
                                    .body(body.clone())
                                    .send()
                                    .await
                                {
                                    Ok(response) => Outcome::Status(response.status().as_u16()),
                                    Err(_) => Outcome::ConnectionError,
                                };
                                attempts
                                    .lock()
                                    .unwrap()
                                    .entry((sender, n))
                                    .or_default()
                                    .push(outcome);
                                let acknowledged =
                                    matches!(outcome, Outcome::Status(s) if (200..300).contains(&s));
                                if acknowledged {
                                    if restarted.load(Ordering::SeqCst) {
                                        after.fetch_add(1, Ordering::SeqCst);
                                    }
                                    break;
                                }
                                if Instant::now() > deadline
                                    || matches!(outcome, Outcome::Status(s) if s < 500)
                                {
                                    break;
                                }
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        let (downtime, answered_at_restart) = restart.await.unwrap();

        // What the database holds, read back by its identity.
        let rows = app
            .db()
            .query_all_raw(Statement::from_string(
                app.db().get_database_backend(),
                "SELECT uuid, recorded_at FROM usage_pings",
            ))
            .await
            .unwrap();
        let mut stored: HashMap<(usize, usize), usize> = HashMap::new();
        for row in rows {
            let uuid: String = row.try_get("", "uuid").unwrap();
            let recorded_at: DateTime<Utc> = row.try_get("", "recorded_at").unwrap();
            let sender: usize = uuid.trim_start_matches("durable-").parse().unwrap();
            let n = usize::try_from((base - recorded_at).num_minutes()).unwrap();
            *stored.entry((sender, n)).or_default() += 1;
        }

        let attempts = std::mem::take(&mut *attempts.lock().unwrap());
        let mut failed_attempts = 0;
        for (key, outcomes) in attempts.iter() {
            let copies = stored.get(key).copied().unwrap_or(0);
            let acknowledged = outcomes
                .iter()
                .any(|o| matches!(o, Outcome::Status(s) if (200..300).contains(s)));
            assert!(copies <= 1, "{key:?} stored {copies} times: {outcomes:?}");
            if acknowledged {
                assert_eq!(
                    copies, 1,
                    "{key:?} was acknowledged but not stored: {outcomes:?}"
                );
            } else {
                assert_eq!(
                    copies, 0,
                    "{key:?} stored without ever being acknowledged: {outcomes:?}"
                );
            }
            for outcome in outcomes {
                match outcome {
                    Outcome::Status(s) if (200..300).contains(s) => {}
                    // What tells the sender to retry: a server error or a broken connection.
                    Outcome::Status(s) if *s >= 500 => failed_attempts += 1,
                    Outcome::ConnectionError => failed_attempts += 1,
                    Outcome::Status(s) => panic!("{key:?} got {s}: {outcomes:?}"),
                }
            }
        }
        assert_eq!(attempts.len(), DURABLE_SENDERS * PINGS_PER_SENDER);
        // The restart really happened under load (pings were still being sent once the database
        // was back), and the service recovered from it. Whether a request failed depends on
        // timing: the pool waits for the database up to its acquire time-out.
        assert!(
            answered_at_restart < DURABLE_SENDERS * PINGS_PER_SENDER,
            "every ping was sent before the restart"
        );
        assert!(
            acknowledged_after_restart.load(Ordering::SeqCst) > 0,
            "nothing was acknowledged after the restart"
        );
        // With senders that retry, every ping ends up stored.
        assert_eq!(stored.len(), DURABLE_SENDERS * PINGS_PER_SENDER);
        println!(
            "{} pings ({} attempts, {failed_attempts} failed) across a restart of {downtime:?}",
            stored.len(),
            attempts.values().map(Vec::len).sum::<usize>()
        );
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(240), test)
        .await
        .expect("the durability test took longer than 4 minutes");
}
