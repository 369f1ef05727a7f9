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
use crate::store::approvals::{Approver, QueueFilter, Verdict};
use crate::views::customer::CustomerStanding;
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

/// One request of the approval queue: the gesture and the decision that
/// sent it there.
pub(crate) struct QueueEntry {
    /// The pending gesture.
    pub gesture: crate::domain::gesture::Gesture,
    /// Why it waits (policy version, rule, tier, budgets).
    pub decision: crate::domain::policy::DecisionRecord,
    /// In the read-only list: why it waits for someone other than the caller.
    pub waiting_for: Option<crate::store::approvals::WaitingFor>,
}

/// The pending gestures the actor may decide (their tier, their stores, never
/// their own request or one that names them), oldest first, after `after`;
/// at most `limit`, and whether more follow. With `filter.others`, instead,
/// what waits at the actor's stores for someone else, each with the reason.
pub(crate) fn approval_queue(
    conn: &mut DbConnection,
    ctx: &Ctx,
    filter: &QueueFilter,
    after: Option<GestureId>,
    limit: i64,
) -> Result<(Vec<QueueEntry>, bool), Error> {
    ctx.require(Permission::GesturesApprove)?;
    if let Some(s) = filter.store_id {
        ctx.require_store(s)?;
    }
    let mine = crate::store::approvals::staff_of(conn, ctx.tenant, &ctx.actor_sub)?;
    let who = Approver {
        sub: &ctx.actor_sub,
        role: ctx.actor_role,
        stores: ctx.actor_stores.as_deref(),
        staff: &mine,
    };
    let (found, has_more) =
        crate::store::approvals::queue(conn, ctx.tenant, &who, filter, after, limit, ctx.now)?;
    Ok((
        found
            .into_iter()
            .map(|(gesture, decision, waiting_for)| QueueEntry {
                gesture,
                decision,
                waiting_for,
            })
            .collect(),
        has_more,
    ))
}

/// A pending request's customer's standing beside it (the request already
/// counts in its budgets' windows).
pub(crate) fn standing_beside(
    conn: &mut DbConnection,
    ctx: &Ctx,
    g: &crate::domain::gesture::Gesture,
) -> Result<CustomerStanding, Error> {
    crate::app::customers::standing(
        conn,
        ctx.tenant,
        g.customer_id,
        ctx.now,
        g.terms.value(),
        true,
    )
}
