//! `lookup(text:)`: what a support ticket holds (a license file's MD5 or SHA-256, the file
//! itself, a subscription id or name, an installation uuid, a hostname), answered with the
//! licenses, servers and customers it names.
//!
//! What a text is, and which licenses it names, is `licenses::lookup`'s rule (one statement,
//! scoped); a hostname goes through the same path as `hostname(name:)`; an installation uuid
//! through one `_entities` call to the version subgraph (`InstallationUuid`), whose hosts are
//! then kept to those the caller may see. For a customer-scoped caller every step is scoped,
//! so another customer's key answers exactly as a key that exists nowhere: the same `kinds`,
//! no matches.

use std::sync::Arc;

use async_graphql::{Context, Enum, Lookahead, Object, Result};
use entity::license;
use licenses::lookup::{Kind, Text};
use serde_json::Value;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::to_field_error;
use crate::lookahead::{LOOKUP_MATCH_LICENSE, LOOKUP_MATCH_SERVER, LOOKUP_MATCHES};
use crate::prefetch;
use crate::query::hostname_by_name;
use crate::request::{graph, request};
use crate::types::usage::usage_error;
use crate::types::{Customer, Hostname, License};
use crate::usage::{self, UsageKey};
use crate::weights;

/// What a lookup text was recognised as, or what a match was found by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LookupKind {
    /// The MD5 of a license file: 32 hex digits.
    #[graphql(name = "LICENSE_MD5")]
    LicenseMd5,
    /// The SHA-256 of a license file: 64 hex digits.
    #[graphql(name = "LICENSE_SHA256")]
    LicenseSha256,
    /// A whole license file, pasted: found by the SHA-256 of its bytes (as `licenseSha256`),
    /// allowing for the line endings and surrounding whitespace a paste may change.
    LicenseFile,
    /// A subscription: its id in the billing system (32 hex digits, so also read as an MD5)
    /// or its name (`A-S00012345`). Matches every license of the subscription.
    Subscription,
    /// An installation's uuid (`8-4-4-4-12` hex digits), as its usage pings carry it: matches
    /// the servers whose pings carried it.
    InstallationUuid,
    /// A server's hostname with at least one dot, e.g. `gitlab.example.com` (case and a
    /// trailing dot do not matter; a single-label name: see `hostname(name:)`).
    Hostname,
}

impl From<Kind> for LookupKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::LicenseMd5 => LookupKind::LicenseMd5,
            Kind::LicenseSha256 => LookupKind::LicenseSha256,
            Kind::LicenseFile => LookupKind::LicenseFile,
            Kind::Subscription => LookupKind::Subscription,
            Kind::InstallationUuid => LookupKind::InstallationUuid,
            Kind::Hostname => LookupKind::Hostname,
        }
    }
}

/// The answer to a lookup: what the text was recognised as, and what it matched.
pub struct Lookup {
    kinds: Vec<LookupKind>,
    matches: Vec<LookupMatch>,
}

/// The answer to a lookup: what the text was recognised as, and what it matched among what
/// the caller may see.
#[Object(directive = authenticated::apply())]
impl Lookup {
    /// What the text was recognised as, whether or not anything matched: it depends on the
    /// text alone. Empty when it is none of the kinds (then nothing matches).
    #[graphql(
        directive = cost::apply(weights::LEAF_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn kinds(&self) -> &[LookupKind] {
        &self.kinds
    }

    /// What matched: licenses first (newest first, at most 50), then servers (by name, at most
    /// 20 per installation uuid). Empty when nothing the caller may see matched.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn matches(&self) -> &[LookupMatch] {
        &self.matches
    }
}

/// One thing a lookup found: a license (with its customer) or a server.
pub enum LookupMatch {
    License {
        kind: LookupKind,
        license: Arc<license::Model>,
    },
    Server {
        kind: LookupKind,
        server: Hostname,
    },
}

/// One thing a lookup found: a license (with its customer) or a server. `kind` says which
/// part of the text found it.
#[Object(directive = authenticated::apply())]
impl LookupMatch {
    /// What found this match: the license's MD5, SHA-256 or file, its subscription, an
    /// installation uuid or a hostname.
    async fn kind(&self) -> LookupKind {
        match self {
            LookupMatch::License { kind, .. } | LookupMatch::Server { kind, .. } => *kind,
        }
    }

    /// The license found; null when the match is a server.
    async fn license(&self) -> Option<License> {
        match self {
            LookupMatch::License { license, .. } => Some(License(license.as_ref().clone())),
            LookupMatch::Server { .. } => None,
        }
    }

    /// The server found; null when the match is a license (see the license's `hostnames`
    /// and `reportingHosts` for its servers).
    async fn server(&self) -> Option<Hostname> {
        match self {
            LookupMatch::Server { server, .. } => Some(server.clone()),
            LookupMatch::License { .. } => None,
        }
    }

    /// The customer: the license's, or for a server the customer of the newest license it
    /// is attached to that the caller may see; null for a server attached to none.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let customer_id = match self {
            LookupMatch::License { license, .. } => license.customer_id,
            LookupMatch::Server { server, .. } => {
                let Some(row_id) = server.row_id() else {
                    return Ok(None);
                };
                let (_, loaders) = request(ctx)?;
                let attached = loaders
                    .licenses_of_hostname
                    .load_one(row_id)
                    .await
                    .map_err(to_field_error)?
                    .unwrap_or_default();
                let Some(newest) = attached.first() else {
                    return Ok(None);
                };
                newest.customer_id
            }
        };
        Customer::load(ctx, customer_id).await
    }
}

