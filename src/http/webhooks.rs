//! `/v1/webhook-endpoints` and `/v1/webhook-deliveries`: where the feed is
//! delivered, and how each delivery went (admin changes; finance, auditors
//! and admins read).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{double_option, page_request};
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::app::webhooks::{EndpointChange, NewEndpoint};
use crate::domain::Problems;
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::domain::webhook::{DESCRIPTION_MAX, DeliveryState, parse_event_types, parse_url};
use crate::error::Error;
use crate::http::AppError;
use crate::views::webhook::{DeliveryView, EndpointView, EndpointWithSecret};

/// Body of `POST /v1/webhook-endpoints`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpoint {
    url: String,
    #[serde(default)]
    description: Option<String>,
    /// Absent or null: every event.
    #[serde(default)]
    event_types: Option<Vec<String>>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// Body of `PATCH /v1/webhook-endpoints/{id}`: a present field replaces.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateEndpoint {
    /// Absent: unchanged; null is refused (an endpoint always has one).
    #[serde(default, deserialize_with = "double_option")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    description: Option<Option<String>>,
    /// null: every event.
    #[serde(default, deserialize_with = "double_option")]
    event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    enabled: Option<Option<bool>>,
}

/// A field that may be left out but not set to null: the value when given,
/// a problem when null.
fn not_null<T>(field: &str, v: Option<Option<T>>, what: &str, p: &mut Problems) -> Option<T> {
    match v {
        Some(None) => {
            p.push(
                field,
                format!("must be {what}, not null (leave it out to keep it)"),
            );
            None
        }
        Some(Some(v)) => Some(v),
        None => None,
    }
}

fn description(d: &str, p: &mut Problems) -> String {
    let d = d.trim();
    if d.chars().count() > DESCRIPTION_MAX || d.chars().any(|c| c.is_control() && c != '\n') {
        p.push(
            "description",
            "must be at most 500 characters, without control characters",
        );
    }
    d.to_owned()
}

/// `POST /v1/webhook-endpoints`: the answer carries the signing secret,
/// shown this once.
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<CreateEndpoint>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let mut p = Problems::default();
    let url = p
        .take(parse_url(
            "url",
            &b.url,
            state.webhook_settings.allow_loopback,
        ))
        .unwrap_or_default();
    let description = description(b.description.as_deref().unwrap_or(""), &mut p);
    let event_types = p
        .take_all(parse_event_types("event_types", b.event_types.as_deref()))
        .unwrap_or_default();
    p.finish().map_err(Error::Validation)?;
    let new = NewEndpoint {
        url,
        description,
        event_types,
        enabled: b.enabled.unwrap_or(true),
    };
    let key = state.secret_key.clone();
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let e = crate::app::webhooks::register_endpoint(conn, ctx, new, key.as_ref())?;
            Ok(Reply::created(&EndpointWithSecret {
                endpoint: EndpointView::from(&e),
                secret: e.secret.clone(),
            }))
        })
        .await
}

/// `PATCH /v1/webhook-endpoints/{id}`.
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    id: web::Path<WebhookEndpointId>,
    body: JsonBody<UpdateEndpoint>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let id = id.into_inner();
    let mut p = Problems::default();
    let url = not_null("url", b.url, "an https:// URL", &mut p)
        .and_then(|u| p.take(parse_url("url", &u, state.webhook_settings.allow_loopback)));
    let desc =
        not_null("description", b.description, "a string", &mut p).map(|d| description(&d, &mut p));
    let enabled = not_null("enabled", b.enabled, "true or false", &mut p);
    let event_types = b
        .event_types
        .and_then(|t| p.take_all(parse_event_types("event_types", t.as_deref())));
    p.finish().map_err(Error::Validation)?;
    let change = EndpointChange {
        url,
        description: desc,
        event_types,
        enabled,
    };
    state
        .command(&caller, idem.bind(&raw), move |conn, ctx| {
            let e = crate::app::webhooks::change_endpoint(conn, ctx, id, change)?;
            Ok(Reply::ok(&EndpointView::from(&e)))
        })
        .await
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret`: the answer carries the
/// new secret, shown this once; the old one signs beside it for 24 hours.
pub(crate) async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let key = state.secret_key.clone();
    state
        .command(&caller, idem.bind(b""), move |conn, ctx| {
            let e = crate::app::webhooks::rotate_secret(conn, ctx, id, key.as_ref())?;
            Ok(Reply::ok(&EndpointWithSecret {
                endpoint: EndpointView::from(&e),
                secret: e.secret.clone(),
            }))
        })
        .await
}

/// `GET /v1/webhook-endpoints/{id}`.
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let e = state
        .read(move |conn| crate::store::webhooks::endpoint(conn, tenant, id, false))
        .await?;
    Ok(HttpResponse::Ok().json(EndpointView::from(&e)))
}

/// Query of the lists.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<String>,
    starting_after: Option<String>,
    state: Option<String>,
}

/// `GET /v1/webhook-endpoints`.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    if q.state.is_some() {
        p.push("state", "is a filter of deliveries, not endpoints");
    }
    p.finish().map_err(Error::Validation)?;
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::webhooks::endpoints(conn, tenant, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |e| EndpointView::from(e),
        |e| e.id.to_string(),
    )))
}

/// `GET /v1/webhook-endpoints/{id}/deliveries` (`state` filters).
pub(crate) async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookEndpointId>,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let filter = match q.state.as_deref() {
        None => None,
        Some(s) => match DeliveryState::parse(s) {
            Some(s) => Some(s),
            None => {
                p.push("state", "must be pending, delivered or failed");
                None
            }
        },
    };
    p.finish().map_err(Error::Validation)?;
    let (tenant, id) = (caller.tenant, id.into_inner());
    let page = state
        .read(move |conn| {
            crate::store::webhooks::endpoint(conn, tenant, id, false)?;
            crate::store::webhooks::deliveries(conn, tenant, id, filter, page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |d| DeliveryView::from(d),
        |d| d.id.to_string(),
    )))
}

/// `GET /v1/webhook-deliveries/{id}`: with the body sent and every attempt.
pub(crate) async fn delivery(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookDeliveryId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let view = state
        .read(move |conn| {
            let mut d = [crate::store::webhooks::delivery(conn, tenant, id, false)?];
            crate::store::events::fill_webhook_bodies(conn, &mut d)?;
            let [d] = d;
            let attempts = crate::store::webhooks::attempts(conn, tenant, id)?;
            Ok::<_, Error>(DeliveryView::full(&d, &attempts))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /v1/webhook-deliveries/{id}/retry`: try it again now.
pub(crate) async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    id: web::Path<WebhookDeliveryId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    state
        .command(&caller, idem.bind(b""), move |conn, ctx| {
            let d = crate::app::webhooks::retry_delivery(conn, ctx, id)?;
            Ok(Reply::ok(&DeliveryView::from(&d)))
        })
        .await
}
