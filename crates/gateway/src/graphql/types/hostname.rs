//! Hostname: a server, and the licenses installed on it.

use async_graphql::{Context, Object, Result};
use entity::hostname;

use super::License;
use crate::graphql::context::request;
use crate::graphql::errors::to_field_error;
use crate::graphql::prefetch;

/// A server, by its normalised name (lower case, no trailing dot).
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
}

/// A server, by its normalised name (lower case, no trailing dot), with the licenses installed
/// on it.
#[Object]
impl Hostname {
    /// The server's name, normalised: lower case, no trailing dot.
    async fn name(&self) -> &str {
        &self.name
    }

    /// Whether the license database knows this server (it is attached to a license); false for
    /// a server that only sends usage pings.
    async fn known(&self) -> bool {
        self.row.is_some()
    }

    /// The licenses installed on this server, newest first.
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
}
