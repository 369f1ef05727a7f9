//! An incident as the API answers it and the audit trail records it.

use super::gesture::GestureView;
use crate::store::incidents::Incident;
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;

/// An incident as the API shows it.
#[derive(Serialize)]
pub(crate) struct IncidentView {
    pub(crate) id: IncidentId,
    pub(crate) store_id: StoreId,
    pub(crate) cause: String,
    pub(crate) staff_ids: Vec<StaffId>,
    pub(crate) description: String,
    pub(crate) reported_by: String,
    pub(crate) created_at: String,
    pub(crate) gestures: Vec<GestureView>,
}

/// The view of an incident with its gestures.
pub(crate) fn view(i: &Incident, gestures: Vec<GestureView>) -> IncidentView {
    IncidentView {
        id: i.id,
        store_id: i.store_id,
        cause: i.cause.clone(),
        staff_ids: i.staff_ids.clone(),
        description: i.description.clone(),
        reported_by: i.reported_by.clone(),
        created_at: timestamp(&i.created_at),
        gestures,
    }
}

/// An incident as the list shows it: without its gestures (`GET
/// /v1/incidents/{id}` has them), with its store's names.
#[derive(Serialize)]
pub(crate) struct IncidentListItem {
    pub(crate) id: IncidentId,
    pub(crate) store_id: StoreId,
    pub(crate) store: crate::views::finance::StoreRef,
    pub(crate) cause: String,
    pub(crate) staff_ids: Vec<StaffId>,
    pub(crate) description: String,
    pub(crate) reported_by: String,
    pub(crate) created_at: String,
}
