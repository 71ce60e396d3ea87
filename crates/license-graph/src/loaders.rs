//! Per-request DataLoaders for every relation of the license graph, so a request issues a fixed
//! number of SQL statements however many objects it lists. Each loader is built with the
//! request's scope: a batch never returns rows the caller may not see.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{audit_event, contact, customer, license};
use licenses::hostnames::Attachment;
use licenses::{Error, Scope};
use sea_orm::DatabaseConnection;

use crate::metrics::GraphMetrics;
use crate::upstream::VersionClient;
use crate::usage::{UsageLoader, UsagePlan};

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<Error>>;

/// What each loader needs: the connection and the caller's scope.
#[derive(Clone)]
pub struct Source {
    db: DatabaseConnection,
    scope: Scope,
    metrics: Arc<dyn GraphMetrics>,
}

/// Groups rows under their key, keeping the order the query returned them in.
fn group<K: Eq + Hash + Copy, V>(
    rows: impl IntoIterator<Item = (K, V)>,
    keys: &[K],
) -> HashMap<K, Vec<V>> {
    let mut grouped: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (key, value) in rows {
        grouped.entry(key).or_default().push(value);
    }
    grouped
}

macro_rules! loader {
    ($(#[$doc:meta])* $name:ident, $value:ty, |$source:ident, $keys:ident| $body:expr) => {
        $(#[$doc])*
        pub struct $name(Source);

        impl Loader<i64> for $name {
            type Value = $value;
            type Error = Arc<Error>;

            async fn load(&self, $keys: &[i64]) -> LoadResult<i64, $value> {
                let $source = &self.0;
                $source.metrics.batch(stringify!($name), $keys.len());
                $body.map_err(Arc::new)
            }
        }
    };
}

loader!(
    /// Customer by id.
    CustomerById, customer::Model, |s, keys| licenses::customers::by_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| rows.into_iter().map(|c| (c.id, c)).collect())
);

loader!(
    /// Contact by id.
    ContactById, contact::Model, |s, keys| licenses::contacts::by_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| rows.into_iter().map(|c| (c.id, c)).collect())
);

loader!(
    /// License by id.
    LicenseById, license::Model, |s, keys| licenses::issued::by_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| rows.into_iter().map(|l| (l.id, l)).collect())
);

loader!(
    /// A customer's contacts, by customer id.
    ContactsOfCustomer, Vec<contact::Model>, |s, keys| licenses::contacts::by_customer_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows.into_iter().map(|c| (c.customer_id, c)), keys))
);

loader!(
    /// A customer's licenses, newest first, by customer id.
    LicensesOfCustomer, Vec<license::Model>, |s, keys| licenses::issued::by_customer_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows.into_iter().map(|l| (l.customer_id, l)), keys))
);

loader!(
    /// The licenses delivered to a contact, newest first, by contact id.
    LicensesOfContact, Vec<license::Model>, |s, keys| licenses::issued::by_contact_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows.into_iter().map(|l| (l.contact_id, l)), keys))
);

loader!(
    /// The hostnames a license is installed on, by license id.
    HostnamesOfLicense, Vec<Attachment>, |s, keys| licenses::hostnames::by_license_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows.into_iter().map(|a| (a.license_id, a)), keys))
);

loader!(
    /// The licenses installed on a hostname, newest first, by hostname id.
    LicensesOfHostname, Vec<license::Model>, |s, keys| licenses::issued::by_hostname_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows, keys))
);

loader!(
    /// A license's newest audit events (at most `licenses::audit::MAX_PER_LICENSE`), newest
    /// first, by license id.
    AuditEventsOfLicense, Vec<audit_event::Model>, |s, keys| licenses::audit::by_license_ids(&s.db, &s.scope, keys)
        .await
        .map(|rows| group(rows.into_iter().filter_map(|e| Some((e.license_id?, e))), keys))
);

/// One request's loaders. Built fresh for every request, so caches never outlive it and never
/// mix two callers' scopes.
pub struct Loaders {
    pub customer: DataLoader<CustomerById, HashMapCache>,
    pub contact: DataLoader<ContactById, HashMapCache>,
    pub license: DataLoader<LicenseById, HashMapCache>,
    pub contacts_of_customer: DataLoader<ContactsOfCustomer, HashMapCache>,
    pub licenses_of_customer: DataLoader<LicensesOfCustomer, HashMapCache>,
    pub licenses_of_contact: DataLoader<LicensesOfContact, HashMapCache>,
    pub hostnames_of_license: DataLoader<HostnamesOfLicense, HashMapCache>,
    pub licenses_of_hostname: DataLoader<LicensesOfHostname, HashMapCache>,
    pub audit_events_of_license: DataLoader<AuditEventsOfLicense, HashMapCache>,
    /// Usage entities from the version subgraph.
    pub usage: DataLoader<UsageLoader, HashMapCache>,
    /// The usage fields this request wants, filled in by whoever creates usage-bearing objects.
    pub usage_plan: Arc<UsagePlan>,
}

/// The most keys one batch may carry. Prefetching loads a whole list's relations in one
/// `load_many`; a larger cap keeps a 1,000-license customer in one statement per relation, and
/// stays well under PostgreSQL's 65,535 and SQLite's 32,766 bind parameters.
const MAX_BATCH: usize = 10_000;

/// How long a loader waits for more keys before it sends a batch. Lists are prefetched in one
/// `load_many` (see `prefetch`), so the wait only gathers keys of sibling objects resolved in
/// the same pass; every chained relation pays it once, which is why it is far below the
/// 1 ms default. (async-graphql's timer here is async-io's, which keeps sub-millisecond time.)
const BATCH_DELAY: std::time::Duration = std::time::Duration::from_micros(200);

fn cached<K: Send + Sync + std::hash::Hash + Eq + Clone + 'static, T: Loader<K>>(
    loader: T,
) -> DataLoader<T, HashMapCache> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
        .max_batch_size(MAX_BATCH)
        .delay(BATCH_DELAY)
}

impl Loaders {
    /// Fresh loaders over `db` and the version subgraph for a caller who sees `scope`;
    /// `request_id` is forwarded to the version service.
    pub fn new(
        db: DatabaseConnection,
        scope: Scope,
        version: Arc<VersionClient>,
        request_id: Option<String>,
        metrics: Arc<dyn GraphMetrics>,
    ) -> Self {
        let source = Source {
            db,
            scope,
            metrics: metrics.clone(),
        };
        let usage_plan = Arc::new(UsagePlan::default());
        let usage = cached(UsageLoader {
            client: version,
            plan: usage_plan.clone(),
            request_id,
            metrics,
        });
        Self {
            usage,
            usage_plan,
            customer: cached(CustomerById(source.clone())),
            contact: cached(ContactById(source.clone())),
            license: cached(LicenseById(source.clone())),
            contacts_of_customer: cached(ContactsOfCustomer(source.clone())),
            licenses_of_customer: cached(LicensesOfCustomer(source.clone())),
            licenses_of_contact: cached(LicensesOfContact(source.clone())),
            hostnames_of_license: cached(HostnamesOfLicense(source.clone())),
            licenses_of_hostname: cached(LicensesOfHostname(source.clone())),
            audit_events_of_license: cached(AuditEventsOfLicense(source)),
        }
    }
}
