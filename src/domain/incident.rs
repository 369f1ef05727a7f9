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

impl NewIncident {
    /// Checks every field, reporting all problems at once: the cause is a
    /// reason code's shape, the description one to 4,000 characters, at most
    /// 20 staff, none named twice.
    pub(crate) fn parse(
        store_id: StoreId,
        cause: &str,
        staff_ids: Vec<StaffId>,
        description: &str,
    ) -> Result<Self, Vec<super::FieldError>> {
        let mut p = super::Problems::default();
        let cause = p.take(super::gesture::parse_reason_code("cause", cause));
        let description = p.take(super::text::required_line_multi(
            "description",
            description,
            4000,
        ));
        if staff_ids.len() > super::gesture::STAFF_MAX {
            p.push("staff_ids", "must name at most 20 staff");
        }
        for (i, id) in staff_ids.iter().enumerate() {
            if staff_ids[..i].contains(id) {
                p.push(
                    format!("staff_ids[{i}]"),
                    "names the same staff member twice",
                );
            }
        }
        p.finish()?;
        Ok(Self {
            store_id,
            cause: cause.unwrap_or_default(),
            staff_ids,
            description: description.unwrap_or_default(),
        })
    }
}