/// The `lookup` root.
#[derive(Default)]
pub struct LookupQuery;

#[Object]
impl LookupQuery {
    /// Finds what a support ticket holds: a license file's MD5 (32 hex digits) or SHA-256 (64),
    /// a whole license file pasted (several lines: matched by its SHA-256), a subscription id
    /// (32 hex digits) or name (`A-S00012345`), an installation uuid, or a hostname (with a
    /// dot). Answers what the text was recognised as (`kinds`) and the licenses and servers it
    /// matched among those the caller may see, masked as everywhere: a customer-scoped caller
    /// is answered for another customer's key exactly as for a key that exists nowhere. `text`
    /// is at most 65,536 bytes (`BAD_USER_INPUT` past it; a request body past `max_body_bytes`
    /// is a 413). Costs one SQL statement for licenses; a uuid, and for staff a hostname no
    /// license is attached to, one call to the version service. Null, with the error, when
    /// the version service could not be asked for those (the other root fields of the request
    /// still answer).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
    )]
    async fn lookup(&self, ctx: &Context<'_>, text: String) -> Result<Option<Lookup>> {
        let read = Text::read(&text).map_err(to_field_error)?;
        let (view, _) = request(ctx)?;
        let db = &graph(ctx)?.db;
        let found = licenses::lookup::licenses(db, &view.scope, &read)
            .await
            .map_err(to_field_error)?;
        let models: Vec<license::Model> = found.iter().map(|(_, l)| l.clone()).collect();
        let selection = LOOKUP_MATCHES.under(&ctx.look_ahead());
        prefetch::licenses(ctx, LOOKUP_MATCH_LICENSE.under(&selection), &models).await?;
        let mut matches: Vec<LookupMatch> = found
            .into_iter()
            .map(|(kind, license)| LookupMatch::License {
                kind: kind.into(),
                license: Arc::new(license),
            })
            .collect();
        if let Some(name) = &read.hostname
            && let Some(server) =
                hostname_by_name(ctx, name, LOOKUP_MATCH_SERVER.under(&selection)).await?
        {
            matches.push(LookupMatch::Server {
                kind: LookupKind::Hostname,
                server,
            });
        }
        if let Some(uuid) = &read.installation_uuid {
            let servers =
                installation_servers(ctx, uuid, LOOKUP_MATCH_SERVER.under(&selection)).await?;
            matches.extend(servers.into_iter().map(|server| LookupMatch::Server {
                kind: LookupKind::InstallationUuid,
                server,
            }));
        }
        Ok(Some(Lookup {
            kinds: read.kinds().into_iter().map(LookupKind::from).collect(),
            matches,
        }))
    }
}

/// The servers whose usage pings carried installation `uuid`, among those the caller may see:
/// one `_entities` call, which also brings the usage `selection` (a selection of `Hostname`)
/// asks of them, so their usage fields cost no second call.
async fn installation_servers(
    ctx: &Context<'_>,
    uuid: &str,
    selection: Lookahead<'_>,
) -> Result<Vec<Hostname>> {
    let (view, loaders) = request(ctx)?;
    let mut wanted = usage::hostname_selection(&selection);
    wanted.installation_hosts = true;
    loaders.usage_plan.want(&wanted);
    let Ok(entity) = loaders
        .usage
        .load_one(UsageKey::Installation(uuid.to_owned()))
        .await;
    let hosts: Vec<Value> = match entity {
        Some(Ok(entity)) => match entity.get("hosts") {
            Some(Value::Array(hosts)) => hosts.clone(),
            _ => Vec::new(),
        },
        Some(Err(error)) => return Err(usage_error(&error)),
        None => Vec::new(),
    };
    let mut names = Vec::with_capacity(hosts.len());
    let mut usage = Vec::with_capacity(hosts.len());
    for host in hosts {
        if let Some(name) = host.get("name").and_then(Value::as_str) {
            let name = entity::hostname::normalise(name);
            names.push(name.clone());
            usage.push((UsageKey::Hostname(name), Ok(Arc::new(host))));
        }
    }
    // The hosts came with their usage fields: later loads of them find these.
    loaders.usage.feed_many(usage).await;
    let db = &graph(ctx)?.db;
    let rows = licenses::hostnames::by_names(db, &view.scope, &names)
        .await
        .map_err(to_field_error)?;
    let staff = view.scope == licenses::Scope::All;
    let servers: Vec<Hostname> = names
        .into_iter()
        .filter_map(|name| match rows.iter().find(|row| row.name == name) {
            Some(row) => Some(Hostname::from_row(row.clone())),
            // Known only from pings: only staff may learn of it (as `hostname(name:)`).
            None if staff => Some(Hostname::reported_only(name)),
            None => None,
        })
        .collect();
    let keys: Vec<String> = servers.iter().map(Hostname::key).collect();
    let row_ids: Vec<i64> = servers.iter().filter_map(Hostname::row_id).collect();
    prefetch::hostnames(ctx, selection, &keys, &row_ids).await?;
    Ok(servers)
}
