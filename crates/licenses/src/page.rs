//! Relay-style pagination: opaque cursors, a capped page size, and pages that know whether more
//! follow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use std::collections::HashMap;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::Error;

/// The position of an item in an ordered result: opaque to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(u64);

const CURSOR_PREFIX: &str = "offset:";

impl Cursor {
    /// The cursor's text as handed to clients.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}", self.0))
    }

    /// Reads a cursor handed out by [`Cursor::encode`]; anything else is an error.
    pub fn decode(text: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::InvalidCursor(format!(
                "`{}` is not a cursor from this API",
                text.chars().take(64).collect::<String>()
            ))
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let decoded = String::from_utf8(bytes).map_err(|_| invalid())?;
        decoded
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|n| n.parse().ok())
            .map(Cursor)
            .ok_or_else(invalid)
    }

    /// The zero-based position this cursor points at.
    pub fn position(self) -> u64 {
        self.0
    }
}

/// Which slice of a result to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items at most.
    pub first: u64,
    /// Position of the first item to return.
    pub offset: u64,
}

impl PageRequest {
    /// Checks `first` against `max` (and defaults it) and decodes `after`.
    pub fn new(
        first: Option<i64>,
        after: Option<&str>,
        default: u64,
        max: u64,
    ) -> Result<Self, Error> {
        let first = match first {
            None => default,
            Some(n) if n < 0 || n as u64 > max => return Err(Error::PageTooLarge { max, got: n }),
            Some(n) => n as u64,
        };
        let offset = match after {
            None => 0,
            Some(text) => Cursor::decode(text)?.position() + 1,
        };
        Ok(Self { first, offset })
    }
}

/// One page of results.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items with their cursors, in order.
    pub items: Vec<(Cursor, T)>,
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `LIMIT first + 1`: the extra row only says more follow.
    pub fn from_rows(request: PageRequest, mut rows: Vec<T>) -> Self {
        let has_next_page = rows.len() as u64 > request.first;
        rows.truncate(request.first as usize);
        let items = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| (Cursor(request.offset + i as u64), row))
            .collect();
        Self {
            items,
            has_next_page,
            has_previous_page: request.offset > 0,
        }
    }
}

/// The ids in the first column named `column` of `query`'s rows, in order.
pub(crate) async fn ids_of(
    db: &DatabaseConnection,
    query: &SelectStatement,
    column: &str,
) -> Result<Vec<i64>, Error> {
    let rows = db.query_all(query).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<i64>("", column))
        .collect::<Result<_, _>>()?)
}

/// `rows` in the order of `ids` (rows fetched by id come back in any order); rows whose id is
/// not in `ids` are dropped.
pub(crate) fn in_order<T>(ids: &[i64], rows: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    let mut by_id: HashMap<i64, T> = rows.into_iter().map(|row| (id(&row), row)).collect();
    ids.iter().filter_map(|i| by_id.remove(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_strangers() {
        let cursor = Cursor(41);
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(matches!(
            Cursor::decode("not-a-cursor"),
            Err(Error::InvalidCursor(_))
        ));
        assert!(matches!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode("offset:x")),
            Err(Error::InvalidCursor(_))
        ));
    }

    #[test]
    fn first_is_capped() {
        assert!(matches!(
            PageRequest::new(Some(101), None, 20, 100),
            Err(Error::PageTooLarge { max: 100, got: 101 })
        ));
        assert!(matches!(
            PageRequest::new(Some(-1), None, 20, 100),
            Err(Error::PageTooLarge { .. })
        ));
        assert_eq!(
            PageRequest::new(None, None, 20, 100).unwrap(),
            PageRequest {
                first: 20,
                offset: 0
            }
        );
    }

    #[test]
    fn rows_follow_the_order_of_ids() {
        let rows = vec![(3, 'c'), (1, 'a'), (2, 'b')];
        assert_eq!(
            in_order(&[2, 9, 3, 1], rows, |r| r.0),
            vec![(2, 'b'), (3, 'c'), (1, 'a')]
        );
    }

    #[test]
    fn pages_know_what_follows() {
        let request = PageRequest {
            first: 2,
            offset: 2,
        };
        let page = Page::from_rows(request, vec!['a', 'b', 'c']);
        assert_eq!(page.items, vec![(Cursor(2), 'a'), (Cursor(3), 'b')]);
        assert!(page.has_next_page && page.has_previous_page);
    }
}
