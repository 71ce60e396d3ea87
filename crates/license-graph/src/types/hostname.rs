//! Hostname: a server, the licenses installed on it, and what its usage pings say.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entity::{hostname, usage_ping};
use serde_json::Value;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::{ApiError, to_field_error};
use crate::prefetch;
use crate::request::request;
use crate::types::License;
use crate::types::usage::{Installation, InstallationData, UsagePing, entity_field, usage_error};
use crate::upstream::selection::history_alias;
use crate::usage::UsageKey;
use crate::weights;

#[derive(Clone)]
pub struct Hostname {
    name: String,
    /// The row in the license database; `None` for a server only usage pings know of.
    row: Option<hostname::Model>,
}

impl Hostname {
    /// A hostname the license database knows.
    pub fn from_row(row: hostname::Model) -> Self {
        Self {
            name: row.name.clone(),
            row: Some(row),
        }
    }

    /// A server that sends usage pings but is attached to no license.
    pub fn reported_only(name: String) -> Self {
        Self { name, row: None }
    }

    /// The id of the license database's row, when it has one.
    pub fn row_id(&self) -> Option<i64> {
        self.row.as_ref().map(|row| row.id)
    }

    /// The normalised name, as usage lookups key it.
    pub fn key(&self) -> String {
        self.name.clone()
    }

    /// The version subgraph's entity for this server: `None` when it never pinged.
    async fn usage(&self, ctx: &Context<'_>) -> Result<Option<Arc<Value>>> {
        let (_, loaders) = request(ctx)?;
        let Ok(entity) = loaders
            .usage
            .load_one(UsageKey::Hostname(self.name.clone()))
            .await;
        match entity {
            None => Ok(None),
            Some(Ok(entity)) if entity.is_null() => Ok(None),
            Some(Ok(entity)) => Ok(Some(entity)),
            Some(Err(error)) => Err(usage_error(&error)),
        }
    }
}

/// A server, by its normalised name (lower case, no trailing dot), with the licenses installed
/// on it and what its usage pings say.
#[Object(
    directive = authenticated::apply(),
    requires_scopes = "admin",
    requires_scopes = "sales",
    requires_scopes = "support",
    requires_scopes = "viewer",
    requires_scopes = "customer"
)]
impl Hostname {
    /// The server's name, normalised: lower case, no trailing dot.
    async fn name(&self) -> &str {
        &self.name
    }

    /// Whether the license database knows this server (it is attached to a license); false for
    /// a server only its usage pings tell of.
    async fn known(&self) -> bool {
        self.row.is_some()
    }

    /// The licenses attached to this server in the license database, newest first.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn licenses(&self, ctx: &Context<'_>) -> Result<Vec<License>> {
        let Some(row) = &self.row else {
            return Ok(Vec::new());
        };
        let (_, loaders) = request(ctx)?;
        let licenses = loaders
            .licenses_of_hostname
            .load_one(row.id)
            .await
            .map_err(to_field_error)?;
        let licenses = licenses.unwrap_or_default();
        prefetch::licenses(ctx, ctx.look_ahead(), &licenses).await?;
        Ok(licenses.into_iter().map(License).collect())
    }

    /// When the server last sent a usage ping; null when it never did (or the version service
    /// could not be asked: see the error).
    // Shareable (all usage fields): the version subgraph resolves them too; this one asks it.
    #[graphql(shareable)]
    async fn last_usage_ping_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        match self.usage(ctx).await? {
            Some(entity) => entity_field(&entity, "lastUsagePingAt"),
            None => Ok(None),
        }
    }

    /// The server's newest usage ping.
    #[graphql(shareable)]
    async fn latest_usage_ping(&self, ctx: &Context<'_>) -> Result<Option<UsagePing>> {
        match self.usage(ctx).await? {
            Some(entity) => entity_field(&entity, "latestUsagePing"),
            None => Ok(None),
        }
    }

    /// The installations that send usage pings under this name: the one that holds it first,
    /// then the others by their newest ping, at most 20. More than one means someone else
    /// reports under this name too. Null, with an error, when the version service cannot be
    /// asked.
    #[graphql(
        shareable,
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn installations(&self, ctx: &Context<'_>) -> Result<Option<Vec<Installation>>> {
        let Some(entity) = self.usage(ctx).await? else {
            return Ok(Some(Vec::new()));
        };
        let (view, _) = request(ctx)?;
        let found: Vec<InstallationData> =
            entity_field(&entity, "installations")?.unwrap_or_default();
        Ok(Some(
            found
                .into_iter()
                .map(|data| Installation::seen(data, view))
                .collect(),
        ))
    }

    /// The server's usage pings, newest first: the last `last` of them (1 to 100, default 10).
    /// Null, with an error, when the version service cannot be asked.
    #[graphql(
        shareable,
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::HISTORY.assumed_size(),
            weights::HISTORY.slicing_arguments(),
            weights::HISTORY.sized_fields(),
            weights::HISTORY.require_one_slicing_argument()
        )
    )]
    async fn usage_pings(
        &self,
        ctx: &Context<'_>,
        // As the version subgraph declares it, so that a supergraph keeps the default (with
        // `Int` here and `Int! = 10` there, composition made `last` required).
        #[graphql(
            default_with = "usage_ping::history::DEFAULT as i32",
            desc = "How many pings, newest first: 1 to 100."
        )]
        last: i32,
    ) -> Result<Option<Vec<UsagePing>>> {
        let last = usage_ping::history::length(Some(last))
            .map_err(|m| to_field_error(ApiError::BadUserInput(m)))?;
        match self.usage(ctx).await? {
            Some(entity) => Ok(Some(
                entity_field(&entity, &history_alias(last))?.unwrap_or_default(),
            )),
            None => Ok(Some(Vec::new())),
        }
    }

    /// The license the server's newest usage ping proves (its digest verified against the
    /// license database): how a server nobody attached leads to its license and customer. Null
    /// when that ping is not verified: a license id alone names anyone's license.
    async fn reported_license(&self, ctx: &Context<'_>) -> Result<Option<License>> {
        let Some(entity) = self.usage(ctx).await? else {
            return Ok(None);
        };
        let ping: Option<UsagePing> = entity_field(&entity, "latestUsagePing")?;
        let Some(id) = ping
            .and_then(|p| p.verified_license_id)
            .and_then(|id| id.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        let (_, loaders) = request(ctx)?;
        let license = loaders.license.load_one(id).await.map_err(to_field_error)?;
        if let Some(license) = &license {
            prefetch::licenses(ctx, ctx.look_ahead(), std::slice::from_ref(license)).await?;
        }
        Ok(license.map(License))
    }
}
