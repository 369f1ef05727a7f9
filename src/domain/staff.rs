//! Staff: the people who act for one or more stores of a tenant.

use chrono::NaiveDateTime;

use super::ids::{StaffId, StoreId, TenantId};
use super::{FieldError, Problems, text};

/// Longest staff name.
pub(crate) const NAME_MAX: usize = 200;
/// Longest external reference (the HR or POS system's id).
pub(crate) const EXTERNAL_REF_MAX: usize = 200;
/// Longest JWT subject.
pub(crate) const SUBJECT_MAX: usize = 255;
/// Most stores one staff member acts for.
pub(crate) const STORES_MAX: usize = 100;

/// A staff member as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    /// Its id.
    pub id: StaffId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Name.
    pub name: String,
    /// The stores they act for (at least one), ordered by id.
    pub store_ids: Vec<StoreId>,
    /// The id other systems know them by.
    pub external_ref: Option<String>,
    /// The JWT `sub` they sign in with, when they have one. Lets segregation-of-duty
    /// rules see that an approver is the person a gesture names.
    pub subject: Option<String>,
    /// When the record was created (UTC).
    pub created_at: NaiveDateTime,
}

/// A valid request to create a staff member. Whether the stores exist is checked by
/// the store layer, inside the transaction that inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStaff {
    /// Name.
    pub name: String,
    /// Distinct stores, at least one.
    pub store_ids: Vec<StoreId>,
    /// Optional external reference.
    pub external_ref: Option<String>,
    /// Optional JWT subject.
    pub subject: Option<String>,
}

impl NewStaff {
    /// Checks every field, reporting all problems at once.
    pub fn parse(
        name: &str,
        store_ids: &[StoreId],
        external_ref: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.take(text::required_line("name", name, NAME_MAX));
        if store_ids.is_empty() {
            p.push("store_ids", "must name at least one store");
        } else if store_ids.len() > STORES_MAX {
            p.push(
                "store_ids",
                format!("must name at most {STORES_MAX} stores"),
            );
        }
        for (i, id) in store_ids.iter().enumerate() {
            if store_ids[..i].contains(id) {
                p.push(format!("store_ids[{i}]"), "names the same store twice");
            }
        }
        let external_ref = external_ref
            .map(|r| p.take(text::reference("external_ref", r, EXTERNAL_REF_MAX)))
            .unwrap_or(None);
        let subject = subject
            .map(|s| p.take(text::token("subject", s, SUBJECT_MAX)))
            .unwrap_or(None);
        p.finish()?;
        let mut store_ids = store_ids.to_vec();
        store_ids.sort();
        Ok(Self {
            name: name.unwrap_or_default(),
            store_ids,
            external_ref,
            subject,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_name_and_distinct_stores() {
        let s = StoreId::new();
        let errs = NewStaff::parse(" ", &[s, s], None, Some("has space")).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "store_ids[1]", "subject"]);
        assert!(NewStaff::parse("Ann", &[], None, None).is_err());
        assert!(NewStaff::parse("Ann", &[s], Some("E-7"), Some("auth0|ann")).is_ok());
    }
}
