//! What happens to gestures after they take effect: payments (and bad-debt
//! recoveries), write-offs, redemptions of store credit, credit expiry, and
//! reversals. Each runs in the caller's transaction, after locking the customer
//! (PostgreSQL row lock; SQLite's IMMEDIATE transaction), so two payments on one
//! promise, or two redemptions of one customer's credit, are decided one after
//! the other on fresh figures.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::gestures::{self, lock_customer};
use super::ledger::{self, NewLedgerTx};
use super::schema::{
    gestures as gestures_t, ledger_transactions, payments, redemption_lots, redemptions,
};
use crate::audit::AuditCtx;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus, NewGesture, Terms};
use crate::domain::ids::{
    CustomerId, GestureId, LedgerTxId, PaymentId, RedemptionId, StoreId, TenantId,
};
use crate::domain::ledger::{Account, Memo, Posting};
use crate::domain::money::Money;
use crate::domain::{FieldError, TillRefs};
use crate::error::{Error, ErrorCode};

/// A payment as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct Payment {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: PaymentId,
    /// The deferred payment it pays.
    pub gesture_id: GestureId,
    /// Customer.
    pub customer_id: CustomerId,
    /// Where it was paid.
    pub store_id: StoreId,
    /// Currency.
    pub currency: String,
    /// Amount (minor units).
    pub amount_minor: i64,
    /// The part that recovers written-off money (minor units).
    pub recovery_minor: i64,
    /// `posted` or `reversed`.
    pub status: String,
    /// The transaction that posted it.
    pub transaction_id: LedgerTxId,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// Who recorded it.
    pub requested_by: String,
    /// The day it was paid (by default the day it was recorded; earlier for
    /// a till that was offline).
    pub paid_on: NaiveDate,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
    /// The POS's receipt.
    pub receipt_ref: Option<String>,
}

/// `refs` already name a payment or redemption at `store`: 409 naming it.
fn check_till_refs(
    conn: &mut DbConnection,
    tenant: TenantId,
    store: StoreId,
    refs: &TillRefs,
    redemption: bool,
) -> Result<(), Error> {
    let what = if redemption { "redemption" } else { "payment" };
    if let Some(r) = &refs.client_ref {
        super::client_refs::check(conn, tenant, store, what, r)?;
    }
    if let Some(r) = &refs.receipt_ref {
        let found: Option<uuid::Uuid> = if redemption {
            redemptions::table
                .filter(
                    redemptions::tenant_id
                        .eq(tenant)
                        .and(redemptions::store_id.eq(store))
                        .and(redemptions::receipt_ref.eq(r)),
                )
                .select(redemptions::id)
                .first::<RedemptionId>(conn)
                .optional()?
                .map(|i| i.0)
        } else {
            payments::table
                .filter(
                    payments::tenant_id
                        .eq(tenant)
                        .and(payments::store_id.eq(store))
                        .and(payments::receipt_ref.eq(r)),
                )
                .select(payments::id)
                .first::<PaymentId>(conn)
                .optional()?
                .map(|i| i.0)
        };
        if let Some(id) = found {
            return Err(Error::duplicate_receipt_ref(what, r, id));
        }
    }
    Ok(())
}

fn unprocessable(code: crate::error::ErrorCode, detail: String) -> Error {
    Error::Unprocessable {
        code,
        detail,
        errors: Vec::new(),
    }
}

fn money(g: &Gesture, minor: i64) -> String {
    format!(
        "{} {}",
        Money::from_minor(minor, g.currency).amount_string(),
        g.currency
    )
}

/// Loads a gesture and locks its customer, in that order of discovery: 404 for an
/// unknown gesture, then the lock, then a fresh read under the lock.
pub(crate) fn locked_gesture(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: GestureId,
) -> Result<Gesture, Error> {
    let g = gestures::get(conn, tenant, id)?;
    lock_customer(conn, tenant, g.customer_id)?;
    gestures::get(conn, tenant, id)
}

/// The posted bad-debt recoveries on a promise: (payment, recovered minor).
fn recoveries(
    conn: &mut DbConnection,
    tenant: TenantId,
    g: GestureId,
) -> Result<Vec<(PaymentId, i64)>, Error> {
    Ok(payments::table
        .filter(
            payments::tenant_id
                .eq(tenant)
                .and(payments::gesture_id.eq(g))
                .and(payments::status.eq("posted"))
                .and(payments::recovery_minor.gt(0)),
        )
        .select((payments::id, payments::recovery_minor))
        .order(payments::id)
        .load(conn)?)
}

/// Written-off money already recovered on a promise (posted recoveries).
fn recovered(conn: &mut DbConnection, tenant: TenantId, g: GestureId) -> Result<i64, Error> {
    Ok(recoveries(conn, tenant, g)?
        .into_iter()
        .map(|(_, m)| m)
        .fold(0, i64::saturating_add))
}

