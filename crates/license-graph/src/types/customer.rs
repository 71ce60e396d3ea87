//! Customer: an account licenses are issued to.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::customer;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::to_field_error;
use crate::prefetch;
use crate::request::request;
use crate::types::filter::LicenseFilter;
use crate::types::{Contact, License};
use crate::weights;

#[derive(Clone)]
pub struct Customer(pub customer::Model);

impl Customer {
    /// The customer `id` through the request's loader (`None` when the caller may not see it).
    pub(crate) async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Customer>> {
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .customer
            .load_one(id)
            .await
            .map_err(to_field_error)?
            .map(Customer))
    }
}

/// A customer or prospect: the account that licenses, trials included, are issued to.
#[Object(
    directive = authenticated::apply(),
    requires_scopes = "admin",
    requires_scopes = "sales",
    requires_scopes = "support",
    requires_scopes = "viewer",
    requires_scopes = "customer"
)]
impl Customer {
    /// The customer's id in the license database.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The company name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The Salesforce account id, when the customer is in Salesforce.
    async fn salesforce_account_id(&self) -> Option<&str> {
        self.0.salesforce_account_id.as_deref()
    }

    /// The Zuora (billing) account id, when the customer has bought something.
    async fn zuora_account_id(&self) -> Option<&str> {
        self.0.zuora_account_id.as_deref()
    }

    /// The customer's country (ISO 3166 alpha-2), when known.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }

    /// When the customer was created in the license app.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The people at this customer who receive licenses, by name.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        let (_, loaders) = request(ctx)?;
        let contacts = loaders
            .contacts_of_customer
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        Ok(contacts
            .unwrap_or_default()
            .into_iter()
            .map(Contact)
            .collect())
    }

    /// Every license issued to this customer, trials included, newest first; narrowed by
    /// `filter` when given.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn licenses(
        &self,
        ctx: &Context<'_>,
        filter: Option<LicenseFilter>,
    ) -> Result<Vec<License>> {
        let (request, loaders) = request(ctx)?;
        let filter = filter
            .unwrap_or_default()
            .to_service()
            .map_err(to_field_error)?;
        filter.validate().map_err(to_field_error)?;
        let licenses = loaders
            .licenses_of_customer
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        let licenses: Vec<_> = licenses
            .unwrap_or_default()
            .into_iter()
            .filter(|l| filter.matches(l, request.today))
            .collect();
        prefetch::licenses(ctx, ctx.look_ahead(), &licenses).await?;
        Ok(licenses.into_iter().map(License).collect())
    }

    /// The license the customer is on now: the active paid license issued last, else the active
    /// trial issued last; null when nothing is active.
    async fn active_license(&self, ctx: &Context<'_>) -> Result<Option<License>> {
        let (request, loaders) = request(ctx)?;
        let licenses = loaders
            .licenses_of_customer
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        let active = licenses
            .as_deref()
            .and_then(|all| licenses::status::active_license(all, request.today))
            .cloned();
        if let Some(license) = &active {
            prefetch::licenses(ctx, ctx.look_ahead(), std::slice::from_ref(license)).await?;
        }
        Ok(active.map(License))
    }
}
