//! `webhookEndpoints` and `webhookDeliveries`.

use async_graphql::{Context, ID, Object, Result};

use super::types::{WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint};
use super::{admin_error, for_admin};
use crate::directives::{authenticated, cost, list_size};
use crate::errors::parse_id;
use crate::query::page;
use crate::types::connection::{Counted, WebhookDeliveryConnection};
use crate::weights;

/// Webhooks, for admins.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook endpoint, oldest first (at most `[gateway.webhooks] max_endpoints`). For
    /// the `admin` role only (others: `FORBIDDEN`).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let webhooks = for_admin(ctx)?;
        Ok(webhooks
            .endpoints()
            .await
            .map_err(admin_error)?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    /// An endpoint's deliveries, newest first, with `status` when given: each event's status,
    /// attempts and last error. `first` is at most 100 (default 20). For the `admin` role only
    /// (others: `FORBIDDEN`).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::CONNECTION.assumed_size(),
            weights::CONNECTION.slicing_arguments(),
            weights::CONNECTION.sized_fields(),
            weights::CONNECTION.require_one_slicing_argument()
        )
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
        status: Option<WebhookDeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let webhooks = for_admin(ctx)?;
        let endpoint_id = parse_id(&endpoint_id, "webhook endpoint")?;
        let page = page(first, after.as_deref())?;
        let status = status.map(Into::into);
        let rows = webhooks
            .deliveries(endpoint_id, status, page)
            .await
            .map_err(admin_error)?;
        Ok(WebhookDeliveryConnection::new(
            rows,
            Counted::WebhookDeliveries {
                endpoint_id,
                status,
            },
            |(delivery, event)| WebhookDelivery { delivery, event },
        ))
    }
}
