//! After a gesture takes effect: payments, write-offs, reversals, redemptions.
//! Each moves money, so each requires an `Idempotency-Key`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::gestures::today;
use super::{AppState, Caller, Idem, JsonBody, Reply};
use crate::audit::NewEvent;
use crate::domain::ids::{CustomerId, GestureId, PaymentId, StoreId};
use crate::domain::money::{Money, MoneyInput};
use crate::domain::{Problems, text};
use crate::error::AppError;
use crate::views::gesture::GestureView;
use crate::views::payment::{PaymentView, RedemptionView};

/// Body of `POST /v1/gestures/{id}/payments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    amount: MoneyInput,
    /// Where it is paid (default: the deferred payment's store).
    store_id: Option<StoreId>,
}

/// `POST /v1/gestures/{id}/payments`.
pub async fn pay(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<PayBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let amount =
        Money::parse("amount", &b.amount, false).map_err(|e| AppError::Validation(vec![e]))?;
    if let Some(s) = b.store_id {
        caller.require_store(s)?;
    }
    let (id, today) = (id.into_inner(), today());
    state
        .command(&caller, Some(key), move |conn, audit| {
            let (before, after, payment) =
                crate::store::lifecycle::pay(conn, audit, id, b.store_id, amount, today)?;
            let view = PaymentView::of(&payment)?;
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::created("payment.recorded", "payment", payment.id, &view),
            )?;
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::changed(
                    if payment.recovery_minor > 0 {
                        "gesture.recovered"
                    } else {
                        "gesture.paid"
                    },
                    "gesture",
                    id,
                    &GestureView::of(&before, today, None),
                    &GestureView::of(&after, today, None),
                ),
            )?;
            Ok(Reply::created(&view))
        })
        .await
}

/// Body of the reversal routes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    reason: String,
}

fn reason(b: &ReverseBody) -> Result<String, AppError> {
    text::required_line_multi("reason", &b.reason, 1000).map_err(|e| AppError::Validation(vec![e]))
}

/// `POST /v1/payments/{id}/reversal`: a bounced cheque.
pub async fn reverse_payment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PaymentId>,
    idem: Idem,
    body: JsonBody<ReverseBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let why = reason(&b)?;
    let (id, today) = (id.into_inner(), today());
    state
        .command(&caller, Some(key), move |conn, audit| {
            let (before, after) =
                crate::store::lifecycle::reverse_payment(conn, audit, id, why.clone(), today)?;
            let (before, after) = (PaymentView::of(&before)?, PaymentView::of(&after)?);
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::changed("payment.reversed", "payment", id, &before, &after).because(why),
            )?;
            Ok(Reply::ok(&after))
        })
        .await
}

/// `POST /v1/gestures/{id}/reversal`.
pub async fn reverse_gesture(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<ReverseBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let why = reason(&b)?;
    let (id, today) = (id.into_inner(), today());
    state
        .command(&caller, Some(key), move |conn, audit| {
            let (before, after) =
                crate::store::lifecycle::reverse_gesture(conn, audit, id, why.clone(), today)?;
            let (before, after) = (
                GestureView::of(&before, today, None),
                GestureView::of(&after, today, None),
            );
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::changed("gesture.reversed", "gesture", id, &before, &after).because(why),
            )?;
            Ok(Reply::ok(&after))
        })
        .await
}

/// Body of `POST /v1/gestures/{id}/write-off`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffBody {
    reason_code: String,
    note: Option<String>,
}

/// `POST /v1/gestures/{id}/write-off`: requests a waiver of what is still owed;
/// answers the deferred payment (`written_off` when the waiver took effect at
/// once, else still open while the waiver waits for approval).
pub async fn write_off(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<WriteOffBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let mut p = Problems::default();
    let code = p.take(crate::domain::gesture::parse_reason_code(
        "reason_code",
        &b.reason_code,
    ));
    let note = b
        .note
        .as_deref()
        .and_then(|n| p.take(text::required_line_multi("note", n, 4000)));
    p.finish().map_err(AppError::Validation)?;
    let (code, id, today) = (code.unwrap_or_default(), id.into_inner(), today());
    state
        .command(&caller, Some(key), move |conn, audit| {
            let (before, after, waiver) =
                crate::store::lifecycle::write_off(conn, audit, id, code.clone(), note, today)?;
            let allocs = crate::store::gestures::allocations(conn, audit.tenant, waiver.id)?;
            let waiver_view = GestureView::of(&waiver, today, Some(allocs));
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::created("gesture.requested", "gesture", waiver.id, &waiver_view)
                    .because(code.clone()),
            )?;
            // The promise's own change is audited below, as the route's effect.
            super::gestures::audit_effect(conn, audit, &waiver, &waiver_view, &[], today)?;
            let (before, after) = (
                GestureView::of(&before, today, None),
                GestureView::of(&after, today, None),
            );
            if before != after {
                crate::store::audit::append(
                    conn,
                    audit,
                    NewEvent::changed("gesture.written_off", "gesture", id, &before, &after)
                        .because(code),
                )?;
            }
            Ok(Reply::ok(&after))
        })
        .await
}

/// Body of `POST /v1/customers/{id}/credit/redemptions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    amount: MoneyInput,
    store_id: StoreId,
}

/// `POST /v1/customers/{id}/credit/redemptions`.
pub async fn redeem(
    state: web::Data<AppState>,
    caller: Caller,
    customer: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<RedeemBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let amount =
        Money::parse("amount", &b.amount, false).map_err(|e| AppError::Validation(vec![e]))?;
    caller.require_store(b.store_id)?;
    let (customer, today) = (customer.into_inner(), today());
    state
        .command(&caller, Some(key), move |conn, audit| {
            let r =
                crate::store::lifecycle::redeem(conn, audit, customer, b.store_id, amount, today)?;
            let view = RedemptionView::of(&r);
            crate::store::audit::append(
                conn,
                audit,
                NewEvent::created("credit.redeemed", "redemption", r.id, &view),
            )?;
            Ok(Reply::created(&view))
        })
        .await
}
