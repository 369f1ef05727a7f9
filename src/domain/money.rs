//! Exact money: a decimal amount and an explicit ISO 4217 currency.
//!
//! Amounts travel as JSON strings holding a plain decimal ("10.95"), never as
//! numbers; they are checked against the currency's minor unit and never rounded
//! on the way in. The database keeps integer minor units plus the currency code;
//! [`Money::from_minor`] and [`Money::minor_units`] are the one place that converts.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::FieldError;

/// Active ISO 4217 codes with their minor units (number of decimals).
const ISO_4217: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// A known ISO 4217 currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_unit: u32,
}

impl Currency {
    /// Looks up a code; only exact upper-case codes are accepted.
    pub fn from_code(code: &str) -> Option<Self> {
        // The table is in code order (a unit test holds it there): a binary
        // search, where a scan compared USD with some 170 codes first (about
        // 3 % of the service's CPU per summary, which reads a code per row).
        ISO_4217
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .ok()
            .map(|i| {
                let (code, minor_unit) = ISO_4217[i];
                Self { code, minor_unit }
            })
    }

    /// Parses a currency field of a request.
    pub(crate) fn parse(field: &str, code: &str) -> Result<Self, FieldError> {
        Self::from_code(code).ok_or_else(|| {
            let upper = code.to_ascii_uppercase();
            if upper != code && Self::from_code(&upper).is_some() {
                FieldError::new(field, format!("use upper case ({upper})"))
            } else {
                FieldError::new(
                    field,
                    format!("{code:?} is not a known ISO 4217 currency code"),
                )
            }
        })
    }

    /// The three-letter code.
    pub(crate) fn code(self) -> &'static str {
        self.code
    }

    /// Decimals of the minor unit (USD 2, JPY 0, BHD 3).
    pub(crate) fn minor_unit(self) -> u32 {
        self.minor_unit
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

/// Why an amount string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Not a plain decimal (sign, exponent, separators, spaces, empty...).
    NotPlainDecimal,
    /// More decimals than the currency's minor unit.
    TooPrecise(u32),
    /// Larger than the ledger can hold.
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPlainDecimal => f.write_str(
                "must be a plain decimal string like \"10.95\" (no sign, exponent or separators)",
            ),
            Self::TooPrecise(0) => f.write_str("must be a whole number in this currency"),
            Self::TooPrecise(n) => write!(f, "must have at most {n} decimals in this currency"),
            Self::TooLarge => f.write_str("is too large"),
        }
    }
}

/// Largest amount in minor units the ledger accepts: 10^15 (a quadrillion cents),
/// far above any gesture, far below i64::MAX so sums of many never overflow.
const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Most minor units one maintained total row of the ledger holds (2^58; see
/// migration `000014_ledger_limits`): an account's balance row, a customer's
/// per-account total, a memo total. A customer's account is one row and a
/// shared account at most 16, so the sum of any account's rows stays below
/// 2^62. Aggregates across accounts are computed in 128 bits ([`Money::from_wide`]).
pub const LEDGER_ROW_LIMIT: i64 = 1 << 58;

/// A Money object as a client sends it: both fields strings (a JSON number as
/// `amount` is refused by the parser, naming the field).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    /// A plain decimal string.
    pub amount: String,
    /// An ISO 4217 code.
    pub currency: String,
}

impl Money {
    /// Parses a Money object of a request field (`field.amount`, `field.currency`
    /// are named on error). Amounts of zero are refused unless `allow_zero`.
    pub fn parse(field: &str, input: &MoneyInput, allow_zero: bool) -> Result<Money, FieldError> {
        let currency = Currency::parse(&format!("{field}.currency"), &input.currency)?;
        let m = Money::parse_amount(&input.amount, currency)
            .map_err(|e| FieldError::new(format!("{field}.amount"), e.to_string()))?;
        if !allow_zero && m.amount.is_zero() {
            return Err(FieldError::new(
                format!("{field}.amount"),
                "must be greater than 0",
            ));
        }
        Ok(m)
    }
}

