//! Signed webhooks: licensedot tells other tools when a license is about to expire, has
//! expired, or changed hands, instead of waiting to be asked.
//!
//! - Events are written to the outbox in the license database (`licenses::webhooks`): by the
//!   change that causes them, in its transaction, or by the [`scheduler`] for time-based ones,
//!   once per dedupe key.
//! - The [`worker`] delivers them: signed per Standard Webhooks ([`signature`], secrets in
//!   [`secret`]), retried with backoff and jitter ([`backoff`]) for the retry horizon, bounded
//!   in time, size and concurrency ([`sender`]), and only to addresses the policy allows
//!   ([`address`]: no private networks, resolve-and-pin).
//! - [`admin`]: what admins do with endpoints; [`config`]: `[gateway.webhooks]`; [`clock`]:
//!   the injectable time; [`metrics`]: what is reported.
//!
//! A [`Webhooks`] is built once per gateway process and shared (cheap to clone);
//! [`Webhooks::start`] runs the worker and the scheduler on their own tasks until stopped.

pub mod address;
pub mod admin;
pub mod backoff;
pub mod clock;
pub mod config;
pub mod metrics;
pub mod scheduler;
pub mod secret;
pub mod sender;
pub mod signature;
pub mod worker;

use std::sync::Arc;

use licenses::webhooks::deliveries::{self, Queue};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use admin::{AdminError, EndpointInput, WithSecret};
pub use clock::{Clock, SystemClock};
pub use config::{ConfigError, Settings, WebhooksConfig};
pub use entity::webhook_event::EventType;
pub use metrics::{NoMetrics, WebhookMetrics};

/// Why the webhooks cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot build the webhooks' HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// What the worker, the scheduler and the admin operations share.
pub(crate) struct Shared {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub sender: sender::Sender,
    pub metrics: Arc<dyn WebhookMetrics>,
    /// Wakes the worker before its next poll (an event was just written).
    pub wake: Notify,
}

/// The webhooks of one gateway process.
#[derive(Clone)]
pub struct Webhooks(Arc<Shared>);

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Webhooks")
    }
}

impl Webhooks {
    /// Checks `config` and builds the HTTP client; starts nothing yet.
    pub fn new(
        db: DatabaseConnection,
        config: &WebhooksConfig,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn WebhookMetrics>,
    ) -> Result<Self, StartError> {
        let settings = config.validate()?;
        let sender = sender::Sender::new(
            settings.policy.clone(),
            settings.attempt_timeout,
            settings.max_response_bytes,
        )
        .map_err(StartError::HttpClient)?;
        Ok(Self(Arc::new(Shared {
            db,
            settings,
            clock,
            sender,
            metrics,
            wake: Notify::new(),
        })))
    }

    /// Runs the worker and the scheduler until [`Running::stop`] (or until the `Running` is
    /// dropped, which aborts them: what was in flight is delivered again after its lease).
    pub fn start(&self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(worker::run(self.0.clone(), stopped.clone()));
        let scheduler = tokio::spawn(scheduler::run(self.0.clone(), stopped));
        Running {
            stop,
            tasks: vec![worker, scheduler],
        }
    }

    /// Tells the worker to look for due deliveries now (an event was just written).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// The delivery queue now (pending deliveries to active endpoints, and the oldest one's
    /// creation), for `/metrics`.
    pub async fn queue(&self) -> Result<Queue, licenses::Error> {
        deliveries::queue(&self.0.db).await
    }

    /// The checked settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }
}

/// The worker and the scheduler of one gateway, running.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops both: no new claims or ticks, attempts in flight finish (within their timeout).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
