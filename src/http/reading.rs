//! Reading the ledger: a customer's entries and timeline, entries by account, and
//! a gesture with everything it touched.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, ListResponse, QueryParams, timestamp};
use crate::domain::Problems;
use crate::domain::ids::{CustomerId, EntryId, GestureId, LedgerTxId, PaymentId, RedemptionId};
use crate::domain::money::{Currency, Money};
use crate::error::{Error, ErrorCode};
use crate::http::AppError;
use crate::store::reading::{Entry, EntryFilter, TimelineItem};
use crate::views::gesture::GestureView;
use crate::views::payment::PaymentView;

/// An entry as the API shows it.
#[derive(Serialize)]
pub(crate) struct EntryView {
    id: EntryId,
    transaction_id: LedgerTxId,
    transaction_kind: String,
    gesture_id: Option<GestureId>,
    payment_id: Option<PaymentId>,
    redemption_id: Option<RedemptionId>,
    reverses: Option<LedgerTxId>,
    account: String,
    customer_id: Option<CustomerId>,
    side: &'static str,
    amount: Money,
    effective_on: NaiveDate,
    created_at: String,
}

impl EntryView {
    fn of(e: &Entry) -> Result<Self, AppError> {
        let currency = Currency::from_code(&e.currency)
            .ok_or_else(|| Error::internal(format!("entry {} has unknown currency", e.id)))?;
        let (side, minor) = if e.debit_minor > 0 {
            ("debit", e.debit_minor)
        } else {
            ("credit", e.credit_minor)
        };
        Ok(Self {
            id: e.id,
            transaction_id: e.transaction_id,
            transaction_kind: e.kind.clone(),
            gesture_id: e.gesture_id,
            payment_id: e.payment_id,
            redemption_id: e.redemption_id,
            reverses: e.reverses,
            account: e.account.clone(),
            customer_id: e.customer_id,
            side,
            amount: Money::from_minor(minor, currency),
            effective_on: e.effective_on,
            created_at: timestamp(&e.created_at),
        })
    }
}

/// Query of the entry lists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryQuery {
    account: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

fn date(field: &str, v: Option<&str>, p: &mut Problems) -> Option<NaiveDate> {
    v.and_then(|s| match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            p.push(field, "must be a date YYYY-MM-DD");
            None
        }
    })
}

async fn list_entries(
    state: web::Data<AppState>,
    caller: Caller,
    q: EntryQuery,
    customer: Option<CustomerId>,
) -> Result<HttpResponse, AppError> {
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let account = q.account.as_deref().and_then(|a| {
        if crate::domain::ledger::Account::parse(a).is_none() {
            p.push(
                "account",
                "must be an account like receivable:<customer id> or writeoff_expense",
            );
            None
        } else {
            Some(a.to_owned())
        }
    });
    let from = date("from", q.from.as_deref(), &mut p);
    let to = date("to", q.to.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    if customer.is_none() && caller.stores.is_some() {
        // The ledger by account for a token confined to some stores: a
        // store's accounts at its own stores, and customers' accounts (their
        // standing is tenant-wide); an account that gathers every store's
        // postings, or the whole ledger, needs a token of every store.
        let parsed = account
            .as_deref()
            .and_then(crate::domain::ledger::Account::parse);
        match parsed.map(|a| (a.customer(), a.store())) {
            Some((Some(_), _)) => {}
            Some((None, Some(store))) => caller.require_store(store)?,
            _ => {
                return Err(Error::Forbidden {
                    code: ErrorCode::StoreScope,
                    detail: "this account (or the whole ledger) holds every store's postings: it needs a token without a stores claim".into(),
                }.into());
            }
        }
    }
    let filter = EntryFilter {
        customer_id: customer,
        account,
        gesture_id: None,
        from,
        to,
    };
    let tenant = caller.tenant;
    let (page, views) = state
        .read(move |conn| {
            if let Some(c) = customer {
                crate::store::customers::get(conn, tenant, c)?;
            }
            let page = crate::store::reading::entries(conn, tenant, &filter, page)?;
            let views = page
                .items
                .iter()
                .map(EntryView::of)
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, AppError>((page, views))
        })
        .await?;
    let next_cursor = if page.has_more {
        page.items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ListResponse {
        data: views,
        has_more: page.has_more,
        next_cursor,
    }))
}

