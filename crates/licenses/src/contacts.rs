//! Contacts: batch loads by id and by customer.

use entity::contact;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::{Error, Scope};

/// The visible contacts among `ids`.
pub async fn by_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    ids: &[i64],
) -> Result<Vec<contact::Model>, Error> {
    Ok(contact::Entity::find()
        .filter(contact::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.condition(contact::Column::CustomerId))
        .all(db)
        .await?)
}

/// The contacts of the visible customers among `customer_ids`, by name.
pub async fn by_customer_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    customer_ids: &[i64],
) -> Result<Vec<contact::Model>, Error> {
    Ok(contact::Entity::find()
        .filter(contact::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .filter(scope.condition(contact::Column::CustomerId))
        .order_by_asc(contact::Column::Name)
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await?)
}
