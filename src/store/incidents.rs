//! Incidents: what went wrong, to which recovery gestures link.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{gestures, incidents, staff};
use crate::domain::FieldError;
use crate::domain::gesture::Gesture;
use crate::domain::ids::{GestureId, IncidentId, StaffId, StoreId, TenantId};
pub(crate) use crate::domain::incident::{Incident, NewIncident};
use crate::error::Error;

/// An incident as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = incidents)]
struct Row {
    id: IncidentId,
    store_id: StoreId,
    cause: String,
    staff_ids: String,
    description: String,
    reported_by: String,
    created_at: NaiveDateTime,
}

impl From<Row> for Incident {
    fn from(r: Row) -> Self {
        Incident {
            id: r.id,
            store_id: r.store_id,
            cause: r.cause,
            staff_ids: serde_json::from_str(&r.staff_ids).unwrap_or_default(),
            description: r.description,
            reported_by: r.reported_by,
            created_at: r.created_at,
        }
    }
}

/// Records an incident. Unknown store, cause or staff → 422 naming the field.
pub(crate) fn create(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: NewIncident,
    reported_by: &str,
    now: NaiveDateTime,
) -> Result<Incident, Error> {
    let NewIncident {
        store_id,
        cause,
        staff_ids,
        description,
    } = new;
    if !super::stores::missing(conn, tenant, &[store_id])?.is_empty() {
        return Err(Error::field("store_id", format!("no store {store_id}")));
    }
    super::gestures::check_reason_code(conn, tenant, "cause", &cause)?;
    if !staff_ids.is_empty() {
        let found: Vec<StaffId> = staff::table
            .filter(
                staff::tenant_id
                    .eq(tenant)
                    .and(staff::id.eq_any(&staff_ids)),
            )
            .select(staff::id)
            .load(conn)?;
        let errs: Vec<FieldError> = staff_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !found.contains(id))
            .map(|(i, id)| {
                FieldError::new(format!("staff_ids[{i}]"), format!("no staff member {id}"))
            })
            .collect();
        if !errs.is_empty() {
            return Err(Error::Validation(errs));
        }
    }
    let i = Incident {
        id: IncidentId::new(),
        store_id,
        cause,
        staff_ids,
        description,
        reported_by: reported_by.to_owned(),
        created_at: now,
    };
    diesel::insert_into(incidents::table)
        .values((
            incidents::tenant_id.eq(tenant),
            incidents::id.eq(i.id),
            incidents::store_id.eq(i.store_id),
            incidents::cause.eq(&i.cause),
            incidents::description.eq(&i.description),
            incidents::staff_ids
                .eq(serde_json::to_string(&i.staff_ids).unwrap_or_else(|_| "[]".into())),
            incidents::reported_by.eq(&i.reported_by),
            incidents::created_at.eq(i.created_at),
        ))
        .execute(conn)?;
    Ok(i)
}

/// One incident and the ids of its gestures, oldest first.
pub(crate) fn get(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: IncidentId,
) -> Result<(Incident, Vec<Gesture>), Error> {
    let incident: Incident = incidents::table
        .filter(incidents::tenant_id.eq(tenant).and(incidents::id.eq(id)))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Incident::from)
        .ok_or_else(|| Error::NotFound(format!("no incident {id}")))?;
    let ids: Vec<GestureId> = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::incident_id.eq(id)),
        )
        .select(gestures::id)
        .order(gestures::id)
        .load(conn)?;
    let list = super::gestures::by_ids(conn, tenant, &ids)?;
    Ok((incident, list))
}

/// The newest incidents of the tenant (of `stores` only, when given).
pub(crate) fn recent(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    limit: i64,
) -> Result<Vec<Incident>, Error> {
    let mut q = incidents::table
        .filter(incidents::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(incidents::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(incidents::store_id.eq_any(s.to_vec()));
    }
    let rows: Vec<Row> = q.load(conn)?;
    Ok(rows.into_iter().map(Incident::from).collect())
}

/// Filters of the incident list.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// Stores (a store filter, or a store-scoped token's stores).
    pub stores: Option<Vec<StoreId>>,
    /// One cause.
    pub cause: Option<String>,
    /// Reported from (inclusive, UTC).
    pub from: Option<NaiveDateTime>,
    /// Reported before (exclusive, UTC).
    pub to: Option<NaiveDateTime>,
}

/// A page of incidents, in the order they were reported.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    f: &Filter,
    page: super::PageRequest<IncidentId>,
) -> Result<super::PageOf<Incident>, Error> {
    let mut q = incidents::table
        .filter(incidents::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(incidents::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, incidents, tenant, page.starting_after);
    if let Some(s) = &f.stores {
        q = q.filter(incidents::store_id.eq_any(s.clone()));
    }
    if let Some(c) = &f.cause {
        q = q.filter(incidents::cause.eq(c.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(incidents::created_at.ge(t));
    }
    if let Some(t) = f.to {
        q = q.filter(incidents::created_at.lt(t));
    }
    let rows: Vec<Row> = q.load(conn)?;
    let incidents = rows.into_iter().map(Incident::from).collect();
    Ok(super::PageOf::from_rows(incidents, page.limit))
}
