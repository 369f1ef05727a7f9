//! Incidents: what went wrong, to which recovery gestures link.

use crate::app::Ctx;
use crate::audit::NewEvent;
pub(crate) use crate::domain::incident::{Incident, NewIncident};
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;

/// Records an incident at a store the token holds (`incident.created`).
pub(crate) fn record_incident(
    conn: &mut DbConnection,
    ctx: &Ctx,
    new: NewIncident,
) -> Result<Incident, Error> {
    ctx.require(Permission::IncidentsWrite)?;
    ctx.require_store(new.store_id)?;
    let i = crate::store::incidents::create(conn, ctx.tenant, new, &ctx.actor_sub, ctx.now)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "incident.created",
            "incident",
            i.id,
            &crate::views::incident::view(&i, Vec::new()),
        )
        .of_new_entity(),
    )?;
    Ok(i)
}
