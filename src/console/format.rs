//! Figures and times as people read them: "$1,234.50" rather than
//! `{"amount": "1234.50", "currency": "USD"}`, and a store's local time rather
//! than UTC. The API keeps its exact strings; only the console formats.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::domain::money::{Currency, Money};

/// The symbol written before amounts of the currencies people most often
/// meet; others are written with their code ("CHF 12.00").
fn symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CNY" => "CN¥",
        "INR" => "₹",
        "KRW" => "₩",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "HKD" => "HK$",
        "MXN" => "MX$",
        "BRL" => "R$",
        "ILS" => "₪",
        "NGN" => "₦",
        "PHP" => "₱",
        "VND" => "₫",
        "UAH" => "₴",
        "TRY" => "₺",
        _ => return None,
    })
}

/// Groups the digits of an unsigned integer string in threes.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount given as its exact decimal string and currency, for people:
/// "$10.95", "-€3.00", "KWD 1,000.500".
pub(crate) fn amount(decimal: &str, currency: Currency) -> String {
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let number = match frac {
        Some(f) => format!("{}.{f}", grouped(whole)),
        None => grouped(whole),
    };
    match symbol(currency.code()) {
        Some(s) => format!("{sign}{s}{number}"),
        None => format!("{sign}{} {number}", currency.code()),
    }
}

/// Money for people.
pub(crate) fn money(m: &Money) -> String {
    amount(&m.amount_string(), m.currency())
}

/// Minor units of a currency for people.
pub(crate) fn minor(minor: i64, currency: Currency) -> String {
    money(&Money::from_minor(minor, currency))
}

/// Several amounts (one per currency), joined; "—" when there are none.
pub(crate) fn monies(ms: &[Money]) -> String {
    if ms.is_empty() {
        "—".into()
    } else {
        ms.iter().map(money).collect::<Vec<_>>().join(" · ")
    }
}

/// A UTC time as the store's clock showed it: "4 Dec 2026, 18:30 CET".
pub(crate) fn when(t: &NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(t)
        .format("%-d %b %Y, %H:%M %Z")
        .to_string()
}

/// A date for people: "4 Dec 2026".
pub(crate) fn day(d: &NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// A probability as a percentage: "87%".
pub(crate) fn percent(p: f64) -> String {
    if p.is_finite() {
        format!("{:.0}%", (p * 100.0).clamp(0.0, 100.0))
    } else {
        "—".into()
    }
}

/// A share of something (a request's amount of a lifetime value): a
/// percentage, or "more than 10×" when it dwarfs it.
pub(crate) fn share(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p > 10.0 {
        "more than 10×".into()
    } else {
        format!("{:.0}%", (p * 100.0).max(0.0))
    }
}

/// Words for an identifier of the product ("deferred_payment" → "Deferred
/// payment").
pub(crate) fn words(s: &str) -> String {
    let spaced = s.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::from_code(c).unwrap()
    }

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(amount("10.95", cur("USD")), "$10.95");
        assert_eq!(amount("1234567.50", cur("EUR")), "€1,234,567.50");
        assert_eq!(amount("1000", cur("JPY")), "¥1,000");
        assert_eq!(amount("1000.500", cur("KWD")), "KWD 1,000.500");
        assert_eq!(amount("-3.00", cur("GBP")), "-£3.00");
        assert_eq!(amount("0.05", cur("CHF")), "CHF 0.05");
        assert_eq!(amount("100", cur("JPY")), "¥100");
    }

    #[test]
    fn times_are_the_stores_own() {
        let t = NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(17, 30, 0)
            .unwrap();
        assert_eq!(when(&t, chrono_tz::Europe::Paris), "4 Dec 2026, 18:30 CET");
        assert_eq!(when(&t, chrono_tz::UTC), "4 Dec 2026, 17:30 UTC");
        assert_eq!(
            when(&t, chrono_tz::America::New_York),
            "4 Dec 2026, 12:30 EST"
        );
    }

    #[test]
    fn words_and_percentages() {
        assert_eq!(words("deferred_payment"), "Deferred payment");
        assert_eq!(percent(0.874), "87%");
        assert_eq!(percent(f64::NAN), "—");
    }
}
