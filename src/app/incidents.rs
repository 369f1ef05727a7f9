//! Incidents: what went wrong, to which recovery gestures link.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::ids::{StaffId, StoreId};
use crate::domain::roles::Permission;
use crate::error::AppError;
use crate::store::DbConnection;
use crate::store::incidents::Incident;

/// What an incident is made of, checked.
pub struct NewIncident {
    /// Where it happened.
    pub store_id: StoreId,
    /// Its cause (a reason-code-like word).
    pub cause: String,
    /// The staff involved.
    pub staff_ids: Vec<StaffId>,
    /// What happened.
    pub description: String,
}

/// Records an incident at a store the token holds (`incident.created`).
pub fn record_incident(
    conn: &mut DbConnection,
    ctx: &Ctx,
    new: NewIncident,
) -> Result<Incident, AppError> {
    ctx.require(Permission::IncidentsWrite)?;
    ctx.require_store(new.store_id)?;
    let i = crate::store::incidents::create(
        conn,
        ctx.tenant,
        new.store_id,
        new.cause,
        new.staff_ids,
        new.description,
        &ctx.actor_sub,
    )?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "incident.created",
            "incident",
            i.id,
            &crate::views::incident::view(&i, Vec::new()),
        ),
    )?;
    Ok(i)
}
