//! Search over the documents the database keeps per license and per customer (tables
//! `license_search` and `customer_search`, see the migration `search_documents`): one
//! case-insensitive substring condition on one indexed column, and a rank that puts exact and
//! prefix matches of a field before other matches.

use sea_orm::DbBackend;
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};

use crate::Error;

/// Shortest search text, in characters: one letter matches nearly everything, and trigram
/// indexes cannot answer it.
pub const MIN_CHARS: usize = 2;
/// Longest search text, in characters: no name or e-mail address is longer, and a longer
/// pattern only costs the database work.
pub const MAX_CHARS: usize = 200;

/// The escape character for LIKE patterns; `%`, `_` and itself are escaped with it.
const ESCAPE: char = '\\';

/// Which fields a search may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Every field: names, e-mail addresses, companies.
    All,
    /// Only fields without personal data (customer names, licensee companies): for callers who
    /// see names and e-mail addresses masked, so a search cannot reveal what the mask hides.
    WithoutPersonalData,
}

/// A validated search: the text trimmed and lower-cased, and the fields it may match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    text: String,
    fields: Fields,
}

impl Search {
    /// `Ok(None)` for no text or blank text (no search means no filter); an
    /// [`Error::InvalidArgument`] for text shorter than [`MIN_CHARS`] or longer than
    /// [`MAX_CHARS`].
    pub fn parse(text: Option<&str>, fields: Fields) -> Result<Option<Self>, Error> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let chars = text.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
            return Err(Error::InvalidArgument(format!(
                "`search` must be {MIN_CHARS} to {MAX_CHARS} characters long, got {chars}"
            )));
        }
        Ok(Some(Self {
            text: text.to_lowercase(),
            fields,
        }))
    }

    /// The text as searched: trimmed, lower case.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn column(&self) -> &'static str {
        match self.fields {
            Fields::All => "document",
            Fields::WithoutPersonalData => "public_document",
        }
    }

    /// `%text%` with the LIKE wildcards of the text escaped, so they match themselves.
    fn like_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.text.len() + 2);
        pattern.push('%');
        for c in self.text.chars() {
            if c == '%' || c == '_' || c == ESCAPE {
                pattern.push(ESCAPE);
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }

    /// The text as one FTS5 phrase restricted to the searched column: a substring query with
    /// the trigram tokenizer. Double quotes are doubled, so the text stays one phrase.
    fn fts_query(&self) -> String {
        format!("{} : \"{}\"", self.column(), self.text.replace('"', "\"\""))
    }

    /// The rows of `documents` whose searched document contains the text.
    pub(crate) fn condition(&self, backend: DbBackend, documents: Documents) -> SimpleExpr {
        let column = Expr::col((documents.table, self.column()));
        match backend {
            // The trigram GIN index of the column answers this LIKE.
            DbBackend::Postgres => column.like(LikeExpr::new(self.like_pattern()).escape(ESCAPE)),
            // FTS5's trigram tokenizer cannot look up fewer than 3 characters: a two-character
            // text is looked for in the documents themselves. (SQLite's lower() folds ASCII
            // only, so there, and in the rank, other capitals match only as written; FTS5
            // folds case itself.)
            _ if self.text.chars().count() < 3 => {
                position(backend, column, Expr::val(self.text.clone())).gt(0)
            }
            _ => {
                let fts = documents.fts;
                let matching = Query::select()
                    .expr(Expr::col("rowid"))
                    .from(fts)
                    .and_where(
                        Expr::col(fts)
                            .binary(BinOper::Custom("MATCH"), Expr::val(self.fts_query())),
                    )
                    .to_owned();
                Expr::col((documents.table, documents.id)).in_subquery(matching)
            }
        }
    }

    /// 0 when the text is a whole field, 1 when it starts a field or a word, 2 otherwise: best
    /// matches sort first. Documents hold one field per line, each line ended by a line break.
    pub(crate) fn rank(&self, backend: DbBackend, documents: Documents) -> SimpleExpr {
        let column = || Expr::col((documents.table, self.column()));
        let contains = |needle: String| position(backend, column(), Expr::val(needle)).gt(0);
        let text = &self.text;
        Expr::case(contains(format!("\n{text}\n")), 0)
            .case(
                contains(format!("\n{text}")).or(contains(format!(" {text}"))),
                1,
            )
            .finally(2)
            .into()
    }
}

/// `strpos`/`instr`: the 1-based position of `needle` in `haystack`, 0 when absent.
fn position(backend: DbBackend, haystack: SimpleExpr, needle: SimpleExpr) -> SimpleExpr {
    let function = match backend {
        DbBackend::Postgres => "strpos",
        _ => "instr",
    };
    Func::cust(function).arg(haystack).arg(needle).into()
}

/// A table of search documents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Documents {
    /// The table.
    pub table: &'static str,
    /// Its id column, the id of the license or customer described (SQLite's rowid too).
    pub id: &'static str,
    /// Its FTS5 index (SQLite).
    pub fts: &'static str,
}

/// One document per license.
pub(crate) const LICENSES: Documents = Documents {
    table: "license_search",
    id: "license_id",
    fts: "license_search_fts",
};

/// One document per customer.
pub(crate) const CUSTOMERS: Documents = Documents {
    table: "customer_search",
    id: "customer_id",
    fts: "customer_search_fts",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn search(text: &str) -> Search {
        match Search::parse(Some(text), Fields::All) {
            Ok(Some(search)) => search,
            other => panic!("`{text}` should be a search, got {other:?}"),
        }
    }

    #[test]
    fn wildcards_are_escaped_and_text_lowered() {
        assert_eq!(search(" 50%_Off\\ ").like_pattern(), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn blank_text_is_no_search() {
        assert!(matches!(Search::parse(Some("  "), Fields::All), Ok(None)));
        assert!(matches!(Search::parse(None, Fields::All), Ok(None)));
    }

    #[test]
    fn length_is_bounded_in_characters() {
        assert!(matches!(
            Search::parse(Some(" a "), Fields::All),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            Search::parse(Some(&"a".repeat(MAX_CHARS + 1)), Fields::All),
            Err(Error::InvalidArgument(_))
        ));
        // 200 two-byte characters are 200 characters, not 400.
        assert!(Search::parse(Some(&"é".repeat(MAX_CHARS)), Fields::All).is_ok());
        assert!(Search::parse(Some("ab"), Fields::All).is_ok());
    }

    #[test]
    fn fts_phrases_keep_quotes_inside() {
        let public = Search::parse(Some("say \"hi\""), Fields::WithoutPersonalData);
        assert_eq!(
            public.ok().flatten().map(|s| s.fts_query()),
            Some("public_document : \"say \"\"hi\"\"\"".to_owned())
        );
    }
}