/// The store a payment or redemption is made at: `store_id` if given (in the
/// gesture's currency), else the gesture's own.
pub(crate) fn check_store(
    conn: &mut DbConnection,
    tenant: TenantId,
    store: StoreId,
    currency: crate::domain::money::Currency,
) -> Result<(), Error> {
    let Some(s) = super::stores::find(conn, tenant, store)? else {
        return Err(Error::field("store_id", format!("no store {store}")));
    };
    if s.currency != currency {
        return Err(Error::field(
            "amount.currency",
            format!("must be the store's currency, {}", s.currency),
        ));
    }
    Ok(())
}

/// Pays (part of) a deferred payment. On an open promise: at most what is
/// outstanding (`overpayment` otherwise, saying what is due); paid in full →
/// `settled` (kept on time or late by `due_on`). On a written-off promise: a
/// bad-debt recovery, at most what was written off and not yet recovered.
/// `paid_on`: the day it was paid (`today` when not given): not in the
/// future, not before the promise was made, within the policy's back-dating
/// window and in an open period; the promise is kept on time when it is by
/// its due day, and the payment posts on that day.
// The command's inputs as the API takes them; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn pay(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    store: Option<StoreId>,
    amount: Money,
    today: NaiveDate,
    paid_on: Option<NaiveDate>,
    refs: &TillRefs,
) -> Result<(Gesture, Gesture, Payment), Error> {
    let tenant = ctx.tenant;
    let before = locked_gesture(conn, tenant, id)?;
    let paid_on = paid_on.unwrap_or(today);
    if paid_on > today {
        return Err(Error::field("paid_on", "must not be in the future"));
    }
    if paid_on < before.effective_on {
        return Err(Error::field(
            "paid_on",
            format!(
                "must not be before the deferred payment was made ({})",
                before.effective_on
            ),
        ));
    }
    let mut g = before.clone();
    ctx.require_store(store.unwrap_or(g.store_id))?;
    if g.kind != GestureKind::DeferredPayment {
        return Err(unprocessable(
            ErrorCode::NotADeferredPayment,
            format!(
                "gesture {id} is a {}, not a deferred payment",
                g.kind.as_str()
            ),
        ));
    }
    if amount.currency() != g.currency {
        return Err(Error::field(
            "amount.currency",
            format!("must be the deferred payment's currency, {}", g.currency),
        ));
    }
    let store = store.unwrap_or(g.store_id);
    check_store(conn, tenant, store, g.currency)?;
    check_till_refs(conn, tenant, store, refs, false)?;
    if paid_on < today {
        let current = super::policy::current(conn, tenant)?;
        gestures::check_back_dating(conn, tenant, "paid_on", paid_on, today, &current.policy)?;
    }
    super::periods::check_open(conn, tenant, paid_on)?;
    let (postings, recovery) = match g.status {
        GestureStatus::Approved => {
            let due = g.outstanding_minor().unwrap_or(0);
            if amount.minor() > due {
                return Err(Error::Unprocessable {
                    code: ErrorCode::Overpayment,
                    detail: format!("only {} is due on this deferred payment", money(&g, due)),
                    errors: vec![FieldError::new(
                        "amount.amount",
                        format!("must be at most {}", money(&g, due)),
                    )],
                });
            }
            g.paid_minor += amount.minor();
            if g.outstanding_minor() == Some(0) {
                g.status = GestureStatus::Settled;
                let on_time =
                    matches!(g.terms, Terms::DeferredPayment { due_on, .. } if paid_on <= due_on);
                ledger::add_memo(conn, tenant, g.customer_id, Memo::kept(on_time), "", 0, 1)?;
            }
            (
                Posting::new(
                    Account::CashClearing(store),
                    Account::Receivable(g.customer_id),
                    amount,
                ),
                0,
            )
        }
        GestureStatus::WrittenOff => {
            let left = g.waived_minor - recovered(conn, tenant, id)?;
            if amount.minor() > left {
                return Err(Error::Unprocessable {
                    code: ErrorCode::Overpayment,
                    detail: format!(
                        "only {} was written off and is not yet recovered",
                        money(&g, left)
                    ),
                    errors: vec![FieldError::new(
                        "amount.amount",
                        format!("must be at most {}", money(&g, left)),
                    )],
                });
            }
            (
                Posting::new(
                    Account::CashClearing(store),
                    Account::BadDebtRecoveryIncome,
                    amount,
                ),
                amount.minor(),
            )
        }
        other => {
            return Err(unprocessable(
                ErrorCode::NotPayable,
                format!(
                    "the deferred payment is {}; only an open or written-off one can be paid",
                    other.as_str()
                ),
            ));
        }
    };
    let pid = PaymentId::new();
    let tx = ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: if recovery > 0 {
                "bad_debt_recovery"
            } else {
                "payment"
            },
            gesture_id: Some(id),
            payment_id: Some(pid),
            redemption_id: None,
            reverses: None,
            customer_id: Some(g.customer_id),
            effective_on: paid_on,
            postings: postings.into_iter().collect(),
        },
        ctx.now_again(),
    )?
    .ok_or_else(|| Error::internal("a payment posted nothing"))?;
    let now = ctx.now_again();
    g.updated_at = now;
    gestures::save(conn, &g)?;
    let p = Payment {
        tenant_id: tenant,
        id: pid,
        gesture_id: id,
        customer_id: g.customer_id,
        store_id: store,
        currency: g.currency.code().to_owned(),
        amount_minor: amount.minor(),
        recovery_minor: recovery,
        status: "posted".into(),
        transaction_id: tx,
        reversal_reason: None,
        requested_by: ctx.actor_sub.clone(),
        paid_on,
        created_at: now,
        updated_at: now,
        receipt_ref: refs.receipt_ref.clone(),
    };
    diesel::insert_into(payments::table)
        .values((
            payments::tenant_id.eq(p.tenant_id),
            payments::id.eq(p.id),
            payments::gesture_id.eq(p.gesture_id),
            payments::customer_id.eq(p.customer_id),
            payments::store_id.eq(p.store_id),
            payments::currency.eq(&p.currency),
            payments::amount_minor.eq(p.amount_minor),
            payments::recovery_minor.eq(p.recovery_minor),
            payments::status.eq(&p.status),
            payments::transaction_id.eq(p.transaction_id),
            payments::requested_by.eq(&p.requested_by),
            payments::paid_on.eq(p.paid_on),
            payments::created_at.eq(p.created_at),
            payments::updated_at.eq(p.updated_at),
            payments::receipt_ref.eq(&p.receipt_ref),
        ))
        .execute(conn)?;
    if let Some(r) = &refs.client_ref {
        super::client_refs::record(conn, tenant, store, "payment", r, pid, now)?;
    }
    Ok((before, g, p))
}

