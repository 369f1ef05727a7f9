//! `/v1/customers`: tenant-wide (a customer who owes at one store may turn up at
//! another), created and updated by the counter roles, read by every role.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{double_option, page_request};
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::customer::{CustomerPatch, NewCustomer};
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::{Problems, text};
use crate::error::Error;
use crate::http::AppError;
use crate::views::customer::CustomerView;

/// Body of `POST /v1/customers`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCustomer {
    external_ref: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    home_store_id: Option<StoreId>,
}

/// Body of `PATCH /v1/customers/{id}`: absent leaves a field alone; `null`
/// clears an optional one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCustomer {
    #[serde(default, deserialize_with = "double_option")]
    external_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    home_store_id: Option<Option<StoreId>>,
}

/// `POST /v1/customers`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<CreateCustomer>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let new = NewCustomer::parse(
        &b.external_ref,
        &b.name,
        b.email.as_deref(),
        b.phone.as_deref(),
        b.home_store_id,
    )
    .map_err(Error::Validation)?;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let customer = crate::app::customers::create_customer(conn, ctx, new)?;
            Ok(Reply::created(&CustomerView::from(&customer)))
        })
        .await
}

/// `GET /v1/customers/{id}`.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let c = state
        .read(move |conn| crate::store::customers::get(conn, tenant, id))
        .await?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&c)))
}

/// `GET /v1/customers/by-ref/{external_ref}`: the customer the POS knows by
/// this reference.
pub(crate) async fn get_by_ref(
    state: web::Data<AppState>,
    caller: Caller,
    external_ref: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (tenant, key) = (
        caller.tenant,
        crate::app::customers::CustomerKey::Ref(external_ref.into_inner()),
    );
    let c = state
        .read(move |conn| {
            let id = key.resolve(conn, tenant)?;
            crate::store::customers::get(conn, tenant, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&c)))
}

/// `PATCH /v1/customers/{id}`.
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<CustomerId>,
    idem: Idem,
    body: JsonBody<UpdateCustomer>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let mut nulls = Problems::default();
    for (field, value) in [("external_ref", &b.external_ref), ("name", &b.name)] {
        if matches!(value, Some(None)) {
            nulls.push(field, "cannot be null");
        }
    }
    nulls.finish().map_err(Error::Validation)?;
    let patch = CustomerPatch::parse(
        b.external_ref.as_ref().and_then(Option::as_deref),
        b.name.as_ref().and_then(Option::as_deref),
        b.email.as_ref().map(Option::as_deref),
        b.phone.as_ref().map(Option::as_deref),
        b.home_store_id,
    )
    .map_err(Error::Validation)?;
    let id = id.into_inner();
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let after = crate::app::customers::update_customer(conn, ctx, id, &patch)?;
            Ok(Reply::ok(&CustomerView::from(&after)))
        })
        .await
}

/// Query of `GET /v1/customers`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    external_ref: Option<String>,
    q: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/customers?external_ref=&q=&limit=&starting_after=`.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let external_ref = q
        .external_ref
        .as_deref()
        .and_then(|r| p.take(text::reference("external_ref", r, 200)));
    let search =
        q.q.as_deref()
            .and_then(|s| p.take(text::required_line("q", s, 200)));
    p.finish().map_err(Error::Validation)?;
    let filter = crate::store::customers::Filter {
        external_ref,
        q: search,
    };
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::customers::list(conn, tenant, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |c| CustomerView::from(c),
        |c| c.id.to_string(),
    )))
}
