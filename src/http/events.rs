//! The event feed: every change, in commit order, exactly once to a consumer
//! that polls with the last id it saw.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{AppState, Caller, ListResponse, QueryParams, timestamp};
use crate::domain::Problems;
use crate::domain::ids::{AuditEventId, CustomerId, StoreId};
use crate::error::Error;
use crate::http::AppError;

/// One event.
#[derive(Serialize)]
pub(crate) struct EventView {
    id: AuditEventId,
    #[serde(rename = "type")]
    event_type: String,
    entity_type: String,
    entity_id: String,
    data: serde_json::Value,
    /// The customer the event is about (from `data.customer_id`), as people
    /// know them now; null when it names none.
    customer: Option<crate::views::finance::CustomerRef>,
    /// The store (from `data.store_id`), likewise.
    store: Option<crate::views::finance::StoreRef>,
    created_at: String,
}

/// The id of `entity` an event names: its own id when it is about one, else
/// the one its data names under `{entity}_id`.
fn named<T: std::str::FromStr>(
    entity_type: &str,
    data: &serde_json::Value,
    entity: &str,
) -> Option<T> {
    let key = if entity_type == entity {
        "id".to_owned()
    } else {
        format!("{entity}_id")
    };
    data.get(key)?.as_str()?.parse().ok()
}

/// Query of `GET /v1/events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/events?starting_after=&limit=`: events after the given one, in the
/// order their transactions committed. Poll with the id of the last event seen.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<FeedQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = super::extract::page_request::<AuditEventId>(
        q.limit.as_deref(),
        q.starting_after.as_deref(),
        &mut p,
    );
    p.finish().map_err(Error::Validation)?;
    let (tenant, stores) = (caller.tenant, caller.stores.clone());
    let (data, has_more) = state
        // Not in one transaction: the page must be read in a statement after the
        // horizon's (see store::events), whatever the default isolation level.
        .with_conn(move |conn| {
            let (rows, has_more) = crate::store::events::page(
                conn,
                tenant,
                stores.as_deref(),
                page.starting_after,
                page.limit,
            )?;
            let data: Vec<serde_json::Value> = rows
                .iter()
                .map(|e| serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null))
                .collect();
            let mut names = crate::app::names::Names::load(conn, tenant)?;
            let customers: Vec<CustomerId> = rows
                .iter()
                .zip(&data)
                .filter_map(|(e, d)| named(&e.entity_type, d, "customer"))
                .collect();
            names.prefetch_customers(conn, &customers)?;
            let mut views = Vec::with_capacity(rows.len());
            for (e, data) in rows.into_iter().zip(data) {
                let customer = match named::<CustomerId>(&e.entity_type, &data, "customer") {
                    Some(c) => Some(names.customer_ref(conn, c)?),
                    None => None,
                };
                views.push(EventView {
                    id: e.id,
                    customer,
                    store: named::<StoreId>(&e.entity_type, &data, "store")
                        .map(|s| names.store_ref(s)),
                    data,
                    event_type: e.event_type,
                    entity_type: e.entity_type,
                    entity_id: e.entity_id,
                    created_at: timestamp(&e.created_at),
                });
            }
            Ok::<_, Error>((views, has_more))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::of(data, has_more, |e| e.id.to_string())))
}
