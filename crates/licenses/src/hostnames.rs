//! Hostnames: lookup by name (one or many) and batch loads by license.

use chrono::{DateTime, Utc};
use entity::{hostname, license, license_hostname};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::{Error, Scope};

/// A hostname attached to a license, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The license it is attached to.
    pub license_id: i64,
    /// The hostname.
    pub hostname: hostname::Model,
    /// When the license was first seen on this host.
    pub first_seen_at: DateTime<Utc>,
}

/// The hostname called `name` (normalised first), if the caller may see it: staff see every
/// hostname; a customer-scoped caller only those attached to one of its licenses.
pub async fn by_name(
    db: &DatabaseConnection,
    scope: &Scope,
    name: &str,
) -> Result<Option<hostname::Model>, Error> {
    let select =
        hostname::Entity::find().filter(hostname::Column::Name.eq(hostname::normalise(name)));
    Ok(visible(select, scope).one(db).await?)
}

/// The hostnames among `names` (already normalised) the caller may see, by name: the rule of
/// [`by_name`] for many names in one statement. The statement runs for no names too, so a
/// lookup costs the same statements whether the version service knew the uuid or not.
pub async fn by_names(
    db: &DatabaseConnection,
    scope: &Scope,
    names: &[String],
) -> Result<Vec<hostname::Model>, Error> {
    let select = hostname::Entity::find()
        .filter(hostname::Column::Name.is_in(names.iter().cloned()))
        .order_by_asc(hostname::Column::Name);
    Ok(visible(select, scope).all(db).await?)
}

/// `select` narrowed to the hostnames the caller may see: for a customer-scoped caller, those
/// attached to one of its licenses; for staff, all.
fn visible(select: Select<hostname::Entity>, scope: &Scope) -> Select<hostname::Entity> {
    let Scope::Customers(_) = scope else {
        return select;
    };
    let visible = Query::select()
        .column(license_hostname::Column::HostnameId)
        .from(license_hostname::Entity)
        .inner_join(
            license::Entity,
            Expr::col((license::Entity, license::Column::Id)).equals((
                license_hostname::Entity,
                license_hostname::Column::LicenseId,
            )),
        )
        .cond_where(scope.condition(license::Column::CustomerId))
        .to_owned();
    select.filter(hostname::Column::Id.in_subquery(visible))
}

/// The hostnames attached to the visible licenses among `license_ids`, by name.
pub async fn by_license_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    license_ids: &[i64],
) -> Result<Vec<Attachment>, Error> {
    let mut links = license_hostname::Entity::find()
        .filter(license_hostname::Column::LicenseId.is_in(license_ids.iter().copied()));
    // Only a customer-scoped caller needs the licenses' customers; for staff the join would
    // read a license row per link for nothing.
    if let Scope::Customers(_) = scope {
        links = links
            .inner_join(license::Entity)
            .filter(scope.condition(license::Column::CustomerId));
    }
    let rows = links
        .find_also_related(hostname::Entity)
        .order_by_asc(hostname::Column::Name)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, hostname)| {
            hostname.map(|hostname| Attachment {
                license_id: link.license_id,
                hostname,
                first_seen_at: link.first_seen_at,
            })
        })
        .collect())
}
