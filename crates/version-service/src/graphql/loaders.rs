//! Per-request batch loaders: every entity and field of a request shares them, so a batch of
//! `_entities` representations costs one statement per loader, not one per representation.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use crate::{
    Error,
    store::{self, LicenseKey, PingSummary, ReportingHostRow, hosts},
};

/// Loader errors are shared by every key of the failed batch.
pub type LoadError = Arc<Error>;

/// How long a loader waits for more keys before it queries. Representations of one
/// `_entities` call are resolved concurrently and all ask within this window.
const BATCH_DELAY: Duration = Duration::from_millis(2);

/// The most keys one batch may carry: the gateway sends up to its `max_keys_per_call` (default
/// 2,000) representations at once, and a batch must not split into several statements. The
/// reporting-hosts query binds three parameters per key: 3 × 10,000 stays under the limits of
/// PostgreSQL (65,535) and SQLite (32,766).
const MAX_BATCH: usize = 10_000;

/// A loader that remembers what it loaded for the rest of the request.
pub type CachedLoader<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request.
pub struct Loaders {
    pub hosts: CachedLoader<HostByName>,
    pub latest_pings: CachedLoader<LatestPingByHostId>,
    pub recent_pings: CachedLoader<PingsByHostId>,
    pub reporting_hosts: CachedLoader<ReportingHostsByLicense>,
    /// The host of every `Hostname` representation of the request (by normalised name; `None`
    /// for unknown names), set once every representation's data was loaded together.
    pub(crate) primed: OnceCell<HashMap<String, Option<hosts::Model>>>,
}

impl Loaders {
    /// Fresh loaders (and caches) for one request.
    pub fn new(db: &DatabaseConnection) -> Self {
        fn make<T>(loader: T) -> CachedLoader<T> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
                .delay(BATCH_DELAY)
                .max_batch_size(MAX_BATCH)
        }
        Self {
            hosts: make(HostByName(db.clone())),
            latest_pings: make(LatestPingByHostId(db.clone())),
            recent_pings: make(PingsByHostId(db.clone())),
            reporting_hosts: make(ReportingHostsByLicense(db.clone())),
            primed: OnceCell::new(),
        }
    }
}

/// Hosts by normalised hostname.
pub struct HostByName(DatabaseConnection);

impl Loader<String> for HostByName {
    type Value = hosts::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let rows = store::hosts_by_name(&self.0, keys).await?;
        Ok(rows.into_iter().map(|h| (h.hostname.clone(), h)).collect())
    }
}

/// The newest ping of each host.
pub struct LatestPingByHostId(DatabaseConnection);

impl Loader<i64> for LatestPingByHostId {
    type Value = PingSummary;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = store::latest_pings(&self.0, keys).await?;
        Ok(rows.into_iter().map(|p| (p.host_id, p)).collect())
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
    type Value = Vec<PingSummary>;
    type Error = LoadError;

    async fn load(&self, keys: &[PingsKey]) -> Result<HashMap<PingsKey, Self::Value>, Self::Error> {
        let last = keys.iter().map(|k| k.last).max().unwrap_or(0);
        let mut host_ids: Vec<i64> = keys.iter().map(|k| k.host_id).collect();
        host_ids.sort_unstable();
        host_ids.dedup();
        let rows = store::recent_pings(&self.0, &host_ids, last).await?;
        // Rows come ordered by host, newest first.
        let mut by_host: HashMap<i64, Vec<PingSummary>> = HashMap::new();
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

/// Hosts whose pings carry a license, per license.
pub struct ReportingHostsByLicense(DatabaseConnection);

impl Loader<LicenseKey> for ReportingHostsByLicense {
    type Value = Vec<ReportingHostRow>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LicenseKey],
    ) -> Result<HashMap<LicenseKey, Self::Value>, Self::Error> {
        let rows = store::reporting_hosts(&self.0, keys).await?;
        Ok(keys
            .iter()
            .map(|key| {
                let mut hosts: Vec<ReportingHostRow> = Vec::new();
                for row in &rows {
                    let matches = key.matches(
                        row.license_id,
                        row.license_md5.as_deref(),
                        row.license_sha256.as_deref(),
                    );
                    if matches && !hosts.iter().any(|h| h.host_id == row.host_id) {
                        hosts.push(row.clone());
                    }
                }
                (key.clone(), hosts)
            })
            .collect())
    }
}
