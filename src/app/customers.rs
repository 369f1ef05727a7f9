//! Customers: tenant-wide (a customer who owes at one store may turn up at
//! another).

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::gesture::{GestureKind, OpenItem};
use crate::domain::ids::CustomerId;
use crate::domain::ledger::Memo;
use crate::domain::money::{Currency, Money};
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::customer::{
    BalanceView, CreditLotView, CustomerStanding, CustomerView, MemoView, PromisesView,
    ReceivedView, StandingValue, SummaryView,
};
use crate::views::timestamp;
use chrono::NaiveDate;

/// How a request names a customer: by the service's id, or by the POS's own
/// reference (`/v1/customers/by-ref/{external_ref}/...`), so a till needs no
/// lookup first.
#[derive(Clone, Debug)]
pub(crate) enum CustomerKey {
    /// The customer's id.
    Id(CustomerId),
    /// The customer's `external_ref` (compared in Unicode NFC, as stored).
    Ref(String),
}

impl CustomerKey {
    /// The customer's id (404 when no customer has the reference).
    pub(crate) fn resolve(
        &self,
        conn: &mut DbConnection,
        tenant: crate::domain::ids::TenantId,
    ) -> Result<CustomerId, Error> {
        match self {
            Self::Id(id) => Ok(*id),
            Self::Ref(r) => {
                let r = crate::domain::text::nfc(r);
                crate::store::customers::find_by_external_ref(conn, tenant, &r)?
                    .ok_or_else(|| Error::NotFound(format!("no customer has external_ref {r:?}")))
            }
        }
    }
}

/// Records a new customer (`customer.created`).
pub fn create_customer(
    conn: &mut DbConnection,
    ctx: &Ctx,
    new: NewCustomer,
) -> Result<Customer, Error> {
    ctx.require(Permission::CustomersWrite)?;
    let customer = crate::store::customers::create(conn, ctx.tenant, new, ctx.now)?;
    record_created(conn, ctx, &customer)?;
    Ok(customer)
}

/// The `customer.created` event of a customer just written, however it was
/// created (the API, or a sales import naming a new customer).
pub(crate) fn record_created(
    conn: &mut DbConnection,
    ctx: &Ctx,
    customer: &Customer,
) -> Result<(), Error> {
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "customer.created",
            "customer",
            customer.id,
            &CustomerView::from(customer),
        )
        .of_new_entity(),
    )?;
    Ok(())
}

/// Changes a customer's details (`customer.updated`; a change that changes
/// nothing records nothing).
pub(crate) fn update_customer(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: CustomerId,
    patch: &CustomerPatch,
) -> Result<Customer, Error> {
    ctx.require(Permission::CustomersWrite)?;
    let (before, after) = crate::store::customers::update(conn, ctx.tenant, id, patch, ctx.now)?;
    let (was, is) = (CustomerView::from(&before), CustomerView::from(&after));
    if was != is {
        crate::store::audit::append(
            conn,
            ctx,
            NewEvent::changed("customer.updated", "customer", id, &was, &is),
        )?;
    }
    Ok(after)
}

/// Reads a customer's summary: six indexed reads of maintained rows and open
/// items, none of which grows with the customer's history.
pub fn load_summary(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    today: NaiveDate,
) -> Result<SummaryView, Error> {
    let f = crate::store::ledger::customer_figures(conn, tenant, customer)?;
    Ok(build_summary(
        customer,
        today,
        &f.balances,
        &f.totals,
        &f.memos,
        &f.open,
        f.last_activity,
    ))
}

type Totals = [(String, String, i64, i64)];

