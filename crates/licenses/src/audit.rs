//! Reading the audit trail: a batch of licenses' latest events, and the whole trail, filtered
//! and paginated (or exported), newest first.
//!
//! Who sees which events is decided here, once: staff every event; a customer-scoped caller
//! only the contact changes of its own customers' licenses (not the sign-ins, refusals and
//! exports of staff, which are staff's business).

use chrono::{DateTime, Utc};
use entity::audit_event::{self, Action, Column};
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
    /// Only events of this subject (a token's or session's `sub`).
    pub actor_subject: Option<String>,
    /// Only events of these kinds (all kinds when empty).
    pub actions: Vec<Action>,
    /// Only events at or after this instant.
    pub occurred_from: Option<DateTime<Utc>>,
    /// Only events before this instant.
    pub occurred_before: Option<DateTime<Utc>>,
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
        if !self.actions.is_empty() {
            condition = condition.add(Column::Action.is_in(self.actions.iter().copied()));
        }
        if let Some(from) = self.occurred_from {
            condition = condition.add(Column::OccurredAt.gte(from));
        }
        if let Some(before) = self.occurred_before {
            condition = condition.add(Column::OccurredAt.lt(before));
        }
        condition
    }
}

/// What `scope` may see of the trail: everything for staff; for a customer-scoped caller, the
/// contact changes of its customers' licenses.
fn scope_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Customers(_) => scope
            .condition(Column::CustomerId)
            .add(Column::Action.eq(Action::LicenseContactChanged)),
    }
}

fn newest_first(select: Select<audit_event::Entity>) -> Select<audit_event::Entity> {
    select
        .order_by_desc(Column::OccurredAt)
        .order_by_desc(Column::Id)
}

fn visible(scope: &Scope, filter: &AuditFilter) -> Select<audit_event::Entity> {
    audit_event::Entity::find()
        .filter(scope_condition(scope))
        .filter(filter.condition())
}

/// The newest [`MAX_PER_LICENSE`] contact changes of each visible license among
/// `license_ids`, newest first: one statement, the per-license cap applied in SQL (a window
/// over the license index). A license's history is its changes; refused changes and the rest
/// are in the trail ([`search`]).
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
        .and_where(Column::Action.eq(Action::LicenseContactChanged))
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

/// At most `limit` + 1 visible events that pass `filter`, newest first: an export reads them
/// all in one statement (one more than it may hold, so it can tell the caller it asked for
/// too much).
pub async fn export(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &AuditFilter,
    limit: u64,
) -> Result<Vec<audit_event::Model>, Error> {
    Ok(newest_first(visible(scope, filter))
        .limit(limit.saturating_add(1))
        .all(db)
        .await?)
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