/// `GET /v1/customers/{id}/entries`: the entries of the customer's transactions.
pub(crate) async fn customer_entries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
    query: QueryParams<EntryQuery>,
) -> Result<HttpResponse, AppError> {
    list_entries(state, caller, query.0, Some(id.into_inner())).await
}

/// `GET /v1/ledger/entries?account=&from=&to=`.
pub(crate) async fn ledger_entries(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<EntryQuery>,
) -> Result<HttpResponse, AppError> {
    list_entries(state, caller, query.0, None).await
}

/// One timeline item. An item of a store the token does not hold shows only
/// the customer's standing in it (`standing`); the gesture, payment or
/// redemption itself (its story, staff, decision, who recorded it) is null.
#[derive(Serialize)]
pub(crate) struct TimelineView {
    #[serde(rename = "type")]
    kind: &'static str,
    id: uuid::Uuid,
    occurred_at: String,
    gesture: Option<GestureView>,
    payment: Option<PaymentView>,
    redemption: Option<crate::views::payment::RedemptionView>,
    standing: Option<StandingView>,
}

/// What an item at another store means for the customer's standing: its
/// kind, amount, status and dates, nothing of what happened there.
#[derive(Serialize)]
pub(crate) struct StandingView {
    store_id: crate::domain::ids::StoreId,
    kind: Option<crate::domain::gesture::GestureKind>,
    status: Option<String>,
    amount: Option<Money>,
    outstanding: Option<Money>,
    overdue: Option<bool>,
    effective_on: Option<NaiveDate>,
    due_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
}

impl StandingView {
    fn of_gesture(g: &crate::domain::gesture::Gesture, today: NaiveDate) -> Self {
        use crate::domain::gesture::{GestureKind, Terms};
        let is_promise = g.kind == GestureKind::DeferredPayment;
        Self {
            store_id: g.store_id,
            kind: Some(g.kind),
            status: Some(g.status.as_str().to_owned()),
            amount: g.terms.value(),
            outstanding: g
                .outstanding_minor()
                .map(|m| Money::from_minor(m, g.currency)),
            overdue: is_promise.then(|| g.is_overdue(today)),
            effective_on: Some(g.effective_on),
            due_on: match g.terms {
                Terms::DeferredPayment { due_on, .. } => Some(due_on),
                _ => None,
            },
            expires_on: match g.terms {
                Terms::StoreCredit { expires_on, .. } => expires_on,
                _ => None,
            },
        }
    }
}

