//! The webhook types of the graph.

use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::webhook_delivery::{self, Status as DeliveryStatus};
use entity::webhook_endpoint::{self, Status as EndpointStatus};
use entity::webhook_event::{self, EventType};

use crate::directives::{authenticated, cost, list_size};
use crate::weights;

/// A kind of event licensedot sends to webhook endpoints. The payload's `type` is the name in
/// parentheses; docs/webhooks.md describes each payload.
// The names follow the wire names (`license.*`); the `host.*` events of verified usage
// will join them.
#[allow(clippy::enum_variant_names)]
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookEventType {
    /// (`license.expiring`) A license expires within one of the configured numbers of days
    /// (90, 30 and 7 by default): once per threshold.
    LicenseExpiring,
    /// (`license.expired`) A license's expiry date has come.
    LicenseExpired,
    /// (`license.contact_changed`) A license was sent to another contact
    /// (`changeLicenseContact`), with the audit event.
    LicenseContactChanged,
}

impl From<WebhookEventType> for EventType {
    fn from(kind: WebhookEventType) -> Self {
        match kind {
            WebhookEventType::LicenseExpiring => EventType::LicenseExpiring,
            WebhookEventType::LicenseExpired => EventType::LicenseExpired,
            WebhookEventType::LicenseContactChanged => EventType::LicenseContactChanged,
        }
    }
}

impl From<EventType> for WebhookEventType {
    fn from(kind: EventType) -> Self {
        match kind {
            EventType::LicenseExpiring => WebhookEventType::LicenseExpiring,
            EventType::LicenseExpired => WebhookEventType::LicenseExpired,
            EventType::LicenseContactChanged => WebhookEventType::LicenseContactChanged,
        }
    }
}

/// Whether an endpoint gets deliveries.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookEndpointStatus {
    /// It gets every new event of its types.
    Active,
    /// It gets nothing (see `disabledReason`): disabled by an admin, or automatically after
    /// failing for days.
    Disabled,
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet; the next attempt is due at `nextAttemptAt`.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Given up: it failed for the whole retry horizon (24 hours by default), or the endpoint
    /// was disabled.
    Failed,
}

impl From<WebhookDeliveryStatus> for DeliveryStatus {
    fn from(status: WebhookDeliveryStatus) -> Self {
        match status {
            WebhookDeliveryStatus::Pending => DeliveryStatus::Pending,
            WebhookDeliveryStatus::Succeeded => DeliveryStatus::Succeeded,
            WebhookDeliveryStatus::Failed => DeliveryStatus::Failed,
        }
    }
}

/// A URL subscribed to webhook events. Its signing secret is never shown again after
/// `createWebhookEndpoint` or `rotateWebhookSecret`.
#[derive(Clone)]
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// A URL subscribed to webhook events. Its signing secret is never shown again after
/// `createWebhookEndpoint` or `rotateWebhookSecret`.
#[Object(directive = authenticated::apply())]
impl WebhookEndpoint {
    /// The endpoint's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The event types it gets.
    #[graphql(
        directive = cost::apply(weights::LEAF_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn events(&self) -> Vec<WebhookEventType> {
        EventType::parse_list(&self.0.events)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// What it is for, as the admin wrote it (may be empty).
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Whether it gets deliveries.
    async fn status(&self) -> WebhookEndpointStatus {
        match self.0.status {
            EndpointStatus::Active => WebhookEndpointStatus::Active,
            EndpointStatus::Disabled => WebhookEndpointStatus::Disabled,
        }
    }

    /// Why it was disabled (by whom, or after which failures); null while active.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// When it was disabled; null while active.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// Since when every attempt to it has failed (null when the last one succeeded); after
    /// `disable_after_days` of this it is disabled.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// Until when the secret it had before the last rotation still signs too (null when
    /// there is none).
    async fn previous_secret_valid_until(&self) -> Option<DateTime<Utc>> {
        self.0
            .previous_secret
            .as_ref()
            .and(self.0.previous_secret_expires_at)
    }

    /// The subject (`sub`) of the admin who created it.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed (secret rotated, disabled, enabled).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One event's delivery to one endpoint.
#[derive(Clone)]
pub struct WebhookDelivery {
    pub delivery: webhook_delivery::Model,
    pub event: webhook_event::Model,
}

/// One event's delivery to one endpoint.
#[Object(directive = authenticated::apply())]
impl WebhookDelivery {
    /// The delivery's id.
    async fn id(&self) -> ID {
        ID(self.delivery.id.to_string())
    }

    /// The event's id, sent as the `webhook-id` header: the same for every attempt and every
    /// endpoint; receivers deduplicate by it.
    async fn event_id(&self) -> &str {
        &self.event.message_id
    }

    /// The event's type.
    async fn event_type(&self) -> WebhookEventType {
        self.event.event_type.into()
    }

    /// When the event happened (the payload's `timestamp`).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.event.occurred_at
    }

    /// The JSON body sent.
    async fn payload(&self) -> &str {
        &self.event.payload
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.delivery.status {
            DeliveryStatus::Pending => WebhookDeliveryStatus::Pending,
            DeliveryStatus::Succeeded => WebhookDeliveryStatus::Succeeded,
            DeliveryStatus::Failed => WebhookDeliveryStatus::Failed,
        }
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.delivery.attempts
    }

    /// When the next attempt is due; null once it succeeded or failed.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.delivery.status == DeliveryStatus::Pending).then_some(self.delivery.next_attempt_at)
    }

    /// When the last attempt started.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.last_attempt_at
    }

    /// The HTTP status the endpoint last answered with (null: no answer, or no attempt yet).
    async fn last_status_code(&self) -> Option<i32> {
        self.delivery.last_status
    }

    /// What went wrong in the last attempt (null when it succeeded or none was made).
    async fn last_error(&self) -> Option<&str> {
        self.delivery.last_error.as_deref()
    }

    /// When the delivery was created (with its event).
    async fn created_at(&self) -> DateTime<Utc> {
        self.delivery.created_at
    }

    /// When it succeeded or failed; null while pending.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.completed_at
    }
}

/// A URL to send webhook events to.
#[derive(InputObject, Clone, Debug)]
pub struct CreateWebhookEndpointInput {
    /// An `https://` URL whose host resolves to public addresses only (at most 2,048
    /// characters, no user name, password or fragment).
    pub url: String,
    /// The event types to send (at least one).
    pub events: Vec<WebhookEventType>,
    /// What it is for (at most 500 characters).
    pub description: Option<String>,
}

/// A new endpoint and its signing secret.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct CreateWebhookEndpointPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret, `whsec_<base64>` (the Standard Webhooks form): shown this once,
    /// never again. Receivers verify `webhook-signature` with it.
    pub secret: String,
}

/// An endpoint with its new signing secret.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct RotateWebhookSecretPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The new signing secret, `whsec_<base64>`, shown this once. The previous one keeps
    /// signing too (a second signature in the header) for 24 hours.
    pub secret: String,
}
