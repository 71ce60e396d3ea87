//! Customers: search with pagination, and batch loads by id.

use entity::{contact, customer, license};
use sea_orm::sea_query::{Condition, Query, UnionType};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::search::{Pattern, contact_matches, licensee_matches};
use crate::{Error, Page, PageRequest, Scope};

/// A customer matches when the text is in its name, in a contact's name or e-mail, or in the
/// licensee name, e-mail or company of one of its licenses.
///
/// Written as `id IN (… UNION … UNION …)` so each branch uses its own trigram index (see
/// `issued::matching`).
fn matching(pattern: &Pattern) -> Condition {
    let by_name = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .cond_where(pattern.matches(customer::Column::Name))
        .to_owned();
    let by_contact = Query::select()
        .column(contact::Column::CustomerId)
        .from(contact::Entity)
        .cond_where(contact_matches(pattern))
        .to_owned();
    let by_licensee = Query::select()
        .column(license::Column::CustomerId)
        .from(license::Entity)
        .cond_where(licensee_matches(pattern))
        .to_owned();
    let matching_ids = by_name
        .to_owned()
        .union(UnionType::Distinct, by_contact)
        .union(UnionType::Distinct, by_licensee)
        .to_owned();
    Condition::all().add(customer::Column::Id.in_subquery(matching_ids))
}

fn searched(scope: &Scope, search: Option<&str>) -> Select<customer::Entity> {
    let mut select = customer::Entity::find().filter(scope.condition(customer::Column::Id));
    if let Some(pattern) = search.and_then(Pattern::new) {
        select = select.filter(matching(&pattern));
    }
    select
}

/// One page of the customers matching `search` (all when `None`), by name.
pub async fn search(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<customer::Model>, Error> {
    let rows = searched(scope, search)
        .order_by_asc(customer::Column::Name)
        .order_by_asc(customer::Column::Id)
        .offset(page.offset)
        .limit(page.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(page, rows))
}

/// How many customers match `search`.
pub async fn count(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&str>,
) -> Result<u64, Error> {
    Ok(searched(scope, search).count(db).await?)
}

/// The visible customers among `ids`, in no particular order.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    ids: &[i64],
) -> Result<Vec<customer::Model>, Error> {
    Ok(customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.condition(customer::Column::Id))
        .all(db)
        .await?)
}
