//! Finance's objects as the API answers them and the audit trail records
//! them: a write-off item and its reviews, a month.

use chrono::NaiveDate;
use serde::Serialize;

use super::timestamp;
use crate::domain::ids::{CustomerId, GestureId, StoreId};
use crate::domain::money::{Currency, Money};
use crate::error::Error;
use crate::store::write_offs::{Review, WriteOff};

/// One review as the API shows it.
#[derive(Serialize, Clone)]
pub(crate) struct ReviewView {
    pub(crate) outcome: String,
    pub(crate) note: Option<String>,
    pub(crate) reviewer: String,
    pub(crate) reviewer_role: String,
    pub(crate) at: String,
}

/// A write-off item as the audit trail records it: the item and its reviews
/// (the queue's answer adds the customer's standing, which is read when
/// asked, not part of the item).
#[derive(Serialize, Clone)]
pub(crate) struct WriteOffView {
    pub(crate) id: GestureId,
    pub(crate) gesture_id: GestureId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    pub(crate) amount: Money,
    pub(crate) reason_code: String,
    pub(crate) story: String,
    pub(crate) requested_by: String,
    pub(crate) approved_by: Option<String>,
    pub(crate) decision_rule: String,
    pub(crate) policy_version: i32,
    pub(crate) write_off_of: Option<GestureId>,
    pub(crate) effective_on: NaiveDate,
    pub(crate) status: String,
    pub(crate) reviews: Vec<ReviewView>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl WriteOffView {
    /// The view of an item with its reviews (`reviews` may hold other items'
    /// reviews too: they are left out).
    pub(crate) fn of(w: &WriteOff, reviews: &[Review]) -> Result<Self, Error> {
        let currency = Currency::from_code(&w.currency).ok_or_else(|| {
            Error::internal(format!("write-off {} has an unknown currency", w.id))
        })?;
        Ok(Self {
            id: w.id,
            gesture_id: w.id,
            customer_id: w.customer_id,
            store_id: w.store_id,
            amount: Money::from_minor(w.amount_minor, currency),
            reason_code: w.reason_code.clone(),
            story: w.story.clone(),
            requested_by: w.requested_by.clone(),
            approved_by: w.approved_by.clone(),
            decision_rule: w.decision_rule.clone(),
            policy_version: w.policy_version,
            write_off_of: w.write_off_of,
            effective_on: w.effective_on,
            status: w.status.clone(),
            reviews: reviews
                .iter()
                .filter(|r| r.write_off_id == w.id)
                .map(|r| ReviewView {
                    outcome: r.outcome.clone(),
                    note: r.note.clone(),
                    reviewer: r.reviewer.clone(),
                    reviewer_role: r.reviewer_role.clone(),
                    at: timestamp(&r.created_at),
                })
                .collect(),
            created_at: timestamp(&w.created_at),
            updated_at: timestamp(&w.updated_at),
        })
    }
}

/// The write-off queue as CSV: one line per item, with its store's code and
/// name, its customer's external ref and name, and its latest review.
pub(crate) fn write_offs_csv(items: &[(WriteOffView, StoreRef, CustomerRef)]) -> Vec<u8> {
    use crate::csv_export::Cell::{Number, Text};
    let mut out = crate::csv_export::Csv::new();
    out.header([
        "id",
        "effective_on",
        "store_code",
        "store_name",
        "customer_external_ref",
        "customer_name",
        "currency",
        "amount",
        "reason_code",
        "story",
        "requested_by",
        "approved_by",
        "decision_rule",
        "write_off_of",
        "status",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "customer_id",
        "store_id",
    ]);
    for (w, store, customer) in items {
        let (id, on, amount) = (
            w.id.to_string(),
            w.effective_on.to_string(),
            w.amount.amount_string(),
        );
        let of = w.write_off_of.map(|g| g.to_string()).unwrap_or_default();
        let (cid, sid) = (w.customer_id.to_string(), w.store_id.to_string());
        let last = w.reviews.last();
        out.record([
            Number(&id),
            Number(&on),
            Text(&store.code),
            Text(&store.name),
            Text(&customer.external_ref),
            Text(&customer.name),
            Text(w.amount.currency().code()),
            Number(&amount),
            Text(&w.reason_code),
            Text(&w.story),
            Text(&w.requested_by),
            Text(w.approved_by.as_deref().unwrap_or("")),
            Text(&w.decision_rule),
            Number(&of),
            Text(&w.status),
            Text(last.map_or("", |r| r.reviewer.as_str())),
            Number(last.map_or("", |r| r.at.as_str())),
            Text(last.and_then(|r| r.note.as_deref()).unwrap_or("")),
            Number(&cid),
            Number(&sid),
        ]);
    }
    out.into_bytes()
}

/// A write-off item as finance's queue answers it: the item, with its
/// customer's standing beside it, read when asked.
#[derive(Serialize, Clone)]
pub(crate) struct WriteOffItem {
    pub(crate) id: GestureId,
    pub(crate) gesture_id: GestureId,
    pub(crate) customer_id: CustomerId,
    pub(crate) store_id: StoreId,
    /// The store as people know it.
    pub(crate) store: StoreRef,
    pub(crate) amount: Money,
    pub(crate) reason_code: String,
    pub(crate) story: String,
    pub(crate) requested_by: String,
    pub(crate) approved_by: Option<String>,
    pub(crate) decision_rule: String,
    pub(crate) policy_version: i32,
    pub(crate) write_off_of: Option<GestureId>,
    pub(crate) effective_on: NaiveDate,
    pub(crate) status: String,
    pub(crate) reviews: Vec<ReviewView>,
    pub(crate) customer: super::customer::CustomerStanding,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl WriteOffItem {
    /// The item with its store's names and its customer's standing.
    pub(crate) fn of(
        v: WriteOffView,
        store: StoreRef,
        customer: super::customer::CustomerStanding,
    ) -> Self {
        Self {
            id: v.id,
            gesture_id: v.gesture_id,
            customer_id: v.customer_id,
            store_id: v.store_id,
            store,
            amount: v.amount,
            reason_code: v.reason_code,
            story: v.story,
            requested_by: v.requested_by,
            approved_by: v.approved_by,
            decision_rule: v.decision_rule,
            policy_version: v.policy_version,
            write_off_of: v.write_off_of,
            effective_on: v.effective_on,
            status: v.status,
            reviews: v.reviews,
            customer,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// One account's movement in a month.
#[derive(Serialize)]
pub(crate) struct TotalView {
    pub(crate) account: String,
    pub(crate) debit: Money,
    pub(crate) credit: Money,
}

/// A month.
#[derive(Serialize)]
pub(crate) struct PeriodView {
    pub(crate) id: String,
    pub(crate) month: String,
    pub(crate) state: String,
    pub(crate) closed_by: Option<String>,
    pub(crate) closed_at: Option<String>,
    pub(crate) close_reason: Option<String>,
    pub(crate) forced: bool,
    pub(crate) totals: Option<Vec<TotalView>>,
    pub(crate) digest: Option<String>,
    /// Closed months read one at a time: whether the entries still add up to
    /// the totals kept at close (null in lists and for open months).
    pub(crate) verified: Option<bool>,
    pub(crate) reopened_by: Option<String>,
    pub(crate) reopened_at: Option<String>,
    pub(crate) reopen_reason: Option<String>,
}

impl PeriodView {
    pub(crate) fn of(
        p: crate::store::periods::Period,
        verified: Option<bool>,
    ) -> Result<Self, Error> {
        let totals = match &p.totals {
            None => None,
            Some(_) => {
                let mut out = Vec::new();
                for t in p.kept_totals() {
                    let Some(c) = Currency::from_code(&t.currency) else {
                        continue;
                    };
                    let wide = |m: i128| {
                        Money::from_wide(m, c).ok_or_else(crate::error::Error::figure_too_large)
                    };
                    out.push(TotalView {
                        account: t.account,
                        debit: wide(t.debit_minor)?,
                        credit: wide(t.credit_minor)?,
                    });
                }
                Some(out)
            }
        };
        Ok(Self {
            id: p.month.clone(),
            month: p.month,
            state: p.state,
            closed_by: p.closed_by,
            closed_at: p.closed_at.as_ref().map(timestamp),
            close_reason: p.close_reason,
            forced: p.forced,
            totals,
            digest: p.digest,
            verified,
            reopened_by: p.reopened_by,
            reopened_at: p.reopened_at.as_ref().map(timestamp),
            reopen_reason: p.reopen_reason,
        })
    }
}

/// Count and outstanding amount of one bucket.
#[derive(Serialize)]
pub(crate) struct BucketView {
    pub(crate) count: i64,
    pub(crate) amount: Money,
}

/// One store and currency of the aging.
#[derive(Serialize)]
pub(crate) struct AgingRowView {
    pub(crate) store_id: StoreId,
    pub(crate) currency: String,
    pub(crate) buckets: std::collections::BTreeMap<&'static str, BucketView>,
    pub(crate) total: BucketView,
}

/// How promises are kept: counts, and each as a share of those decided.
#[derive(Serialize)]
pub(crate) struct KeepingView {
    pub(crate) kept_on_time: i64,
    pub(crate) kept_late: i64,
    pub(crate) written_off: i64,
    pub(crate) on_time_rate: Option<f64>,
    pub(crate) late_rate: Option<f64>,
    pub(crate) written_off_rate: Option<f64>,
}

/// `GET /v1/finance/aging`.
#[derive(Serialize)]
pub(crate) struct AgingView {
    pub(crate) as_of: NaiveDate,
    pub(crate) stores: Vec<AgingRowView>,
    pub(crate) promise_keeping: KeepingView,
}

/// A customer as a person reading a list knows them.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CustomerRef {
    pub(crate) id: CustomerId,
    pub(crate) name: String,
    pub(crate) external_ref: String,
}

/// A store as a person reading a list knows it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoreRef {
    pub(crate) id: StoreId,
    pub(crate) code: String,
    pub(crate) name: String,
}

/// One open promise of the aging detail.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct AgingPromiseView {
    /// The deferred payment.
    pub(crate) id: GestureId,
    pub(crate) customer: CustomerRef,
    pub(crate) store: StoreRef,
    /// `not_yet_due`, `1_30`, `31_60`, `61_90` or `over_90`.
    pub(crate) bucket: &'static str,
    /// What is still owed.
    pub(crate) outstanding: Money,
    pub(crate) effective_on: NaiveDate,
    pub(crate) due_on: NaiveDate,
    /// Days past due on the as-of date (0 when not yet due).
    pub(crate) days_overdue: i64,
}

/// `GET /v1/finance/aging/promises`.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct AgingPromisesView {
    pub(crate) as_of: NaiveDate,
    /// The bucket asked for (null: every bucket).
    pub(crate) bucket: Option<&'static str>,
    /// Oldest due first, at most `limit`.
    pub(crate) data: Vec<AgingPromiseView>,
    /// Whether more promises are in the bucket than were listed.
    pub(crate) has_more: bool,
}

impl AgingPromisesView {
    /// The promises as CSV, oldest due first.
    pub(crate) fn csv(&self) -> Vec<u8> {
        use crate::csv_export::Cell::{Number, Text};
        let mut out = crate::csv_export::Csv::new();
        out.header([
            "id",
            "bucket",
            "store_code",
            "store_name",
            "customer_external_ref",
            "customer_name",
            "currency",
            "outstanding",
            "effective_on",
            "due_on",
            "days_overdue",
            "customer_id",
            "store_id",
        ]);
        for l in &self.data {
            let (id, amount, on, due, days) = (
                l.id.to_string(),
                l.outstanding.amount_string(),
                l.effective_on.to_string(),
                l.due_on.to_string(),
                l.days_overdue.to_string(),
            );
            let (cid, sid) = (l.customer.id.to_string(), l.store.id.to_string());
            out.record([
                Number(&id),
                Text(l.bucket),
                Text(&l.store.code),
                Text(&l.store.name),
                Text(&l.customer.external_ref),
                Text(&l.customer.name),
                Text(l.outstanding.currency().code()),
                Number(&amount),
                Number(&on),
                Number(&due),
                Number(&days),
                Number(&cid),
                Number(&sid),
            ]);
        }
        out.into_bytes()
    }
}

/// One currency of a ledger account's sums.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct AccountSums {
    pub(crate) currency: String,
    pub(crate) debit: Money,
    pub(crate) credit: Money,
}

/// A ledger account that holds entries, as finance maps it
/// (`GET /v1/finance/accounts`).
#[derive(Serialize, Clone, Debug)]
pub(crate) struct AccountView {
    /// The ledger account (`receivable:<customer id>`).
    pub(crate) account: String,
    /// Its kind (`receivable`).
    pub(crate) kind: String,
    /// As a person reads it (`Customer receivable · C-1001`).
    pub(crate) label: String,
    /// The customer whose account it is (receivable, store credit).
    pub(crate) customer: Option<CustomerRef>,
    /// The store whose account it is (the clearing accounts).
    pub(crate) store: Option<StoreRef>,
    /// The code and name the journal exports it under.
    pub(crate) export_code: String,
    pub(crate) export_name: String,
    /// How the export code was found: `exact`, `pattern` or `unmapped`.
    pub(crate) mapped: crate::domain::account_map::Mapped,
    /// Debits and credits to date, per currency.
    pub(crate) sums: Vec<AccountSums>,
}
