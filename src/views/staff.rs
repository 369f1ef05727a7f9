//! A staff member as the API answers them and the audit trail records them.

use crate::domain::staff::Staff;
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;

/// A staff member as the API shows them.
#[derive(Serialize)]
pub(crate) struct StaffView {
    pub(crate) id: StaffId,
    pub(crate) name: String,
    pub(crate) store_ids: Vec<StoreId>,
    pub(crate) external_ref: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) created_at: String,
}

impl From<&Staff> for StaffView {
    fn from(s: &Staff) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            store_ids: s.store_ids.clone(),
            external_ref: s.external_ref.clone(),
            subject: s.subject.clone(),
            created_at: timestamp(&s.created_at),
        }
    }
}
