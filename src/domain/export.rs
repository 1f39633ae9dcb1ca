//! Rules for CSV exports.
//!
//! Spreadsheets treat a cell that begins with `=`, `+`, `-` or `@` as a formula, and a
//! leading tab or carriage return can hide one; a resident's name such as
//! `=HYPERLINK("http://…")` would then run when a commissioner opens the export. Every text
//! cell goes through [`neutralise`], which prefixes such a cell with a single quote so the
//! spreadsheet shows it as text (OWASP "CSV injection").

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as text a spreadsheet will not evaluate.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// Exports hold at most this many rows: enough for every membership of a city this size,
/// small enough to build in memory (a row is a few hundred bytes, so a few megabytes).
/// A larger selection is cut there, and the export's audit entry says so.
pub const MAX_EXPORT_ROWS: usize = 20_000;

/// The spans, in days, the decisions export may cover (`?days=`); anything else means the
/// default 30.
pub const DECISIONS_EXPORT_DAYS: std::ops::RangeInclusive<i64> = 1..=3660;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote() {
        for bad in ["=1+1", "+54 2964", "-2", "@SUM(A1)", "\tx", "\r=1", "=HYPERLINK(\"http://evil\")"] {
            let n = neutralise(bad);
            assert!(n.starts_with('\''), "{bad:?}");
            assert_eq!(&n[1..], bad, "the text itself is kept");
        }
    }

    #[test]
    fn ordinary_cells_are_left_alone() {
        for ok in ["Juan Pérez", "CENTRO-000001", "2026-11-27T10:00:00Z", "", " =not first", "30123456", "'quoted"] {
            assert!(matches!(neutralise(ok), Cow::Borrowed(_)), "{ok:?}");
            assert_eq!(neutralise(ok), ok);
        }
    }
}
