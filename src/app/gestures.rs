//! Gestures: requesting one for a customer, and what its taking effect does
//! beyond itself.

use chrono::NaiveDate;

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus, NewGesture, Terms};
use crate::domain::ids::{CustomerId, GestureId, StoreId};
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::gesture::GestureView;

/// A gesture as a command left it, with a waiver's allocation over the
/// promises it gave up (`None` for other kinds, or while it waits).
#[derive(Debug)]
pub struct Recorded {
    /// The gesture.
    pub gesture: Gesture,
    /// A waiver in effect: (promise, amount minor) per promise it gave up.
    pub allocations: Option<Vec<(GestureId, i64)>>,
}

impl Recorded {
    /// Its view on the command's day.
    pub(crate) fn view(&self, today: NaiveDate) -> GestureView {
        GestureView::of(&self.gesture, today, self.allocations.clone())
    }
}

/// A waiver's allocations (empty while it waits; `None` for other kinds).
pub(crate) fn allocations_of(
    conn: &mut DbConnection,
    g: &Gesture,
) -> Result<Option<Vec<(GestureId, i64)>>, Error> {
    match g.kind {
        GestureKind::BalanceWaiver => Ok(Some(crate::store::gestures::allocations(
            conn,
            g.tenant_id,
            g.id,
        )?)),
        _ => Ok(None),
    }
}

/// Requests a gesture for a customer at a store the token holds: the approval
/// decision, and when it takes effect at once, its postings
/// (`gesture.requested`; a waiver in effect also `writeoff.created` and the
/// promises it gave up).
pub fn request_gesture(
    conn: &mut DbConnection,
    ctx: &Ctx,
    customer: CustomerId,
    ng: NewGesture,
) -> Result<Recorded, Error> {
    ctx.require(Permission::GesturesRequest)?;
    ctx.require_store(ng.store_id)?;
    let today = ctx.today();
    // A waiver reads the promises it may give up under the customer's lock,
    // so they are the ones it will find (`request` takes the lock first thing
    // otherwise).
    let promises = if ng.kind == GestureKind::BalanceWaiver {
        crate::store::gestures::lock_customer(conn, ctx.tenant, customer)?;
        waivable(
            conn,
            ctx.tenant,
            customer,
            &ng.terms,
            ctx.actor_stores.as_deref(),
        )?
    } else {
        Vec::new()
    };
    let g = crate::store::gestures::request(conn, ctx, customer, ng, today)?;
    let recorded = Recorded {
        allocations: allocations_of(conn, &g)?,
        gesture: g,
    };
    let g = &recorded.gesture;
    let view = recorded.view(today);
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created("gesture.requested", "gesture", g.id, &view)
            .of_new_entity()
            .because(g.reason_code.clone()),
    )?;
    audit_effect(conn, ctx, g, &view, &promises, today)?;
    Ok(recorded)
}

/// The deferred payments a waiver for `customer` could give up (the named ones,
/// else every open one of the currency), read before it takes effect so its
/// effect on each can be audited.
pub(crate) fn waivable(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    terms: &Terms,
    scope: Option<&[StoreId]>,
) -> Result<Vec<Gesture>, Error> {
    match terms {
        Terms::BalanceWaiver { amount, applies_to } if applies_to.is_empty() => {
            crate::store::gestures::waivable_promises(
                conn,
                tenant,
                customer,
                amount.currency(),
                scope,
            )
        }
        Terms::BalanceWaiver { applies_to, .. } => {
            crate::store::gestures::by_ids(conn, tenant, applies_to)
        }
        _ => Ok(Vec::new()),
    }
}

/// Audits what a gesture's taking effect did beyond itself: a waiver in effect
/// is a write-off (`writeoff.created`, for finance's review), and each deferred
/// payment it gave up changed (`gesture.waived`, or `gesture.written_off` when
/// nothing is left owed). `promises` are those promises as they were before.
pub(crate) fn audit_effect(
    conn: &mut crate::store::DbConnection,
    ctx: &crate::audit::AuditCtx,
    g: &Gesture,
    view: &GestureView,
    promises: &[Gesture],
    today: NaiveDate,
) -> Result<(), Error> {
    if g.kind != GestureKind::BalanceWaiver || g.status != GestureStatus::Approved {
        return Ok(());
    }
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created("writeoff.created", "gesture", g.id, view).because(g.reason_code.clone()),
    )?;
    for before in promises {
        let after = crate::store::gestures::get(conn, ctx.tenant, before.id)?;
        if after.waived_minor == before.waived_minor {
            continue;
        }
        let action = if after.status == GestureStatus::WrittenOff {
            "gesture.written_off"
        } else {
            "gesture.waived"
        };
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::changed(
                action,
                "gesture",
                after.id,
                &GestureView::of(before, today, None),
                &GestureView::of(&after, today, None),
            )
            .because(g.reason_code.clone()),
        )?;
    }
    Ok(())
}
