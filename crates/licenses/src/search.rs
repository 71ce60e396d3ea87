//! Case-insensitive substring search that takes the user's text literally.

use entity::{contact, license};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, IntoSimpleExpr};

/// The escape character for LIKE patterns; `%`, `_` and itself are escaped with it.
const ESCAPE: char = '\\';

/// A search text turned into a LIKE pattern: lower case, wildcards escaped, wrapped in `%`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// `None` for empty or blank text: no search means no filter.
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.to_lowercase().chars() {
            if c == '%' || c == '_' || c == ESCAPE {
                pattern.push(ESCAPE);
            }
            pattern.push(c);
        }
        pattern.push('%');
        Some(Self(pattern))
    }

    /// `lower(column) LIKE pattern ESCAPE '\'`: matches the trigram indexes on PostgreSQL.
    pub fn matches(&self, column: impl ColumnTrait) -> SimpleExpr {
        Expr::expr(Func::lower(column.into_simple_expr()))
            .like(LikeExpr::new(self.0.clone()).escape(ESCAPE))
    }
}

/// The text is in a licensee's name, e-mail or company (as written into the license).
pub fn licensee_matches(pattern: &Pattern) -> Condition {
    Condition::any()
        .add(pattern.matches(license::Column::LicenseeName))
        .add(pattern.matches(license::Column::LicenseeEmail))
        .add(pattern.matches(license::Column::LicenseeCompany))
}

/// The text is in a contact's name or e-mail.
pub fn contact_matches(pattern: &Pattern) -> Condition {
    Condition::any()
        .add(pattern.matches(contact::Column::Name))
        .add(pattern.matches(contact::Column::Email))
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn wildcards_are_escaped_and_text_lowered() {
        assert_eq!(
            Pattern::new("50%_Off\\").map(|p| p.0),
            Some("%50\\%\\_off\\\\%".to_owned())
        );
    }

    #[test]
    fn blank_text_is_no_search() {
        assert_eq!(Pattern::new("  "), None);
    }
}
