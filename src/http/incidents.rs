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
