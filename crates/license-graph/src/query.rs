//! The query roots. Each area owns its root; `Query` merges them.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Lookahead, MergedObject, Object, Result};
use chrono::NaiveDate;
use licenses::View;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::{ApiError, parse_id, to_field_error};
use crate::list_sizes::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::lookahead::{
    CUSTOMER_CONNECTION_EDGES, CUSTOMER_CONNECTION_NODES, CUSTOMER_EDGE_NODE,
    LICENSE_CONNECTION_EDGES, LICENSE_CONNECTION_NODES, LICENSE_EDGE_NODE,
};
use crate::lookup::LookupQuery;
use crate::prefetch;
use crate::request::{graph, request};
use crate::types::audit::{AuditEvent, AuditEventFilter};
use crate::types::connection::{
    AuditEventConnection, Counted, CustomerConnection, LicenseConnection,
};
use crate::types::filter::LicenseFilter;
use crate::types::trials::{TrialGrouping, TrialsReport};
use crate::types::usage::usage_error;
use crate::types::{Customer, Hostname, License};
use crate::usage::{self, UsageKey};
use crate::webhooks::WebhookQuery;
use crate::weights;

pub(crate) fn page(first: Option<i32>, after: Option<&str>) -> Result<licenses::PageRequest> {
    licenses::PageRequest::new(
        first.map(i64::from),
        after,
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )
    .map_err(to_field_error)
}

/// The caller's search text, checked, over the fields the caller may search: someone who sees
/// names and e-mail addresses masked must not be able to test guesses at them by searching.
fn parse_search(request: &View, text: Option<&str>) -> Result<Option<licenses::Search>> {
    let fields = if request.personal_data_visible {
        licenses::SearchFields::All
    } else {
        licenses::SearchFields::WithoutPersonalData
    };
    licenses::Search::parse(text, fields).map_err(to_field_error)
}

/// Customer lookups.
#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers, by name. `search` (2 to 200 characters) matches case-insensitively anywhere
    /// in the customer's name, a contact's name or e-mail, or a licensee's name, e-mail or
    /// company (callers who see personal data masked: only the customer's name and licensee
    /// companies); `%` and `_` match themselves. A search lists whole-field matches first,
    /// then matches at the start of a field or word, then the rest, each by name. `first` is
    /// at most 100 (default 20).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::CONNECTION.assumed_size(),
            weights::CONNECTION.slicing_arguments(),
            weights::CONNECTION.sized_fields(),
            weights::CONNECTION.require_one_slicing_argument()
        )
    )]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CustomerConnection> {
        let page = page(first, after.as_deref())?;
        let (request, _) = request(ctx)?;
        let search = parse_search(request, search.as_deref())?;
        let db = &graph(ctx)?.db;
        let rows = licenses::customers::search(db, &request.scope, search.as_ref(), page)
            .await
            .map_err(to_field_error)?;
        let ids: Vec<i64> = rows.items.iter().map(|(_, c)| c.id).collect();
        let selection = ctx.look_ahead();
        prefetch::customers(ctx, CUSTOMER_CONNECTION_NODES.under(&selection), &ids).await?;
        prefetch::customers(
            ctx,
            CUSTOMER_EDGE_NODE.under(&CUSTOMER_CONNECTION_EDGES.under(&selection)),
            &ids,
        )
        .await?;
        Ok(CustomerConnection::new(
            rows,
            Counted::Customers { search },
            Customer,
        ))
    }

    /// One customer by id; null when there is no such customer (or it is not yours to see).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
    )]
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
    /// Licenses, newest first. `search` (2 to 200 characters) matches case-insensitively
    /// anywhere in the licensee's name, e-mail or company, the customer's name or the contact's
    /// name or e-mail (callers who see personal data masked: only the customer's name and the
    /// licensee's company); a search lists whole-field matches first, then matches at the start
    /// of a field or word, then the rest, each newest first. `filter` narrows by plan, trial,
    /// status, expiry and issue date. `first` is at most 100 (default 20).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::CONNECTION.assumed_size(),
            weights::CONNECTION.slicing_arguments(),
            weights::CONNECTION.sized_fields(),
            weights::CONNECTION.require_one_slicing_argument()
        )
    )]
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
        let search = parse_search(request, search.as_deref())?;
        let db = &graph(ctx)?.db;
        let rows = licenses::issued::search(
            db,
            &request.scope,
            search.as_ref(),
            &filter,
            request.today,
            page,
        )
        .await
        .map_err(to_field_error)?;
        let models: Vec<_> = rows.items.iter().map(|(_, l)| l.clone()).collect();
        let selection = ctx.look_ahead();
        prefetch::licenses(ctx, LICENSE_CONNECTION_NODES.under(&selection), &models).await?;
        prefetch::licenses(
            ctx,
            LICENSE_EDGE_NODE.under(&LICENSE_CONNECTION_EDGES.under(&selection)),
            &models,
        )
        .await?;
        Ok(LicenseConnection::new(
            rows,
            Counted::Licenses { search, filter },
            License,
        ))
    }

    /// One license by id; null when there is no such license (or it is not yours to see).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
    )]
    async fn license(&self, ctx: &Context<'_>, id: ID) -> Result<Option<License>> {
        let id = parse_id(&id, "license")?;
        let (_, loaders) = request(ctx)?;
        let license = loaders.license.load_one(id).await.map_err(to_field_error)?;
        if let Some(license) = &license {
            prefetch::licenses(ctx, ctx.look_ahead(), std::slice::from_ref(license)).await?;
        }
        Ok(license.map(License))
    }

    /// Resolves a License reference for federated gateways.
    #[graphql(entity)]
    async fn find_license_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<License>> {
        self.license(ctx, id).await
    }
}

