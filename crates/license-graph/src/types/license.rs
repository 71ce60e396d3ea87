//! License: one license as issued, with its status and where it is installed.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::license;

use crate::directives::{authenticated, cost, list_size};
use crate::errors::to_field_error;
use crate::request::{graph, request};
use crate::types::audit::AuditEvent;
use crate::types::filter::{LicenseStatus, LicenseType, Plan};
use crate::types::health::{ServerFacts, ServerHealthEntry, assess};
use crate::types::usage::{
    ReportingHost, ReportingHostData, UsagePing, Utilization, entity_field, usage_error,
};
use crate::types::{Contact, Customer, Hostname};
use crate::usage::UsageKey;
use crate::weights;

#[derive(Clone)]
pub struct License(pub license::Model);

/// The licensee as written into the license file: the name, e-mail and company the customer's
/// server shows.
#[derive(SimpleObject, Clone)]
#[graphql(directive = authenticated::apply())]
pub struct Licensee {
    /// The licensee's name (masked for callers who may not see personal data).
    pub name: String,
    /// The licensee's e-mail address (masked for callers who may not see personal data).
    pub email: String,
    /// The licensee's company.
    pub company: String,
}

impl License {
    /// The hosts the version service says report this license; `None` when none does.
    async fn reported(&self, ctx: &Context<'_>) -> Result<Option<Vec<ReportingHostData>>> {
        let (_, loaders) = request(ctx)?;
        let key = UsageKey::License {
            id: self.0.id,
            md5: self.0.license_md5.clone(),
            sha256: self.0.license_sha256.clone(),
        };
        let Ok(entity) = loaders.usage.load_one(key).await;
        match entity {
            None => Ok(None),
            Some(Ok(entity)) => entity_field(&entity, "reportingHosts"),
            Some(Err(error)) => Err(usage_error(&error)),
        }
    }
}

