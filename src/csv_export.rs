//! Every CSV the service writes goes through here: RFC 4180 through the `csv`
//! crate (every cell quoted, quotes doubled, CRLF), and every text cell
//! neutralised against formula injection (OWASP "CSV injection"): a cell that
//! begins with `=`, `+`, `-`, `@`, a tab or a carriage return would be run by a
//! spreadsheet as a formula, so it is written with a leading `'`, which
//! spreadsheets read as "this is text". Amounts come from the money formatter
//! and are passed as they are (a net figure may be negative: `-5.00` is a
//! number, not a formula).

use std::borrow::Cow;

/// One cell of a record.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// Anything a person or another system may have typed (names, codes,
    /// stories, token subjects): neutralised.
    Text(&'a str),
    /// An amount or a count the service formatted itself.
    Number(&'a str),
}

pub use crate::domain::text::formula_like;

/// `s` as a text cell: with a leading `'` when it looks like a formula.
pub(crate) fn neutralise(s: &str) -> Cow<'_, str> {
    if formula_like(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV document (or a chunk of one) being written into memory.
pub(crate) struct Csv {
    w: csv::Writer<Vec<u8>>,
}

impl Default for Csv {
    fn default() -> Self {
        Self::new()
    }
}

impl Csv {
    /// An empty document.
    pub(crate) fn new() -> Self {
        Self {
            w: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Always)
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new()),
        }
    }

    /// A header row (names the service chose; written as text all the same).
    pub(crate) fn header<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.record(names.into_iter().map(Cell::Text));
    }

    /// One record.
    pub(crate) fn record<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) {
        let row: Vec<Cow<'a, str>> = cells
            .into_iter()
            .map(|c| match c {
                Cell::Text(s) => neutralise(s),
                Cell::Number(s) => Cow::Borrowed(s),
            })
            .collect();
        // Writing into a Vec cannot fail.
        let _ = self.w.write_record(row.iter().map(|c| c.as_bytes()));
    }

    /// The bytes written.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_every_cell_quoted() {
        let mut c = Csv::new();
        c.header(["name", "amount"]);
        for bad in ["=1+2", "+1", "-2+3", "@SUM(1)", "\tx", "\rx"] {
            c.record([Cell::Text(bad), Cell::Number("-5.00")]);
        }
        c.record([Cell::Text("say \"hi\", then go"), Cell::Number("10.95")]);
        let out = String::from_utf8(c.into_bytes()).unwrap();
        assert_eq!(
            out,
            "\"name\",\"amount\"\r\n\"'=1+2\",\"-5.00\"\r\n\"'+1\",\"-5.00\"\r\n\"'-2+3\",\"-5.00\"\r\n\
             \"'@SUM(1)\",\"-5.00\"\r\n\"'\tx\",\"-5.00\"\r\n\"'\rx\",\"-5.00\"\r\n\
             \"say \"\"hi\"\", then go\",\"10.95\"\r\n"
        );
    }
}
