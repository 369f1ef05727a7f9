//! Customers: tenant-wide (a customer who owes at one store may turn up at
//! another).

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::ids::CustomerId;
use crate::domain::roles::Permission;
use crate::error::AppError;
use crate::store::DbConnection;
use crate::views::customer::CustomerView;

/// Records a new customer (`customer.created`).
pub fn create_customer(
    conn: &mut DbConnection,
    ctx: &Ctx,
    new: NewCustomer,
) -> Result<Customer, AppError> {
    ctx.require(Permission::CustomersWrite)?;
    let customer = crate::store::customers::create(conn, ctx.tenant, new)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "customer.created",
            "customer",
            customer.id,
            &CustomerView::from(&customer),
        ),
    )?;
    Ok(customer)
}

/// Changes a customer's details (`customer.updated`; a change that changes
/// nothing records nothing).
pub fn update_customer(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: CustomerId,
    patch: &CustomerPatch,
) -> Result<Customer, AppError> {
    ctx.require(Permission::CustomersWrite)?;
    let (before, after) = crate::store::customers::update(conn, ctx.tenant, id, patch)?;
    let (was, is) = (CustomerView::from(&before), CustomerView::from(&after));
    if was != is {
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::changed("customer.updated", "customer", id, &was, &is),
        )?;
    }
    Ok(after)
}
