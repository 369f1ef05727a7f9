//! `/v1/sales`: what the point of sale sold, and its refunds. The purchase
//! history the customer value model is fitted on; nothing here posts to the
//! ledger.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::{BATCH_BODY_LIMIT, page_request, query_store};
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::ids::{CustomerId, SaleId, StoreId};
use crate::domain::money::{Money, MoneyInput};
use crate::domain::sale::{self, BATCH_MAX};
use crate::domain::{FieldError, Problems, text};
use crate::error::Error;
use crate::http::AppError;
use crate::store::sales::{Buyer, LineOutcome, NewSale};
use crate::views::sale::{RefundView, SaleView};

/// One sale as a request carries it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SaleInput {
    customer_id: Option<CustomerId>,
    customer_external_ref: Option<String>,
    store_id: StoreId,
    sale_ref: String,
    occurred_at: String,
    amount: MoneyInput,
}

/// Checks a sale's shape: exactly one buyer reference, a reference, a time, an
/// amount of zero or more.
pub(crate) fn parse_sale(input: SaleInput) -> Result<NewSale, Vec<FieldError>> {
    let mut p = Problems::default();
    let buyer = match (input.customer_id, input.customer_external_ref) {
        (Some(id), None) => Some(Buyer::Id(id)),
        (None, Some(r)) => p
            .take(text::reference("customer_external_ref", &r, 200))
            .map(Buyer::ExternalRef),
        (Some(_), Some(_)) => {
            p.push(
                "customer_external_ref",
                "give customer_id or customer_external_ref, not both",
            );
            None
        }
        (None, None) => {
            p.push("customer_id", "give customer_id or customer_external_ref");
            None
        }
    };
    let sale_ref = p.take(sale::parse_sale_ref("sale_ref", &input.sale_ref));
    let when = p.take(sale::parse_occurred_at("occurred_at", &input.occurred_at));
    let amount = p.take(Money::parse("amount", &input.amount, true));
    p.finish()?;
    match (buyer, sale_ref, when, amount) {
        (Some(buyer), Some(sale_ref), Some((occurred_at, sale_date)), Some(amount)) => {
            Ok(NewSale {
                buyer,
                store_id: input.store_id,
                sale_ref,
                occurred_at,
                sale_date,
                amount,
            })
        }
        _ => Err(vec![FieldError::new("body", "is incomplete")]),
    }
}

/// `POST /v1/sales`: 201 with the sale; a `sale_ref` already recorded at the
/// store → 409 `duplicate_sale` naming it.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<SaleInput>,
) -> Result<HttpResponse, AppError> {
    let (input, raw) = body.into_parts();
    let new = parse_sale(input).map_err(Error::Validation)?;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let s = crate::app::sales::record_sale(conn, ctx, new)?;
            Ok(Reply::created(&SaleView::of(&s, Some(&[]))))
        })
        .await
}

/// Body of `POST /v1/sales/batch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchInput {
    sales: Vec<serde_json::Value>,
}

/// One line's outcome.
#[derive(Serialize)]
pub(crate) struct LineView {
    index: usize,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sale: Option<SaleView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<SaleId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldError>>,
}

/// The answer to a batch.
#[derive(Serialize)]
pub(crate) struct BatchView {
    created: usize,
    duplicates: usize,
    errors: usize,
    results: Vec<LineView>,
}

