//! Incidents: what went wrong at a store, to which recovery gestures link.

use chrono::NaiveDateTime;

use super::ids::{IncidentId, StaffId, StoreId};

/// An incident as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Incident {
    /// Its id.
    pub id: IncidentId,
    /// Where.
    pub store_id: StoreId,
    /// The cause (one of the tenant's reason codes).
    pub cause: String,
    /// Staff involved.
    pub staff_ids: Vec<StaffId>,
    /// What happened.
    pub description: String,
    /// Who reported it (token `sub`).
    pub reported_by: String,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// What an incident is made of, checked.
pub(crate) struct NewIncident {
    /// Where it happened.
    pub store_id: StoreId,
    /// Its cause (a reason-code-like word).
    pub cause: String,
    /// The staff involved.
    pub staff_ids: Vec<StaffId>,
    /// What happened.
    pub description: String,
}