/// One payment of the tenant.
pub(crate) fn get_payment(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: PaymentId,
) -> Result<Payment, Error> {
    payments::table
        .filter(payments::tenant_id.eq(tenant).and(payments::id.eq(id)))
        .select(Payment::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no payment {id}")))
}

/// The payments of a gesture, oldest first.
pub fn payments_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    g: GestureId,
) -> Result<Vec<Payment>, Error> {
    Ok(payments::table
        .filter(
            payments::tenant_id
                .eq(tenant)
                .and(payments::gesture_id.eq(g)),
        )
        .select(Payment::as_select())
        .order(payments::id)
        .load(conn)?)
}

/// The ledger transactions of a gesture (its own, its payments', reversals').
pub(crate) fn transactions_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    g: GestureId,
) -> Result<Vec<(LedgerTxId, String)>, Error> {
    Ok(ledger_transactions::table
        .filter(
            ledger_transactions::tenant_id
                .eq(tenant)
                .and(ledger_transactions::gesture_id.eq(g)),
        )
        .select((ledger_transactions::id, ledger_transactions::kind))
        .order(ledger_transactions::id)
        .load(conn)?)
}

fn mirror_of(
    conn: &mut DbConnection,
    tenant: TenantId,
    tx: LedgerTxId,
    currency: crate::domain::money::Currency,
) -> Result<Vec<Posting>, Error> {
    use super::schema::entries;
    let rows: Vec<(String, i64, i64)> = entries::table
        .filter(
            entries::tenant_id
                .eq(tenant)
                .and(entries::transaction_id.eq(tx)),
        )
        .select((
            entries::account,
            entries::debit_minor,
            entries::credit_minor,
        ))
        .order(entries::id)
        .load(conn)?;
    // Entries come in (debit, credit) pairs, in posting order.
    let mut out = Vec::new();
    for pair in rows.chunks(2) {
        if let [(debit, d, 0), (credit, 0, c)] = pair
            && d == c
        {
            let (Some(debit), Some(credit)) = (Account::parse(debit), Account::parse(credit))
            else {
                return Err(Error::internal(format!(
                    "unknown account in transaction {tx}"
                )));
            };
            if let Some(p) = Posting::new(debit, credit, Money::from_minor(*d, currency)) {
                out.push(p.mirror());
            }
        } else {
            return Err(Error::internal(format!(
                "transaction {tx} is not in posting pairs"
            )));
        }
    }
    Ok(out)
}

