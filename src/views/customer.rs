//! A customer as the API answers them and the audit trail records them.

use crate::domain::customer::Customer;
use crate::domain::gesture::GestureKind;
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::money::Money;
use serde::Serialize;

use super::timestamp;

/// A customer as the API shows them.
#[derive(Serialize, PartialEq, Eq)]
pub(crate) struct CustomerView {
    pub(crate) id: CustomerId,
    pub(crate) external_ref: String,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) home_store_id: Option<StoreId>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            external_ref: c.external_ref.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            home_store_id: c.home_store_id,
            created_at: timestamp(&c.created_at),
            updated_at: timestamp(&c.updated_at),
        }
    }
}

/// One currency's balances of a customer.
#[derive(Serialize)]
pub(crate) struct BalanceView {
    pub(crate) currency: &'static str,
    pub(crate) owed: Money,
    pub(crate) overdue: Money,
    pub(crate) store_credit_available: Money,
    /// The spendable lots behind it, the first to expire first (those that
    /// never expire last): what a till tells the customer to use soon.
    pub(crate) store_credit_lots: Vec<CreditLotView>,
    pub(crate) written_off: Money,
}

/// One lot of store credit: what is left of a grant, and until when.
#[derive(Serialize)]
pub(crate) struct CreditLotView {
    /// The store-credit gesture.
    pub(crate) gesture_id: crate::domain::ids::GestureId,
    pub(crate) store_id: StoreId,
    pub(crate) remaining: Money,
    /// Null: it never expires.
    pub(crate) expires_on: Option<chrono::NaiveDate>,
}

/// Goodwill received of one kind and currency.
#[derive(Serialize)]
pub(crate) struct ReceivedView {
    pub(crate) kind: GestureKind,
    pub(crate) amount: Money,
}

/// Promise-keeping record.
#[derive(Serialize)]
pub(crate) struct PromisesView {
    pub(crate) open: i64,
    pub(crate) kept_on_time: i64,
    pub(crate) kept_late: i64,
    /// Written off unpaid: `waived` + `broken`.
    pub(crate) written_off: i64,
    /// Given up by the business (a waiver, e.g. for its own mistake): never
    /// held against the customer.
    pub(crate) waived: i64,
    /// Broken by the customer: written off after falling due, unpaid.
    pub(crate) broken: i64,
}

/// Memo totals: statistics beside the ledger, never in it.
#[derive(Serialize)]
pub(crate) struct MemoView {
    pub(crate) free_service_retail_value: Vec<Money>,
    pub(crate) favour_estimated_value: Vec<Money>,
    pub(crate) favours: i64,
}

/// `GET /v1/customers/{id}/summary`.
#[derive(Serialize)]
pub struct SummaryView {
    pub(crate) customer_id: CustomerId,
    pub(crate) balances: Vec<BalanceView>,
    pub(crate) goodwill_received: Vec<ReceivedView>,
    pub(crate) memo: MemoView,
    pub(crate) promises: PromisesView,
    pub(crate) recognitions: i64,
    pub(crate) last_activity_at: Option<String>,
}

/// A customer's standing beside an item someone decides on (the approval
/// queue, the write-off review): what they owe, the goodwill they received this
/// calendar year, and how they keep promises.
#[derive(Serialize, Clone)]
pub(crate) struct CustomerStanding {
    pub(crate) id: CustomerId,
    /// Who they are, as the person deciding knows them.
    pub(crate) name: String,
    pub(crate) external_ref: String,
    pub(crate) owed: Vec<Money>,
    pub(crate) goodwill_this_year: Vec<Money>,
    pub(crate) promises_kept_on_time: i64,
    pub(crate) promises_kept_late: i64,
    pub(crate) promises_written_off: i64,
    /// Of those, waived by the business.
    pub(crate) promises_waived: i64,
    /// Of those, broken by the customer (written off after falling due).
    pub(crate) promises_broken: i64,
    /// The customer's value from the current model, and the item's share of
    /// it; null without a model or a purchase.
    pub(crate) value: Option<StandingValue>,
}

/// A customer's value beside an item someone decides on.
#[derive(Serialize, Clone)]
pub(crate) struct StandingValue {
    pub(crate) model_version: i32,
    pub(crate) probability_alive: f64,
    pub(crate) lifetime_value: Money,
    /// The item's amount over the lifetime value (null when that is zero).
    pub(crate) share_of_lifetime_value: Option<f64>,
    /// The policy's value-aware budget for this customer, if it has one.
    pub(crate) goodwill_ceiling: Option<super::value::CeilingView>,
    /// Whether the goodwill granted within the ceiling's window plus this
    /// item stays within it (null without a ceiling). For an item already in
    /// effect, the window includes it.
    pub(crate) within_ceiling: Option<bool>,
}
