//! Creating, rotating, disabling, enabling and deleting webhook endpoints. Admin only; each
//! is logged at `info` with the endpoint's id and the admin's subject, never the URL (some
//! receivers put a token in it) or a secret.

use async_graphql::{Context, ID, Object, Result};

use super::types::{
    CreateWebhookEndpointInput, CreateWebhookEndpointPayload, RotateWebhookSecretPayload,
    WebhookEndpoint,
};
use super::{admin_error, for_admin, no_such_endpoint};
use crate::directives::authenticated;
use crate::errors::parse_id;
use crate::request::graph;

/// Changes to the webhook endpoints, for admins.
#[derive(Default)]
pub struct WebhookMutation;

fn subject<'a>(ctx: &Context<'a>) -> Result<&'a str> {
    Ok(&graph(ctx)?.caller.viewer.subject)
}

#[Object]
impl WebhookMutation {
    /// Subscribes a URL to event types and answers its signing secret, shown this once. The
    /// URL must be `https://` and its host must resolve to public addresses (a private,
    /// loopback or link-local address is refused with `BAD_USER_INPUT`, unless the gateway's
    /// configuration allows that host). For the `admin` role only (others: `FORBIDDEN`).
    #[graphql(directive = authenticated::apply(), requires_scopes = "admin")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let webhooks = for_admin(ctx)?;
        let by = subject(ctx)?;
        let created = webhooks
            .create_endpoint(
                webhooks::EndpointInput {
                    url: input.url,
                    events: input.events.into_iter().map(Into::into).collect(),
                    description: input.description,
                },
                by,
            )
            .await
            .map_err(admin_error)?;
        tracing::info!(
            endpoint_id = created.endpoint.id,
            by,
            "webhook endpoint created"
        );
        Ok(CreateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(created.endpoint),
            secret: created.secret,
        })
    }

    /// Gives an endpoint a new signing secret, shown this once. The previous secret keeps
    /// signing too for 24 hours (a second signature in `webhook-signature`), so receivers can
    /// switch without failing a delivery. For the `admin` role only (others: `FORBIDDEN`).
    #[graphql(directive = authenticated::apply(), requires_scopes = "admin")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RotateWebhookSecretPayload> {
        let webhooks = for_admin(ctx)?;
        let id = parse_id(&id, "webhook endpoint")?;
        let rotated = webhooks
            .rotate_secret(id)
            .await
            .map_err(admin_error)?
            .ok_or_else(|| no_such_endpoint(id))?;
        tracing::info!(
            endpoint_id = id,
            by = subject(ctx)?,
            "webhook secret rotated"
        );
        Ok(RotateWebhookSecretPayload {
            endpoint: WebhookEndpoint(rotated.endpoint),
            secret: rotated.secret,
        })
    }

    /// Stops sending to an endpoint: it gets no new events, and its pending deliveries fail
    /// with the reason (at most 500 characters). For the `admin` role only (others:
    /// `FORBIDDEN`).
    #[graphql(directive = authenticated::apply(), requires_scopes = "admin")]
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<WebhookEndpoint> {
        let webhooks = for_admin(ctx)?;
        let id = parse_id(&id, "webhook endpoint")?;
        let by = subject(ctx)?;
        let endpoint = webhooks
            .disable_endpoint(id, reason.as_deref(), by)
            .await
            .map_err(admin_error)?
            .ok_or_else(|| no_such_endpoint(id))?;
        tracing::info!(endpoint_id = id, by, "webhook endpoint disabled");
        Ok(WebhookEndpoint(endpoint))
    }

    /// Sends to a disabled endpoint again (events written from now on), its URL checked again.
    /// For the `admin` role only (others: `FORBIDDEN`).
    #[graphql(directive = authenticated::apply(), requires_scopes = "admin")]
    async fn enable_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let webhooks = for_admin(ctx)?;
        let id = parse_id(&id, "webhook endpoint")?;
        let endpoint = webhooks
            .enable_endpoint(id)
            .await
            .map_err(admin_error)?
            .ok_or_else(|| no_such_endpoint(id))?;
        tracing::info!(
            endpoint_id = id,
            by = subject(ctx)?,
            "webhook endpoint enabled"
        );
        Ok(WebhookEndpoint(endpoint))
    }

    /// Deletes an endpoint with its deliveries; answers its id. For the `admin` role only
    /// (others: `FORBIDDEN`).
    #[graphql(directive = authenticated::apply(), requires_scopes = "admin")]
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let webhooks = for_admin(ctx)?;
        let endpoint_id = parse_id(&id, "webhook endpoint")?;
        if !webhooks
            .delete_endpoint(endpoint_id)
            .await
            .map_err(admin_error)?
        {
            return Err(no_such_endpoint(endpoint_id));
        }
        tracing::info!(endpoint_id, by = subject(ctx)?, "webhook endpoint deleted");
        Ok(id)
    }
}