/// Reverses a payment (a bounced cheque): posts its mirror, at most once; the
/// promise owes the amount again (a settled one reopens).
pub fn reverse_payment(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: PaymentId,
    reason: String,
    today: NaiveDate,
) -> Result<(Payment, Payment), Error> {
    let tenant = ctx.tenant;
    let first = get_payment(conn, tenant, id)?;
    lock_customer(conn, tenant, first.customer_id)?;
    let before = get_payment(conn, tenant, id)?;
    // The reversal moves the cash of the store the payment was taken at.
    ctx.require_store(before.store_id)?;
    if before.status == "reversed" {
        return Err(Error::Conflict {
            code: ErrorCode::AlreadyReversed,
            detail: format!("payment {id} was already reversed"),
            existing_id: None,
        });
    }
    let mut g = gestures::get(conn, tenant, before.gesture_id)?;
    if g.status == GestureStatus::Reversed {
        return Err(unprocessable(
            ErrorCode::NotReversible,
            "the deferred payment itself was reversed; its payments stand".into(),
        ));
    }
    let mirror = mirror_of(conn, tenant, before.transaction_id, g.currency)?;
    ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: "payment_reversal",
            gesture_id: Some(g.id),
            payment_id: Some(id),
            redemption_id: None,
            reverses: Some(before.transaction_id),
            customer_id: Some(g.customer_id),
            effective_on: today,
            postings: mirror,
        },
        ctx.now_again(),
    )?;
    if before.recovery_minor == 0 {
        g.paid_minor -= before.amount_minor;
        if g.status == GestureStatus::Settled {
            g.status = GestureStatus::Approved;
            // The promise is open again: it was not kept after all.
            let kept_on_time = matches!(g.terms, Terms::DeferredPayment { due_on, .. } if before.paid_on <= due_on);
            ledger::add_memo(
                conn,
                tenant,
                g.customer_id,
                Memo::kept(kept_on_time),
                "",
                0,
                -1,
            )?;
        } else if g.status == GestureStatus::WrittenOff && g.outstanding_minor().unwrap_or(0) > 0 {
            // A waiver gave up only what this payment left owing; without the
            // payment the customer owes again, so the promise is open again.
            if gestures::broken(conn, &g, None)? {
                ledger::add_memo(conn, tenant, g.customer_id, Memo::PromisesBroken, "", 0, -1)?;
            }
            g.status = GestureStatus::Approved;
            ledger::add_memo(
                conn,
                tenant,
                g.customer_id,
                Memo::PromisesWrittenOff,
                "",
                0,
                -1,
            )?;
        }
        g.updated_at = ctx.now_again();
        gestures::save(conn, &g)?;
    }
    let now = ctx.now_again();
    diesel::update(payments::table.filter(payments::tenant_id.eq(tenant).and(payments::id.eq(id))))
        .set((
            payments::status.eq("reversed"),
            payments::reversal_reason.eq(&reason),
            payments::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = get_payment(conn, tenant, id)?;
    Ok((before, after))
}

/// Gives up what is still owed on an open deferred payment by requesting a
/// waiver of the remainder, which passes the approval decision like any waiver.
/// Returns the promise before and after, and the waiver.
pub fn write_off(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    reason_code: String,
    note: Option<String>,
    today: NaiveDate,
) -> Result<(Gesture, Gesture, Gesture), Error> {
    let tenant = ctx.tenant;
    let before = locked_gesture(conn, tenant, id)?;
    ctx.require_store(before.store_id)?;
    if before.kind != GestureKind::DeferredPayment {
        return Err(unprocessable(
            ErrorCode::NotADeferredPayment,
            format!(
                "gesture {id} is a {}, not a deferred payment",
                before.kind.as_str()
            ),
        ));
    }
    if before.status != GestureStatus::Approved || before.outstanding_minor().unwrap_or(0) <= 0 {
        return Err(unprocessable(
            ErrorCode::NotOpen,
            format!(
                "the deferred payment is {}; only an open one can be written off",
                before.status.as_str()
            ),
        ));
    }
    let remainder = Money::from_minor(before.outstanding_minor().unwrap_or(0), before.currency);
    let ng = NewGesture {
        kind: GestureKind::BalanceWaiver,
        store_id: before.store_id,
        reason_code,
        story: note.unwrap_or_else(|| format!("Write-off of deferred payment {id}")),
        staff_ids: Vec::new(),
        incident_id: None,
        effective_on: today,
        terms: Terms::BalanceWaiver {
            amount: remainder,
            applies_to: vec![id],
        },
        client_ref: None,
    };
    let waiver = gestures::request_as(conn, ctx, before.customer_id, ng, today, Some(id))?;
    let after = gestures::get(conn, tenant, id)?;
    Ok((before, after, waiver))
}

/// Reverses a gesture that is in effect: posts the mirror of what it posted and
/// still stands, at most once, and marks it `reversed`.
///
/// - deferred payment (open): what is still outstanding; payments stand (reverse
///   them on their own);
/// - waiver: everything; each promise it gave up owes again (and reopens);
/// - free service, service recovery: everything; the memo is taken back;
/// - store credit: what can still be spent;
/// - recognition, favour: no money; the memo is taken back.
pub fn reverse_gesture(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    reason: String,
    today: NaiveDate,
) -> Result<(Gesture, Gesture), Error> {
    let tenant = ctx.tenant;
    let before = locked_gesture(conn, tenant, id)?;
    ctx.require_store(before.store_id)?;
    let mut g = before.clone();
    match g.status {
        GestureStatus::Reversed => {
            return Err(Error::Conflict {
                code: ErrorCode::AlreadyReversed,
                detail: format!("gesture {id} was already reversed"),
                existing_id: None,
            });
        }
        GestureStatus::Approved => {}
        other => {
            return Err(unprocessable(
                ErrorCode::NotReversible,
                format!(
                    "the gesture is {}; only one in effect (approved) can be reversed",
                    other.as_str()
                ),
            ));
        }
    }
    let c = g.customer_id;
    let postings: Vec<Posting> = match &g.terms {
        Terms::DeferredPayment { .. } => {
            let out = Money::from_minor(g.outstanding_minor().unwrap_or(0), g.currency);
            Posting::new(
                Account::SalesClearing(g.store_id),
                Account::Receivable(c),
                out,
            )
            .into_iter()
            .collect()
        }
        Terms::StoreCredit { .. } => {
            let left = Money::from_minor(g.credit_remaining_minor().unwrap_or(0), g.currency);
            Posting::new(
                Account::StoreCredit(c),
                Account::GoodwillExpense(GestureKind::StoreCredit),
                left,
            )
            .into_iter()
            .collect()
        }
        Terms::BalanceWaiver { .. } => {
            let allocations = gestures::allocations(conn, tenant, id)?;
            let promises = gestures::by_ids(
                conn,
                tenant,
                &allocations.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            )?;
            if let Some(p) = promises
                .iter()
                .find(|p| p.status == GestureStatus::Reversed)
            {
                // The promise's reversal took back only what was still owed: what
                // this waiver gave up is not owed by anyone any more.
                return Err(unprocessable(
                    ErrorCode::NotReversible,
                    format!(
                        "the waiver gave up part of deferred payment {}, which was reversed since; the write-off stands",
                        p.id
                    ),
                ));
            }
            // Money recovered on a promise was paid against what stands
            // written off: giving back more than is left unrecovered would
            // make the customer owe it again although they paid it (and the
            // recovery would stay booked as income). Refused, naming the
            // recoveries: reverse them first, then the waiver.
            for (promise_id, amount) in &allocations {
                let Some(p) = promises.iter().find(|p| p.id == *promise_id) else {
                    continue;
                };
                let found = recoveries(conn, tenant, *promise_id)?;
                let recovered = found.iter().map(|(_, m)| *m).fold(0, i64::saturating_add);
                if recovered > p.waived_minor - amount {
                    let ids: Vec<String> = found.iter().map(|(id, _)| id.to_string()).collect();
                    return Err(unprocessable(
                        ErrorCode::NotReversible,
                        format!(
                            "{} of what this waiver gave up on deferred payment {} was recovered since (payment {}); reverse the recovery first, then the waiver",
                            money(p, recovered),
                            p.id,
                            ids.join(", payment ")
                        ),
                    ));
                }
            }
            for (promise_id, amount) in allocations {
                let mut p = gestures::get(conn, tenant, promise_id)?;
                p.waived_minor -= amount;
                if p.status == GestureStatus::Settled {
                    // Paid in full only because of the waiver: it owes again.
                    p.status = GestureStatus::Approved;
                    let on_time = matches!(p.terms, Terms::DeferredPayment { due_on, .. } if p.updated_at.date() <= due_on);
                    ledger::add_memo(conn, tenant, p.customer_id, Memo::kept(on_time), "", 0, -1)?;
                } else if p.status == GestureStatus::WrittenOff {
                    if gestures::broken(conn, &p, None)? {
                        ledger::add_memo(
                            conn,
                            tenant,
                            p.customer_id,
                            Memo::PromisesBroken,
                            "",
                            0,
                            -1,
                        )?;
                    }
                    p.status = GestureStatus::Approved;
                    ledger::add_memo(
                        conn,
                        tenant,
                        p.customer_id,
                        Memo::PromisesWrittenOff,
                        "",
                        0,
                        -1,
                    )?;
                }
                p.updated_at = ctx.now_again();
                gestures::save(conn, &p)?;
            }
            let txs = transactions_of(conn, tenant, id)?;
            let mut out = Vec::new();
            for (tx, kind) in txs {
                if kind == "waiver" {
                    out.extend(mirror_of(conn, tenant, tx, g.currency)?);
                }
            }
            out
        }
        Terms::FreeService { .. } | Terms::ServiceRecovery { .. } => {
            let mut out = Vec::new();
            for (tx, kind) in transactions_of(conn, tenant, id)? {
                if kind == "gesture" {
                    out.extend(mirror_of(conn, tenant, tx, g.currency)?);
                }
            }
            out
        }
        Terms::Recognition | Terms::CustomerFavour { .. } => Vec::new(),
    };
    // What it added to the memo totals, taken back.
    if let Some((memo, value)) = g.terms.memo() {
        let (currency, total) = value.map_or(("", 0), |v| (v.currency().code(), v.minor()));
        ledger::add_memo(conn, tenant, c, memo, currency, -total, -1)?;
    }
    // The correction points back at what it corrects: the gesture's own
    // posting (it may stand in a closed month; the reversal counts today).
    let original = transactions_of(conn, tenant, id)?
        .into_iter()
        .find(|(_, kind)| kind == "gesture" || kind == "waiver")
        .map(|(tx, _)| tx);
    ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: "reversal",
            gesture_id: Some(id),
            payment_id: None,
            redemption_id: None,
            reverses: original,
            customer_id: Some(c),
            effective_on: today,
            postings,
        },
        ctx.now_again(),
    )?;
    g.status = GestureStatus::Reversed;
    g.reversal_reason = Some(reason);
    g.updated_at = ctx.now_again();
    gestures::save(conn, &g)?;
    Ok((before, g))
}

