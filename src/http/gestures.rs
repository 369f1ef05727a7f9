//! Gestures: requesting one for a customer, reading and listing them, and the
//! customer's summary.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply, timestamp};
use crate::domain::Problems;
use crate::domain::gesture::{
    Gesture, GestureInput, GestureKind, GestureStatus, NewGesture, Terms,
};
use crate::domain::ids::CustomerId;
use crate::domain::money::{Currency, Money};
use crate::error::AppError;
use crate::views::gesture::GestureView;

/// The date in UTC: what "today", "overdue" and "not in the future" mean.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `POST /v1/customers/{id}/gestures`.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    customer: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<GestureInput>,
) -> Result<HttpResponse, AppError> {
    let (input, raw) = body.into_parts();
    let key = if input.kind.is_monetary() {
        Some(idem.require(&raw)?)
    } else {
        idem.bind(&raw)
    };
    let ng = NewGesture::parse(&input, state.clock.now().date()).map_err(AppError::Validation)?;
    let customer = customer.into_inner();
    state
        .command(&caller, key, move |conn, ctx| {
            let r = crate::app::gestures::request_gesture(conn, ctx, customer, ng)?;
            Ok(Reply::created(&r.view(ctx.today())))
        })
        .await
}

/// Query of `GET /v1/gestures`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    customer_id: Option<String>,
    store_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/gestures?customer_id=&store_id=&kind=&status=&overdue=&from=&to=`.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let customer_id = q.customer_id.as_deref().and_then(|s| match s.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            p.push("customer_id", "must be a customer id");
            None
        }
    });
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let kind = q.kind.as_deref().and_then(|k| {
        let r = GestureKind::parse(k);
        if r.is_none() {
            p.push("kind", "must be a gesture kind");
        }
        r
    });
    let status = q.status.as_deref().and_then(|s| {
        let r = GestureStatus::parse(s);
        if r.is_none() {
            p.push("status", "must be a gesture status");
        }
        r
    });
    let overdue = match q.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            p.push("overdue", "must be true or false");
            false
        }
    };
    let from = super::extract::query_date("from", q.from.as_deref(), &mut p);
    let to = super::extract::query_date("to", q.to.as_deref(), &mut p);
    p.finish().map_err(AppError::Validation)?;
    let stores = match store_id {
        Some(s) => {
            caller.require_store(s)?;
            Some(vec![s])
        }
        None => caller.stores.clone(),
    };
    let today = today();
    let filter = crate::store::gestures::Filter {
        customer_id,
        stores,
        kind,
        status,
        overdue_on: overdue.then_some(today),
        from,
        to,
    };
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::gestures::list(conn, tenant, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |g| GestureView::of(g, today, None),
        |g| g.id.to_string(),
    )))
}

/// One currency's balances of a customer.
#[derive(Serialize)]
pub struct BalanceView {
    currency: &'static str,
    owed: Money,
    overdue: Money,
    store_credit_available: Money,
    written_off: Money,
}

/// Goodwill received of one kind and currency.
#[derive(Serialize)]
pub struct ReceivedView {
    kind: GestureKind,
    amount: Money,
}

/// Promise-keeping record.
#[derive(Serialize)]
pub struct PromisesView {
    open: i64,
    kept_on_time: i64,
    kept_late: i64,
    written_off: i64,
}

/// Memo totals: statistics beside the ledger, never in it.
#[derive(Serialize)]
pub struct MemoView {
    free_service_retail_value: Vec<Money>,
    favour_estimated_value: Vec<Money>,
    favours: i64,
}

/// `GET /v1/customers/{id}/summary`.
#[derive(Serialize)]
pub struct SummaryView {
    customer_id: CustomerId,
    balances: Vec<BalanceView>,
    goodwill_received: Vec<ReceivedView>,
    memo: MemoView,
    promises: PromisesView,
    recognitions: i64,
    last_activity_at: Option<String>,
}

/// `GET /v1/customers/{id}/summary`: what the customer owes, holds and received.
/// Its cost does not grow with the customer's history: it reads maintained
/// balances and totals, plus the customer's open promises and credit.
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, customer) = (caller.tenant, id.into_inner());
    let today = today();
    let view = state
        .read(move |conn| load_summary(conn, tenant, customer, today))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Reads a customer's summary: six indexed reads of maintained rows and open
/// items, none of which grows with the customer's history.
pub fn load_summary(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    today: NaiveDate,
) -> Result<SummaryView, AppError> {
    let f = crate::store::ledger::customer_figures(conn, tenant, customer)?;
    let open = crate::store::gestures::open_items(conn, tenant, customer)?;
    Ok(build_summary(
        customer,
        today,
        &f.balances,
        &f.totals,
        &f.memos,
        &open,
        f.last_activity,
    ))
}

type Totals = [(String, String, i64, i64)];

fn build_summary(
    customer: CustomerId,
    today: NaiveDate,
    own: &Totals,
    totals: &Totals,
    memos: &Totals,
    open: &[Gesture],
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
                .filter(|g| g.currency == cur && g.is_overdue(today))
                .filter_map(Gesture::outstanding_minor)
                .sum();
            let available: i64 = open
                .iter()
                .filter(|g| g.currency == cur && g.kind == GestureKind::StoreCredit)
                .filter(|g| match &g.terms {
                    Terms::StoreCredit { expires_on, .. } => expires_on.is_none_or(|e| e >= today),
                    _ => false,
                })
                .filter_map(Gesture::credit_remaining_minor)
                .sum();
            BalanceView {
                currency: cur.code(),
                owed: Money::from_minor(net(own, &receivable, cur), cur),
                overdue: Money::from_minor(overdue, cur),
                store_credit_available: Money::from_minor(
                    available.min(-net(own, &credit, cur)).max(0),
                    cur,
                ),
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
    let memo_money = |name: &str| -> Vec<Money> {
        memos
            .iter()
            .filter(|(m, _, _, _)| m == name)
            .filter_map(|(_, c, t, _)| Currency::from_code(c).map(|cur| Money::from_minor(*t, cur)))
            .collect()
    };
    let memo_count = |name: &str| -> i64 {
        memos
            .iter()
            .filter(|(m, _, _, _)| m == name)
            .map(|(_, _, _, n)| n)
            .sum()
    };
    SummaryView {
        customer_id: customer,
        balances,
        goodwill_received,
        memo: MemoView {
            free_service_retail_value: memo_money("free_service_retail_value"),
            favour_estimated_value: memo_money("favour_estimated_value"),
            favours: memo_count("favours") + memo_count("favour_estimated_value"),
        },
        promises: PromisesView {
            open: i64::try_from(
                open.iter()
                    .filter(|g| g.kind == GestureKind::DeferredPayment)
                    .count(),
            )
            .unwrap_or(0),
            kept_on_time: memo_count("promises_kept_on_time"),
            kept_late: memo_count("promises_kept_late"),
            written_off: memo_count("promises_written_off"),
        },
        recognitions: memo_count("recognitions"),
        last_activity_at: last.map(|t| timestamp(&t)),
    }
}

/// A customer's standing beside an item someone decides on (the approval
/// queue, the write-off review): what they owe, the goodwill they received this
/// calendar year, and how they keep promises.
#[derive(Serialize, Clone)]
pub struct CustomerStanding {
    id: CustomerId,
    owed: Vec<Money>,
    goodwill_this_year: Vec<Money>,
    promises_kept_on_time: i64,
    promises_kept_late: i64,
    promises_written_off: i64,
    /// The customer's value from the current model, and the item's share of
    /// it; null without a model or a purchase.
    value: Option<StandingValue>,
}

/// A customer's value beside an item someone decides on.
#[derive(Serialize, Clone)]
pub struct StandingValue {
    model_version: i32,
    probability_alive: f64,
    lifetime_value: Money,
    /// The item's amount over the lifetime value (null when that is zero).
    share_of_lifetime_value: Option<f64>,
    /// The policy's value-aware budget for this customer, if it has one.
    goodwill_ceiling: Option<super::value::CeilingView>,
    /// Whether the goodwill granted within the ceiling's window plus this
    /// item stays within it (null without a ceiling). For an item already in
    /// effect, the window includes it.
    within_ceiling: Option<bool>,
}

/// Reads a customer's standing: maintained balances and totals, the
/// goodwill granted this calendar year, and their value beside `item` (what
/// is being decided, in its currency; `counted`: whether the item is already
/// among the goodwill granted).
pub fn standing(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    customer: CustomerId,
    now: chrono::NaiveDateTime,
    item: Option<Money>,
    counted: bool,
) -> Result<CustomerStanding, AppError> {
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
    let count = |name: &str| -> i64 {
        memos
            .iter()
            .filter(|(m, _, _, _)| m == name)
            .map(|(_, _, _, n)| n)
            .sum()
    };
    Ok(CustomerStanding {
        id: customer,
        owed,
        goodwill_this_year,
        promises_kept_on_time: count("promises_kept_on_time"),
        promises_kept_late: count("promises_kept_late"),
        promises_written_off: count("promises_written_off"),
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
) -> Result<Option<StandingValue>, AppError> {
    let c = item.currency();
    let e = crate::store::value::estimate(
        conn,
        tenant,
        customer,
        Some(c),
        now.date(),
        crate::store::value::Horizon::default(),
    )?;
    let crate::store::value::Estimate::Valued {
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
            .map(|x| super::value::CeilingView::of(x, c)),
        within_ceiling: within,
    }))
}