/// Query of the timeline.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimelineQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/customers/{id}/timeline`: gestures, payments and redemptions, newest
/// first; `starting_after` continues with older items.
pub(crate) async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
    query: QueryParams<TimelineQuery>,
) -> Result<HttpResponse, AppError> {
    let mut p = Problems::default();
    let page = page_request::<uuid::Uuid>(
        query.0.limit.as_deref(),
        query.0.starting_after.as_deref(),
        &mut p,
    );
    p.finish().map_err(Error::Validation)?;
    let (tenant, customer, today) = (caller.tenant, id.into_inner(), state.clock.now().date());
    let (views, has_more) = state
        .read(move |conn| {
            crate::store::customers::get(conn, tenant, customer)?;
            let page = crate::store::reading::timeline(
                conn,
                tenant,
                customer,
                page.limit,
                page.starting_after,
            )?;
            let mut views = Vec::with_capacity(page.items.len());
            for item in &page.items {
                let blank = |kind, id: uuid::Uuid, at: &chrono::NaiveDateTime| TimelineView {
                    kind,
                    id,
                    occurred_at: timestamp(at),
                    gesture: None,
                    payment: None,
                    redemption: None,
                    standing: None,
                };
                views.push(match item {
                    TimelineItem::Gesture(g) => {
                        let mut v = blank("gesture", g.id.0, &g.created_at);
                        if caller.may_act_at(g.store_id) {
                            v.gesture = Some(GestureView::of(g, today, None));
                        } else {
                            v.standing = Some(StandingView::of_gesture(g, today));
                        }
                        v
                    }
                    TimelineItem::Payment(pay) => {
                        let mut v = blank("payment", pay.id.0, &pay.created_at);
                        let view = PaymentView::of(pay)?;
                        if caller.may_act_at(pay.store_id) {
                            v.payment = Some(view);
                        } else {
                            v.standing = Some(StandingView {
                                store_id: pay.store_id,
                                kind: None,
                                status: Some(pay.status.clone()),
                                amount: Some(view.amount()),
                                outstanding: None,
                                overdue: None,
                                effective_on: Some(pay.created_at.date()),
                                due_on: None,
                                expires_on: None,
                            });
                        }
                        v
                    }
                    TimelineItem::Redemption(r) => {
                        let mut v = blank("redemption", r.id.0, &r.created_at);
                        if caller.may_act_at(r.store_id) {
                            v.redemption = Some(crate::views::payment::RedemptionView::of(r));
                        } else {
                            v.standing = Some(StandingView {
                                store_id: r.store_id,
                                kind: None,
                                status: None,
                                amount: Some(r.amount),
                                outstanding: None,
                                overdue: None,
                                effective_on: Some(r.created_at.date()),
                                due_on: None,
                                expires_on: None,
                            });
                        }
                        v
                    }
                });
            }
            Ok::<_, AppError>((views, page.has_more))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::of(views, has_more, |v| v.id.to_string())))
}

/// A gesture with everything it touched.
#[derive(Serialize)]
pub(crate) struct GestureDetail {
    #[serde(flatten)]
    gesture: GestureView,
    entries: Vec<EntryView>,
    payments: Vec<PaymentView>,
    links: Links,
}

/// What a gesture points at, and what points at it.
#[derive(Serialize)]
pub(crate) struct Links {
    incident_id: Option<crate::domain::ids::IncidentId>,
    write_off_of: Option<GestureId>,
    written_off_by: Vec<GestureId>,
}

/// `GET /v1/gestures/{id}`: the gesture, its entries (its own, its payments' and
/// reversals'), its payments, and its links.
pub(crate) async fn gesture_detail(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id, today) = (caller.tenant, id.into_inner(), state.clock.now().date());
    let detail = state
        .read(move |conn| {
            let g = crate::store::gestures::get(conn, tenant, id)?;
            // Its story, staff and decision are the store's: read only by
            // tokens that hold it (the customer's standing is elsewhere).
            caller.require_store(g.store_id)?;
            let allocs = match g.kind {
                crate::domain::gesture::GestureKind::BalanceWaiver => {
                    Some(crate::store::gestures::allocations(conn, tenant, id)?)
                }
                _ => None,
            };
            let mut entries = Vec::new();
            let mut cursor = None;
            loop {
                let page = crate::store::reading::entries(
                    conn,
                    tenant,
                    &EntryFilter {
                        gesture_id: Some(id),
                        ..EntryFilter::default()
                    },
                    crate::store::PageRequest {
                        limit: 100,
                        starting_after: cursor,
                    },
                )?;
                cursor = page.items.last().map(|e| e.id);
                for e in &page.items {
                    entries.push(EntryView::of(e)?);
                }
                if !page.has_more {
                    break;
                }
            }
            let payments = crate::store::lifecycle::payments_of(conn, tenant, id)?
                .iter()
                .map(PaymentView::of)
                .collect::<Result<Vec<_>, _>>()?;
            let written_off_by = crate::store::gestures::waivers_of(conn, tenant, id)?;
            Ok::<_, AppError>(GestureDetail {
                links: Links {
                    incident_id: g.incident_id,
                    write_off_of: g.write_off_of,
                    written_off_by,
                },
                gesture: GestureView::of(&g, today, allocs),
                entries,
                payments,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}