/// A redemption as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// Id.
    pub id: RedemptionId,
    /// Customer.
    pub customer_id: CustomerId,
    /// Where.
    pub store_id: StoreId,
    /// How much.
    pub amount: Money,
    /// Which credit it spent: (store credit gesture, amount minor).
    pub lots: Vec<(GestureId, i64)>,
    /// Who.
    pub requested_by: String,
    /// When the server recorded it.
    pub created_at: NaiveDateTime,
    /// The day it happened (earlier than `created_at` for a till that was
    /// offline).
    pub occurred_on: NaiveDate,
    /// `posted` or `reversed`.
    pub status: String,
    /// Why it was reversed (a voided sale).
    pub reversal_reason: Option<String>,
    /// Last changed.
    pub updated_at: NaiveDateTime,
    /// The POS's receipt.
    pub receipt_ref: Option<String>,
}

/// A redemption's row (its lots are read apart).
#[derive(Queryable, Selectable)]
#[diesel(table_name = redemptions)]
pub(crate) struct RedemptionRow {
    id: RedemptionId,
    customer_id: CustomerId,
    store_id: StoreId,
    currency: String,
    amount_minor: i64,
    transaction_id: LedgerTxId,
    requested_by: String,
    created_at: NaiveDateTime,
    occurred_on: NaiveDate,
    status: String,
    reversal_reason: Option<String>,
    updated_at: NaiveDateTime,
    receipt_ref: Option<String>,
}

