//! A customer as the API answers them and the audit trail records them.

use crate::domain::customer::Customer;
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;

/// A customer as the API shows them.
#[derive(Serialize, PartialEq, Eq)]
pub struct CustomerView {
    pub(crate) id: CustomerId,
    pub(crate) external_ref: String,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) home_store_id: Option<StoreId>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            external_ref: c.external_ref.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            home_store_id: c.home_store_id,
            created_at: timestamp(&c.created_at),
            updated_at: timestamp(&c.updated_at),
        }
    }
}
