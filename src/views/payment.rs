//! Payments and redemptions as the API answers them and the audit trail records them.

use crate::store::lifecycle::{Payment, Redemption};
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;
use crate::domain::money::{Currency, Money};
use crate::error::Error;

/// A payment as the API shows it.
#[derive(Serialize, PartialEq, Eq, Debug)]
pub(crate) struct PaymentView {
    pub(crate) id: PaymentId,
    pub(crate) gesture_id: GestureId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    pub(crate) amount: Money,
    pub(crate) bad_debt_recovery: bool,
    pub(crate) status: String,
    pub(crate) transaction_id: LedgerTxId,
    pub(crate) reversal_reason: Option<String>,
    pub(crate) requested_by: String,
    /// The day it was paid.
    pub(crate) paid_on: String,
    /// When the server recorded it.
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    /// The POS's receipt, if given.
    pub(crate) receipt_ref: Option<String>,
}

impl PaymentView {
    /// The amount paid.
    pub(crate) fn amount(&self) -> Money {
        self.amount
    }

    /// The view of a payment.
    pub(crate) fn of(p: &Payment) -> Result<Self, Error> {
        let currency = Currency::from_code(&p.currency).ok_or_else(|| {
            Error::internal(format!(
                "payment {} has unknown currency {}",
                p.id, p.currency
            ))
        })?;
        Ok(Self {
            id: p.id,
            gesture_id: p.gesture_id,
            customer_id: p.customer_id,
            store_id: p.store_id,
            amount: Money::from_minor(p.amount_minor, currency),
            bad_debt_recovery: p.recovery_minor > 0,
            status: p.status.clone(),
            transaction_id: p.transaction_id,
            reversal_reason: p.reversal_reason.clone(),
            requested_by: p.requested_by.clone(),
            paid_on: p.paid_on.to_string(),
            created_at: timestamp(&p.created_at),
            updated_at: timestamp(&p.updated_at),
            receipt_ref: p.receipt_ref.clone(),
        })
    }
}

/// A redemption as the API shows it.
#[derive(Serialize)]
pub(crate) struct RedemptionView {
    pub(crate) id: RedemptionId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    pub(crate) amount: Money,
    pub(crate) lots: Vec<LotView>,
    pub(crate) requested_by: String,
    /// The day it happened.
    pub(crate) occurred_on: String,
    /// `posted`, or `reversed` (a voided sale) with the reason.
    pub(crate) status: String,
    pub(crate) reversal_reason: Option<String>,
    /// The POS's receipt, if given.
    pub(crate) receipt_ref: Option<String>,
    /// When the server recorded it.
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// The credit a redemption spent.
#[derive(Serialize)]
pub(crate) struct LotView {
    pub(crate) gesture_id: GestureId,
    pub(crate) amount: Money,
}

impl RedemptionView {
    /// The view of a redemption.
    pub(crate) fn of(r: &Redemption) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            store_id: r.store_id,
            amount: r.amount,
            lots: r
                .lots
                .iter()
                .map(|(g, m)| LotView {
                    gesture_id: *g,
                    amount: r.amount.with_minor(*m),
                })
                .collect(),
            requested_by: r.requested_by.clone(),
            occurred_on: r.occurred_on.to_string(),
            status: r.status.clone(),
            reversal_reason: r.reversal_reason.clone(),
            receipt_ref: r.receipt_ref.clone(),
            created_at: timestamp(&r.created_at),
            updated_at: timestamp(&r.updated_at),
        }
    }
}
