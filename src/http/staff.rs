//! `/v1/staff`: the people who act for stores. An admin creates staff for any
//! store, a manager only for stores their token holds; a store-scoped token sees
//! only the staff of its stores.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::Problems;
use crate::domain::ids::{StaffId, StoreId};
use crate::domain::staff::NewStaff;
use crate::error::{Error, ErrorCode};
use crate::http::AppError;
use crate::views::staff::StaffView;

/// Body of `POST /v1/staff`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStaff {
    name: String,
    store_ids: Vec<StoreId>,
    external_ref: Option<String>,
    subject: Option<String>,
}

/// `POST /v1/staff`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<CreateStaff>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let new = NewStaff::parse(
        &b.name,
        &b.store_ids,
        b.external_ref.as_deref(),
        b.subject.as_deref(),
    )
    .map_err(Error::Validation)?;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let staff = crate::app::staff::add_staff(conn, ctx, new)?;
            Ok(Reply::created(&StaffView::from(&staff)))
        })
        .await
}

/// `GET /v1/staff/{id}`.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<StaffId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let staff = state
        .read(move |conn| crate::store::staff::get(conn, tenant, id))
        .await?;
    if !staff.store_ids.iter().any(|s| caller.may_act_at(*s)) {
        return Err(Error::Forbidden {
            code: ErrorCode::StoreScope,
            detail: format!("staff member {id} works at none of this token's stores"),
        }
        .into());
    }
    Ok(HttpResponse::Ok().json(StaffView::from(&staff)))
}

/// Query of `GET /v1/staff`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    store_id: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/staff?store_id=`.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let store = q
        .store_id
        .as_deref()
        .and_then(|s| match s.parse::<StoreId>() {
            Ok(id) => Some(id),
            Err(_) => {
                p.push("store_id", "must be a store id");
                None
            }
        });
    p.finish().map_err(Error::Validation)?;
    let stores = caller.scope(store)?;
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::staff::list(conn, tenant, stores, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |s| StaffView::from(s),
        |s| s.id.to_string(),
    )))
}
