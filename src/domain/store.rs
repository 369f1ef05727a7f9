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
}

impl NewStore {
    /// Checks every field, reporting all problems at once.
    pub fn parse(name: &str, code: &str, currency: &str) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.take(text::required_line("name", name, NAME_MAX));
        let code = p.take(
            text::token("code", code, CODE_MAX)
                .and_then(|c| text::not_formula("code", &c).map(|()| c)),
        );
        let currency = p.take(Currency::parse("currency", currency));
        p.finish()?;
        match (name, code, currency) {
            (Some(name), Some(code), Some(currency)) => Ok(Self {
                name,
                code,
                currency,
            }),
            _ => unreachable!("Problems::finish returns Err when a field failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_bad_field() {
        let errs = NewStore::parse("", "a b", "usd").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "code", "currency"]);
        let ok = NewStore::parse(" Main St ", "ST-1", "USD").unwrap();
        assert_eq!(ok.name, "Main St");
    }
}
