//! Stores: the locations of a tenant, each with one currency.

use chrono::NaiveDateTime;

use super::ids::{StoreId, TenantId};
use super::money::Currency;
use super::{FieldError, Problems, text};

/// Longest store name.
pub(crate) const NAME_MAX: usize = 200;
/// Longest store code.
pub(crate) const CODE_MAX: usize = 64;

/// A store as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// Its id.
    pub id: StoreId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Short code, unique within the tenant (the POS's own store number).
    pub code: String,
    /// Every amount at this store is in this currency.
    pub currency: Currency,
    /// Where it is: the console shows its times in this zone.
    pub time_zone: chrono_tz::Tz,
    /// When it was created (UTC).
    pub created_at: NaiveDateTime,
}

/// A valid request to create a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStore {
    /// Display name.
    pub name: String,
    /// Unique code within the tenant.
    pub code: String,
    /// The store's currency.
    pub currency: Currency,
    /// The store's time zone (UTC unless given).
    pub time_zone: chrono_tz::Tz,
}

impl NewStore {
    /// Checks every field, reporting all problems at once. The time zone is an
    /// IANA name (`Europe/Paris`); absent means UTC.
    pub fn parse(
        name: &str,
        code: &str,
        currency: &str,
        time_zone: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.take(text::required_line("name", name, NAME_MAX));
        let code = p.take(
            text::token("code", code, CODE_MAX)
                .and_then(|c| text::not_formula("code", &c).map(|()| c)),
        );
        let currency = p.take(Currency::parse("currency", currency));
        let time_zone = p.take(parse_time_zone("time_zone", time_zone.unwrap_or("UTC")));
        p.finish()?;
        match (name, code, currency, time_zone) {
            (Some(name), Some(code), Some(currency), Some(time_zone)) => Ok(Self {
                name,
                code,
                currency,
                time_zone,
            }),
            _ => unreachable!("Problems::finish returns Err when a field failed"),
        }
    }
}

/// An IANA time zone name (`America/New_York`, `UTC`), exactly as the tz
/// database spells it.
pub(crate) fn parse_time_zone(field: &str, name: &str) -> Result<chrono_tz::Tz, FieldError> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        FieldError::new(
            field,
            "must be an IANA time zone name, such as Europe/Paris or America/New_York",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_bad_field() {
        let errs = NewStore::parse("", "a b", "usd", Some("Mars/Olympus")).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "code", "currency", "time_zone"]);
        let ok = NewStore::parse(" Main St ", "ST-1", "USD", None).unwrap();
        assert_eq!(ok.name, "Main St");
        assert_eq!(ok.time_zone, chrono_tz::UTC);
        let paris = NewStore::parse("Rive", "R", "EUR", Some("Europe/Paris")).unwrap();
        assert_eq!(paris.time_zone.name(), "Europe/Paris");
    }
}
