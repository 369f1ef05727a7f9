//! A policy version as the API answers it and the audit trail records it.

use crate::domain::policy::Policy;
use crate::store::policy::{PolicyVersion, Proposal};
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

/// A policy proposal as the API shows it and the audit trail records it.
#[derive(Serialize)]
pub(crate) struct ProposalView {
    pub(crate) id: String,
    pub(crate) state: &'static str,
    pub(crate) base_version: i32,
    pub(crate) loosens: Vec<String>,
    pub(crate) proposed_by: String,
    pub(crate) proposed_at: String,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) version: Option<i32>,
    pub(crate) policy: Policy,
}

impl ProposalView {
    pub(crate) fn of(p: Proposal) -> Self {
        Self {
            id: p.id.to_string(),
            state: p.state.as_str(),
            base_version: p.base_version,
            loosens: p.loosens,
            proposed_by: p.proposed_by,
            proposed_at: timestamp(&p.proposed_at),
            decided_by: p.decided_by,
            decided_at: p.decided_at.as_ref().map(timestamp),
            note: p.note,
            version: p.version,
            policy: p.policy,
        }
    }
}