/// An exact, non-negative amount of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Parses the amount string of a Money object for `currency`.
    pub fn parse_amount(amount: &str, currency: Currency) -> Result<Self, AmountError> {
        let (int, frac) = match amount.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (amount, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // No leading zeros ("007"): one spelling per amount, as the contract's
        // pattern says.
        if !digits(int)
            || frac.is_some_and(|f| !digits(f))
            || (int.len() > 1 && int.starts_with('0'))
        {
            return Err(AmountError::NotPlainDecimal);
        }
        let scale = frac.map_or(0, str::len);
        if scale > currency.minor_unit as usize {
            return Err(AmountError::TooPrecise(currency.minor_unit));
        }
        if int.trim_start_matches('0').len() > 16 {
            return Err(AmountError::TooLarge);
        }
        let amount = Decimal::from_str(amount).map_err(|_| AmountError::NotPlainDecimal)?;
        let money = Self { amount, currency };
        if money.minor_units().is_none_or(|m| m > MAX_MINOR) {
            return Err(AmountError::TooLarge);
        }
        Ok(money)
    }

    /// Builds money from integer minor units as stored in the database.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        let mut amount = Decimal::from(minor);
        // set_scale only fails above 28 decimals; ISO minor units are at most 4.
        let _ = amount.set_scale(currency.minor_unit);
        Self { amount, currency }
    }

    /// Builds money from a sum of minor units computed in 128 bits (report and
    /// journal totals, which can exceed 64 bits across accounts); `None` when
    /// it is negative or beyond what a decimal holds exactly (2^96).
    pub fn from_wide(minor: i128, currency: Currency) -> Option<Self> {
        if minor < 0 {
            return None;
        }
        let amount = Decimal::try_from_i128_with_scale(minor, currency.minor_unit).ok()?;
        Some(Self { amount, currency })
    }

    /// A signed sum of minor units (a net figure that can be below zero) as a
    /// plain decimal string with the currency's decimals, `None` beyond 2^96.
    pub(crate) fn signed_wide(minor: i128, currency: Currency) -> Option<String> {
        let m = Money::from_wide(minor.checked_abs()?, currency)?;
        Some(if minor < 0 {
            format!("-{}", m.amount_string())
        } else {
            m.amount_string()
        })
    }

    /// The amount in integer minor units (cents), `None` if it does not fit.
    pub(crate) fn minor_units(&self) -> Option<i64> {
        let factor = Decimal::from(10_i64.pow(self.currency.minor_unit));
        let scaled = self.amount.checked_mul(factor)?;
        if scaled.fract() != Decimal::ZERO {
            return None;
        }
        i64::try_from(scaled).ok()
    }

    /// The currency.
    pub(crate) fn currency(&self) -> Currency {
        self.currency
    }

    /// Money of the same currency from minor units.
    pub(crate) fn with_minor(&self, minor: i64) -> Money {
        Money::from_minor(minor, self.currency)
    }

    /// The amount in minor units; money that passed [`Money::parse_amount`] always
    /// fits.
    pub fn minor(&self) -> i64 {
        self.minor_units().unwrap_or(0)
    }

    /// A currency's `n` whole units in minor units (the self-grant limits).
    pub(crate) fn major_to_minor(n: i64, currency: Currency) -> i64 {
        n.saturating_mul(10_i64.pow(currency.minor_unit))
    }

    /// The amount as output: exactly the currency's number of decimals ("10.90").
    pub fn amount_string(&self) -> String {
        let mut a = self.amount;
        a.rescale(self.currency.minor_unit);
        a.to_string()
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.amount_string())?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    #[test]
    fn currencies_are_iso_4217_with_their_minor_units() {
        assert_eq!(usd().minor_unit(), 2);
        assert_eq!(Currency::from_code("JPY").unwrap().minor_unit(), 0);
        assert_eq!(Currency::from_code("BHD").unwrap().minor_unit(), 3);
        assert!(Currency::from_code("usd").is_none());
        assert!(Currency::from_code("XXX").is_none());
        let codes: Vec<_> = ISO_4217.iter().map(|(c, _)| *c).collect();
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "the table is in code order, without duplicates (from_code searches it)"
        );
        for &(code, minor_unit) in ISO_4217 {
            assert_eq!(
                Currency::from_code(code).map(|c| c.minor_unit()),
                Some(minor_unit)
            );
        }
        assert!(Currency::from_code("").is_none());
        assert!(Currency::from_code("ZZZ").is_none() && Currency::from_code("AAA").is_none());
    }

    #[test]
    fn amounts_are_plain_decimals_within_the_minor_unit() {
        let m = Money::parse_amount("10.95", usd()).unwrap();
        assert_eq!(m.minor_units(), Some(1095));
        assert_eq!(
            Money::parse_amount("10.9", usd()).unwrap().amount_string(),
            "10.90"
        );
        assert_eq!(
            Money::parse_amount("0", usd()).unwrap().amount_string(),
            "0.00"
        );
        for bad in [
            "", "-1", "+1", "1e3", "1,000", " 1", "1.", ".5", "1.2.3", "NaN", "١", "007", "00.5",
        ] {
            assert_eq!(
                Money::parse_amount(bad, usd()),
                Err(AmountError::NotPlainDecimal),
                "{bad:?}"
            );
        }
        assert_eq!(
            Money::parse_amount("1.001", usd()),
            Err(AmountError::TooPrecise(2))
        );
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(
            Money::parse_amount("1.0", jpy),
            Err(AmountError::TooPrecise(0))
        );
        assert_eq!(
            Money::parse_amount("99999999999999999", usd()),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn wide_sums_print_exactly() {
        let total = i128::from(i64::MAX) * 3 + 7;
        let m = Money::from_wide(total, usd()).unwrap();
        assert_eq!(m.amount_string(), "276701161105643274.28");
        assert_eq!(
            Money::signed_wide(-total, usd()).unwrap(),
            "-276701161105643274.28"
        );
        assert_eq!(Money::from_wide(-1, usd()), None);
        assert_eq!(Money::from_wide(1_i128 << 100, usd()), None);
        assert_eq!(
            Money::from_wide(1095, usd()),
            Some(Money::from_minor(1095, usd()))
        );
    }

    #[test]
    fn minor_units_round_trip() {
        let bhd = Currency::from_code("BHD").unwrap();
        let m = Money::from_minor(12_345, bhd);
        assert_eq!(m.amount_string(), "12.345");
        assert_eq!(m.minor_units(), Some(12_345));
        assert_eq!(Money::from_minor(5, usd()).amount_string(), "0.05");
    }
}