impl RedemptionRow {
    /// The redemption, with the lots it spent.
    pub(crate) fn with_lots(
        self,
        conn: &mut DbConnection,
        tenant: TenantId,
    ) -> Result<(Redemption, LedgerTxId), Error> {
        let currency =
            crate::domain::money::Currency::from_code(&self.currency).ok_or_else(|| {
                Error::internal(format!("redemption {} has an unknown currency", self.id))
            })?;
        let lots: Vec<(GestureId, i64)> = redemption_lots::table
            .filter(
                redemption_lots::tenant_id
                    .eq(tenant)
                    .and(redemption_lots::redemption_id.eq(self.id)),
            )
            .select((redemption_lots::gesture_id, redemption_lots::amount_minor))
            .order(redemption_lots::gesture_id)
            .load(conn)?;
        Ok((
            Redemption {
                id: self.id,
                customer_id: self.customer_id,
                store_id: self.store_id,
                amount: Money::from_minor(self.amount_minor, currency),
                lots,
                requested_by: self.requested_by,
                created_at: self.created_at,
                occurred_on: self.occurred_on,
                status: self.status,
                reversal_reason: self.reversal_reason,
                updated_at: self.updated_at,
                receipt_ref: self.receipt_ref,
            },
            self.transaction_id,
        ))
    }
}

/// One redemption of the tenant, and the transaction that posted it.
pub(crate) fn get_redemption(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: RedemptionId,
) -> Result<(Redemption, LedgerTxId), Error> {
    redemptions::table
        .filter(
            redemptions::tenant_id
                .eq(tenant)
                .and(redemptions::id.eq(id)),
        )
        .select(RedemptionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("no redemption {id}")))?
        .with_lots(conn, tenant)
}

/// Reverses a redemption (a voided sale), once: posts its mirror, and the
/// credit it spent can be spent again (credit past its date meanwhile is
/// left to expire). Returns the redemption before and after.
pub fn reverse_redemption(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: RedemptionId,
    reason: String,
    today: NaiveDate,
) -> Result<(Redemption, Redemption), Error> {
    let tenant = ctx.tenant;
    let (first, _) = get_redemption(conn, tenant, id)?;
    lock_customer(conn, tenant, first.customer_id)?;
    let (before, tx) = get_redemption(conn, tenant, id)?;
    // The reversal moves the tender of the store it was spent at.
    ctx.require_store(before.store_id)?;
    if before.status == "reversed" {
        return Err(Error::Conflict {
            code: ErrorCode::AlreadyReversed,
            detail: format!("redemption {id} was already reversed"),
            existing_id: None,
        });
    }
    super::periods::check_open(conn, tenant, today)?;
    let mut lots = Vec::with_capacity(before.lots.len());
    for (g, m) in &before.lots {
        let lot = locked_gesture(conn, tenant, *g)?;
        if lot.status != GestureStatus::Approved {
            return Err(unprocessable(
                ErrorCode::NotReversible,
                format!(
                    "the store credit it spent ({g}) is {} now; the redemption stands",
                    lot.status.as_str()
                ),
            ));
        }
        lots.push((lot, *m));
    }
    let mirror = mirror_of(conn, tenant, tx, before.amount.currency())?;
    ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: "redemption_reversal",
            gesture_id: None,
            payment_id: None,
            redemption_id: Some(id),
            reverses: Some(tx),
            customer_id: Some(before.customer_id),
            effective_on: today,
            postings: mirror,
        },
        ctx.now_again(),
    )?;
    for (mut lot, m) in lots {
        lot.redeemed_minor -= m;
        lot.updated_at = ctx.now_again();
        gestures::save(conn, &lot)?;
    }
    let now = ctx.now_again();
    diesel::update(
        redemptions::table.filter(
            redemptions::tenant_id
                .eq(tenant)
                .and(redemptions::id.eq(id)),
        ),
    )
    .set((
        redemptions::status.eq("reversed"),
        redemptions::reversal_reason.eq(&reason),
        redemptions::updated_at.eq(now),
    ))
    .execute(conn)?;
    let (after, _) = get_redemption(conn, tenant, id)?;
    Ok((before, after))
}

