//! Counts that stay cheap: exact up to [`COUNT_LIMIT`], and beyond it only "more than that".
//! Counting every one of tens of thousands of matches costs the database as much as reading
//! them; nobody pages through that many, so the count stops once it knows the answer is large.

use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::Error;

/// Counts up to this many are exact.
pub const COUNT_LIMIT: u64 = 1_000;

/// How many items match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    /// The number of matches when `exact`; else [`COUNT_LIMIT`], and more match.
    pub count: u64,
    /// Whether `count` is the number of matches (at most [`COUNT_LIMIT`]).
    pub exact: bool,
}

impl Total {
    /// The total of `counted` rows, where at most `COUNT_LIMIT + 1` were counted.
    fn from_counted(counted: u64) -> Self {
        Self {
            count: counted.min(COUNT_LIMIT),
            exact: counted <= COUNT_LIMIT,
        }
    }
}

/// Counts the rows of `rows` (any select), stopping after `COUNT_LIMIT + 1`.
pub(crate) async fn capped(db: &DatabaseConnection, rows: SelectStatement) -> Result<Total, Error> {
    let mut rows = rows;
    rows.limit(COUNT_LIMIT + 1);
    let count = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .from_subquery(rows, "counted")
        .to_owned();
    let counted = match db.query_one(&count).await? {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(Total::from_counted(u64::try_from(counted).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_up_to_the_limit_then_capped() {
        assert_eq!(
            Total::from_counted(3),
            Total {
                count: 3,
                exact: true
            }
        );
        assert_eq!(
            Total::from_counted(COUNT_LIMIT),
            Total {
                count: COUNT_LIMIT,
                exact: true
            }
        );
        assert_eq!(
            Total::from_counted(COUNT_LIMIT + 1),
            Total {
                count: COUNT_LIMIT,
                exact: false
            }
        );
    }
}
