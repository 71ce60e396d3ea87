//! Usage data from the version subgraph: the per-request plan of which usage fields the query
//! wants, the loader that fetches them with `_entities`, and the look-ahead that fills the plan.
//!
//! Whoever creates `Hostname` or `License` objects registers what the query selects below them
//! (see `prefetch`), so when the loader sends its batch, one query text covers every field of
//! the request: one HTTP call per batch, whatever mix of fields and objects it serves.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::Loader;
use async_graphql::{Lookahead, Value as GqlValue};
use entity::usage_ping;
use serde_json::{Value, json};

use crate::lookahead::{
    HOSTNAME_INSTALLATIONS, HOSTNAME_LAST_USAGE_PING_AT, HOSTNAME_LATEST_USAGE_PING,
    HOSTNAME_REPORTED_LICENSE, HOSTNAME_USAGE_PINGS, INSTALLATION_LATEST_USAGE_PING,
    LICENSE_HOSTNAMES, LICENSE_REPORTING_HOSTS, LICENSE_SERVER_HEALTH, LICENSE_UTILIZATION,
    REPORTING_HOST_LATEST_USAGE_PING,
};
use crate::metrics::GraphMetrics;
use crate::upstream::selection::{HostnameSelection, LicenseSelection, PingFields, UsageSelection};
use crate::upstream::{UpstreamError, VersionClient};

/// An entity of the version subgraph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UsageKey {
    /// A server by normalised name.
    Hostname(String),
    /// A license with the digests pings report it by.
    License {
        id: i64,
        md5: String,
        sha256: String,
    },
    /// An installation uuid: the hosts whose pings carried it (a lookup).
    Installation(String),
}

impl UsageKey {
    fn representation(&self) -> Value {
        match self {
            UsageKey::Hostname(name) => json!({"__typename": "Hostname", "name": name}),
            UsageKey::License { id, md5, sha256 } => json!({
                "__typename": "License", "id": id.to_string(), "licenseMd5": md5, "licenseSha256": sha256
            }),
            UsageKey::Installation(uuid) => {
                json!({"__typename": "InstallationUuid", "uuid": uuid})
            }
        }
    }
}

/// An entity as the subgraph returned it (null when it knows nothing of the key), or why not.
pub type UsageEntity = Result<Arc<Value>, UpstreamError>;

/// The usage fields this request wants, merged from every place that registered some.
#[derive(Debug, Default)]
pub struct UsagePlan(Mutex<UsageSelection>);

impl UsagePlan {
    /// Adds `wanted` to the plan.
    pub fn want(&self, wanted: &UsageSelection) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .merge(wanted);
    }

    fn query(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .render_query()
    }
}

/// Loads version-subgraph entities: one `_entities` call per batch (split by the client into
/// calls of at most the configured number of keys).
pub struct UsageLoader {
    pub client: Arc<VersionClient>,
    pub plan: Arc<UsagePlan>,
    pub request_id: Option<String>,
    pub metrics: Arc<dyn GraphMetrics>,
}

impl Loader<UsageKey> for UsageLoader {
    type Value = UsageEntity;
    type Error = Infallible;

    async fn load(&self, keys: &[UsageKey]) -> Result<HashMap<UsageKey, UsageEntity>, Infallible> {
        self.metrics.batch("UsageLoader", keys.len());
        let representations = keys.iter().map(UsageKey::representation).collect();
        let results = self
            .client
            .entities(
                &self.plan.query(),
                representations,
                self.request_id.as_deref(),
            )
            .await;
        Ok(keys
            .iter()
            .cloned()
            .zip(results.into_iter().map(|r| r.map(Arc::new)))
            .collect())
    }
}

/// The ping fields selected under `lookahead` (a `UsagePing` field), or `None` when absent.
fn ping_fields(lookahead: &Lookahead<'_>) -> Option<PingFields> {
    if !lookahead.exists() {
        return None;
    }
    let mut fields = PingFields::default();
    for field in lookahead.selection_fields() {
        for child in field.selection_set() {
            fields.add(child.name());
        }
    }
    Some(fields)
}

/// What a query wants of `Hostname` objects, from the look-ahead of a field returning them.
pub fn hostname_selection(hostname: &Lookahead<'_>) -> UsageSelection {
    let mut latest = ping_fields(&HOSTNAME_LATEST_USAGE_PING.under(hostname));
    if HOSTNAME_REPORTED_LICENSE.under(hostname).exists() {
        let fields = latest.get_or_insert_with(PingFields::default);
        fields.add("verifiedLicenseId");
    }
    let installations = HOSTNAME_INSTALLATIONS.under(hostname);
    let mut selection = HostnameSelection {
        last_usage_ping_at: HOSTNAME_LAST_USAGE_PING_AT.under(hostname).exists(),
        latest,
        history: Default::default(),
        installations: installations.exists().then(|| {
            ping_fields(&INSTALLATION_LATEST_USAGE_PING.under(&installations)).unwrap_or_default()
        }),
    };
    for field in HOSTNAME_USAGE_PINGS.under(hostname).selection_fields() {
        let last = field
            .arguments()
            .ok()
            .and_then(|args| args.into_iter().find(|(name, _)| name.as_str() == "last"))
            .and_then(|(_, value)| match value {
                GqlValue::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => None,
            });
        if let Ok(last) = usage_ping::history::length(last) {
            let mut fields = PingFields::default();
            for child in field.selection_set() {
                fields.add(child.name());
            }
            selection.history.entry(last).or_default().merge(&fields);
        }
    }
    UsageSelection {
        hostname: selection,
        license: LicenseSelection::default(),
        installation_hosts: false,
    }
}

/// What a query wants of `License` objects (reporting hosts, utilization, and the usage of their
/// hostnames), from the look-ahead of a field returning them.
pub fn license_selection(license: &Lookahead<'_>) -> UsageSelection {
    let mut selection = hostname_selection(&LICENSE_HOSTNAMES.under(license));
    let reporting = LICENSE_REPORTING_HOSTS.under(license);
    let utilization = LICENSE_UTILIZATION.under(license).exists();
    if reporting.exists() || utilization {
        let mut fields =
            ping_fields(&REPORTING_HOST_LATEST_USAGE_PING.under(&reporting)).unwrap_or_default();
        if utilization {
            fields.add("activeUserCount");
        }
        selection.license.reporting_hosts = Some(fields);
    }
    if LICENSE_SERVER_HEALTH.under(license).exists() {
        // What `serverHealth` reads: the attached servers' last ping and newest ping's version
        // and proven license, and the reporting servers' versions; in the same `_entities` call.
        let mut ping = PingFields::default();
        ping.add("version");
        ping.add("verifiedLicenseId");
        let mut health = UsageSelection::default();
        health.hostname.last_usage_ping_at = true;
        health.hostname.latest = Some(ping.clone());
        health.license.reporting_hosts = Some(ping);
        selection.merge(&health);
    }
    selection
}
