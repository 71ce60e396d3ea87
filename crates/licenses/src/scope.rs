//! Which customers a caller may see. Applied inside every query, never after it, so counts,
//! cursors and lookups agree with what the caller is allowed to know.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, IntoSimpleExpr};

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
    pub fn condition(&self, customer_column: impl ColumnTrait) -> SimpleExpr {
        self.condition_on(customer_column.into_simple_expr())
    }

    /// A condition restricting `customer_id` (any expression, such as a column of a table
    /// without an entity) to the scope.
    pub fn condition_on(&self, customer_id: SimpleExpr) -> SimpleExpr {
        match self {
            Scope::All => Expr::value(true),
            Scope::Customers(ids) => customer_id.is_in(ids.iter().copied()),
        }
    }
}
