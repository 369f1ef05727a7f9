//! After a gesture takes effect: payments, write-offs, reversals, redemptions.
//! Each moves money, so each requires an `Idempotency-Key`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AppState, Caller, Idem, JsonBody, Reply};
use crate::domain::ids::{CustomerId, GestureId, PaymentId, StoreId};
use crate::domain::money::{Money, MoneyInput};
use crate::domain::{Problems, text};
use crate::error::Error;
use crate::http::AppError;
use crate::views::gesture::GestureView;
use crate::views::payment::{PaymentView, RedemptionView};

/// Body of `POST /v1/gestures/{id}/payments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayBody {
    amount: MoneyInput,
    /// Where it is paid (default: the deferred payment's store).
    store_id: Option<StoreId>,
    /// The day it was paid (default: today), e.g. at a till that was offline.
    paid_on: Option<chrono::NaiveDate>,
}

/// `POST /v1/gestures/{id}/payments`.
pub(crate) async fn pay(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<PayBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let amount =
        Money::parse("amount", &b.amount, false).map_err(|e| Error::Validation(vec![e]))?;
    let id = id.into_inner();
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let payment = crate::app::lifecycle::record_payment(
                conn, ctx, id, b.store_id, amount, b.paid_on,
            )?;
            Ok(Reply::created(&PaymentView::of(&payment)?))
        })
        .await
}

/// Body of the reversal routes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReverseBody {
    reason: String,
}

fn reason(b: &ReverseBody) -> Result<String, AppError> {
    text::required_line_multi("reason", &b.reason, 1000)
        .map_err(|e| Error::Validation(vec![e]))
        .map_err(AppError::from)
}

/// `POST /v1/payments/{id}/reversal`: a bounced cheque.
pub(crate) async fn reverse_payment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PaymentId>,
    idem: Idem,
    body: JsonBody<ReverseBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let why = reason(&b)?;
    let id = id.into_inner();
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let after = crate::app::lifecycle::reverse_payment(conn, ctx, id, why)?;
            Ok(Reply::ok(&PaymentView::of(&after)?))
        })
        .await
}

/// `POST /v1/gestures/{id}/reversal`.
pub(crate) async fn reverse_gesture(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<ReverseBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let why = reason(&b)?;
    let id = id.into_inner();
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let after = crate::app::lifecycle::reverse_gesture(conn, ctx, id, why)?;
            Ok(Reply::ok(&GestureView::of(&after, ctx.today(), None)))
        })
        .await
}

/// Body of `POST /v1/gestures/{id}/write-off`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WriteOffBody {
    reason_code: String,
    note: Option<String>,
}

/// `POST /v1/gestures/{id}/write-off`: requests a waiver of what is still owed;
/// answers the deferred payment (`written_off` when the waiver took effect at
/// once, else still open while the waiver waits for approval).
pub(crate) async fn write_off(
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
    p.finish().map_err(Error::Validation)?;
    let (code, id) = (code.unwrap_or_default(), id.into_inner());
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let (after, _) = crate::app::lifecycle::write_off(conn, ctx, id, code, note)?;
            Ok(Reply::ok(&GestureView::of(&after, ctx.today(), None)))
        })
        .await
}

/// Body of `POST /v1/customers/{id}/credit/redemptions`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedeemBody {
    amount: MoneyInput,
    store_id: StoreId,
}

/// `POST /v1/customers/{id}/credit/redemptions`.
pub(crate) async fn redeem(
    state: web::Data<AppState>,
    caller: Caller,
    customer: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<RedeemBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let amount =
        Money::parse("amount", &b.amount, false).map_err(|e| Error::Validation(vec![e]))?;
    let customer = customer.into_inner();
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let r = crate::app::lifecycle::redeem_credit(conn, ctx, customer, b.store_id, amount)?;
            Ok(Reply::created(&RedemptionView::of(&r)))
        })
        .await
}
