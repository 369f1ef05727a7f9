//! Webhooks in the console: the endpoints (register, enable or disable,
//! rotate the secret — shown once, on the page that made it), and an
//! endpoint's deliveries with every attempt and a retry button. Admins
//! change; finance and auditors read.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{Form, Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use crate::app::webhooks::{EndpointChange, NewEndpoint};
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::domain::roles::Permission;
use crate::domain::webhook::{DeliveryState, parse_event_types, parse_url};
use crate::http::{AppError, AppState, Reply};
use crate::views::webhook::EndpointView;

/// An endpoint of the list.
pub(crate) struct EndpointRow {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) description: String,
    pub(crate) types: String,
    pub(crate) enabled: bool,
    pub(crate) state: String,
}

fn row(e: &crate::domain::webhook::Endpoint) -> EndpointRow {
    let state = match (&e.disabled_reason, e.enabled, e.failing_since) {
        (Some(why), false, _) => format!("Disabled by the service: {why}"),
        (None, false, _) => "Disabled".to_owned(),
        (_, true, Some(since)) => format!("Failing since {}", format::when(&since, chrono_tz::UTC)),
        (_, true, None) => "Delivering".to_owned(),
    };
    EndpointRow {
        id: e.id.to_string(),
        url: e.url.clone(),
        description: e.description.clone(),
        types: e
            .event_types
            .as_ref()
            .map_or_else(|| "every event".to_owned(), |t| t.join(", ")),
        enabled: e.enabled,
        state,
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    csrf: String,
    may_write: bool,
    endpoints: Vec<EndpointRow>,
    /// A secret just made, shown this once.
    secret: Option<(String, String)>,
    errors: Vec<String>,
    url_error: Option<String>,
    types_error: Option<String>,
    key: String,
    url: String,
    description: String,
    types: String,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    secret: Option<(String, String)>,
    problem: Option<&Problem>,
    form: Option<&Form>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let endpoints = state
        .read(move |conn| {
            Ok::<_, AppError>(
                crate::store::webhooks::endpoints(
                    conn,
                    tenant,
                    crate::store::PageRequest {
                        limit: 100,
                        starting_after: None,
                    },
                )?
                .items,
            )
        })
        .await?;
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    let value = |k: &str| form.map(|f| f.value(k)).unwrap_or_default();
    Ok(page::html(
        status,
        &WebhooksPage {
            layout: Layout::signed_in("Webhooks", viewer, "/console/admin"),
            csrf: viewer.csrf.clone(),
            may_write: viewer.may(Permission::WebhooksWrite),
            endpoints: endpoints.iter().map(row).collect(),
            secret,
            errors: problem
                .map(|p| p.general(&["url", "event_types", "description"]))
                .unwrap_or_default(),
            url_error: problem.and_then(|p| p.field("url")).map(str::to_owned),
            types_error: problem
                .and_then(|p| {
                    p.field("event_types")
                        .or_else(|| (0..100).find_map(|i| p.field(&format!("event_types[{i}]"))))
                })
                .map(str::to_owned),
            key: form::new_key(),
            url: value("url"),
            description: value("description"),
            types: value("event_types"),
        },
    ))
}

/// `GET /console/admin/webhooks`.
pub(crate) async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &viewer, None, None, None).await
}

/// The event types typed in a form: names separated by commas or spaces;
/// none for every event.
fn typed_types(text: &str) -> Option<Vec<String>> {
    let t: Vec<String> = text
        .split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!t.is_empty()).then_some(t)
}

