//! Licenses: search with filters and pagination, and batch loads by id, customer, contact and
//! hostname. Every list is ordered newest first (issued_at, then id, descending); a search puts
//! its best matches first.

use chrono::NaiveDate;
use entity::{license, license_hostname};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use crate::page::{ids_of, in_order};
use crate::search::{LICENSES, Search};
use crate::total::{self, Total};
use crate::{Error, LicenseFilter, Page, PageRequest, Scope};

fn newest_first(select: Select<license::Entity>) -> Select<license::Entity> {
    select
        .order_by_desc(license::Column::IssuedAt)
        .order_by_desc(license::Column::Id)
}

/// The visible licenses that pass `filter`, without search.
fn filtered(scope: &Scope, filter: &LicenseFilter, today: NaiveDate) -> Select<license::Entity> {
    license::Entity::find()
        .filter(scope.condition(license::Column::CustomerId))
        .filter(filter.condition(today))
}

/// The ids of the visible licenses whose search document matches and that pass `filter`: one
/// lookup in the document index, the license table only joined in when a filter needs it.
fn matching_ids(
    backend: DbBackend,
    scope: &Scope,
    search: &Search,
    filter: &LicenseFilter,
    today: NaiveDate,
) -> SelectStatement {
    let mut select = Query::select()
        .column((LICENSES.table, LICENSES.id))
        .from(LICENSES.table)
        .and_where(search.condition(backend, LICENSES))
        .and_where(
            scope
                .condition_on(Expr::col((LICENSES.table, "customer_id")))
                .into(),
        )
        .to_owned();
    if *filter != LicenseFilter::default() {
        let passing = Query::select()
            .column(license::Column::Id)
            .from(license::Entity)
            .cond_where(filter.condition(today))
            .to_owned();
        select.and_where(Expr::col((LICENSES.table, LICENSES.id)).in_subquery(passing));
    }
    select
}

/// One page of the licenses matching `search` and `filter`: with a search, best matches first
/// (a whole field, then the start of a field or word, then anywhere), then newest; without,
/// newest first.
pub async fn search(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&Search>,
    filter: &LicenseFilter,
    today: NaiveDate,
    page: PageRequest,
) -> Result<Page<license::Model>, Error> {
    filter.validate()?;
    let Some(search) = search else {
        let rows = newest_first(filtered(scope, filter, today))
            .offset(page.offset)
            .limit(page.first + 1)
            .all(db)
            .await?;
        return Ok(Page::from_rows(page, rows));
    };
    let backend = db.get_database_backend();
    let ids = matching_ids(backend, scope, search, filter, today)
        .order_by_expr(search.rank(backend, LICENSES), Order::Asc)
        .order_by((LICENSES.table, "issued_at"), Order::Desc)
        .order_by((LICENSES.table, LICENSES.id), Order::Desc)
        .offset(page.offset)
        .limit(page.first + 1)
        .to_owned();
    let ids = ids_of(db, &ids, LICENSES.id).await?;
    let rows = license::Entity::find()
        .filter(license::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(Page::from_rows(page, in_order(&ids, rows, |l| l.id)))
}

/// How many licenses match `search` and `filter`, exact up to [`crate::total::COUNT_LIMIT`].
pub async fn count(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&Search>,
    filter: &LicenseFilter,
    today: NaiveDate,
) -> Result<Total, Error> {
    filter.validate()?;
    let rows = match search {
        Some(search) => matching_ids(db.get_database_backend(), scope, search, filter, today),
        None => filtered(scope, filter, today)
            .select_only()
            .column(license::Column::Id)
            .into_query(),
    };
    total::capped(db, rows).await
}

/// The visible licenses among `ids`.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    ids: &[i64],
) -> Result<Vec<license::Model>, Error> {
    Ok(license::Entity::find()
        .filter(license::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.condition(license::Column::CustomerId))
        .all(db)
        .await?)
}

/// The licenses of the visible customers among `customer_ids`, newest first.
pub async fn by_customer_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    customer_ids: &[i64],
) -> Result<Vec<license::Model>, Error> {
    Ok(newest_first(
        license::Entity::find()
            .filter(license::Column::CustomerId.is_in(customer_ids.iter().copied()))
            .filter(scope.condition(license::Column::CustomerId)),
    )
    .all(db)
    .await?)
}

/// The visible licenses delivered to the contacts among `contact_ids`, newest first.
pub async fn by_contact_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    contact_ids: &[i64],
) -> Result<Vec<license::Model>, Error> {
    Ok(newest_first(
        license::Entity::find()
            .filter(license::Column::ContactId.is_in(contact_ids.iter().copied()))
            .filter(scope.condition(license::Column::CustomerId)),
    )
    .all(db)
    .await?)
}

/// The visible licenses installed on the hostnames among `hostname_ids`, as (hostname id,
/// license) pairs, newest first.
pub async fn by_hostname_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    hostname_ids: &[i64],
) -> Result<Vec<(i64, license::Model)>, Error> {
    let rows = license_hostname::Entity::find()
        .filter(license_hostname::Column::HostnameId.is_in(hostname_ids.iter().copied()))
        .filter(scope.condition(license::Column::CustomerId))
        .find_also_related(license::Entity)
        .order_by_desc(license::Column::IssuedAt)
        .order_by_desc(license::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, license)| license.map(|l| (link.hostname_id, l)))
        .collect())
}