/// `POST /v1/sales/batch` (up to 1,000 sales, 4 MiB): 200 with each line's
/// outcome, `created`, `duplicate` (naming the existing sale) or `error`
/// (with the fields at fault). Valid lines are kept; invalid ones change
/// nothing. A line at a store the token may not act at is an error line.
pub(crate) async fn batch(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<BatchInput, BATCH_BODY_LIMIT>,
) -> Result<HttpResponse, AppError> {
    let (input, raw) = body.into_parts();
    if input.sales.is_empty() || input.sales.len() > BATCH_MAX {
        return Err(Error::field("sales", format!("must hold 1 to {BATCH_MAX} sales")).into());
    }
    let lines: Vec<Result<NewSale, Vec<FieldError>>> = input
        .sales
        .into_iter()
        .map(|v| {
            let parsed = serde_json::from_value::<SaleInput>(v).map_err(|e| {
                let msg = e.to_string();
                vec![FieldError::new(
                    "body",
                    msg.split(" at line ").next().unwrap_or(&msg),
                )]
            })?;
            parse_sale(parsed)
        })
        .collect();
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let outcomes = crate::app::sales::record_sales(conn, ctx, lines)?;
            let mut view = BatchView {
                created: 0,
                duplicates: 0,
                errors: 0,
                results: Vec::with_capacity(outcomes.len()),
            };
            for (index, o) in outcomes.into_iter().enumerate() {
                view.results.push(match o {
                    LineOutcome::Created(s) => {
                        view.created += 1;
                        LineView {
                            index,
                            status: "created",
                            sale: Some(SaleView::of(&s, None)),
                            existing_id: None,
                            errors: None,
                        }
                    }
                    LineOutcome::Duplicate(id) => {
                        view.duplicates += 1;
                        LineView {
                            index,
                            status: "duplicate",
                            sale: None,
                            existing_id: Some(id),
                            errors: None,
                        }
                    }
                    LineOutcome::Error(errs) => {
                        view.errors += 1;
                        LineView {
                            index,
                            status: "error",
                            sale: None,
                            existing_id: None,
                            errors: Some(errs),
                        }
                    }
                });
            }
            Ok(Reply::ok(&view))
        })
        .await
}

/// `GET /v1/sales/{id}`: with its refunds.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SaleId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let v = state
        .read(move |conn| {
            let s = crate::store::sales::get(conn, tenant, id)?;
            // What happened at a store is read only by tokens that hold it.
            caller.require_store(s.store_id)?;
            let refunds = crate::store::sales::refunds(conn, tenant, &s)?;
            Ok::<_, AppError>(SaleView::of(&s, Some(&refunds)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Query of `GET /v1/sales`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    customer_id: Option<String>,
    store_id: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/sales?customer_id=&store_id=`: oldest first.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request::<SaleId>(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let store_id = query_store(q.store_id.as_deref(), &mut p);
    let customer_id = q.customer_id.as_deref().and_then(|s| {
        let r = s.parse::<CustomerId>().ok();
        if r.is_none() {
            p.push("customer_id", "must be a customer id");
        }
        r
    });
    p.finish().map_err(Error::Validation)?;
    if let Some(s) = store_id {
        caller.require_store(s)?;
    }
    let tenant = caller.tenant;
    let filter = crate::store::sales::Filter {
        customer_id,
        store_id,
        stores: caller.stores.clone(),
    };
    let page = state
        .read(move |conn| crate::store::sales::list(conn, tenant, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |s| SaleView::of(s, None),
        |s| s.id.to_string(),
    )))
}

/// Body of `POST /v1/sales/{id}/refunds`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundInput {
    amount: MoneyInput,
    reason: Option<String>,
}

/// A refund with the sale it belongs to.
#[derive(Serialize)]
pub(crate) struct RefundCreated {
    #[serde(flatten)]
    refund: RefundView,
    sale: SaleView,
}

/// `POST /v1/sales/{id}/refunds`: 201 with the refund and the sale after it;
/// more than is left of the sale → 422 `refund_exceeds_sale`.
pub(crate) async fn refund(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    id: web::Path<SaleId>,
    body: JsonBody<RefundInput>,
) -> Result<HttpResponse, AppError> {
    let (input, raw) = body.into_parts();
    let mut p = Problems::default();
    let amount = p.take(Money::parse("amount", &input.amount, false));
    let reason = input
        .reason
        .as_deref()
        .and_then(|r| p.take(text::required_line_multi("reason", r, 2000)));
    p.finish().map_err(Error::Validation)?;
    let Some(amount) = amount else {
        return Err(AppError::from(Error::field("amount", "is required")));
    };
    let id = id.into_inner();
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let (after, refunds, r) =
                crate::app::sales::refund_sale(conn, ctx, id, amount, reason)?;
            Ok(Reply::created(&RefundCreated {
                refund: RefundView::from(&r),
                sale: SaleView::of(&after, Some(&refunds)),
            }))
        })
        .await
}
