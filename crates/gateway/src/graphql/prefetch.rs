//! Look-ahead prefetching for lists of licenses.
//!
//! DataLoaders batch whatever keys arrive within their delay, but async-graphql polls long lists
//! in slices and the machine may be busy, so the children of a long list can straddle two
//! batches. A resolver that returns a list of licenses therefore loads, in one call per
//! relation, every relation its selection asks for. The children then find their values in the
//! request's loader caches, and the number of statements per request stays fixed however long
//! the list is.

use async_graphql::{Context, Lookahead, Result};
use entity::license;

use super::context::request;
use super::errors::to_field_error;

/// Loads what `selection` (the selection set of a License list) will ask of `licenses`.
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
    let contacts = async {
        if selection.field("contact").exists() {
            loaders
                .contact
                .load_many(ids(|l| l.contact_id))
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let customers = async {
        if selection.field("customer").exists() {
            loaders
                .customer
                .load_many(ids(|l| l.customer_id))
                .await
                .map_err(to_field_error)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let hostnames = async {
        let hostnames = selection.field("hostnames");
        if hostnames.exists() {
            let attached = loaders
                .hostnames_of_license
                .load_many(ids(|l| l.id))
                .await
                .map_err(to_field_error)?;
            if hostnames.field("licenses").exists() {
                let hostname_ids: Vec<i64> =
                    attached.values().flatten().map(|a| a.hostname.id).collect();
                loaders
                    .licenses_of_hostname
                    .load_many(hostname_ids)
                    .await
                    .map_err(to_field_error)?;
            }
        }
        Ok::<_, async_graphql::Error>(())
    };
    futures::try_join!(contacts, customers, hostnames)?;
    Ok(())
}