/// Spends store credit, earliest-expiring first (credit without expiry last).
/// Credit past its `expires_on` is not spendable. More than available → 422
/// `insufficient_credit` saying what is available.
// The command's inputs as the API takes them; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn redeem(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    customer: CustomerId,
    store: StoreId,
    amount: Money,
    today: NaiveDate,
    occurred_on: Option<NaiveDate>,
    refs: &TillRefs,
) -> Result<Redemption, Error> {
    let tenant = ctx.tenant;
    lock_customer(conn, tenant, customer)?;
    check_store(conn, tenant, store, amount.currency())?;
    check_till_refs(conn, tenant, store, refs, true)?;
    let occurred_on = occurred_on.unwrap_or(today);
    if occurred_on > today {
        return Err(Error::field("occurred_on", "must not be in the future"));
    }
    if occurred_on < today {
        let current = super::policy::current(conn, tenant)?;
        gestures::check_back_dating(
            conn,
            tenant,
            "occurred_on",
            occurred_on,
            today,
            &current.policy,
        )?;
    }
    super::periods::check_open(conn, tenant, occurred_on)?;
    let mut lots: Vec<Gesture> = gestures::open_items(conn, tenant, customer)?
        .into_iter()
        .filter(|g| g.kind == GestureKind::StoreCredit && g.currency == amount.currency())
        // Credit in effect on the day, and not past its date then.
        .filter(|g| g.effective_on <= occurred_on)
        .filter(|g| matches!(g.terms, Terms::StoreCredit { expires_on, .. } if expires_on.is_none_or(|e| e >= occurred_on)))
        .collect();
    lots.sort_by_key(|g| {
        let exp = match g.terms {
            Terms::StoreCredit { expires_on, .. } => expires_on,
            _ => None,
        };
        (exp.is_none(), exp, g.effective_on, g.id)
    });
    let available: i64 = lots
        .iter()
        .filter_map(Gesture::credit_remaining_minor)
        .sum();
    if amount.minor() > available {
        return Err(Error::Unprocessable {
            code: ErrorCode::InsufficientCredit,
            detail: format!(
                "only {} {} of store credit is available",
                amount.with_minor(available).amount_string(),
                amount.currency()
            ),
            errors: vec![FieldError::new(
                "amount.amount",
                "exceeds the store credit available",
            )],
        });
    }
    let rid = RedemptionId::new();
    let mut left = amount.minor();
    let mut taken = Vec::new();
    for mut lot in lots {
        if left == 0 {
            break;
        }
        let take = left.min(lot.credit_remaining_minor().unwrap_or(0));
        if take == 0 {
            continue;
        }
        left -= take;
        lot.redeemed_minor += take;
        lot.updated_at = ctx.now_again();
        gestures::save(conn, &lot)?;
        taken.push((lot.id, take));
    }
    let tx = ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: "redemption",
            gesture_id: None,
            payment_id: None,
            redemption_id: Some(rid),
            reverses: None,
            customer_id: Some(customer),
            effective_on: occurred_on,
            postings: Posting::new(
                Account::StoreCredit(customer),
                Account::TenderClearing(store),
                amount,
            )
            .into_iter()
            .collect(),
        },
        ctx.now_again(),
    )?
    .ok_or_else(|| Error::internal("a redemption posted nothing"))?;
    let now = ctx.now_again();
    diesel::insert_into(redemptions::table)
        .values((
            redemptions::tenant_id.eq(tenant),
            redemptions::id.eq(rid),
            redemptions::customer_id.eq(customer),
            redemptions::store_id.eq(store),
            redemptions::currency.eq(amount.currency().code()),
            redemptions::amount_minor.eq(amount.minor()),
            redemptions::transaction_id.eq(tx),
            redemptions::requested_by.eq(&ctx.actor_sub),
            redemptions::created_at.eq(now),
            redemptions::occurred_on.eq(occurred_on),
            redemptions::status.eq("posted"),
            redemptions::updated_at.eq(now),
            redemptions::receipt_ref.eq(&refs.receipt_ref),
        ))
        .execute(conn)?;
    if let Some(r) = &refs.client_ref {
        super::client_refs::record(conn, tenant, store, "redemption", r, rid, now)?;
    }
    for (g, m) in &taken {
        diesel::insert_into(redemption_lots::table)
            .values((
                redemption_lots::tenant_id.eq(tenant),
                redemption_lots::redemption_id.eq(rid),
                redemption_lots::gesture_id.eq(*g),
                redemption_lots::amount_minor.eq(*m),
            ))
            .execute(conn)?;
    }
    Ok(Redemption {
        id: rid,
        customer_id: customer,
        store_id: store,
        amount,
        lots: taken,
        requested_by: ctx.actor_sub.clone(),
        created_at: now,
        occurred_on,
        status: "posted".into(),
        reversal_reason: None,
        updated_at: now,
        receipt_ref: refs.receipt_ref.clone(),
    })
}

