//! Look-ahead prefetching for the objects a resolver returns.
//!
//! DataLoaders batch whatever keys arrive within their delay, but async-graphql polls long lists
//! in slices and the machine may be busy, so the children of a long list can straddle two
//! batches. A resolver that returns licenses or hostnames therefore loads, in one call per
//! relation, every relation its selection asks for, and registers and fetches the usage fields
//! below them in one `_entities` batch. The children then find their values in the request's
//! loader caches: the number of SQL statements and of upstream calls per request stays fixed
//! however long the lists are.

use async_graphql::{Context, Lookahead, Result};
use entity::license;

use crate::errors::to_field_error;
use crate::lookahead::{
    CUSTOMER_ACTIVE_LICENSE, CUSTOMER_CONTACTS, CUSTOMER_LICENSES, HOSTNAME_LICENSES,
    LICENSE_AUDIT_EVENTS, LICENSE_CONTACT, LICENSE_CUSTOMER, LICENSE_HOSTNAMES,
};
use crate::request::request;
use crate::usage::{UsageKey, hostname_selection, license_selection};

/// Loads what `selection` (the selection set of License objects) will ask of `licenses`.
pub async fn licenses(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    licenses: &[license::Model],
) -> Result<()> {
    if licenses.is_empty() {
        return Ok(());
    }
    let (_, loaders) = request(ctx)?;
    let ids = |key: fn(&license::Model) -> i64| -> Vec<i64> { licenses.iter().map(key).collect() };
    let usage = license_selection(&selection);
    let contacts = async {
        if LICENSE_CONTACT.under(&selection).exists() {
            loaders
                .contact
                .load_many(ids(|l| l.contact_id))
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let customers = async {
        if LICENSE_CUSTOMER.under(&selection).exists() {
            loaders
                .customer
                .load_many(ids(|l| l.customer_id))
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let audit_events = async {
        if LICENSE_AUDIT_EVENTS.under(&selection).exists() {
            loaders
                .audit_events_of_license
                .load_many(ids(|l| l.id))
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let hostnames_and_usage = async {
        let hostnames = LICENSE_HOSTNAMES.under(&selection);
        // Reporting hosts are compared with the attached ones, so they need them too.
        let mut usage_keys = Vec::new();
        if hostnames.exists() || usage.wants_licenses() {
            let attached = loaders
                .hostnames_of_license
                .load_many(ids(|l| l.id))
                .await
                .map_err(to_field_error)?;
            if HOSTNAME_LICENSES.under(&hostnames).exists() {
                let hostname_ids: Vec<i64> =
                    attached.values().flatten().map(|a| a.hostname.id).collect();
                loaders
                    .licenses_of_hostname
                    .load_many(hostname_ids)
                    .await
                    .map_err(to_field_error)?;
            }
            if usage.wants_hostnames() {
                usage_keys.extend(
                    attached
                        .values()
                        .flatten()
                        .map(|a| UsageKey::Hostname(a.hostname.name.clone())),
                );
            }
        }
        if usage.wants_licenses() {
            usage_keys.extend(licenses.iter().map(|l| UsageKey::License {
                id: l.id,
                md5: l.license_md5.clone(),
                sha256: l.license_sha256.clone(),
            }));
        }
        if !usage_keys.is_empty() {
            loaders.usage_plan.want(&usage);
            // One batch for every usage key of the list: its errors belong to the fields that
            // read it, so they are not raised here.
            let _ = loaders.usage.load_many(usage_keys).await;
        }
        Ok::<_, async_graphql::Error>(())
    };
    futures::try_join!(contacts, customers, audit_events, hostnames_and_usage)?;
    Ok(())
}

/// Loads what `selection` (the selection set of Hostname objects) asks of these hostnames: the
/// licenses attached to those the license database knows (by id), and their usage, both at once.
pub async fn hostnames(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    names: &[String],
    known_ids: &[i64],
) -> Result<()> {
    let attached_licenses = async {
        let wanted = HOSTNAME_LICENSES.under(&selection);
        if wanted.exists() && !known_ids.is_empty() {
            let (_, loaders) = request(ctx)?;
            let found = loaders
                .licenses_of_hostname
                .load_many(known_ids.iter().copied())
                .await
                .map_err(to_field_error)?;
            let all: Vec<license::Model> = found.into_values().flatten().collect();
            licenses(ctx, wanted, &all).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    futures::try_join!(
        attached_licenses,
        usage_of_hostnames(ctx, &selection, names)
    )?;
    Ok(())
}

/// Registers and fetches the usage fields `selection` (the selection set of Hostname objects)
/// asks of the hostnames called `names`.
async fn usage_of_hostnames(
    ctx: &Context<'_>,
    selection: &Lookahead<'_>,
    names: &[String],
) -> Result<()> {
    let usage = hostname_selection(selection);
    if names.is_empty() || !usage.wants_hostnames() {
        return Ok(());
    }
    let (_, loaders) = request(ctx)?;
    loaders.usage_plan.want(&usage);
    let _ = loaders
        .usage
        .load_many(names.iter().cloned().map(UsageKey::Hostname))
        .await;
    Ok(())
}

/// Loads what `selection` (the selection set of Customer objects) asks of `customers`: their
/// contacts, and their licenses with everything the licenses' selection asks for.
pub async fn customers(
    ctx: &Context<'_>,
    selection: Lookahead<'_>,
    customer_ids: &[i64],
) -> Result<()> {
    if customer_ids.is_empty() {
        return Ok(());
    }
    let (request_context, loaders) = request(ctx)?;
    let contacts = async {
        if CUSTOMER_CONTACTS.under(&selection).exists() {
            loaders
                .contacts_of_customer
                .load_many(customer_ids.iter().copied())
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let licenses_and_below = async {
        let listed = CUSTOMER_LICENSES.under(&selection);
        let active = CUSTOMER_ACTIVE_LICENSE.under(&selection);
        if listed.exists() || active.exists() {
            let found = loaders
                .licenses_of_customer
                .load_many(customer_ids.iter().copied())
                .await
                .map_err(to_field_error)?;
            let all: Vec<license::Model> = found.values().flatten().cloned().collect();
            let actives: Vec<license::Model> = found
                .values()
                .filter_map(|list| licenses::status::active_license(list, request_context.today))
                .cloned()
                .collect();
            futures::try_join!(licenses(ctx, listed, &all), licenses(ctx, active, &actives))?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    futures::try_join!(contacts, licenses_and_below)?;
    Ok(())
}
