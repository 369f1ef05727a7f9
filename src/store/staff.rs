//! Staff and the stores they act for.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{staff, staff_stores};
use super::{DbConnection, PageOf, PageRequest};
use crate::domain::FieldError;
use crate::domain::ids::{StaffId, StoreId, TenantId};
use crate::domain::staff::{NewStaff, Staff};
use crate::error::{Error, ErrorCode, is_unique_violation};

#[derive(Queryable, Selectable)]
#[diesel(table_name = staff)]
struct Row {
    tenant_id: TenantId,
    id: StaffId,
    name: String,
    external_ref: Option<String>,
    subject: Option<String>,
    created_at: NaiveDateTime,
}

impl Row {
    fn into_staff(self, store_ids: Vec<StoreId>) -> Staff {
        Staff {
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name,
            store_ids,
            external_ref: self.external_ref,
            subject: self.subject,
            created_at: self.created_at,
        }
    }
}

fn conflict(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: &NewStaff,
) -> Result<Option<Error>, Error> {
    if let Some(subject) = &new.subject {
        let existing: Option<StaffId> = staff::table
            .filter(staff::tenant_id.eq(tenant).and(staff::subject.eq(subject)))
            .select(staff::id)
            .first(conn)
            .optional()?;
        if let Some(id) = existing {
            return Ok(Some(Error::Conflict {
                code: ErrorCode::DuplicateStaffSubject,
                detail: format!("staff member {id} already signs in as {subject:?}"),
                existing_id: Some(id.to_string()),
            }));
        }
    }
    if let Some(r) = &new.external_ref {
        let existing: Option<StaffId> = staff::table
            .filter(staff::tenant_id.eq(tenant).and(staff::external_ref.eq(r)))
            .select(staff::id)
            .first(conn)
            .optional()?;
        if let Some(id) = existing {
            return Ok(Some(Error::Conflict {
                code: ErrorCode::DuplicateStaffExternalRef,
                detail: format!("staff member {id} already has external_ref {r:?}"),
                existing_id: Some(id.to_string()),
            }));
        }
    }
    Ok(None)
}

/// Creates a staff member. Unknown stores → 422 naming each; a duplicate subject
/// or external reference → 409 naming the existing staff member.
pub(crate) fn create(
    conn: &mut DbConnection,
    tenant: TenantId,
    new: NewStaff,
    now: NaiveDateTime,
) -> Result<Staff, Error> {
    let missing = super::stores::missing(conn, tenant, &new.store_ids)?;
    if !missing.is_empty() {
        let errors = new
            .store_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| missing.contains(id))
            .map(|(i, id)| FieldError::new(format!("store_ids[{i}]"), format!("no store {id}")))
            .collect();
        return Err(Error::Validation(errors));
    }
    if let Some(e) = conflict(conn, tenant, &new)? {
        return Err(e);
    }
    let s = Staff {
        id: StaffId::new(),
        tenant_id: tenant,
        name: new.name,
        store_ids: new.store_ids,
        external_ref: new.external_ref,
        subject: new.subject,
        created_at: now,
    };
    diesel::insert_into(staff::table)
        .values((
            staff::tenant_id.eq(tenant),
            staff::id.eq(s.id),
            staff::name.eq(&s.name),
            staff::external_ref.eq(&s.external_ref),
            staff::subject.eq(&s.subject),
            staff::created_at.eq(s.created_at),
        ))
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::Conflict {
                    code: ErrorCode::DuplicateStaff,
                    detail: "a staff member with this subject or external_ref was just created"
                        .into(),
                    existing_id: None,
                }
            } else {
                e.into()
            }
        })?;
    // One row at a time: multi-row VALUES is not available through the
    // MultiConnection backend, and a staff member has few stores.
    for store in &s.store_ids {
        diesel::insert_into(staff_stores::table)
            .values((
                staff_stores::tenant_id.eq(tenant),
                staff_stores::staff_id.eq(s.id),
                staff_stores::store_id.eq(*store),
            ))
            .execute(conn)?;
    }
    Ok(s)
}

fn stores_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    ids: &[StaffId],
) -> Result<HashMap<StaffId, Vec<StoreId>>, Error> {
    let links: Vec<(StaffId, StoreId)> = staff_stores::table
        .filter(
            staff_stores::tenant_id
                .eq(tenant)
                .and(staff_stores::staff_id.eq_any(ids)),
        )
        .select((staff_stores::staff_id, staff_stores::store_id))
        .order((staff_stores::staff_id, staff_stores::store_id))
        .load(conn)?;
    let mut map: HashMap<StaffId, Vec<StoreId>> = HashMap::new();
    for (staff_id, store_id) in links {
        map.entry(staff_id).or_default().push(store_id);
    }
    Ok(map)
}

/// One staff member of the tenant.
pub(crate) fn get(conn: &mut DbConnection, tenant: TenantId, id: StaffId) -> Result<Staff, Error> {
    let row: Row = staff::table
        .filter(staff::tenant_id.eq(tenant).and(staff::id.eq(id)))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no staff member {id}")))?;
    let mut stores = stores_of(conn, tenant, &[id])?;
    Ok(row.into_staff(stores.remove(&id).unwrap_or_default()))
}

/// A page of the tenant's staff, optionally only those acting for any of `stores`.
pub(crate) fn list(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<Vec<StoreId>>,
    page: PageRequest<StaffId>,
) -> Result<PageOf<Staff>, Error> {
    let mut q = staff::table
        .filter(staff::tenant_id.eq(tenant))
        .select(Row::as_select())
        .order(staff::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, staff, tenant, page.starting_after);
    if let Some(stores) = stores {
        q = q.filter(
            staff::id.eq_any(
                staff_stores::table
                    .filter(
                        staff_stores::tenant_id
                            .eq(tenant)
                            .and(staff_stores::store_id.eq_any(stores)),
                    )
                    .select(staff_stores::staff_id),
            ),
        );
    }
    let page_of = PageOf::from_rows(q.load(conn)?, page.limit);
    let ids: Vec<StaffId> = page_of.items.iter().map(|r| r.id).collect();
    let mut stores = stores_of(conn, tenant, &ids)?;
    Ok(PageOf {
        items: page_of
            .items
            .into_iter()
            .map(|r| {
                let s = stores.remove(&r.id).unwrap_or_default();
                r.into_staff(s)
            })
            .collect(),
        has_more: page_of.has_more,
    })
}