/// `POST /console/admin/webhooks`: registers an endpoint and shows its
/// secret once.
pub(crate) async fn register(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let mut p = crate::domain::Problems::default();
    let url = p
        .take(parse_url(
            "url",
            &form.value("url"),
            state.webhook_settings.allow_loopback,
        ))
        .unwrap_or_default();
    let event_types = p
        .take_all(parse_event_types(
            "event_types",
            typed_types(&form.value("event_types")).as_deref(),
        ))
        .unwrap_or_default();
    let description = form.value("description").trim().to_owned();
    if description.chars().count() > crate::domain::webhook::DESCRIPTION_MAX {
        p.push("description", "must be at most 500 characters");
    }
    let problem = match p.finish() {
        Err(fields) => Problem::of(&AppError::from(fields)),
        Ok(()) => {
            let new = NewEndpoint {
                url,
                description,
                event_types,
                enabled: true,
            };
            let key = state.secret_key.clone();
            match form::run(&state, &viewer, &form, move |conn, ctx| {
                let e = crate::app::webhooks::register_endpoint(conn, ctx, new, key.as_ref())?;
                Ok(Reply::created(&crate::views::webhook::EndpointWithSecret {
                    endpoint: EndpointView::from(&e),
                    secret: e.secret.clone(),
                }))
            })
            .await?
            {
                Done::Acted(e) => {
                    let shown = (
                        e["url"].as_str().unwrap_or_default().to_owned(),
                        e["secret"].as_str().unwrap_or_default().to_owned(),
                    );
                    return render(&state, &viewer, Some(shown), None, None).await;
                }
                Done::Refused(p) => p,
            }
        }
    };
    render(&state, &viewer, None, Some(&problem), Some(&form)).await
}

/// `POST /console/admin/webhooks/{id}/enabled` (`enabled=true|false`).
pub(crate) async fn set_enabled(
    state: web::Data<AppState>,
    id: web::Path<WebhookEndpointId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let id = id.into_inner();
    let enabled = form.value("enabled") == "true";
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let change = EndpointChange {
            enabled: Some(enabled),
            ..EndpointChange::default()
        };
        let e = crate::app::webhooks::change_endpoint(conn, ctx, id, change)?;
        Ok(Reply::ok(&EndpointView::from(&e)))
    })
    .await?
    {
        Done::Acted(_) => Ok(page::see_other("/console/admin/webhooks")),
        Done::Refused(p) => render(&state, &viewer, None, Some(&p), None).await,
    }
}

/// `POST /console/admin/webhooks/{id}/rotate`: a new secret, shown once.
pub(crate) async fn rotate(
    state: web::Data<AppState>,
    id: web::Path<WebhookEndpointId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let id = id.into_inner();
    let key = state.secret_key.clone();
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let e = crate::app::webhooks::rotate_secret(conn, ctx, id, key.as_ref())?;
        Ok(Reply::ok(&crate::views::webhook::EndpointWithSecret {
            endpoint: EndpointView::from(&e),
            secret: e.secret.clone(),
        }))
    })
    .await?
    {
        Done::Acted(e) => {
            let shown = (
                e["url"].as_str().unwrap_or_default().to_owned(),
                e["secret"].as_str().unwrap_or_default().to_owned(),
            );
            render(&state, &viewer, Some(shown), None, None).await
        }
        Done::Refused(p) => render(&state, &viewer, None, Some(&p), None).await,
    }
}

/// A delivery of the list.
pub(crate) struct DeliveryRow {
    pub(crate) id: String,
    pub(crate) event: String,
    pub(crate) event_id: String,
    pub(crate) state: &'static str,
    pub(crate) attempts: i32,
    pub(crate) last: String,
    pub(crate) next: String,
    pub(crate) made: String,
    pub(crate) tries: Vec<String>,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    csrf: String,
    may_write: bool,
    endpoint: EndpointRow,
    deliveries: Vec<DeliveryRow>,
    filter: String,
    notice: Option<String>,
    errors: Vec<String>,
    key: String,
}

/// Query of an endpoint's page.
#[derive(serde::Deserialize)]
pub(crate) struct EndpointQuery {
    state: Option<String>,
    retried: Option<String>,
}

