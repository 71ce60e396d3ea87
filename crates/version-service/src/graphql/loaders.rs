//! Per-request batch loaders: every entity and field of a request shares them, so a batch of
//! `_entities` representations costs one statement per loader, not one per representation.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use crate::{
    Error,
    store::{
        self, CountsRow, LicenseKey, Report, ReportingHostRow, host, installation, usage_ping,
    },
};

/// Loader errors are shared by every key of the failed batch.
pub type LoadError = Arc<Error>;

/// How long a loader waits for more keys before it queries. Representations of one
/// `_entities` call are resolved concurrently and all ask within this window.
const BATCH_DELAY: Duration = Duration::from_millis(2);

/// The most keys one batch may carry: the gateway sends up to its `max_keys_per_call` (default
/// 2,000) representations at once, and a batch must not split into several statements. Keys
/// are bound as one array parameter, so this bounds memory, not placeholders.
const MAX_BATCH: usize = 10_000;

/// A loader that remembers what it loaded for the rest of the request.
pub type CachedLoader<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request.
pub struct Loaders {
    pub hosts: CachedLoader<HostByName>,
    pub hosts_of_uuid: CachedLoader<HostsByUuid>,
    pub pings: CachedLoader<PingById>,
    pub recent_pings: CachedLoader<PingsByHostId>,
    pub reporting_hosts: CachedLoader<ReportingHostsByLicense>,
    pub installations: CachedLoader<InstallationsByHostId>,
    pub counts: CachedLoader<CountsByPingId>,
    /// Most bytes of usage counters one answer may carry.
    pub counts_limit: usize,
    /// The host of every `Hostname` representation of the request (by normalised name; `None`
    /// for unknown names), set once every representation's data was loaded together.
    pub(crate) primed: OnceCell<HashMap<String, Option<host::Model>>>,
}

impl Loaders {
    /// Fresh loaders (and caches) for one request, whose answer may carry at most
    /// `counts_budget` bytes of usage counters.
    pub fn new(db: &DatabaseConnection, counts_budget: usize) -> Self {
        fn make<T>(loader: T) -> CachedLoader<T> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
                .delay(BATCH_DELAY)
                .max_batch_size(MAX_BATCH)
        }
        Self {
            hosts: make(HostByName(db.clone())),
            hosts_of_uuid: make(HostsByUuid(db.clone())),
            pings: make(PingById(db.clone())),
            recent_pings: make(PingsByHostId(db.clone())),
            reporting_hosts: make(ReportingHostsByLicense(db.clone())),
            installations: make(InstallationsByHostId(db.clone())),
            counts: make(CountsByPingId {
                db: db.clone(),
                budget: Mutex::new(counts_budget),
            }),
            counts_limit: counts_budget,
            primed: OnceCell::new(),
        }
    }
}

/// Hosts by normalised hostname.
pub struct HostByName(DatabaseConnection);

impl Loader<String> for HostByName {
    type Value = host::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = store::hosts_by_name(&self.0, keys.to_vec()).await?;
        Ok(rows.into_iter().map(|h| (h.hostname.clone(), h)).collect())
    }
}

/// The hosts whose pings carried an installation uuid, by hostname (at most
/// `store::MAX_HOSTS_PER_UUID` per uuid).
pub struct HostsByUuid(DatabaseConnection);

impl Loader<String> for HostsByUuid {
    type Value = Vec<host::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = store::hosts_by_uuid(&self.0, keys.to_vec()).await?;
        let mut by_uuid: HashMap<String, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for row in rows {
            by_uuid
                .entry(row.installation_uuid)
                .or_default()
                .push(row.host);
        }
        Ok(by_uuid)
    }
}

/// The installations of hosts (bounded per host, the holder first), by host id.
pub struct InstallationsByHostId(DatabaseConnection);

impl Loader<i64> for InstallationsByHostId {
    type Value = Vec<installation::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = store::installations_of_hosts(&self.0, keys.to_vec()).await?;
        let mut by_host: HashMap<i64, Vec<installation::Model>> =
            keys.iter().map(|&id| (id, Vec::new())).collect();
        for row in rows {
            by_host.entry(row.host_id).or_default().push(row);
        }
        Ok(by_host)
    }
}

/// Pings by id: the newest pings the read models point at.
pub struct PingById(DatabaseConnection);

impl Loader<i64> for PingById {
    type Value = usage_ping::Summary;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = store::pings_by_id(&self.0, keys.to_vec()).await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// The `last` newest pings of a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PingsKey {
    pub host_id: i64,
    pub last: u32,
}

/// Pings of many hosts; keys asking for different `last` share one query for the largest.
pub struct PingsByHostId(DatabaseConnection);

impl Loader<PingsKey> for PingsByHostId {
    type Value = Vec<usage_ping::Summary>;
    type Error = LoadError;

    async fn load(&self, keys: &[PingsKey]) -> Result<HashMap<PingsKey, Self::Value>, Self::Error> {
        let last = keys.iter().map(|k| k.last).max().unwrap_or(0);
        let mut host_ids: Vec<i64> = keys.iter().map(|k| k.host_id).collect();
        host_ids.sort_unstable();
        host_ids.dedup();
        let rows = store::recent_pings(&self.0, host_ids, last).await?;
        // Rows come ordered by host, newest first.
        let mut by_host: HashMap<i64, Vec<usage_ping::Summary>> = HashMap::new();
        for row in rows {
            by_host.entry(row.host_id).or_default().push(row);
        }
        Ok(keys
            .iter()
            .map(|key| {
                let pings = by_host
                    .get(&key.host_id)
                    .map(|pings| pings.iter().take(key.last as usize).cloned().collect())
                    .unwrap_or_default();
                (*key, pings)
            })
            .collect())
    }
}

/// Hosts that reported a license, per license, by hostname.
pub struct ReportingHostsByLicense(DatabaseConnection);

impl Loader<LicenseKey> for ReportingHostsByLicense {
    type Value = Vec<Report>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LicenseKey],
    ) -> Result<HashMap<LicenseKey, Self::Value>, Self::Error> {
        let rows = store::reporting_hosts(&self.0, keys).await?;
        let mut by_key: HashMap<&str, Vec<&ReportingHostRow>> = HashMap::new();
        for row in &rows {
            by_key
                .entry(row.license_key.as_str())
                .or_default()
                .push(row);
        }
        Ok(keys
            .iter()
            .map(|license| {
                // By hostname, each host once.
                let mut reports: Vec<Report> = Vec::new();
                let mut matched: Vec<&Report> = license
                    .read_model_keys()
                    .iter()
                    .filter_map(|key| by_key.get(key.as_str()))
                    .flatten()
                    .map(|row| &row.report)
                    .collect();
                matched.sort_by(|a, b| a.hostname.cmp(&b.hostname));
                for found in matched {
                    match reports.iter_mut().find(|r| r.host_id == found.host_id) {
                        Some(report) => report.merge(found),
                        None => reports.push(found.clone()),
                    }
                }
                (license.clone(), reports)
            })
            .collect())
    }
}

/// Usage counters by ping id, read from the payloads within the request's byte budget.
pub struct CountsByPingId {
    db: DatabaseConnection,
    /// What is left of the budget for later batches of the same request.
    budget: Mutex<usize>,
}

impl Loader<i64> for CountsByPingId {
    type Value = CountsRow;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let left = *self.budget.lock().unwrap_or_else(|p| p.into_inner());
        let (rows, used) = store::counts_by_ping_id(&self.db, keys.to_vec(), left).await?;
        let mut budget = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        *budget = budget.saturating_sub(used);
        Ok(rows.into_iter().collect())
    }
}
