//! Sales and refunds as the API answers them and the audit trail records them.

use crate::store::sales::{Refund, Sale};
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::*;
use crate::domain::money::Money;

/// A refund as the API shows it.
#[derive(Serialize, Clone)]
pub(crate) struct RefundView {
    pub(crate) id: RefundId,
    pub(crate) sale_id: SaleId,
    pub(crate) amount: Money,
    pub(crate) refunded_on: String,
    pub(crate) reason: Option<String>,
    pub(crate) recorded_by: String,
    pub(crate) created_at: String,
}

impl From<&Refund> for RefundView {
    fn from(r: &Refund) -> Self {
        Self {
            id: r.id,
            sale_id: r.sale_id,
            amount: r.amount,
            refunded_on: r.refunded_on.to_string(),
            reason: r.reason.clone(),
            recorded_by: r.recorded_by.clone(),
            created_at: timestamp(&r.created_at),
        }
    }
}

/// A sale as the API shows it.
#[derive(Serialize, Clone)]
pub(crate) struct SaleView {
    pub(crate) id: SaleId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    pub(crate) sale_ref: String,
    pub(crate) occurred_at: String,
    pub(crate) sale_date: String,
    pub(crate) amount: Money,
    pub(crate) refunded: Money,
    pub(crate) recorded_by: String,
    pub(crate) created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refunds: Option<Vec<RefundView>>,
}

impl SaleView {
    /// The view of a sale; with its refunds when given.
    pub(crate) fn of(s: &Sale, refunds: Option<&[Refund]>) -> Self {
        Self {
            id: s.id,
            customer_id: s.customer_id,
            store_id: s.store_id,
            sale_ref: s.sale_ref.clone(),
            occurred_at: timestamp(&s.occurred_at),
            sale_date: s.sale_date.to_string(),
            amount: s.amount,
            refunded: s.refunded,
            recorded_by: s.recorded_by.clone(),
            created_at: timestamp(&s.created_at),
            refunds: refunds.map(|rs| rs.iter().map(RefundView::from).collect()),
        }
    }
}
