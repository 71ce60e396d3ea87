//! The query roots. Each area owns its root; `Query` merges them.

use async_graphql::{Context, ID, MergedObject, Object, Result};
use sea_orm::DatabaseConnection;

use super::context::request;
use super::errors::{parse_id, to_field_error};
use super::prefetch;
use super::types::connection::{Counted, CustomerConnection, LicenseConnection};
use super::types::filter::LicenseFilter;
use super::types::{Customer, Hostname, License};

/// Default page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

fn page(first: Option<i32>, after: Option<&str>) -> Result<licenses::PageRequest> {
    licenses::PageRequest::new(
        first.map(i64::from),
        after,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )
    .map_err(to_field_error)
}

/// Customer lookups.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers by name, newest matches first by name. `search` matches case-insensitively
    /// anywhere in the customer's name, a contact's name or e-mail, or a licensee's name, e-mail
    /// or company; `%` and `_` match themselves. `first` is at most 100 (default 20).
    async fn customers(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CustomerConnection> {
        let page = page(first, after.as_deref())?;
        let (request, _) = request(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let rows = licenses::customers::search(db, &request.scope, search.as_deref(), page)
            .await
            .map_err(to_field_error)?;
        Ok(CustomerConnection::new(
            rows,
            Counted::Customers { search },
            Customer,
        ))
    }

    /// One customer by id; null when there is no such customer (or it is not yours to see).
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        let id = parse_id(&id, "customer")?;
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .customer
            .load_one(id)
            .await
            .map_err(to_field_error)?
            .map(Customer))
    }

    /// Resolves a Customer reference for federated gateways.
    #[graphql(entity)]
    async fn find_customer_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        self.customer(ctx, id).await
    }
}

/// License lookups.
#[derive(Default)]
pub struct LicenseQuery;

#[Object]
impl LicenseQuery {
    /// Licenses, newest first. `search` matches case-insensitively anywhere in the licensee's
    /// name, e-mail or company, the customer's name or the contact's name or e-mail; `filter`
    /// narrows by plan, trial, status, expiry and issue date. `first` is at most 100 (default 20).
    async fn licenses(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        filter: Option<LicenseFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<LicenseConnection> {
        let page = page(first, after.as_deref())?;
        let filter = filter
            .unwrap_or_default()
            .to_service()
            .map_err(to_field_error)?;
        let (request, _) = request(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let rows = licenses::issued::search(
            db,
            &request.scope,
            search.as_deref(),
            &filter,
            request.today,
            page,
        )
        .await
        .map_err(to_field_error)?;
        let models: Vec<_> = rows.items.iter().map(|(_, l)| l.clone()).collect();
        let selection = ctx.look_ahead();
        prefetch::licenses(ctx, selection.field("nodes"), &models).await?;
        prefetch::licenses(ctx, selection.field("edges").field("node"), &models).await?;
        Ok(LicenseConnection::new(
            rows,
            Counted::Licenses { search, filter },
            License,
        ))
    }

    /// One license by id; null when there is no such license (or it is not yours to see).
    async fn license(&self, ctx: &Context<'_>, id: ID) -> Result<Option<License>> {
        let id = parse_id(&id, "license")?;
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .license
            .load_one(id)
            .await
            .map_err(to_field_error)?
            .map(License))
    }

    /// Resolves a License reference for federated gateways.
    #[graphql(entity)]
    async fn find_license_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<License>> {
        self.license(ctx, id).await
    }
}

/// Server lookups.
#[derive(Default)]
pub struct HostnameQuery;

#[Object]
impl HostnameQuery {
    /// A server by name (case and a trailing dot do not matter); null when unknown.
    async fn hostname(&self, ctx: &Context<'_>, name: String) -> Result<Option<Hostname>> {
        let (request, _) = request(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let row = licenses::hostnames::by_name(db, &request.scope, &name)
            .await
            .map_err(to_field_error)?;
        Ok(row.map(Hostname::from_row))
    }

    /// Resolves a Hostname reference for federated gateways.
    #[graphql(entity)]
    async fn find_hostname_by_name(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> Result<Option<Hostname>> {
        self.hostname(ctx, name).await
    }
}

/// The root of every query: customers, licenses and servers.
#[derive(MergedObject, Default)]
pub struct Query(CustomerQuery, LicenseQuery, HostnameQuery);