fn build_summary(
    customer: CustomerId,
    today: NaiveDate,
    own: &Totals,
    totals: &Totals,
    memos: &[(Memo, String, i64, i64)],
    open: &[OpenItem],
    last: Option<chrono::NaiveDateTime>,
) -> SummaryView {
    let mut currencies: Vec<Currency> = own
        .iter()
        .chain(totals.iter())
        .filter_map(|(_, c, _, _)| Currency::from_code(c))
        .chain(open.iter().map(|g| g.currency))
        .collect();
    currencies.sort();
    currencies.dedup();
    let receivable = format!("receivable:{customer}");
    let credit = format!("store_credit:{customer}");
    let net = |rows: &Totals, account: &str, cur: Currency| -> i64 {
        rows.iter()
            .filter(|(a, c, _, _)| a == account && c == cur.code())
            .map(|(_, _, d, cr)| d - cr)
            .sum()
    };
    let balances = currencies
        .iter()
        .map(|&cur| {
            let overdue: i64 = open
                .iter()
                .filter(|o| o.currency == cur && o.is_overdue(today))
                .map(|o| o.left_minor)
                .sum();
            let mut lots: Vec<(Option<chrono::NaiveDate>, &OpenItem, i64)> = open
                .iter()
                .filter(|o| o.currency == cur)
                .filter_map(|o| o.credit_left(today).map(|left| (o.day, o, left)))
                .collect();
            lots.sort_by_key(|(e, o, _)| (e.is_none(), *e, o.id));
            let available: i64 = lots.iter().map(|(_, _, left)| left).sum();
            BalanceView {
                currency: cur.code(),
                owed: Money::from_minor(net(own, &receivable, cur), cur),
                overdue: Money::from_minor(overdue, cur),
                store_credit_available: Money::from_minor(
                    available.min(-net(own, &credit, cur)).max(0),
                    cur,
                ),
                store_credit_lots: lots
                    .iter()
                    .map(|(expires_on, o, left)| CreditLotView {
                        gesture_id: o.id,
                        store_id: o.store_id,
                        remaining: Money::from_minor(*left, cur),
                        expires_on: *expires_on,
                    })
                    .collect(),
                written_off: Money::from_minor(net(totals, "writeoff_expense", cur), cur),
            }
        })
        .collect();
    let mut goodwill_received = Vec::new();
    for (account, cur, d, c) in totals {
        let Some(currency) = Currency::from_code(cur) else {
            continue;
        };
        let kind = if account == "writeoff_expense" {
            Some(GestureKind::BalanceWaiver)
        } else {
            account
                .strip_prefix("goodwill_expense:")
                .and_then(GestureKind::parse)
        };
        if let Some(kind) = kind {
            goodwill_received.push(ReceivedView {
                kind,
                amount: Money::from_minor(d - c, currency),
            });
        }
    }
    let memo_money = |name: Memo| -> Vec<Money> {
        memos
            .iter()
            .filter(|(m, _, _, _)| *m == name)
            .filter_map(|(_, c, t, _)| Currency::from_code(c).map(|cur| Money::from_minor(*t, cur)))
            .collect()
    };
    let memo_count = |name: Memo| -> i64 {
        memos
            .iter()
            .filter(|(m, _, _, _)| *m == name)
            .map(|(_, _, _, n)| n)
            .sum()
    };
    SummaryView {
        customer_id: customer,
        balances,
        goodwill_received,
        memo: MemoView {
            free_service_retail_value: memo_money(Memo::FreeServiceRetailValue),
            favour_estimated_value: memo_money(Memo::FavourEstimatedValue),
            favours: memo_count(Memo::Favours) + memo_count(Memo::FavourEstimatedValue),
        },
        promises: PromisesView {
            open: i64::try_from(
                open.iter()
                    .filter(|o| o.kind == GestureKind::DeferredPayment)
                    .count(),
            )
            .unwrap_or(0),
            kept_on_time: memo_count(Memo::PromisesKeptOnTime),
            kept_late: memo_count(Memo::PromisesKeptLate),
            written_off: memo_count(Memo::PromisesWrittenOff),
            waived: memo_count(Memo::PromisesWrittenOff) - memo_count(Memo::PromisesBroken),
            broken: memo_count(Memo::PromisesBroken),
        },
        recognitions: memo_count(Memo::Recognitions),
        last_activity_at: last.map(|t| timestamp(&t)),
    }
}

/// Reads a customer's standing: maintained balances and totals, the
/// goodwill granted this calendar year, and their value beside `item` (what
/// is being decided, in its currency; `counted`: whether the item is already
/// among the goodwill granted).
pub(crate) fn standing(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    now: chrono::NaiveDateTime,
    item: Option<Money>,
    counted: bool,
) -> Result<CustomerStanding, Error> {
    let year_start = crate::domain::year_start(now.date());
    let value = match item {
        Some(item) => standing_value(conn, tenant, customer, now, item, counted)?,
        None => None,
    };
    let receivable = format!("receivable:{customer}");
    let owed = crate::store::ledger::customer_balances(conn, tenant, customer)?
        .into_iter()
        .filter(|(a, _, d, c)| *a == receivable && d - c > 0)
        .filter_map(|(_, cur, d, c)| {
            Currency::from_code(&cur).map(|cur| Money::from_minor(d - c, cur))
        })
        .collect();
    let goodwill_this_year =
        crate::store::gestures::granted_since(conn, tenant, customer, year_start)?
            .into_iter()
            .map(|(cur, minor)| Money::from_minor(minor, cur))
            .collect();
    let memos = crate::store::ledger::memos(conn, tenant, customer)?;
    let count = |name: Memo| -> i64 {
        memos
            .iter()
            .filter(|(m, _, _, _)| *m == name)
            .map(|(_, _, _, n)| n)
            .sum()
    };
    let who = crate::store::customers::get(conn, tenant, customer)?;
    Ok(CustomerStanding {
        id: customer,
        name: who.name,
        external_ref: who.external_ref,
        owed,
        goodwill_this_year,
        promises_kept_on_time: count(Memo::PromisesKeptOnTime),
        promises_kept_late: count(Memo::PromisesKeptLate),
        promises_written_off: count(Memo::PromisesWrittenOff),
        promises_waived: count(Memo::PromisesWrittenOff) - count(Memo::PromisesBroken),
        promises_broken: count(Memo::PromisesBroken),
        value,
    })
}

fn standing_value(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    now: chrono::NaiveDateTime,
    item: Money,
    counted: bool,
) -> Result<Option<StandingValue>, Error> {
    let c = item.currency();
    let e = crate::store::value::estimate(
        conn,
        tenant,
        customer,
        Some(c),
        now.date(),
        crate::value::model::Horizon::default(),
    )?;
    let crate::value::model::Estimate::Valued {
        model, valuation, ..
    } = e
    else {
        return Ok(None);
    };
    let ltv = crate::store::value::to_minor(valuation.lifetime_value, c);
    let ceiling = crate::store::value::ceiling(conn, tenant, customer, c, ltv, now)?;
    let within = ceiling.as_ref().map(|x| {
        let with_item = if counted {
            x.used_minor
        } else {
            x.used_minor.saturating_add(item.minor())
        };
        with_item <= x.ceiling_minor
    });
    Ok(Some(StandingValue {
        model_version: model.version,
        probability_alive: valuation.probability_alive,
        lifetime_value: Money::from_minor(ltv, c),
        share_of_lifetime_value: (ltv > 0).then(|| item.minor() as f64 / ltv as f64),
        goodwill_ceiling: ceiling
            .as_ref()
            .map(|x| crate::views::value::CeilingView::of(x, c)),
        within_ceiling: within,
    }))
}
