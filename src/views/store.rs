//! A store as the API answers it and the audit trail records it.

use crate::domain::store::Store;
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;

/// A store as the API shows it.
#[derive(Serialize)]
pub(crate) struct StoreView {
    pub(crate) id: StoreId,
    pub(crate) name: String,
    pub(crate) code: String,
    pub(crate) currency: &'static str,
    pub(crate) time_zone: &'static str,
    pub(crate) created_at: String,
}

impl From<&Store> for StoreView {
    fn from(s: &Store) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            code: s.code.clone(),
            currency: s.currency.code(),
            time_zone: s.time_zone.name(),
            created_at: timestamp(&s.created_at),
        }
    }
}
