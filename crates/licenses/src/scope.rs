//! Which customers a caller may see. Applied inside every query, never after it, so counts,
//! cursors and lookups agree with what the caller is allowed to know.

use std::sync::Arc;

use sea_orm::sea_query::{ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, IntoSimpleExpr};

/// The set of customers visible to a caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Staff: every customer.
    All,
    /// A customer-scoped caller: only these customer ids (possibly none).
    Customers(Arc<[i64]>),
}

impl Scope {
    /// Whether rows of `customer_id` are visible.
    pub fn allows(&self, customer_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Customers(ids) => ids.contains(&customer_id),
        }
    }

    /// A condition restricting `customer_column` to the scope.
    pub fn condition(&self, customer_column: impl ColumnTrait) -> Condition {
        self.condition_on(customer_column.into_simple_expr())
    }

    /// A condition restricting `customer_id` (any expression, such as a column of a table
    /// without an entity) to the scope. For all customers it is empty: it adds nothing to a
    /// `WHERE` (a bound `true` would be one more parameter, and a generic plan cannot fold
    /// it away), or a literal `TRUE` where it stands alone.
    pub fn condition_on(&self, customer_id: SimpleExpr) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Customers(ids) => Condition::all().add(customer_id.is_in(ids.iter().copied())),
        }
    }
}
