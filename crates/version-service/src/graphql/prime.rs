//! Priming the loaders from the whole `_entities` call at once.
//!
//! async-graphql resolves representations (and list items) in chunks, yielding between them,
//! so a time-windowed loader can split one call into several batches when the machine is busy.
//! The first entity resolver of a call therefore reads every representation and loads them
//! (and the usage fields the query selects) in one go; the other resolvers then find their
//! data in the loaders' caches. The number of statements is fixed by the query's shape, not
//! by the number of representations.

use async_graphql::{Any, Context, Lookahead, Name, Value};

use super::loaders::{CachedLoader, LatestPingByHostId, Loaders, PingsByHostId, PingsKey};
use super::types::{MAX_LAST, load_error};
use std::collections::HashMap;

use crate::{
    ingest::normalize_hostname,
    store::{LicenseKey, hosts},
};

/// Default of `Hostname.usagePings(last:)`.
const DEFAULT_LAST: i64 = 10;

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

/// Loads every `Hostname` of the call and the usage fields selected on them; returns the
/// host of each normalised name asked for (`None` when unknown).
pub async fn prime_hostnames<'a>(
    ctx: &Context<'_>,
    loaders: &'a Loaders,
) -> async_graphql::Result<&'a HashMap<String, Option<hosts::Model>>> {
    loaders
        .primed_hostnames
        .get_or_try_init(|| async {
            let names: Vec<String> = representations(ctx, "Hostname")
                .iter()
                .filter_map(|fields| string_field(fields, "name"))
                .map(|name| normalize_hostname(&name))
                .collect();
            let found = loaders
                .hosts
                .load_many(names.iter().cloned())
                .await
                .map_err(load_error)?;
            let host_ids: Vec<i64> = found.values().map(|host| host.id).collect();
            let hosts: HashMap<String, Option<hosts::Model>> = names
                .into_iter()
                .map(|name| {
                    let host = found.get(&name).cloned();
                    (name, host)
                })
                .collect();
            let look_ahead = ctx.look_ahead();
            prime_latest(
                &look_ahead.field("latestUsagePing"),
                &loaders.latest_pings,
                &host_ids,
            )
            .await?;
            prime_recent(
                &look_ahead.field("usagePings"),
                &loaders.recent_pings,
                &host_ids,
            )
            .await?;
            Ok::<_, async_graphql::Error>(hosts)
        })
        .await
}

/// Loads the reporting hosts of every `License` of the call, and their latest pings if selected.
pub async fn prime_licenses(ctx: &Context<'_>, loaders: &Loaders) -> async_graphql::Result<()> {
    loaders
        .primed_licenses
        .get_or_try_init(|| async {
            let look_ahead = ctx.look_ahead();
            let reporting = look_ahead.field("reportingHosts");
            if !reporting.exists() {
                return Ok(());
            }
            let keys: Vec<LicenseKey> = representations(ctx, "License")
                .iter()
                .map(|fields| LicenseKey {
                    id: string_field(fields, "id").and_then(|id| id.parse().ok()),
                    md5: string_field(fields, "licenseMd5"),
                    sha256: string_field(fields, "licenseSha256"),
                })
                .collect();
            let found = loaders
                .reporting_hosts
                .load_many(keys)
                .await
                .map_err(load_error)?;
            let mut host_ids: Vec<i64> = found.values().flatten().map(|row| row.host_id).collect();
            host_ids.sort_unstable();
            host_ids.dedup();
            prime_latest(
                &reporting.field("latestUsagePing"),
                &loaders.latest_pings,
                &host_ids,
            )
            .await
        })
        .await
        .map(|_| ())
}

async fn prime_latest(
    selected: &Lookahead<'_>,
    loader: &CachedLoader<LatestPingByHostId>,
    host_ids: &[i64],
) -> async_graphql::Result<()> {
    if selected.exists() && !host_ids.is_empty() {
        loader
            .load_many(host_ids.iter().copied())
            .await
            .map_err(load_error)?;
    }
    Ok(())
}

async fn prime_recent(
    selected: &Lookahead<'_>,
    loader: &CachedLoader<PingsByHostId>,
    host_ids: &[i64],
) -> async_graphql::Result<()> {
    if host_ids.is_empty() {
        return Ok(());
    }
    let mut keys = Vec::new();
    for field in selected.selection_fields() {
        let last = field
            .arguments()
            .ok()
            .and_then(|args| {
                args.into_iter()
                    .find(|(name, _)| name.as_str() == "last")
                    .and_then(|(_, value)| match value {
                        Value::Number(n) => n.as_i64(),
                        _ => None,
                    })
            })
            .unwrap_or(DEFAULT_LAST);
        // Out-of-range values are refused by the field itself.
        if let Ok(last) = u32::try_from(last)
            && last <= MAX_LAST.unsigned_abs()
        {
            keys.extend(host_ids.iter().map(|&host_id| PingsKey { host_id, last }));
        }
    }
    if !keys.is_empty() {
        loader.load_many(keys).await.map_err(load_error)?;
    }
    Ok(())
}
