//! `/v1/incidents`: what went wrong (manager of the store, admin), read by every
//! role with the gestures that answer it.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AppState, Caller, Idem, JsonBody, Reply};
use crate::domain::ids::{IncidentId, StaffId, StoreId};
use crate::error::Error;
use crate::http::AppError;
use crate::views::gesture::GestureView;
use crate::views::incident::view;

/// Body of `POST /v1/incidents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIncident {
    store_id: StoreId,
    cause: String,
    #[serde(default)]
    staff_ids: Vec<StaffId>,
    description: String,
}

/// `POST /v1/incidents`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<CreateIncident>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let new = crate::app::incidents::NewIncident::parse(
        b.store_id,
        &b.cause,
        b.staff_ids,
        &b.description,
    )
    .map_err(Error::Validation)?;
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let i = crate::app::incidents::record_incident(conn, ctx, new)?;
            Ok(Reply::created(&view(&i, Vec::new())))
        })
        .await
}

/// `GET /v1/incidents/{id}`: with its gestures as full objects.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<IncidentId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let today = state.clock.now().date();
    let v = state
        .read(move |conn| {
            let (i, gestures) = crate::store::incidents::get(conn, tenant, id)?;
            caller.require_store(i.store_id)?;
            // A recovery gesture at a store the token does not hold is not
            // the token's to read, though it answers this incident.
            Ok::<_, AppError>(view(
                &i,
                gestures
                    .iter()
                    .filter(|g| caller.may_act_at(g.store_id))
                    .map(|g| GestureView::of(g, today, None))
                    .collect(),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Query of `GET /v1/incidents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    store_id: Option<String>,
    cause: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/incidents?store_id=&cause=&from=&to=`: incidents in the order they
/// were reported (`from`/`to`: dates, inclusive, UTC), at one store or every
/// store the token holds, each with its store's code and name.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: super::QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = crate::domain::Problems::default();
    let page =
        super::extract::page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let from = super::extract::query_date("from", q.from.as_deref(), &mut p);
    let to = super::extract::query_date("to", q.to.as_deref(), &mut p);
    let cause = q
        .cause
        .as_deref()
        .and_then(|c| p.take(crate::domain::gesture::parse_reason_code("cause", c)));
    p.finish().map_err(Error::Validation)?;
    let stores = caller.scope(store_id)?;
    let filter = crate::store::incidents::Filter {
        stores,
        cause,
        from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        to: to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
    };
    let tenant = caller.tenant;
    let (found, names) = state
        .read(move |conn| {
            let found = crate::store::incidents::list(conn, tenant, &filter, page)?;
            let names = crate::app::names::Names::load(conn, tenant)?;
            Ok::<_, AppError>((found, names))
        })
        .await?;
    Ok(HttpResponse::Ok().json(super::ListResponse::from_page(
        found,
        |i| crate::views::incident::IncidentListItem {
            id: i.id,
            store_id: i.store_id,
            store: names.store_ref(i.store_id),
            cause: i.cause.clone(),
            staff_ids: i.staff_ids.clone(),
            description: i.description.clone(),
            reported_by: i.reported_by.clone(),
            created_at: crate::views::timestamp(&i.created_at),
        },
        |i| i.id.to_string(),
    )))
}
