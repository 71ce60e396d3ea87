//! Reading the audit trail: a batch of licenses' latest events, and the whole trail, filtered
//! and paginated, newest first.

use entity::audit_event::{self, Column};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use crate::total::{self, Total};
use crate::{Error, Page, PageRequest, Scope};

/// The most events one license lists (`License.auditEvents`): its newest ones. Older events
/// stay reachable through the paginated trail filtered by license.
pub const MAX_PER_LICENSE: u64 = 100;

/// What the trail can be narrowed to; set fields all apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events of this license.
    pub license_id: Option<i64>,
    /// Only events of this customer's licenses.
    pub customer_id: Option<i64>,
    /// Only changes made by this subject (a token's `sub`).
    pub actor_subject: Option<String>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(id) = self.license_id {
            condition = condition.add(Column::LicenseId.eq(id));
        }
        if let Some(id) = self.customer_id {
            condition = condition.add(Column::CustomerId.eq(id));
        }
        if let Some(subject) = &self.actor_subject {
            condition = condition.add(Column::ActorSubject.eq(subject.as_str()));
        }
        condition
    }
}

fn newest_first(select: Select<audit_event::Entity>) -> Select<audit_event::Entity> {
    select
        .order_by_desc(Column::OccurredAt)
        .order_by_desc(Column::Id)
}

fn visible(scope: &Scope, filter: &AuditFilter) -> Select<audit_event::Entity> {
    audit_event::Entity::find()
        .filter(scope.condition(Column::CustomerId))
        .filter(filter.condition())
}

/// The newest [`MAX_PER_LICENSE`] events of each visible license among `license_ids`, newest
/// first: one statement, the per-license cap applied in SQL (a window over the license index).
pub async fn by_license_ids(
    db: &DatabaseConnection,
    scope: &Scope,
    license_ids: &[i64],
) -> Result<Vec<audit_event::Model>, Error> {
    let ranked = Query::select()
        .column(Asterisk)
        .expr_as(
            Expr::cust(
                "ROW_NUMBER() OVER (PARTITION BY license_id ORDER BY occurred_at DESC, id DESC)",
            ),
            "position",
        )
        .from(audit_event::Entity)
        .and_where(Column::LicenseId.is_in(license_ids.iter().copied()))
        .and_where(scope.condition(Column::CustomerId).into())
        .to_owned();
    let capped = Query::select()
        .column(Asterisk)
        .from_subquery(ranked, "ranked")
        .and_where(Expr::col("position").lte(MAX_PER_LICENSE as i64))
        .order_by("license_id", Order::Asc)
        .order_by("position", Order::Asc)
        .to_owned();
    let statement = db.get_database_backend().build(&capped);
    Ok(audit_event::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

/// One page of the visible events that pass `filter`, newest first.
pub async fn search(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<audit_event::Model>, Error> {
    let rows = newest_first(visible(scope, filter))
        .offset(page.offset)
        .limit(page.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(page, rows))
}

/// How many visible events pass `filter`, exact up to [`crate::total::COUNT_LIMIT`].
pub async fn count(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &AuditFilter,
) -> Result<Total, Error> {
    let rows = visible(scope, filter)
        .select_only()
        .column(Column::Id)
        .into_query();
    total::capped(db, rows).await
}
