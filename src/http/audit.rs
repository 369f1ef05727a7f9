//! `/v1/audit`: the trail, its verification, and checkpoints (finance, auditor,
//! admin).

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, ListResponse, QueryParams, timestamp};
use crate::audit::{Checkpoint, Event};
use crate::domain::Problems;
use crate::domain::ids::AuditEventId;
use crate::error::Error;
use crate::http::AppError;

/// The actor of an event.
#[derive(Serialize)]
pub(crate) struct ActorView {
    sub: String,
    role: String,
    stores: Option<serde_json::Value>,
}

/// An event as the API shows it.
#[derive(Serialize)]
pub(crate) struct EventView {
    id: AuditEventId,
    chain: String,
    position: i64,
    occurred_at: String,
    actor: ActorView,
    action: String,
    entity_type: String,
    entity_id: String,
    reason: Option<String>,
    request_id: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    ledger: Option<serde_json::Value>,
    prev_hash: String,
    hash: String,
}

fn json_of(s: &Option<String>) -> Option<serde_json::Value> {
    s.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id,
            chain: e.chain.clone(),
            position: e.seq,
            occurred_at: timestamp(&e.occurred_at),
            actor: ActorView {
                sub: e.actor_sub.clone(),
                role: e.actor_role.clone(),
                stores: json_of(&e.actor_stores),
            },
            action: e.action.clone(),
            entity_type: e.entity_type.clone(),
            entity_id: e.entity_id.clone(),
            reason: e.reason.clone(),
            request_id: e.request_id.clone(),
            before: json_of(&e.before_state),
            after: json_of(&e.after_state),
            ledger: json_of(&e.ledger),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// Query of `GET /v1/audit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

fn parse_time(field: &str, v: &str, p: &mut Problems) -> Option<NaiveDateTime> {
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(t) => Some(t.naive_utc()),
        Err(_) => {
            p.push(
                field,
                "must be an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z",
            );
            None
        }
    }
}

fn bounded(field: &str, v: Option<String>, p: &mut Problems) -> Option<String> {
    v.and_then(|s| p.take(crate::domain::text::required_line(field, &s, 255)))
}

/// `GET /v1/audit?entity_type=&entity_id=&actor=&action=&from=&to=`.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let filter = crate::store::audit::Filter {
        entity_type: bounded("entity_type", q.entity_type, &mut p),
        entity_id: bounded("entity_id", q.entity_id, &mut p),
        actor: bounded("actor", q.actor, &mut p),
        action: bounded("action", q.action, &mut p),
        from: q
            .from
            .as_deref()
            .and_then(|v| parse_time("from", v, &mut p)),
        to: q.to.as_deref().and_then(|v| parse_time("to", v, &mut p)),
        stores: caller.stores.clone(),
    };
    p.finish().map_err(Error::Validation)?;
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::audit::list(conn, tenant, &filter, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |e| EventView::from(e),
        |e| e.id.to_string(),
    )))
}

/// `GET /v1/audit/verify`: 200 when every chain of the tenant is intact, else 409
/// `audit_chain_broken` naming the first broken link.
pub(crate) async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let report = state
        .read(move |conn| crate::store::audit::verify(conn, Some(tenant)))
        .await?;
    if let Some(b) = report.broken {
        return Err(AppError::from(Error::AuditBroken(b)));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "intact": true,
        "chains": report.heads.len(),
        "events": report.events,
    })))
}

/// `GET /v1/audit/checkpoint`: verifies, then returns every chain's head and a
/// digest over them, for an operator to keep outside the database.
pub(crate) async fn checkpoint(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let report = state
        .read(move |conn| crate::store::audit::verify(conn, Some(tenant)))
        .await?;
    if let Some(b) = report.broken {
        return Err(AppError::from(Error::AuditBroken(b)));
    }
    Ok(HttpResponse::Ok().json(Checkpoint::take(
        report.heads,
        report.events,
        state.clock.now(),
    )))
}