async fn render_endpoint(
    state: &AppState,
    viewer: &Viewer,
    id: WebhookEndpointId,
    filter: Option<DeliveryState>,
    notice: Option<String>,
    problem: Option<&Problem>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let (endpoint, deliveries) = state
        .read(move |conn| {
            let e = crate::store::webhooks::endpoint(conn, tenant, id, false)?;
            // The latest 50: the list in id order, read from the end.
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page = crate::store::webhooks::deliveries(
                    conn,
                    tenant,
                    id,
                    filter,
                    crate::store::PageRequest {
                        limit: 100,
                        starting_after: after,
                    },
                )?;
                after = page.items.last().map(|d| d.id);
                all.extend(page.items);
                if all.len() > 50 {
                    all.drain(..all.len() - 50);
                }
                if !page.has_more {
                    break;
                }
            }
            all.reverse();
            let mut rows = Vec::with_capacity(all.len());
            for d in all {
                let attempts = crate::store::webhooks::attempts(conn, tenant, d.id)?;
                rows.push((d, attempts));
            }
            Ok::<_, AppError>((e, rows))
        })
        .await?;
    let deliveries = deliveries
        .into_iter()
        .map(|(d, attempts)| DeliveryRow {
            id: d.id.to_string(),
            event: d.event_type.clone(),
            event_id: d.event_id.to_string(),
            state: d.state.as_str(),
            attempts: d.attempts,
            last: d
                .last_status
                .map_or_else(|| "—".to_owned(), |s| s.to_string()),
            next: if d.state == DeliveryState::Pending {
                format::when(&d.next_attempt_at, chrono_tz::UTC)
            } else {
                "—".to_owned()
            },
            made: format::when(&d.created_at, chrono_tz::UTC),
            tries: attempts
                .iter()
                .map(|a| {
                    let what = match (a.status, &a.error) {
                        (Some(s), _) => format!("HTTP {s}"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => "no answer".to_owned(),
                    };
                    format!(
                        "{}: {what} ({} ms)",
                        format::when(&a.at, chrono_tz::UTC),
                        a.latency_ms
                    )
                })
                .collect(),
        })
        .collect();
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page::html(
        status,
        &EndpointPage {
            layout: Layout::signed_in("Webhook endpoint", viewer, "/console/admin"),
            csrf: viewer.csrf.clone(),
            may_write: viewer.may(Permission::WebhooksWrite),
            endpoint: row(&endpoint),
            deliveries,
            filter: filter.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            notice,
            errors: problem.map(|p| p.general(&[])).unwrap_or_default(),
            key: form::new_key(),
        },
    ))
}

/// `GET /console/admin/webhooks/{id}`: the endpoint's latest 50 deliveries
/// (`state` filters), newest first, with every attempt.
pub(crate) async fn endpoint(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<WebhookEndpointId>,
    q: web::Query<EndpointQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| {
            ConsoleError::refused(
                422,
                "validation_failed",
                "The state filter is pending, delivered or failed.",
            )
        })?),
    };
    let notice = q
        .retried
        .as_ref()
        .map(|_| "The delivery is queued again: it is sent within seconds.".to_owned());
    render_endpoint(&state, &viewer, id.into_inner(), filter, notice, None).await
}

/// `POST /console/admin/webhooks/deliveries/{id}/retry`.
pub(crate) async fn retry(
    state: web::Data<AppState>,
    id: web::Path<WebhookDeliveryId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let id = id.into_inner();
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let d = crate::app::webhooks::retry_delivery(conn, ctx, id)?;
        Ok(Reply::ok(&crate::views::webhook::DeliveryView::from(&d)))
    })
    .await?
    {
        Done::Acted(d) => Ok(page::see_other(&format!(
            "/console/admin/webhooks/{}?retried=1",
            d["endpoint_id"].as_str().unwrap_or_default()
        ))),
        Done::Refused(p) => {
            let endpoint = form
                .value("endpoint_id")
                .parse::<WebhookEndpointId>()
                .map_err(|_| ConsoleError::refused(400, "validation_failed", p.detail.clone()))?;
            render_endpoint(&state, &viewer, endpoint, None, None, Some(&p)).await
        }
    }
}