/// A license as issued to a customer: trial or paid, for a plan, a number of users and a period.
#[Object(
    directive = authenticated::apply(),
    requires_scopes = "admin",
    requires_scopes = "sales",
    requires_scopes = "support",
    requires_scopes = "viewer",
    requires_scopes = "customer"
)]
impl License {
    /// The license's id in the license database (usage pings report it as `license_id`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The customer the license was issued to.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        Customer::load(ctx, self.0.customer_id).await
    }

    /// The contact who received the license.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<Contact>> {
        let (_, loaders) = request(ctx)?;
        Ok(loaders
            .contact
            .load_one(self.0.contact_id)
            .await
            .map_err(to_field_error)?
            .map(Contact))
    }

    /// The licensee as written into the license file.
    async fn licensee(&self, ctx: &Context<'_>) -> Result<Licensee> {
        let (request, _) = request(ctx)?;
        Ok(Licensee {
            name: request.name(&self.0.licensee_name),
            email: request.email(&self.0.licensee_email),
            company: self.0.licensee_company.clone(),
        })
    }

    /// The plan.
    async fn plan(&self) -> Plan {
        self.0.plan.into()
    }

    /// The number of users the license is for.
    async fn users_count(&self) -> i32 {
        self.0.users_count
    }

    /// The number of users of the license this one renewed, if any.
    async fn previous_users_count(&self) -> Option<i32> {
        self.0.previous_users_count
    }

    /// Users over the previous license's count paid for at renewal (true-up).
    async fn trueup_quantity(&self) -> i32 {
        self.0.trueup_quantity
    }

    /// Whether this is a trial (trials are Ultimate, 30 days, up to 100 users).
    async fn trial(&self) -> bool {
        self.0.trial
    }

    /// When the license was issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.0.issued_at
    }

    /// The first day the license is valid.
    async fn starts_at(&self) -> NaiveDate {
        self.0.starts_at
    }

    /// The day the license expires (it is no longer valid on that day); null for no expiry.
    async fn expires_at(&self) -> Option<NaiveDate> {
        self.0.expires_at
    }

    /// Where the license stands today: active, expired or not started.
    async fn status(&self, ctx: &Context<'_>) -> Result<LicenseStatus> {
        let (request, _) = request(ctx)?;
        Ok(licenses::status::status(self.0.starts_at, self.0.expires_at, request.today).into())
    }

    /// Days from today until the expiry date (negative once expired); null for no expiry.
    async fn days_until_expiry(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let (request, _) = request(ctx)?;
        Ok(licenses::status::days_until_expiry(
            self.0.expires_at,
            request.today,
        ))
    }

    /// How the license reaches the customer's server.
    async fn license_type(&self) -> LicenseType {
        self.0.license_type.into()
    }

    /// The Zuora subscription the license belongs to (null for trials).
    async fn zuora_subscription_id(&self) -> Option<&str> {
        self.0.zuora_subscription_id.as_deref()
    }

    /// The Zuora subscription's name, such as `A-S00012345` (null for trials).
    async fn zuora_subscription_name(&self) -> Option<&str> {
        self.0.zuora_subscription_name.as_deref()
    }

    /// The MD5 digest of the license file, as usage pings report it.
    async fn license_md5(&self) -> &str {
        &self.0.license_md5
    }

    /// The SHA-256 digest of the license file, as usage pings report it.
    async fn license_sha256(&self) -> &str {
        &self.0.license_sha256
    }

    /// Free-text notes from the license app.
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }

    /// When the license record was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the license record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The license's version, bumped by every change made through licensedot: pass it as
    /// `expectedVersion` to `changeLicenseContact`.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// Whether the caller may change this license's contact (`changeLicenseContact`): true for
    /// the `support` and `admin` roles.
    async fn viewer_can_change_contact(&self, ctx: &Context<'_>) -> bool {
        graph(ctx).is_ok_and(|request| request.caller.viewer.license_changing_role().is_some())
    }

    /// The license's history of audited changes, newest first: at most `first` (default 20,
    /// at most 100) events. Older ones are in `auditEvents(filter: {licenseId})`.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::FIRST.assumed_size(),
            weights::FIRST.slicing_arguments(),
            weights::FIRST.sized_fields(),
            weights::FIRST.require_one_slicing_argument()
        )
    )]
    async fn audit_events(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<AuditEvent>> {
        let page = crate::query::page(first, None)?;
        let (_, loaders) = request(ctx)?;
        let events = loaders
            .audit_events_of_license
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        Ok(events
            .unwrap_or_default()
            .into_iter()
            .take(usize::try_from(page.first).unwrap_or(usize::MAX))
            .map(AuditEvent)
            .collect())
    }

    /// The servers whose usage pings carry this license's file digest (a ping naming it only by
    /// id proves nothing and counts for nothing), each marked as attached to the license or
    /// not. Null, with an error, when the version service cannot be asked; the rest of the
    /// license still resolves.
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
    async fn reporting_hosts(&self, ctx: &Context<'_>) -> Result<Option<Vec<ReportingHost>>> {
        let Some(reported) = self.reported(ctx).await? else {
            return Ok(Some(Vec::new()));
        };
        let (_, loaders) = request(ctx)?;
        let attached = loaders
            .hostnames_of_license
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?
            .unwrap_or_default();
        Ok(Some(
            reported
                .into_iter()
                .map(|host| ReportingHost {
                    attached: attached.iter().any(|a| a.hostname.name == host.hostname),
                    name: host.hostname,
                    current: host.current,
                    first_usage_ping_at: host.first_usage_ping_at,
                    last_usage_ping_at: host.last_usage_ping_at,
                    latest_usage_ping: host.latest_usage_ping,
                })
                .collect(),
        ))
    }

    /// Licensed users against the highest active-user count that the servers running this
    /// license now report in their newest pings. Null, with an error, when the version service
    /// cannot be asked.
    async fn utilization(&self, ctx: &Context<'_>) -> Result<Option<Utilization>> {
        let reported = self.reported(ctx).await?.unwrap_or_default();
        let current = reported
            .iter()
            .filter(|host| host.current)
            .filter_map(|host| host.latest_usage_ping.as_ref());
        Ok(Some(Utilization::from_pings(self.0.users_count, current)))
    }

    /// Each server attached to or reporting this license (attached first), with what is wrong
    /// with it: not heard from for more than 30 days (an attached server that never pinged
    /// counts), proving another license, too many minor versions behind the newest version
    /// among these servers, or running a license reported by more servers than it is attached
    /// to. Null, with an error, when the version service cannot be asked.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn server_health(&self, ctx: &Context<'_>) -> Result<Option<Vec<ServerHealthEntry>>> {
        let (view, loaders) = request(ctx)?;
        let attached = loaders
            .hostnames_of_license
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?
            .unwrap_or_default();
        // One batch with every other usage load of the request: the same `_entities` call.
        let keys: Vec<UsageKey> = attached
            .iter()
            .map(|a| UsageKey::Hostname(a.hostname.name.clone()))
            .collect();
        let (usage, reported) = futures::join!(
            loaders.usage.load_many(keys.iter().cloned()),
            self.reported(ctx)
        );
        let Ok(usage) = usage;
        let reported = reported?.unwrap_or_default();
        let mut servers = Vec::with_capacity(attached.len() + reported.len());
        for key in &keys {
            let UsageKey::Hostname(name) = key else {
                continue;
            };
            let entity = match usage.get(key) {
                Some(Ok(entity)) if !entity.is_null() => Some(entity),
                Some(Err(error)) => return Err(usage_error(error)),
                _ => None,
            };
            let (last_ping_at, ping) = match entity {
                Some(entity) => (
                    entity_field::<DateTime<Utc>>(entity, "lastUsagePingAt")?,
                    entity_field::<UsagePing>(entity, "latestUsagePing")?,
                ),
                None => (None, None),
            };
            let verified = ping
                .as_ref()
                .and_then(|p| p.verified_license_id.as_ref())
                .and_then(|id| id.parse::<i64>().ok());
            let current = reported.iter().any(|r| r.hostname == *name && r.current);
            servers.push(ServerFacts {
                name: name.clone(),
                attached: true,
                last_ping_at,
                version: ping.and_then(|p| p.version),
                verified_license_id: verified,
                runs_license: current || verified == Some(self.0.id),
            });
        }
        for host in reported {
            if servers.iter().any(|s| s.name == host.hostname) {
                continue;
            }
            let ping = host.latest_usage_ping;
            servers.push(ServerFacts {
                name: host.hostname,
                attached: false,
                last_ping_at: Some(host.last_usage_ping_at),
                verified_license_id: ping
                    .as_ref()
                    .and_then(|p| p.verified_license_id.as_ref())
                    .and_then(|id| id.parse::<i64>().ok()),
                version: ping.and_then(|p| p.version),
                runs_license: host.current,
            });
        }
        let lag = loaders.usage.loader().client.version_lag_minor();
        Ok(Some(assess(self.0.id, &servers, view.today, lag)))
    }

    /// The servers the license is known to be installed on, by name.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn hostnames(&self, ctx: &Context<'_>) -> Result<Vec<Hostname>> {
        let (_, loaders) = request(ctx)?;
        let attached = loaders
            .hostnames_of_license
            .load_one(self.0.id)
            .await
            .map_err(to_field_error)?;
        Ok(attached
            .unwrap_or_default()
            .into_iter()
            .map(|a| Hostname::from_row(a.hostname))
            .collect())
    }
}
