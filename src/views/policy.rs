//! A policy version as the API answers it and the audit trail records it.

use crate::domain::policy::Policy;
use crate::store::policy::PolicyVersion;
use serde::Serialize;

use super::timestamp;

/// A policy version as the API shows it.
#[derive(Serialize)]
pub(crate) struct PolicyView {
    pub(crate) id: i32,
    pub(crate) version: i32,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
    pub(crate) policy: Policy,
}

impl PolicyView {
    pub(crate) fn of(v: PolicyVersion) -> Self {
        Self {
            id: v.version,
            version: v.version,
            created_by: v.created_by,
            created_at: timestamp(&v.created_at),
            policy: v.policy,
        }
    }
}
