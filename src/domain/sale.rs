//! What a sale is made of, before the store checks its references.

use chrono::{NaiveDate, NaiveDateTime};

use super::FieldError;

/// Longest `sale_ref`.
pub(crate) const SALE_REF_MAX: usize = 100;

/// Most lines in one `POST /v1/sales/batch`.
pub(crate) const BATCH_MAX: usize = 1_000;

/// `occurred_at`: an RFC 3339 timestamp (converted to UTC) or a date
/// (`YYYY-MM-DD`, midnight UTC). Gives the time and the purchase day: the
/// date given, or the UTC date of the timestamp.
pub(crate) fn parse_occurred_at(
    field: &str,
    s: &str,
) -> Result<(NaiveDateTime, NaiveDate), FieldError> {
    if s.len() > 40 {
        return Err(FieldError::new(
            field,
            "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp of at most 40 characters",
        ));
    }
    let parsed = if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && s.len() == 10
    {
        (d.and_time(chrono::NaiveTime::MIN), d)
    } else {
        match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => {
                let utc = t.naive_utc();
                (utc, utc.date())
            }
            Err(_) => {
                return Err(FieldError::new(
                    field,
                    "must be an RFC 3339 timestamp (2026-11-22T10:30:00Z) or a date (2026-11-22)",
                ));
            }
        }
    };
    if parsed.1 < SALES_FLOOR {
        return Err(FieldError::new(
            field,
            format!("must not be before {SALES_FLOOR}"),
        ));
    }
    Ok(parsed)
}

/// The earliest day a sale may be dated. Sales post nothing to the ledger and
/// their history is what the value model learns from, so imports of decades of
/// purchases are welcome; a date before this is a typing or clock error.
pub(crate) const SALES_FLOOR: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// `sale_ref`: the till's reference, 1 to 100 characters of one line.
pub(crate) fn parse_sale_ref(field: &str, s: &str) -> Result<String, FieldError> {
    super::text::reference(field, s, SALE_REF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurred_at_takes_a_date_or_a_timestamp_in_utc() {
        let (t, d) = parse_occurred_at("f", "2026-03-01").unwrap();
        assert_eq!(
            (t.to_string().as_str(), d.to_string().as_str()),
            ("2026-03-01 00:00:00", "2026-03-01")
        );
        // 23:30 at UTC-05:00 is the next day in UTC.
        let (t, d) = parse_occurred_at("f", "2026-03-01T23:30:00-05:00").unwrap();
        assert_eq!(
            (t.to_string().as_str(), d.to_string().as_str()),
            ("2026-03-02 04:30:00", "2026-03-02")
        );
        for bad in [
            "",
            "2026-3-1",
            "yesterday",
            "2026-02-30",
            "2026-03-01 10:00",
            "1969-12-31",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_occurred_at("f", bad).unwrap_err().field, "f", "{bad}");
        }
    }
}
