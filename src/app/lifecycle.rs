//! After a gesture takes effect: payments (and bad-debt recoveries), reversals,
//! the write-off of an open promise, redemptions of store credit, and credit
//! expiry. Each moves money, so each runs under the customer's lock (taken by
//! the store's function first thing).

use crate::app::Ctx;
use crate::app::gestures::{Recorded, audit_effect};
use crate::audit::NewEvent;
use crate::domain::TillRefs;
use crate::domain::gesture::Gesture;
use crate::domain::ids::{CustomerId, GestureId, PaymentId, StoreId};
use crate::domain::money::Money;
use crate::domain::roles::Permission;
use crate::error::{Error, ErrorCode};
use crate::store::DbConnection;
use crate::store::lifecycle::{Payment, Redemption};
use crate::views::gesture::GestureView;
use crate::views::payment::{PaymentView, RedemptionView};

/// Records a payment on a deferred payment, at `store` (default: the
/// promise's), paid on `paid_on` (default: today) — on a written-off one, a
/// bad-debt recovery (`payment.recorded`, and `gesture.paid` or
/// `gesture.recovered`).
pub fn record_payment(
    conn: &mut DbConnection,
    ctx: &Ctx,
    promise: GestureId,
    store: Option<StoreId>,
    amount: Money,
    paid_on: Option<chrono::NaiveDate>,
    refs: &TillRefs,
) -> Result<Payment, Error> {
    ctx.require(Permission::PaymentsRecord)?;
    if let Some(s) = store {
        ctx.require_store(s)?;
    }
    let today = ctx.today();
    let (before, after, payment) =
        crate::store::lifecycle::pay(conn, ctx, promise, store, amount, today, paid_on, refs)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "payment.recorded",
            "payment",
            payment.id,
            &PaymentView::of(&payment)?,
        ),
    )?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            if payment.recovery_minor > 0 {
                "gesture.recovered"
            } else {
                "gesture.paid"
            },
            "gesture",
            promise,
            &GestureView::of(&before, today, None),
            &GestureView::of(&after, today, None),
        ),
    )?;
    Ok(payment)
}

/// The promise a payment names by its customer alone (a till that knows the
/// customer, not the promise): `given` if named (it must be the customer's),
/// else the customer's one open promise in the payment's currency. None open
/// is 422 `not_payable`; several, 422 `promise_ambiguous` listing them.
pub(crate) fn promise_to_pay(
    conn: &mut DbConnection,
    ctx: &Ctx,
    customer: CustomerId,
    given: Option<GestureId>,
    currency: crate::domain::money::Currency,
) -> Result<GestureId, Error> {
    if let Some(g) = given {
        let found = crate::store::gestures::get(conn, ctx.tenant, g)?;
        if found.customer_id != customer {
            return Err(Error::field(
                "gesture_id",
                format!("{g} is not a promise of this customer"),
            ));
        }
        return Ok(g);
    }
    let open: Vec<GestureId> =
        crate::store::gestures::open_promises(conn, ctx.tenant, customer, currency)?
            .into_iter()
            .filter(|g| g.outstanding_minor().unwrap_or(0) > 0)
            .map(|g| g.id)
            .collect();
    match open.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::Unprocessable {
            code: ErrorCode::NotPayable,
            detail: format!("the customer has no open promise in {}", currency.code()),
            errors: Vec::new(),
        }),
        many => {
            let ids = many
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            Err(Error::Unprocessable {
                code: ErrorCode::PromiseAmbiguous,
                detail: format!(
                    "the customer has {} open promises in {}: name one as gesture_id ({ids})",
                    many.len(),
                    currency.code(),
                ),
                errors: vec![crate::domain::FieldError::new(
                    "gesture_id",
                    format!("is required: the customer has several open promises ({ids})"),
                )],
            })
        }
    }
}

/// Reverses a payment (a bounced cheque), at the store it was taken at
/// (`payment.reversed`).
pub(crate) fn reverse_payment(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: PaymentId,
    reason: String,
) -> Result<Payment, Error> {
    ctx.require(Permission::Reversals)?;
    let (before, after) =
        crate::store::lifecycle::reverse_payment(conn, ctx, id, reason.clone(), ctx.today())?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "payment.reversed",
            "payment",
            id,
            &PaymentView::of(&before)?,
            &PaymentView::of(&after)?,
        )
        .because(reason),
    )?;
    Ok(after)
}

/// Reverses a gesture in effect: the mirror of what it posted and still
/// stands (`gesture.reversed`).
pub(crate) fn reverse_gesture(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: GestureId,
    reason: String,
) -> Result<Gesture, Error> {
    ctx.require(Permission::Reversals)?;
    let today = ctx.today();
    let (before, after) =
        crate::store::lifecycle::reverse_gesture(conn, ctx, id, reason.clone(), today)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "gesture.reversed",
            "gesture",
            id,
            &GestureView::of(&before, today, None),
            &GestureView::of(&after, today, None),
        )
        .because(reason),
    )?;
    Ok(after)
}

