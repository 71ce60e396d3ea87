//! Licenses: search with filters and pagination, and batch loads by id, customer, contact and
//! hostname. Every list is ordered newest first (issued_at, then id, descending).

use chrono::NaiveDate;
use entity::{contact, customer, license, license_hostname};
use sea_orm::sea_query::{Condition, Query, UnionType};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::search::{Pattern, contact_matches, licensee_matches};
use crate::{Error, LicenseFilter, Page, PageRequest, Scope};

/// A license matches when the text is in its licensee's name, e-mail or company, in its
/// customer's name, or in its contact's name or e-mail.
///
/// Written as `id IN (… UNION … UNION …)` rather than one `OR` of conditions: each branch can
/// use its own index (the trigram indexes of the text columns, the foreign-key indexes of the
/// joins), where an `OR` that mixes columns and subqueries makes PostgreSQL scan every license.
fn matching(pattern: &Pattern) -> Condition {
    let by_licensee = Query::select()
        .column(license::Column::Id)
        .from(license::Entity)
        .cond_where(licensee_matches(pattern))
        .to_owned();
    let customers = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .cond_where(pattern.matches(customer::Column::Name))
        .to_owned();
    let by_customer = Query::select()
        .column(license::Column::Id)
        .from(license::Entity)
        .cond_where(license::Column::CustomerId.in_subquery(customers))
        .to_owned();
    let contacts = Query::select()
        .column(contact::Column::Id)
        .from(contact::Entity)
        .cond_where(contact_matches(pattern))
        .to_owned();
    let by_contact = Query::select()
        .column(license::Column::Id)
        .from(license::Entity)
        .cond_where(license::Column::ContactId.in_subquery(contacts))
        .to_owned();
    let matching_ids = by_licensee
        .to_owned()
        .union(UnionType::Distinct, by_customer)
        .union(UnionType::Distinct, by_contact)
        .to_owned();
    Condition::all().add(license::Column::Id.in_subquery(matching_ids))
}

fn newest_first(select: Select<license::Entity>) -> Select<license::Entity> {
    select
        .order_by_desc(license::Column::IssuedAt)
        .order_by_desc(license::Column::Id)
}

fn searched(
    scope: &Scope,
    search: Option<&str>,
    filter: &LicenseFilter,
    today: NaiveDate,
) -> Select<license::Entity> {
    let mut select = license::Entity::find()
        .filter(scope.condition(license::Column::CustomerId))
        .filter(filter.condition(today));
    if let Some(pattern) = search.and_then(Pattern::new) {
        select = select.filter(matching(&pattern));
    }
    select
}

/// One page of the licenses matching `search` and `filter`, newest first.
pub async fn search(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&str>,
    filter: &LicenseFilter,
    today: NaiveDate,
    page: PageRequest,
) -> Result<Page<license::Model>, Error> {
    filter.validate()?;
    let rows = newest_first(searched(scope, search, filter, today))
        .offset(page.offset)
        .limit(page.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(page, rows))
}

/// How many licenses match `search` and `filter`.
pub async fn count(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&str>,
    filter: &LicenseFilter,
    today: NaiveDate,
) -> Result<u64, Error> {
    filter.validate()?;
    Ok(searched(scope, search, filter, today).count(db).await?)
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
