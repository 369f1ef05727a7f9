//! Staff: the people who act for stores.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::roles::Permission;
use crate::domain::staff::{NewStaff, Staff};
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::staff::StaffView;

/// Takes on a staff member (`staff.created`), at stores the token holds.
pub fn add_staff(conn: &mut DbConnection, ctx: &Ctx, new: NewStaff) -> Result<Staff, Error> {
    ctx.require(Permission::StaffWrite)?;
    for store in &new.store_ids {
        ctx.require_store(*store)?;
    }
    let staff = crate::store::staff::create(conn, ctx.tenant, new, ctx.now)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created("staff.created", "staff", staff.id, &StaffView::from(&staff))
            .of_new_entity(),
    )?;
    Ok(staff)
}