/// Gives up what is still owed on an open promise by requesting a waiver of
/// it, which passes the approval decision like any waiver
/// (`gesture.requested`; when it takes effect at once, `writeoff.created` and
/// `gesture.written_off`). Answers the promise as it now stands, and the
/// waiver.
pub(crate) fn write_off(
    conn: &mut DbConnection,
    ctx: &Ctx,
    promise: GestureId,
    reason_code: String,
    note: Option<String>,
) -> Result<(Gesture, Recorded), Error> {
    ctx.require(Permission::GesturesRequest)?;
    let today = ctx.today();
    let (before, after, waiver) =
        crate::store::lifecycle::write_off(conn, ctx, promise, reason_code.clone(), note, today)?;
    let waiver = Recorded {
        allocations: Some(crate::store::gestures::allocations(
            conn, ctx.tenant, waiver.id,
        )?),
        gesture: waiver,
    };
    let waiver_view = waiver.view(today);
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "gesture.requested",
            "gesture",
            waiver.gesture.id,
            &waiver_view,
        )
        .of_new_entity()
        .because(reason_code.clone()),
    )?;
    // The promise's own change is audited below, as the route's effect.
    audit_effect(conn, ctx, &waiver.gesture, &waiver_view, &[], today)?;
    let (was, is) = (
        GestureView::of(&before, today, None),
        GestureView::of(&after, today, None),
    );
    if was != is {
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::changed("gesture.written_off", "gesture", promise, &was, &is)
                .because(reason_code),
        )?;
    }
    Ok((after, waiver))
}

/// Reverses a redemption (a voided sale), at the store it was spent at
/// (`credit.redemption_reversed`).
pub(crate) fn reverse_redemption(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: crate::domain::ids::RedemptionId,
    reason: String,
) -> Result<Redemption, Error> {
    ctx.require(Permission::Reversals)?;
    let (before, after) =
        crate::store::lifecycle::reverse_redemption(conn, ctx, id, reason.clone(), ctx.today())?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "credit.redemption_reversed",
            "redemption",
            id,
            &RedemptionView::of(&before),
            &RedemptionView::of(&after),
        )
        .because(reason),
    )?;
    Ok(after)
}

/// Spends a customer's store credit at a store the token holds, earliest
/// expiring first, on `occurred_on` (default today) (`credit.redeemed`).
pub(crate) fn redeem_credit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    customer: CustomerId,
    store: StoreId,
    amount: Money,
    occurred_on: Option<chrono::NaiveDate>,
    refs: &TillRefs,
) -> Result<Redemption, Error> {
    ctx.require(Permission::RedemptionsRecord)?;
    ctx.require_store(store)?;
    let r = crate::store::lifecycle::redeem(
        conn,
        ctx,
        customer,
        store,
        amount,
        ctx.today(),
        occurred_on,
        refs,
    )?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "credit.redeemed",
            "redemption",
            r.id,
            &RedemptionView::of(&r),
        ),
    )?;
    Ok(r)
}

/// Posts the expiry of what is left of one lot of store credit past its date
/// (`credit.expired`), if it is still due: safe to run any number of times.
/// `None` when there was nothing to do.
pub(crate) fn expire_credit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    lot: GestureId,
) -> Result<Option<Gesture>, Error> {
    let today = ctx.today();
    let Some((before, after)) = crate::store::lifecycle::expire(conn, ctx, lot, today)? else {
        return Ok(None);
    };
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "credit.expired",
            "gesture",
            lot,
            &GestureView::of(&before, today, None),
            &GestureView::of(&after, today, None),
        ),
    )?;
    Ok(Some(after))
}

/// Notes that an open promise fell overdue (`gesture.overdue`, once per
/// promise): the day passing changes nothing in the ledger, but a POS or a
/// back office subscribed to the feed wants to know. Safe to run any number
/// of times, from any number of instances. `None` when there was nothing to
/// note.
pub(crate) fn note_overdue(
    conn: &mut DbConnection,
    ctx: &Ctx,
    promise: GestureId,
) -> Result<Option<Gesture>, Error> {
    let today = ctx.today();
    let Some(g) = crate::store::lifecycle::note_overdue(conn, ctx, promise, today)? else {
        return Ok(None);
    };
    let view = GestureView::of(&g, today, None);
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed("gesture.overdue", "gesture", promise, &view, &view),
    )?;
    Ok(Some(g))
}

/// Notes every open promise of `tenant` (or of every tenant) that fell
/// overdue and was not noted yet, each in its own transaction: how many were
/// noted, and how many could not be (each logged).
pub(crate) fn note_overdue_promises(
    conn: &mut DbConnection,
    clock: &crate::clock::Clock,
    tenant: Option<crate::domain::ids::TenantId>,
) -> Result<(usize, usize), Error> {
    let due = crate::store::lifecycle::overdue_unnoted(conn, tenant, clock.now().date())?;
    Ok(crate::app::jobs::run_each(
        conn,
        clock,
        "promises-overdue",
        due,
        note_overdue,
    ))
}
