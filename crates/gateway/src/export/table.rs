//! A CSV table as a download: RFC 4180 with every cell quoted (the `csv` crate), UTF-8 with a
//! byte-order mark (so spreadsheet programs read accents right), and no cell a spreadsheet
//! would run as a formula, whatever list separator it splits on.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use csv::QuoteStyle;
use error_catalogue::{Code, Refusal};

/// A spreadsheet reads a cell that starts with one of these as a formula (CSV injection):
/// `= + - @`, their full-width forms (which some spreadsheets fold to them), tab and CR.
const FORMULA_STARTS: [char; 10] = [
    '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', '\t', '\r',
];

/// Where a spreadsheet may start a new cell inside ours: the list separators it might split on
/// (`,` in most locales, `;` where the comma is the decimal mark, tab), and line breaks (a
/// reader that splits on `;` does not see our quotes, so a line break in a cell starts a row).
const CELL_BREAKS: [char; 5] = [',', ';', '\t', '\n', '\r'];

/// `text` as a cell that no spreadsheet runs: wherever a cell could start (at the beginning,
/// and after each separator or line break), a `'` goes before a formula start, so the
/// spreadsheet shows the rest as text. Spaces before the formula start do not save it (some
/// spreadsheets trim them), so the `'` goes before them too.
pub(crate) fn inert(text: &str) -> Cow<'_, str> {
    let starts_formula = |rest: &str| rest.trim_start_matches(' ').starts_with(FORMULA_STARTS);
    let breaks = text
        .char_indices()
        .filter(|(_, c)| CELL_BREAKS.contains(c))
        .map(|(i, c)| i + c.len_utf8());
    let mut cuts = std::iter::once(0)
        .chain(breaks)
        .filter(|&at| starts_formula(&text[at..]))
        .peekable();
    if cuts.peek().is_none() {
        return Cow::Borrowed(text);
    }
    let mut inert = String::with_capacity(text.len() + 4);
    let mut from = 0;
    for at in cuts {
        inert.push_str(&text[from..at]);
        inert.push('\'');
        from = at;
    }
    inert.push_str(&text[from..]);
    Cow::Owned(inert)
}

/// Rows under a header, written as they are added.
pub(crate) struct Table {
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
    max_rows: usize,
}

impl Table {
    /// A table with `header`, refusing more than `max_rows` rows.
    pub(crate) fn new(header: &[&str], max_rows: usize) -> Result<Self, Refusal> {
        // The byte-order mark: Excel reads a CSV without one in the machine's legacy code page.
        // Every cell quoted: a reader that guesses types or separators sees each as one text.
        let mut writer = csv::WriterBuilder::new()
            .quote_style(QuoteStyle::Always)
            .from_writer("\u{feff}".as_bytes().to_vec());
        writer.write_record(header).map_err(write_failed)?;
        Ok(Self {
            writer,
            rows: 0,
            max_rows,
        })
    }

    /// Adds a row; every cell goes through [`inert`].
    pub(crate) fn row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Refusal> {
        if self.rows == self.max_rows {
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ResponseTooLarge,
                format!(
                    "the export has more than {} rows; ask for less",
                    self.max_rows
                ),
            ));
        }
        self.rows += 1;
        self.writer
            .write_record(cells.into_iter().map(|cell| inert(cell).into_owned()))
            .map_err(write_failed)
    }

    /// The rows added so far.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The download: `text/csv; charset=utf-8`, saved as `filename`, never cached.
    pub(crate) fn into_response(self, filename: &str) -> Response {
        let body = match self.writer.into_inner() {
            Ok(body) => body,
            Err(error) => return write_failed(error.into_error()).into_response(),
        };
        let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (header::CONTENT_DISPOSITION, disposition),
                // The caller's own data, as their credentials let them see it.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
                (
                    header::VARY,
                    HeaderValue::from_static("authorization, cookie"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            body,
        )
            .into_response()
    }
}

fn write_failed(error: impl std::fmt::Display) -> Refusal {
    tracing::error!(%error, "writing a CSV export failed");
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::InternalServerError,
        "the export could not be written; see the gateway log",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_made_inert_and_everything_else_kept() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("-2"), "'-2");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(inert("\tx"), "'\tx");
        assert_eq!(inert("  =1"), "'  =1");
        assert_eq!(inert("Zoë, \"Acme\""), "Zoë, \"Acme\"");
        assert_eq!(inert("a-b@c.example"), "a-b@c.example");
        assert_eq!(inert(""), "");
    }

    #[test]
    fn a_formula_after_any_separator_is_made_inert_too() {
        assert_eq!(inert("Bob;=1+1"), "Bob;'=1+1");
        assert_eq!(inert("Bob, +1"), "Bob,' +1");
        assert_eq!(inert("a\t@b"), "a\t'@b");
        assert_eq!(inert("line\n-1"), "line\n'-1");
        assert_eq!(inert("x;\u{FF20}y,=z"), "x;'\u{FF20}y,'=z");
        // A tab is a separator and a formula start: both places get their mark.
        assert_eq!(inert("=a;\t=b"), "'=a;'\t'=b");
    }

    #[test]
    fn cells_are_quoted_and_rows_bounded() {
        let mut table = Table::new(&["a", "b"], 1).unwrap_or_else(|e| panic!("{}", e.message()));
        assert!(table.row(["x, y", "say \"hi\"\nbye"]).is_ok());
        assert!(table.row(["one", "too many"]).is_err());
        let body = table.writer.into_inner().unwrap_or_default();
        let text = String::from_utf8(body).unwrap_or_default();
        assert_eq!(
            text,
            "\u{feff}\"a\",\"b\"\n\"x, y\",\"say \"\"hi\"\"\nbye\"\n"
        );
    }
}
