//! Stores: the tenant's locations.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::roles::Permission;
use crate::domain::store::{NewStore, Store};
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::store::StoreView;

/// Opens a store (`store.created`). Tenant-wide: a token confined to some
/// stores may not.
pub fn open_store(conn: &mut DbConnection, ctx: &Ctx, new: NewStore) -> Result<Store, Error> {
    ctx.require(Permission::StoresWrite)?;
    ctx.require_tenant_wide()?;
    let store = crate::store::stores::create(conn, ctx.tenant, new, ctx.now)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created("store.created", "store", store.id, &StoreView::from(&store))
            .of_new_entity(),
    )?;
    Ok(store)
}
