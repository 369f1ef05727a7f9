//! Customers: people or households known to a tenant, keyed by the POS's own id.
//! Customers are tenant-wide: one who owes at one store may turn up at another.

use chrono::NaiveDateTime;

use super::ids::{CustomerId, StoreId, TenantId};
use super::{FieldError, Problems, text};

/// Longest external reference.
pub(crate) const EXTERNAL_REF_MAX: usize = 200;
/// Longest name.
pub(crate) const NAME_MAX: usize = 200;

/// A customer as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Its id.
    pub id: CustomerId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The POS's id for this customer; unique within the tenant.
    pub external_ref: String,
    /// Name.
    pub name: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Optional phone number.
    pub phone: Option<String>,
    /// The store they are usually served at.
    pub home_store_id: Option<StoreId>,
    /// When the record was created (UTC).
    pub created_at: NaiveDateTime,
    /// When it last changed (UTC).
    pub updated_at: NaiveDateTime,
}

/// A valid request to create a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCustomer {
    /// The POS's id.
    pub external_ref: String,
    /// Name.
    pub name: String,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Optional phone.
    pub phone: Option<String>,
    /// Optional home store (must be one of the tenant's: checked by the store layer).
    pub home_store_id: Option<StoreId>,
}

impl NewCustomer {
    /// Checks every field, reporting all problems at once.
    pub fn parse(
        external_ref: &str,
        name: &str,
        email: Option<&str>,
        phone: Option<&str>,
        home_store_id: Option<StoreId>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let external_ref = p.take(text::reference(
            "external_ref",
            external_ref,
            EXTERNAL_REF_MAX,
        ));
        let name = p.take(text::required_line("name", name, NAME_MAX));
        let email = email.and_then(|e| p.take(text::email("email", e)));
        let phone = phone.and_then(|v| p.take(text::phone("phone", v)));
        p.finish()?;
        Ok(Self {
            external_ref: external_ref.unwrap_or_default(),
            name: name.unwrap_or_default(),
            email,
            phone,
            home_store_id,
        })
    }
}

/// A valid partial update. `None` leaves a field as it is; for the optional
/// fields, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CustomerPatch {
    /// New external reference.
    pub external_ref: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New or cleared e-mail.
    pub email: Option<Option<String>>,
    /// New or cleared phone.
    pub phone: Option<Option<String>>,
    /// New or cleared home store.
    pub home_store_id: Option<Option<StoreId>>,
}

impl CustomerPatch {
    /// Checks every field present, reporting all problems at once.
    pub(crate) fn parse(
        external_ref: Option<&str>,
        name: Option<&str>,
        email: Option<Option<&str>>,
        phone: Option<Option<&str>>,
        home_store_id: Option<Option<StoreId>>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let patch = Self {
            external_ref: external_ref
                .and_then(|r| p.take(text::reference("external_ref", r, EXTERNAL_REF_MAX))),
            name: name.and_then(|n| p.take(text::required_line("name", n, NAME_MAX))),
            email: match email {
                None => None,
                Some(None) => Some(None),
                Some(Some(e)) => p.take(text::email("email", e)).map(Some),
            },
            phone: match phone {
                None => None,
                Some(None) => Some(None),
                Some(Some(v)) => p.take(text::phone("phone", v)).map(Some),
            },
            home_store_id,
        };
        p.finish()?;
        Ok(patch)
    }

    /// Applies the patch, returning whether anything changed.
    pub(crate) fn apply(&self, c: &mut Customer) -> bool {
        let before = c.clone();
        if let Some(v) = &self.external_ref {
            c.external_ref.clone_from(v);
        }
        if let Some(v) = &self.name {
            c.name.clone_from(v);
        }
        if let Some(v) = &self.email {
            c.email.clone_from(v);
        }
        if let Some(v) = &self.phone {
            c.phone.clone_from(v);
        }
        if let Some(v) = self.home_store_id {
            c.home_store_id = v;
        }
        *c != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_customer_reports_every_bad_field() {
        let errs = NewCustomer::parse("", "", Some("nope"), Some("x"), None).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["external_ref", "name", "email", "phone"]);
    }

    #[test]
    fn patch_sets_and_clears() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .unwrap();
        let mut c = Customer {
            id: CustomerId::new(),
            tenant_id: TenantId::new(),
            external_ref: "P1".into(),
            name: "Ann".into(),
            email: Some("ann@example.com".into()),
            phone: None,
            home_store_id: None,
            created_at: now,
            updated_at: now,
        };
        let p = CustomerPatch::parse(None, Some("Ann Lee"), Some(None), None, None).unwrap();
        assert!(p.apply(&mut c));
        assert_eq!(c.name, "Ann Lee");
        assert_eq!(c.email, None);
        assert!(!p.apply(&mut c));
    }
}
