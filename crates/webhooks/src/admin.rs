//! What admins do with endpoints (the GraphQL mutations and queries call these): create one
//! (its URL checked against the address policy and resolved, its secret made and shown once),
//! rotate its secret, disable, enable or delete it, and read its deliveries. Who may is the
//! caller's business (admins only); what is allowed is decided here.

use chrono::Duration;
use entity::webhook_delivery;
use entity::webhook_endpoint;
use entity::webhook_event::{self, EventType};
use licenses::webhooks::{deliveries, endpoints};
use licenses::{Page, PageRequest, Total};

use crate::Webhooks;
use crate::secret::Secret;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// How long a rotated-out secret keeps signing (next to the new one), so receivers can switch
/// without a delivery failing verification.
pub const PREVIOUS_SECRET_GRACE: Duration = Duration::hours(24);

/// Why an admin operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Input the admin can fix; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The license database failed (or refused the input).
    #[error(transparent)]
    Licenses(#[from] licenses::Error),
    /// No randomness for a secret: logged, reported as internal.
    #[error("no secure randomness for a webhook secret")]
    Randomness,
}

/// A new endpoint as the admin asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointInput {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
}

/// An endpoint with the secret that signs for it, as given once.
#[derive(Clone, Debug)]
pub struct WithSecret {
    pub endpoint: webhook_endpoint::Model,
    /// `whsec_<base64>`.
    pub secret: String,
}

impl Webhooks {
    fn new_secret(&self) -> Result<(Secret, String), AdminError> {
        let secret = Secret::generate().map_err(|_| AdminError::Randomness)?;
        let sealed = self
            .0
            .settings
            .cipher
            .seal(&secret)
            .map_err(|_| AdminError::Randomness)?;
        Ok((secret, sealed))
    }

    /// Creates an endpoint for `created_by` (a subject), checked: a URL the policy allows
    /// (resolved now), at least one event type, a description of at most
    /// [`MAX_DESCRIPTION_CHARS`], fewer than `max_endpoints` endpoints already.
    pub async fn create_endpoint(
        &self,
        input: EndpointInput,
        created_by: &str,
    ) -> Result<WithSecret, AdminError> {
        if input.events.is_empty() {
            return Err(AdminError::Invalid(
                "`events` needs at least one event type".to_owned(),
            ));
        }
        let description = input.description.unwrap_or_default().trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(AdminError::Invalid(format!(
                "`description` may be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let url = self
            .0
            .settings
            .policy
            .check_endpoint(&input.url)
            .await
            .map_err(|refused| AdminError::Invalid(refused.0))?;
        let (secret, sealed) = self.new_secret()?;
        let endpoint = endpoints::create(
            &self.0.db,
            endpoints::NewEndpoint {
                url: url.to_string(),
                events: EventType::join_list(&input.events),
                description,
                secret: sealed,
                created_by: created_by.to_owned(),
            },
            self.0.settings.max_endpoints,
            self.0.clock.now(),
        )
        .await?;
        Ok(WithSecret {
            endpoint,
            secret: secret.reveal(),
        })
    }

    /// A new secret for endpoint `id`; the old one keeps signing for
    /// [`PREVIOUS_SECRET_GRACE`]. `None` when there is no such endpoint.
    pub async fn rotate_secret(&self, id: i64) -> Result<Option<WithSecret>, AdminError> {
        let (secret, sealed) = self.new_secret()?;
        let now = self.0.clock.now();
        let rotated =
            endpoints::rotate_secret(&self.0.db, id, sealed, now + PREVIOUS_SECRET_GRACE, now)
                .await?;
        Ok(rotated.map(|endpoint| WithSecret {
            endpoint,
            secret: secret.reveal(),
        }))
    }

    /// Disables endpoint `id` (its pending deliveries fail with the reason). `None` when there
    /// is no such endpoint.
    pub async fn disable_endpoint(
        &self,
        id: i64,
        reason: Option<&str>,
        by: &str,
    ) -> Result<Option<webhook_endpoint::Model>, AdminError> {
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(reason) if reason.chars().count() > endpoints::MAX_REASON_CHARS => {
                return Err(AdminError::Invalid(format!(
                    "`reason` may be at most {} characters",
                    endpoints::MAX_REASON_CHARS
                )));
            }
            Some(reason) => format!("disabled by {by}: {reason}"),
            None => format!("disabled by {by}"),
        };
        Ok(endpoints::disable(&self.0.db, id, &reason, self.0.clock.now()).await?)
    }

    /// Makes endpoint `id` active again, its URL checked again (the policy may have changed
    /// since, and so may what its host resolves to). `None` when there is no such endpoint.
    pub async fn enable_endpoint(
        &self,
        id: i64,
    ) -> Result<Option<webhook_endpoint::Model>, AdminError> {
        let Some(endpoint) = endpoints::get(&self.0.db, id).await? else {
            return Ok(None);
        };
        self.0
            .settings
            .policy
            .check_endpoint(&endpoint.url)
            .await
            .map_err(|refused| AdminError::Invalid(refused.0))?;
        Ok(endpoints::enable(&self.0.db, id, self.0.clock.now()).await?)
    }

    /// Deletes endpoint `id` with its deliveries; whether it existed.
    pub async fn delete_endpoint(&self, id: i64) -> Result<bool, AdminError> {
        Ok(endpoints::delete(&self.0.db, id).await?)
    }

    /// Every endpoint, oldest first.
    pub async fn endpoints(&self) -> Result<Vec<webhook_endpoint::Model>, AdminError> {
        Ok(endpoints::list(&self.0.db).await?)
    }

    /// The endpoint `id`.
    pub async fn endpoint(&self, id: i64) -> Result<Option<webhook_endpoint::Model>, AdminError> {
        Ok(endpoints::get(&self.0.db, id).await?)
    }

    /// One page of endpoint `id`'s deliveries, newest first.
    pub async fn deliveries(
        &self,
        endpoint_id: i64,
        status: Option<webhook_delivery::Status>,
        page: PageRequest,
    ) -> Result<Page<(webhook_delivery::Model, webhook_event::Model)>, AdminError> {
        Ok(deliveries::list(&self.0.db, endpoint_id, status, page).await?)
    }

    /// How many deliveries of endpoint `id` (with `status`) there are.
    pub async fn count_deliveries(
        &self,
        endpoint_id: i64,
        status: Option<webhook_delivery::Status>,
    ) -> Result<Total, AdminError> {
        Ok(deliveries::count(&self.0.db, endpoint_id, status).await?)
    }
}
