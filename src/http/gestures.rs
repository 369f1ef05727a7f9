//! Gestures: requesting one for a customer, reading and listing them, and the
//! customer's summary.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::app::customers::CustomerKey;
use crate::domain::Problems;
use crate::domain::gesture::{GestureInput, GestureKind, GestureStatus, NewGesture};
use crate::domain::ids::CustomerId;
use crate::error::Error;
use crate::http::AppError;
use crate::views::gesture::{GestureListItem, GestureView};

/// `POST /v1/customers/{id}/gestures`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    customer: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<GestureInput>,
) -> Result<HttpResponse, AppError> {
    let key = CustomerKey::Id(customer.into_inner());
    create_for(state, caller, key, idem, body).await
}

/// `POST /v1/customers/by-ref/{external_ref}/gestures`: the same, naming the
/// customer by the POS's own reference.
pub(crate) async fn create_by_ref(
    state: web::Data<AppState>,
    caller: Caller,
    external_ref: web::Path<String>,
    idem: Idem,
    body: JsonBody<GestureInput>,
) -> Result<HttpResponse, AppError> {
    let key = CustomerKey::Ref(external_ref.into_inner());
    create_for(state, caller, key, idem, body).await
}

async fn create_for(
    state: web::Data<AppState>,
    caller: Caller,
    customer: CustomerKey,
    idem: Idem,
    body: JsonBody<GestureInput>,
) -> Result<HttpResponse, AppError> {
    let (input, raw) = body.into_parts();
    let key = if input.kind.is_monetary() {
        Some(idem.require(&raw)?)
    } else {
        idem.bind(&raw)
    };
    let ng = NewGesture::parse(&input, state.clock.now().date()).map_err(Error::Validation)?;
    state
        .command(&caller, key, move |conn, ctx| {
            let customer = customer.resolve(conn, ctx.tenant)?;
            let r = crate::app::gestures::request_gesture(conn, ctx, customer, ng)?;
            Ok(Reply::created(&r.view(ctx.today())))
        })
        .await
}

/// Query of `GET /v1/gestures`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
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
pub(crate) async fn list(
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
    p.finish().map_err(Error::Validation)?;
    let stores = caller.scope(store_id)?;
    let today = state.clock.now().date();
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
        .read(move |conn| {
            let page = crate::store::gestures::list(conn, tenant, &filter, page)?;
            let mut names = crate::app::names::Names::load(conn, tenant)?;
            let ids: Vec<CustomerId> = page.items.iter().map(|g| g.customer_id).collect();
            names.prefetch_customers(conn, &ids)?;
            let mut items = Vec::with_capacity(page.items.len());
            for g in &page.items {
                items.push(GestureListItem {
                    gesture: GestureView::of(g, today, None),
                    customer: names.customer_ref(conn, g.customer_id)?,
                    store: names.store_ref(g.store_id),
                });
            }
            Ok::<_, AppError>((items, page.has_more))
        })
        .await?;
    let (items, has_more) = page;
    Ok(
        HttpResponse::Ok().json(ListResponse::of(items, has_more, |g| {
            g.gesture.id.to_string()
        })),
    )
}

/// `GET /v1/customers/{id}/summary`: what the customer owes, holds and received.
/// Its cost does not grow with the customer's history: it reads maintained
/// balances and totals, plus the customer's open promises and credit.
pub(crate) async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
) -> Result<HttpResponse, AppError> {
    summary_for(state, caller, CustomerKey::Id(id.into_inner())).await
}

/// `GET /v1/customers/by-ref/{external_ref}/summary`.
pub(crate) async fn summary_by_ref(
    state: web::Data<AppState>,
    caller: Caller,
    external_ref: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    summary_for(state, caller, CustomerKey::Ref(external_ref.into_inner())).await
}

async fn summary_for(
    state: web::Data<AppState>,
    caller: Caller,
    key: CustomerKey,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let today = state.clock.now().date();
    // One statement for a customer named by id (the figures and open items
    // together); one more to find a customer named by reference.
    let view = state
        .read_one(move |conn| {
            let customer = key.resolve(conn, tenant)?;
            crate::app::customers::load_summary(conn, tenant, customer, today)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
