//! `/v1/stores`: the tenant's locations (admin creates; every role reads).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::Problems;
use crate::domain::ids::StoreId;
use crate::domain::store::NewStore;
use crate::error::Error;
use crate::http::AppError;
use crate::views::store::StoreView;

/// Body of `POST /v1/stores`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStore {
    name: String,
    code: String,
    currency: String,
    time_zone: Option<String>,
}

/// `POST /v1/stores`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<CreateStore>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let new = NewStore::parse(&b.name, &b.code, &b.currency, b.time_zone.as_deref())
        .map_err(Error::Validation)?;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let store = crate::app::stores::open_store(conn, ctx, new)?;
            Ok(Reply::created(&StoreView::from(&store)))
        })
        .await
}

/// `GET /v1/stores/{id}`.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<StoreId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let store = state
        .read(move |conn| crate::store::stores::get(conn, tenant, id))
        .await?;
    Ok(HttpResponse::Ok().json(StoreView::from(&store)))
}

/// Query of `GET /v1/stores`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/stores`.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::stores::list(conn, tenant, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |s| StoreView::from(s),
        |s| s.id.to_string(),
    )))
}
