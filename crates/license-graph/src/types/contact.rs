//! Contact: a person at a customer who receives licenses.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::contact;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::to_field_error;
use crate::prefetch;
use crate::request::request;
use crate::types::{Customer, License};
use crate::weights;

#[derive(Clone)]
pub struct Contact(pub contact::Model);

/// A person at a customer who receives licenses: the source of truth for delivery.
#[Object(directive = authenticated::apply())]
impl Contact {
    /// The contact's id in the license database.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The person's name (masked for callers who may not see personal data).
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        let (request, _) = request(ctx)?;
        Ok(request.name(&self.0.name))
    }

    /// The person's e-mail address (masked for callers who may not see personal data).
    async fn email(&self, ctx: &Context<'_>) -> Result<String> {
        let (request, _) = request(ctx)?;
        Ok(request.email(&self.0.email))
    }

    /// When the contact was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The customer this person belongs to.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }

    /// The licenses delivered to this person, newest first.
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
        let (_, loaders) = request(ctx)?;
        let licenses = loaders
            .licenses_of_contact
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        let licenses = licenses.unwrap_or_default();
        prefetch::licenses(ctx, ctx.look_ahead(), &licenses).await?;
        Ok(licenses.into_iter().map(License).collect())
    }
}