/// Store credit past its `expires_on` with something left, of every tenant (or
/// one): (tenant, gesture).
pub(crate) fn expirable(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
    today: NaiveDate,
) -> Result<Vec<(TenantId, GestureId)>, Error> {
    let mut q = gestures_t::table
        .filter(
            gestures_t::kind
                .eq(GestureKind::StoreCredit.as_str())
                .and(gestures_t::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures_t::expires_on.lt(today)),
        )
        .select((
            gestures_t::tenant_id,
            gestures_t::id,
            gestures_t::amount_minor,
            gestures_t::redeemed_minor,
            gestures_t::expired_minor,
        ))
        .order((gestures_t::tenant_id, gestures_t::id))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(gestures_t::tenant_id.eq(t));
    }
    Ok(something_left(q.load(conn)?))
}

/// A gesture's amount and the two parts of it already taken (paid and
/// waived, redeemed and expired).
type Taken = (TenantId, GestureId, Option<i64>, i64, i64);

/// The (tenant, gesture) of those with something left of their amount.
fn something_left(rows: Vec<Taken>) -> Vec<(TenantId, GestureId)> {
    rows.into_iter()
        .filter(|(_, _, amount, x, y)| amount.unwrap_or(0) - x - y > 0)
        .map(|(t, g, ..)| (t, g))
        .collect()
}

/// Posts the expiry of one lot of store credit (what is left of it), if it is
/// still due: safe to run any number of times.
pub fn expire(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    today: NaiveDate,
) -> Result<Option<(Gesture, Gesture)>, Error> {
    let tenant = ctx.tenant;
    let before = locked_gesture(conn, tenant, id)?;
    let left = before.credit_remaining_minor().unwrap_or(0);
    let due = before.status == GestureStatus::Approved
        && matches!(before.terms, Terms::StoreCredit { expires_on: Some(e), .. } if e < today)
        && left > 0;
    if !due {
        return Ok(None);
    }
    let mut g = before.clone();
    ledger::post(
        conn,
        ctx,
        &NewLedgerTx {
            kind: "expiry",
            gesture_id: Some(id),
            payment_id: None,
            redemption_id: None,
            reverses: None,
            customer_id: Some(g.customer_id),
            effective_on: today,
            postings: Posting::new(
                Account::StoreCredit(g.customer_id),
                Account::BreakageIncome,
                Money::from_minor(left, g.currency),
            )
            .into_iter()
            .collect(),
        },
        ctx.now_again(),
    )?;
    g.expired_minor += left;
    g.updated_at = ctx.now_again();
    gestures::save(conn, &g)?;
    Ok(Some((before, g)))
}

/// Open promises past their due day on `today` that were not yet noted as
/// overdue, of every tenant (or one): (tenant, promise).
pub(crate) fn overdue_unnoted(
    conn: &mut DbConnection,
    tenant: Option<TenantId>,
    today: NaiveDate,
) -> Result<Vec<(TenantId, GestureId)>, Error> {
    use super::schema::overdue_notices;
    let mut q = gestures_t::table
        .filter(
            gestures_t::kind
                .eq(GestureKind::DeferredPayment.as_str())
                .and(gestures_t::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures_t::due_on.lt(today))
                .and(diesel::dsl::not(diesel::dsl::exists(
                    overdue_notices::table.filter(
                        overdue_notices::tenant_id
                            .eq(gestures_t::tenant_id)
                            .and(overdue_notices::gesture_id.eq(gestures_t::id)),
                    ),
                ))),
        )
        .select((
            gestures_t::tenant_id,
            gestures_t::id,
            gestures_t::amount_minor,
            gestures_t::paid_minor,
            gestures_t::waived_minor,
        ))
        .order((gestures_t::tenant_id, gestures_t::id))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(gestures_t::tenant_id.eq(t));
    }
    Ok(something_left(q.load(conn)?))
}

/// Notes that a promise fell overdue, once: the promise (locked) when it is
/// overdue on `today` and was not noted before; `None` otherwise.
pub(crate) fn note_overdue(
    conn: &mut DbConnection,
    ctx: &AuditCtx,
    id: GestureId,
    today: NaiveDate,
) -> Result<Option<Gesture>, Error> {
    use super::schema::overdue_notices;
    let g = locked_gesture(conn, ctx.tenant, id)?;
    if !g.is_overdue(today) {
        return Ok(None);
    }
    let noted: bool = diesel::select(diesel::dsl::exists(
        overdue_notices::table.filter(
            overdue_notices::tenant_id
                .eq(ctx.tenant)
                .and(overdue_notices::gesture_id.eq(id)),
        ),
    ))
    .get_result(conn)?;
    if noted {
        return Ok(None);
    }
    let Terms::DeferredPayment { due_on, .. } = g.terms else {
        return Ok(None);
    };
    diesel::insert_into(overdue_notices::table)
        .values((
            overdue_notices::tenant_id.eq(ctx.tenant),
            overdue_notices::gesture_id.eq(id),
            overdue_notices::due_on.eq(due_on),
            overdue_notices::noted_at.eq(ctx.now_again()),
        ))
        .execute(conn)?;
    Ok(Some(g))
}
