//! Deciding pending gestures: approve, reject, cancel, and expiry. Each decides
//! once: the customer's lock is taken first, and whoever comes second finds the
//! request decided (409 `already_decided` naming the decision).

use crate::app::Ctx;
use crate::app::gestures::{Recorded, audit_effect, waivable};
use crate::audit::NewEvent;
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::GestureId;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::approvals::Verdict;
use crate::views::gesture::GestureView;

/// Approves a pending gesture: it takes effect (its postings, a waiver's
/// write-off) in this transaction (`gesture.approved`).
pub fn approve(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
    note: Option<String>,
) -> Result<Recorded, Error> {
    ctx.require(Permission::GesturesApprove)?;
    decide(conn, ctx, id, Verdict::Approve, note)
}

/// Rejects a pending gesture, with the reason (`gesture.rejected`).
pub(crate) fn reject(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
    note: String,
) -> Result<Recorded, Error> {
    ctx.require(Permission::GesturesApprove)?;
    decide(conn, ctx, id, Verdict::Reject, Some(note))
}

/// Withdraws one's own pending request (`gesture.cancelled`).
pub(crate) fn cancel(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
    note: Option<String>,
) -> Result<Recorded, Error> {
    ctx.require(Permission::GesturesCancel)?;
    decide(conn, ctx, id, Verdict::Cancel, note)
}

fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
    verdict: Verdict,
    note: Option<String>,
) -> Result<Recorded, Error> {
    let today = ctx.today();
    let pending = crate::store::gestures::get(conn, ctx.tenant, id)?;
    crate::store::gestures::lock_customer(conn, ctx.tenant, pending.customer_id)?;
    // Read to audit what the approval changes: every open promise, of which
    // only those the waiver gives up (within the requester's and the
    // approver's stores) are audited as changed.
    let promises = if verdict == Verdict::Approve {
        waivable(conn, ctx.tenant, pending.customer_id, &pending.terms, None)?
    } else {
        Vec::new()
    };
    let (before, after) = crate::store::approvals::decide(conn, ctx, id, verdict, note.clone())?;
    let recorded = Recorded {
        allocations: match after.kind {
            GestureKind::BalanceWaiver if after.status == GestureStatus::Approved => Some(
                crate::store::gestures::allocations(conn, ctx.tenant, after.id)?,
            ),
            _ => None,
        },
        gesture: after,
    };
    let view = recorded.view(today);
    let action = match verdict {
        Verdict::Approve => "gesture.approved",
        Verdict::Reject => "gesture.rejected",
        Verdict::Cancel => "gesture.cancelled",
    };
    let mut ev = NewEvent::changed(
        action,
        "gesture",
        id,
        &GestureView::of(&before, today, None),
        &view,
    );
    if let Some(n) = note {
        ev = ev.because(n);
    }
    crate::store::audit::append(conn, ctx, ev)?;
    audit_effect(conn, ctx, &recorded.gesture, &view, &promises, today)?;
    Ok(recorded)
}

/// Marks a pending request past its expiry `expired` (`gesture.expired`), if
/// it still is pending: safe to run any number of times. `None` when there was
/// nothing to do.
pub(crate) fn expire_pending(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
) -> Result<Option<Recorded>, Error> {
    let today = ctx.today();
    let Some((before, after)) = crate::store::approvals::expire(conn, ctx, id)? else {
        return Ok(None);
    };
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "gesture.expired",
            "gesture",
            id,
            &GestureView::of(&before, today, None),
            &GestureView::of(&after, today, None),
        ),
    )?;
    Ok(Some(Recorded {
        gesture: after,
        allocations: None,
    }))
}
