//! After a gesture takes effect: payments, write-offs, reversals, redemptions.
//! Each moves money, so each requires an `Idempotency-Key`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AppState, Caller, Idem, JsonBody, Reply};
use crate::app::customers::CustomerKey;
use crate::domain::TillRefs;
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
    /// The till's durable reference (unique per store).
    client_ref: Option<String>,
    /// The POS's receipt (unique per store).
    receipt_ref: Option<String>,
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
    let (amount, refs) = money_and_refs(&b.amount, &b.client_ref, &b.receipt_ref)?;
    let tender = Tender {
        amount,
        store_id: b.store_id,
        paid_on: b.paid_on,
        refs,
    };
    record_payment(state, caller, key, Payee::Promise(id.into_inner()), tender).await
}

/// What a payment pays: a promise named by its id, or a customer's (their one
/// open promise in the payment's currency, or the one named).
enum Payee {
    Promise(GestureId),
    Customer(CustomerKey, Option<GestureId>),
}

/// A payment's money, where and when it was paid, and the till's references.
struct Tender {
    amount: Money,
    store_id: Option<StoreId>,
    paid_on: Option<chrono::NaiveDate>,
    refs: TillRefs,
}

/// Records a payment of `payee` (both payment routes).
async fn record_payment(
    state: web::Data<AppState>,
    caller: Caller,
    key: crate::idempotency::IdempotencyKey,
    payee: Payee,
    t: Tender,
) -> Result<HttpResponse, AppError> {
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let promise = match &payee {
                Payee::Promise(id) => *id,
                Payee::Customer(customer, named) => {
                    let customer = customer.resolve(conn, ctx.tenant)?;
                    crate::app::lifecycle::promise_to_pay(
                        conn,
                        ctx,
                        customer,
                        *named,
                        t.amount.currency(),
                    )?
                }
            };
            let payment = crate::app::lifecycle::record_payment(
                conn, ctx, promise, t.store_id, t.amount, t.paid_on, &t.refs,
            )?;
            Ok(Reply::created(&PaymentView::of(&payment)?))
        })
        .await
}

/// Body of `POST /v1/customers/by-ref/{external_ref}/payments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayByRefBody {
    amount: MoneyInput,
    /// The promise paid (default: the customer's one open promise in the
    /// amount's currency).
    gesture_id: Option<GestureId>,
    store_id: Option<StoreId>,
    paid_on: Option<chrono::NaiveDate>,
    client_ref: Option<String>,
    receipt_ref: Option<String>,
}

/// The amount and the till's references of a body, every problem named.
fn money_and_refs(
    amount: &MoneyInput,
    client_ref: &Option<String>,
    receipt_ref: &Option<String>,
) -> Result<(Money, TillRefs), AppError> {
    let mut p = Problems::default();
    let amount = p.take(Money::parse("amount", amount, false));
    let refs = match TillRefs::parse(client_ref.as_deref(), receipt_ref.as_deref()) {
        Ok(r) => Some(r),
        Err(errors) => {
            for e in errors {
                p.push(&e.field, e.message);
            }
            None
        }
    };
    p.finish().map_err(Error::Validation)?;
    match (amount, refs) {
        (Some(a), Some(r)) => Ok((a, r)),
        _ => Err(Error::internal("a body passed validation without its fields").into()),
    }
}

/// `POST /v1/customers/by-ref/{external_ref}/payments`: a payment naming the
/// customer by the POS's reference; the promise is the customer's one open
/// promise in the amount's currency unless `gesture_id` names it.
pub(crate) async fn pay_by_ref(
    state: web::Data<AppState>,
    caller: Caller,
    external_ref: web::Path<String>,
    idem: Idem,
    body: JsonBody<PayByRefBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let (amount, refs) = money_and_refs(&b.amount, &b.client_ref, &b.receipt_ref)?;
    let payee = Payee::Customer(CustomerKey::Ref(external_ref.into_inner()), b.gesture_id);
    let tender = Tender {
        amount,
        store_id: b.store_id,
        paid_on: b.paid_on,
        refs,
    };
    record_payment(state, caller, key, payee, tender).await
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
    reversal(
        state,
        caller,
        id.into_inner(),
        idem,
        body,
        |conn, ctx, id, why| {
            let after = crate::app::lifecycle::reverse_payment(conn, ctx, id, why)?;
            Ok(Reply::ok(&PaymentView::of(&after)?))
        },
    )
    .await
}

/// `POST /v1/redemptions/{id}/reversal` `{reason}`: a voided sale gives the
/// credit back, once.
pub(crate) async fn reverse_redemption(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<crate::domain::ids::RedemptionId>,
    idem: Idem,
    body: JsonBody<ReverseBody>,
) -> Result<HttpResponse, AppError> {
    reversal(
        state,
        caller,
        id.into_inner(),
        idem,
        body,
        |conn, ctx, id, why| {
            let after = crate::app::lifecycle::reverse_redemption(conn, ctx, id, why)?;
            Ok(Reply::ok(&RedemptionView::of(&after)))
        },
    )
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
    reversal(
        state,
        caller,
        id.into_inner(),
        idem,
        body,
        |conn, ctx, id, why| {
            let after = crate::app::lifecycle::reverse_gesture(conn, ctx, id, why)?;
            Ok(Reply::ok(&GestureView::of(&after, ctx.today(), None)))
        },
    )
    .await
}

/// The reversal routes: a key required, the reason checked, then `act` with
/// the reason as one command.
async fn reversal<I: Send + 'static>(
    state: web::Data<AppState>,
    caller: Caller,
    id: I,
    idem: Idem,
    body: JsonBody<ReverseBody>,
    act: impl FnOnce(
        &mut crate::store::DbConnection,
        &crate::app::Ctx,
        I,
        String,
    ) -> Result<Reply, AppError>
    + Send
    + 'static,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let why = reason(&b)?;
    state
        .command(&caller, Some(key), move |conn, ctx| act(conn, ctx, id, why))
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
    /// The day it happened (default today), e.g. at a till that was offline.
    occurred_on: Option<chrono::NaiveDate>,
    client_ref: Option<String>,
    receipt_ref: Option<String>,
}

/// `POST /v1/customers/{id}/credit/redemptions`.
pub(crate) async fn redeem(
    state: web::Data<AppState>,
    caller: Caller,
    customer: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<RedeemBody>,
) -> Result<HttpResponse, AppError> {
    redeem_for(
        state,
        caller,
        CustomerKey::Id(customer.into_inner()),
        idem,
        body,
    )
    .await
}

/// `POST /v1/customers/by-ref/{external_ref}/credit/redemptions`.
pub(crate) async fn redeem_by_ref(
    state: web::Data<AppState>,
    caller: Caller,
    external_ref: web::Path<String>,
    idem: Idem,
    body: JsonBody<RedeemBody>,
) -> Result<HttpResponse, AppError> {
    let key = CustomerKey::Ref(external_ref.into_inner());
    redeem_for(state, caller, key, idem, body).await
}

async fn redeem_for(
    state: web::Data<AppState>,
    caller: Caller,
    customer: CustomerKey,
    idem: Idem,
    body: JsonBody<RedeemBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let (amount, refs) = money_and_refs(&b.amount, &b.client_ref, &b.receipt_ref)?;
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let customer = customer.resolve(conn, ctx.tenant)?;
            let r = crate::app::lifecycle::redeem_credit(
                conn,
                ctx,
                customer,
                b.store_id,
                amount,
                b.occurred_on,
                &refs,
            )?;
            Ok(Reply::created(&RedemptionView::of(&r)))
        })
        .await
}
