//! The event feed: every change, in commit order, exactly once to a consumer
//! that polls with the last id it saw.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{AppState, Caller, ListResponse, QueryParams, timestamp};
use crate::domain::Problems;
use crate::domain::ids::AuditEventId;
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
    created_at: String,
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
    let (rows, has_more) = state
        // Not in one transaction: the page must be read in a statement after the
        // horizon's (see store::events), whatever the default isolation level.
        .with_conn(move |conn| {
            crate::store::events::page(
                conn,
                tenant,
                stores.as_deref(),
                page.starting_after,
                page.limit,
            )
        })
        .await?;
    let data: Vec<EventView> = rows
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
            event_type: e.event_type,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            created_at: timestamp(&e.created_at),
        })
        .collect();
    let next_cursor = if has_more {
        data.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ListResponse {
        data,
        has_more,
        next_cursor,
    }))
}