/// The server called `name`, if the caller may see it, with what `selection` (a selection of
/// `Hostname`) asks for prefetched: a server attached to a visible license; for staff also a
/// server only its usage pings know of (one `_entities` call), since nothing ties such a server
/// to a customer's scope.
pub(crate) async fn hostname_by_name(
    ctx: &Context<'_>,
    name: &str,
    selection: Lookahead<'_>,
) -> Result<Option<Hostname>> {
    let (context, loaders) = request(ctx)?;
    let db = &graph(ctx)?.db;
    let row = licenses::hostnames::by_name(db, &context.scope, name)
        .await
        .map_err(to_field_error)?;
    let hostname = match row {
        Some(row) => Hostname::from_row(row),
        None if context.scope == licenses::Scope::All => {
            let normalised = entity::hostname::normalise(name);
            let mut wanted = usage::hostname_selection(&selection);
            wanted.hostname.last_usage_ping_at = true;
            loaders.usage_plan.want(&wanted);
            let key = UsageKey::Hostname(normalised.clone());
            let Ok(entity) = loaders.usage.load_one(key).await;
            match entity {
                Some(Ok(entity)) if !entity.is_null() => Hostname::reported_only(normalised),
                Some(Err(error)) => return Err(usage_error(&error)),
                _ => return Ok(None),
            }
        }
        None => return Ok(None),
    };
    prefetch::hostnames(
        ctx,
        selection,
        &[hostname.key()],
        &hostname.row_id().into_iter().collect::<Vec<_>>(),
    )
    .await?;
    Ok(Some(hostname))
}

/// Server lookups.
#[derive(Default)]
pub struct HostnameQuery;

#[Object]
impl HostnameQuery {
    /// A server by name (case and a trailing dot do not matter); null when unknown.
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
    )]
    async fn hostname(&self, ctx: &Context<'_>, name: String) -> Result<Option<Hostname>> {
        hostname_by_name(ctx, &name, ctx.look_ahead()).await
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

/// The audit trail.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every audited change, newest first, narrowed by `filter`; for staff roles only
    /// (customer-scoped callers: `FORBIDDEN`; they see their licenses' `auditEvents`). People
    /// are masked as everywhere; callers who see them masked may not filter by actor. `first`
    /// is at most 100 (default 20).
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::CONNECTION.assumed_size(),
            weights::CONNECTION.slicing_arguments(),
            weights::CONNECTION.sized_fields(),
            weights::CONNECTION.require_one_slicing_argument()
        )
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let caller = &graph(ctx)?.caller;
        if !caller.viewer.can_read_audit_trail() {
            return Err(ApiError::Forbidden(
                "the audit trail is for staff roles; see a license's `auditEvents`".to_owned(),
            )
            .extend());
        }
        let page = page(first, after.as_deref())?;
        let filter = filter.unwrap_or_default().to_service()?;
        let (request, _) = request(ctx)?;
        if filter.actor_subject.is_some() && !request.personal_data_visible {
            // Filtering by a subject the caller cannot see would confirm guesses at it.
            return Err(ApiError::Forbidden(
                "callers who see personal data masked may not filter by actor".to_owned(),
            )
            .extend());
        }
        let db = &graph(ctx)?.db;
        let rows = licenses::audit::search(db, &request.scope, &filter, page)
            .await
            .map_err(to_field_error)?;
        Ok(AuditEventConnection::new(
            rows,
            Counted::AuditEvents { filter },
            AuditEvent,
        ))
    }
}

/// Reports over the license data.
#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Trials issued from `from` to `to` (days, UTC, both included; at most 366 days), grouped
    /// by `groupBy` (weeks or months) and plan, with how many turned into a paid license of the
    /// same customer issued at most `convertedWithinDays` days after the trial (1 to 365,
    /// default 90). Scoped like everything else: a customer-scoped caller sees its own trials.
    /// A period with more than 50,000 trials is refused (`BAD_USER_INPUT`): ask for less.
    #[graphql(
        directive = authenticated::apply(),
        requires_scopes = "admin",
        requires_scopes = "sales",
        requires_scopes = "support",
        requires_scopes = "viewer",
        requires_scopes = "customer",
    )]
    async fn trials_report(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        group_by: TrialGrouping,
        converted_within_days: Option<i32>,
    ) -> Result<TrialsReport> {
        let query = licenses::trials::TrialsQuery::new(
            from,
            to,
            group_by.into(),
            converted_within_days.map(i64::from),
        )
        .map_err(to_field_error)?;
        let (request, _) = request(ctx)?;
        let db = &graph(ctx)?.db;
        let report = licenses::trials::report(db, &request.scope, query)
            .await
            .map_err(to_field_error)?;
        Ok(TrialsReport(Arc::new(report)))
    }
}

/// The root of every query: customers, licenses, servers, lookups by what a ticket holds, the
/// audit trail, reports, and (for admins) webhooks.
#[derive(MergedObject, Default)]
pub struct Query(
    CustomerQuery,
    LicenseQuery,
    HostnameQuery,
    LookupQuery,
    AuditQuery,
    ReportQuery,
    WebhookQuery,
);
