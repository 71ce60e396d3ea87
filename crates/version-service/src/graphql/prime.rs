//! Priming the loaders from the whole `_entities` call at once.
//!
//! async-graphql resolves representations (and list items) in chunks, yielding between them,
//! so a time-windowed loader can split one call into several batches when the machine is busy.
//! The first entity resolver of a call therefore reads every representation and loads them
//! (and the usage fields the query selects) in one go; the other resolvers then find their
//! data in the loaders' caches. The number of statements is fixed by the query's shape, not
//! by the number of representations.

use async_graphql::{Any, Context, Lookahead, Name, Value};
use entity::usage_ping;

use super::loaders::{CachedLoader, Loaders, PingById, PingsByHostId, PingsKey};
use super::types::load_error;
use std::collections::HashMap;

use crate::{
    ingest::normalize_hostname,
    store::{LicenseKey, host},
};

/// Representations of the current `_entities` call with this `__typename`.
fn representations(
    ctx: &Context<'_>,
    typename: &str,
) -> Vec<async_graphql::indexmap::IndexMap<Name, Value>> {
    let Ok((_, all)) = ctx.param_value::<Vec<Any>>("representations", None) else {
        return Vec::new();
    };
    all.into_iter()
        .filter_map(|Any(value)| match value {
            Value::Object(fields) => Some(fields),
            _ => None,
        })
        .filter(
            |fields| matches!(fields.get("__typename"), Some(Value::String(t)) if t == typename),
        )
        .collect()
}

fn string_field(
    fields: &async_graphql::indexmap::IndexMap<Name, Value>,
    name: &str,
) -> Option<String> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Loads everything the call's representations need, once per request, whichever entity
/// resolver comes first: the hosts of every `Hostname` and the reporting hosts of every
/// `License` together, then the newest pings the read models point at in one batch beside the
/// selected ping histories, then (only when selected) their usage counters. Returns the host of each normalised name asked for (`None` when unknown).
pub async fn prime<'a>(
    ctx: &Context<'_>,
    loaders: &'a Loaders,
) -> async_graphql::Result<&'a HashMap<String, Option<host::Model>>> {
    loaders
        .primed
        .get_or_try_init(|| async {
            let look_ahead = ctx.look_ahead();
            let reporting = look_ahead.field("reportingHosts");
            let names: Vec<String> = representations(ctx, "Hostname")
                .iter()
                .filter_map(|fields| string_field(fields, "name"))
                .map(|name| normalize_hostname(&name))
                .collect();
            let license_keys: Vec<LicenseKey> = if reporting.exists() {
                representations(ctx, "License")
                    .iter()
                    .map(|fields| {
                        LicenseKey::new(
                            string_field(fields, "id").and_then(|id| id.parse().ok()),
                            string_field(fields, "licenseMd5").as_deref(),
                            string_field(fields, "licenseSha256").as_deref(),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let hosts_of_names = async {
                if names.is_empty() {
                    return Ok(HashMap::new());
                }
                loaders.hosts.load_many(names.iter().cloned()).await
            };
            let reporting_of_licenses = async {
                if license_keys.is_empty() {
                    return Ok(HashMap::new());
                }
                loaders.reporting_hosts.load_many(license_keys).await
            };
            let (found, reported) =
                futures::try_join!(hosts_of_names, reporting_of_licenses).map_err(load_error)?;
            let named_host_ids: Vec<i64> = found.values().map(|host| host.id).collect();
            // The installations of the named hosts (one statement), whose newest pings join
            // the batch below.
            let installations = look_ahead.field("installations");
            let installation_latest: Vec<i64> =
                if installations.exists() && !named_host_ids.is_empty() {
                    let loaded = loaders
                        .installations
                        .load_many(named_host_ids.iter().copied())
                        .await
                        .map_err(load_error)?;
                    if installations.field("latestUsagePing").exists() {
                        loaded
                            .values()
                            .flatten()
                            .map(|i| i.latest_ping_id)
                            .collect()
                    } else {
                        Vec::new()
                    }
                } else {
                    Vec::new()
                };

            // The read models point at the newest pings: fetch them all by id in one batch.
            let named_latest: Vec<i64> = if look_ahead.field("latestUsagePing").exists() {
                found
                    .values()
                    .filter_map(|host| host.latest_ping_id)
                    .collect()
            } else {
                Vec::new()
            };
            let reported_latest: Vec<i64> = if reporting.field("latestUsagePing").exists() {
                reported
                    .values()
                    .flatten()
                    .map(|r| r.latest_ping_id)
                    .collect()
            } else {
                Vec::new()
            };
            let mut ping_ids: Vec<i64> = named_latest
                .iter()
                .chain(&reported_latest)
                .chain(&installation_latest)
                .copied()
                .collect();
            ping_ids.sort_unstable();
            ping_ids.dedup();
            let latest = prime_pings(&loaders.pings, &ping_ids);
            let histories = look_ahead.field("usagePings");
            let recent = prime_recent(&histories, &loaders.recent_pings, &named_host_ids);
            let ((), histories_loaded) = futures::try_join!(latest, recent)?;

            // Counters live in the payloads: read them only for the pings whose `counts` the
            // query selects, in one more statement.
            let mut counted: Vec<i64> = Vec::new();
            if look_ahead.field("latestUsagePing").field("counts").exists() {
                counted.extend(&named_latest);
            }
            if reporting.field("latestUsagePing").field("counts").exists() {
                counted.extend(&reported_latest);
            }
            if installations
                .field("latestUsagePing")
                .field("counts")
                .exists()
            {
                counted.extend(&installation_latest);
            }
            if histories.field("counts").exists() {
                counted.extend(histories_loaded.iter().flatten().map(|p| p.id));
            }
            counted.sort_unstable();
            counted.dedup();
            if !counted.is_empty() {
                loaders
                    .counts
                    .load_many(counted)
                    .await
                    .map_err(load_error)?;
            }

            let hosts: HashMap<String, Option<host::Model>> = names
                .into_iter()
                .map(|name| {
                    let host = found.get(&name).cloned();
                    (name, host)
                })
                .collect();
            Ok::<_, async_graphql::Error>(hosts)
        })
        .await
}

async fn prime_pings(loader: &CachedLoader<PingById>, ids: &[i64]) -> async_graphql::Result<()> {
    if !ids.is_empty() {
        loader
            .load_many(ids.iter().copied())
            .await
            .map_err(load_error)?;
    }
    Ok(())
}

/// Loads the selected histories of these hosts; returns them (for their counters).
async fn prime_recent(
    selected: &Lookahead<'_>,
    loader: &CachedLoader<PingsByHostId>,
    host_ids: &[i64],
) -> async_graphql::Result<Vec<Vec<usage_ping::Summary>>> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for field in selected.selection_fields() {
        let last = field.arguments().ok().and_then(|args| {
            args.into_iter()
                .find(|(name, _)| name.as_str() == "last")
                .and_then(|(_, value)| match value {
                    // Too large for an `Int`: out of range, like any other.
                    Value::Number(n) => n.as_i64().map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
                    _ => None,
                })
        });
        // Out-of-range values are refused by the field itself.
        if let Ok(last) = usage_ping::history::length(last) {
            keys.extend(host_ids.iter().map(|&host_id| PingsKey { host_id, last }));
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let loaded = loader.load_many(keys).await.map_err(load_error)?;
    Ok(loaded.into_values().collect())
}
