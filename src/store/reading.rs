//! Reading the ledger: entries by customer or account, and a customer's timeline.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{entries, ledger_transactions, payments, redemptions};
use super::{DbConnection, PageOf, PageRequest};
use crate::domain::gesture::Gesture;
use crate::domain::ids::{
    CustomerId, EntryId, GestureId, LedgerTxId, PaymentId, RedemptionId, TenantId,
};
use crate::error::Error;
use crate::store::lifecycle::{Payment, Redemption};

/// One entry, with its transaction's kind and gesture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Id.
    pub id: EntryId,
    /// Its transaction.
    pub transaction_id: LedgerTxId,
    /// The transaction's kind.
    pub kind: String,
    /// The gesture the transaction belongs to.
    pub gesture_id: Option<GestureId>,
    /// The payment it belongs to.
    pub payment_id: Option<PaymentId>,
    /// The redemption it belongs to.
    pub redemption_id: Option<RedemptionId>,
    /// The transaction it mirrors.
    pub reverses: Option<LedgerTxId>,
    /// Account.
    pub account: String,
    /// Customer the transaction concerns.
    pub customer_id: Option<CustomerId>,
    /// Currency.
    pub currency: String,
    /// Debit (minor units; 0 for a credit).
    pub debit_minor: i64,
    /// Credit (minor units; 0 for a debit).
    pub credit_minor: i64,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// When it was written.
    pub created_at: NaiveDateTime,
}

type EntryRow = (
    EntryId,
    LedgerTxId,
    String,
    Option<GestureId>,
    Option<PaymentId>,
    Option<RedemptionId>,
    Option<LedgerTxId>,
    String,
    Option<CustomerId>,
    String,
    i64,
    i64,
    NaiveDate,
    NaiveDateTime,
);

fn entry(r: EntryRow) -> Entry {
    Entry {
        id: r.0,
        transaction_id: r.1,
        kind: r.2,
        gesture_id: r.3,
        payment_id: r.4,
        redemption_id: r.5,
        reverses: r.6,
        account: r.7,
        customer_id: r.8,
        currency: r.9,
        debit_minor: r.10,
        credit_minor: r.11,
        effective_on: r.12,
        created_at: r.13,
    }
}

/// Which entries to list.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    /// One customer's.
    pub customer_id: Option<CustomerId>,
    /// One account's.
    pub account: Option<String>,
    /// One transaction's (or a gesture's transactions).
    pub gesture_id: Option<GestureId>,
    /// effective_on from (inclusive).
    pub from: Option<NaiveDate>,
    /// effective_on to (inclusive).
    pub to: Option<NaiveDate>,
}

/// A page of entries, oldest first.
pub fn entries(
    conn: &mut DbConnection,
    tenant: TenantId,
    f: &EntryFilter,
    page: PageRequest<EntryId>,
) -> Result<PageOf<Entry>, Error> {
    let mut q = entries::table
        .inner_join(
            ledger_transactions::table.on(ledger_transactions::tenant_id
                .eq(entries::tenant_id)
                .and(ledger_transactions::id.eq(entries::transaction_id))),
        )
        .filter(entries::tenant_id.eq(tenant))
        .select((
            entries::id,
            entries::transaction_id,
            ledger_transactions::kind,
            ledger_transactions::gesture_id,
            ledger_transactions::payment_id,
            ledger_transactions::redemption_id,
            ledger_transactions::reverses,
            entries::account,
            entries::customer_id,
            entries::currency,
            entries::debit_minor,
            entries::credit_minor,
            entries::effective_on,
            entries::created_at,
        ))
        .order(entries::id)
        .limit(page.limit + 1)
        .into_boxed();
    super::after_cursor!(conn, q, entries, tenant, page.starting_after);
    if let Some(c) = f.customer_id {
        q = q.filter(entries::customer_id.eq(c));
    }
    if let Some(a) = &f.account {
        q = q.filter(entries::account.eq(a.clone()));
    }
    if let Some(g) = f.gesture_id {
        q = q.filter(ledger_transactions::gesture_id.eq(g));
    }
    if let Some(d) = f.from {
        q = q.filter(entries::effective_on.ge(d));
    }
    if let Some(d) = f.to {
        q = q.filter(entries::effective_on.le(d));
    }
    let rows: Vec<EntryRow> = q.load(conn)?;
    let p = PageOf::from_rows(rows, page.limit);
    Ok(PageOf {
        items: p.items.into_iter().map(entry).collect(),
        has_more: p.has_more,
    })
}

/// One thing that happened to a customer.
#[derive(Clone, Debug)]
pub(crate) enum TimelineItem {
    /// A gesture was requested.
    Gesture(Box<Gesture>),
    /// A payment was made.
    Payment(Payment),
    /// Store credit was spent.
    Redemption(Redemption),
}

impl TimelineItem {
    /// The item's id (UUIDv7: time-ordered across kinds).
    pub(crate) fn id(&self) -> uuid::Uuid {
        match self {
            TimelineItem::Gesture(g) => g.id.0,
            TimelineItem::Payment(p) => p.id.0,
            TimelineItem::Redemption(r) => r.id.0,
        }
    }
}

/// A page of a customer's timeline, newest first; the cursor is an item id.
pub(crate) fn timeline(
    conn: &mut DbConnection,
    tenant: TenantId,
    customer: CustomerId,
    limit: i64,
    before: Option<uuid::Uuid>,
) -> Result<PageOf<TimelineItem>, Error> {
    use super::schema::gestures;
    let mut items: Vec<TimelineItem> = Vec::new();
    let mut gq = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::customer_id.eq(customer)),
        )
        .select(gestures::id)
        .order(gestures::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(b) = before {
        gq = gq.filter(gestures::id.lt(GestureId(b)));
    }
    let ids: Vec<GestureId> = gq.load(conn)?;
    for g in super::gestures::by_ids(conn, tenant, &ids)? {
        items.push(TimelineItem::Gesture(Box::new(g)));
    }
    let mut pq = payments::table
        .filter(
            payments::tenant_id
                .eq(tenant)
                .and(payments::customer_id.eq(customer)),
        )
        .select(Payment::as_select())
        .order(payments::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(b) = before {
        pq = pq.filter(payments::id.lt(PaymentId(b)));
    }
    items.extend(pq.load(conn)?.into_iter().map(TimelineItem::Payment));
    let mut rq = redemptions::table
        .filter(
            redemptions::tenant_id
                .eq(tenant)
                .and(redemptions::customer_id.eq(customer)),
        )
        .select(crate::store::lifecycle::RedemptionRow::as_select())
        .order(redemptions::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(b) = before {
        rq = rq.filter(redemptions::id.lt(RedemptionId(b)));
    }
    let rows: Vec<crate::store::lifecycle::RedemptionRow> = rq.load(conn)?;
    for row in rows {
        items.push(TimelineItem::Redemption(row.with_lots(conn, tenant)?.0));
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.id()));
    Ok(PageOf::from_rows(items, limit))
}
