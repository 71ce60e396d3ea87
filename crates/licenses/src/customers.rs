//! Customers: search with pagination, and batch loads by id.

use entity::customer;
use sea_orm::sea_query::{Expr, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use crate::page::{ids_of, in_order};
use crate::search::{CUSTOMERS, Search};
use crate::total::{self, Total};
use crate::{Error, Page, PageRequest, Scope};

/// The ids of the visible customers whose search document matches: one lookup in the document
/// index.
fn matching_ids(backend: DbBackend, scope: &Scope, search: &Search) -> SelectStatement {
    Query::select()
        .column((CUSTOMERS.table, CUSTOMERS.id))
        .from(CUSTOMERS.table)
        .and_where(search.condition(backend, CUSTOMERS))
        .and_where(
            scope
                .condition_on(Expr::col((CUSTOMERS.table, CUSTOMERS.id)))
                .into(),
        )
        .to_owned()
}

fn visible(scope: &Scope) -> Select<customer::Entity> {
    customer::Entity::find().filter(scope.condition(customer::Column::Id))
}

/// One page of the customers matching `search` (all when `None`): with a search, best matches
/// first (a whole field, then the start of a field or word, then anywhere), then by name;
/// without, by name.
pub async fn search(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&Search>,
    page: PageRequest,
) -> Result<Page<customer::Model>, Error> {
    let Some(search) = search else {
        let rows = visible(scope)
            .order_by_asc(customer::Column::Name)
            .order_by_asc(customer::Column::Id)
            .offset(page.offset)
            .limit(page.first + 1)
            .all(db)
            .await?;
        return Ok(Page::from_rows(page, rows));
    };
    let backend = db.get_database_backend();
    let ids = matching_ids(backend, scope, search)
        .order_by_expr(search.rank(backend, CUSTOMERS), Order::Asc)
        .order_by((CUSTOMERS.table, "name"), Order::Asc)
        .order_by((CUSTOMERS.table, CUSTOMERS.id), Order::Asc)
        .offset(page.offset)
        .limit(page.first + 1)
        .to_owned();
    let ids = ids_of(db, &ids, CUSTOMERS.id).await?;
    let rows = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(Page::from_rows(page, in_order(&ids, rows, |c| c.id)))
}

/// How many customers match `search`, exact up to [`crate::total::COUNT_LIMIT`].
pub async fn count(
    db: &DatabaseConnection,
    scope: &Scope,
    search: Option<&Search>,
) -> Result<Total, Error> {
    let rows = match search {
        Some(search) => matching_ids(db.get_database_backend(), scope, search),
        None => visible(scope)
            .select_only()
            .column(customer::Column::Id)
            .into_query(),
    };
    total::capped(db, rows).await
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
