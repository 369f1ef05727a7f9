//! Accounting periods: calendar months.

use chrono::{Datelike, NaiveDate};

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1)?;
        Some(Self { year, month })
    }

    /// The month of a date.
    pub(crate) fn of(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    /// Its first day.
    pub(crate) fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The first day of the next month.
    pub(crate) fn next_first_day(self) -> NaiveDate {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
    }

    /// Months since year 0: consecutive months have consecutive indexes.
    pub(crate) fn index(self) -> i32 {
        self.year
            .saturating_mul(12)
            .saturating_add(i32::try_from(self.month).unwrap_or(0))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}
