//! The audit trail in the console: an entity's history — who, what, when,
//! why, and what changed as a readable diff — and verifying every chain of
//! the tenant, naming the first broken link.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::Viewer;
use super::format;
use super::page::{self, ConsoleError, Layout};
use crate::http::{AppError, AppState};

/// One change of a field.
pub(crate) struct Change {
    pub(crate) field: String,
    pub(crate) before: String,
    pub(crate) after: String,
}

/// One event of a history.
pub(crate) struct EventLine {
    pub(crate) when: String,
    pub(crate) action: String,
    pub(crate) who: String,
    pub(crate) why: String,
    pub(crate) request: String,
    pub(crate) changes: Vec<Change>,
    pub(crate) entity: String,
    pub(crate) link: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    entity_type: String,
    entity_id: String,
    actor: String,
    events: Vec<EventLine>,
    more: bool,
    verified: Option<Result<(usize, u64), String>>,
}

/// Flattens JSON into `path = value` lines (`amount.amount`, `staff_ids[0]`).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// The fields that differ between two states (a creation: every field).
pub(crate) fn diff(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    let parse = |s: Option<&str>| {
        let mut out = Vec::new();
        if let Some(v) = s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) {
            flatten("", &v, &mut out);
        }
        out
    };
    let (b, a) = (parse(before), parse(after));
    let mut fields: Vec<&String> = b
        .iter()
        .map(|(k, _)| k)
        .chain(a.iter().map(|(k, _)| k))
        .collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|f| {
            let old = b.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone());
            let new = a.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone());
            (old != new).then(|| Change {
                field: f.clone(),
                before: old.unwrap_or_else(|| "—".into()),
                after: new.unwrap_or_else(|| "—".into()),
            })
        })
        .collect()
}

/// Where the console shows an entity, when it does.
fn link_of(entity_type: &str, id: &str) -> String {
    match entity_type {
        "gesture" => format!("/console/gestures/{id}"),
        "customer" => format!("/console/customers/{id}"),
        "incident" => format!("/console/incidents/{id}"),
        "period" => format!("/console/finance/periods/{id}"),
        _ => String::new(),
    }
}

/// Query of the audit page.
#[derive(serde::Deserialize)]
pub(crate) struct AuditQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    q: AuditQuery,
    verified: Option<Result<(usize, u64), String>>,
) -> Result<HttpResponse, ConsoleError> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(255).collect::<String>())
    };
    let filter = crate::store::audit::Filter {
        entity_type: clean(&q.entity_type),
        entity_id: clean(&q.entity_id),
        actor: clean(&q.actor),
        action: None,
        from: None,
        to: None,
        stores: viewer.caller.stores.clone(),
    };
    let any = filter.entity_type.is_some() || filter.entity_id.is_some() || filter.actor.is_some();
    let tenant = viewer.caller.tenant;
    let (events, more) = if any {
        let page = state
            .read(move |conn| {
                crate::store::audit::list(
                    conn,
                    tenant,
                    &filter,
                    crate::store::PageRequest {
                        limit: 100,
                        starting_after: None,
                    },
                )
            })
            .await?;
        (
            page.items
                .iter()
                .map(|e| EventLine {
                    when: format::when(&e.occurred_at, chrono_tz::UTC),
                    action: e.action.clone(),
                    who: format!("{} ({})", e.actor_sub, e.actor_role),
                    why: e.reason.clone().unwrap_or_default(),
                    request: e.request_id.clone(),
                    changes: diff(e.before_state.as_deref(), e.after_state.as_deref()),
                    entity: format!("{} {}", e.entity_type, e.entity_id),
                    link: link_of(&e.entity_type, &e.entity_id),
                })
                .collect(),
            page.has_more,
        )
    } else {
        (Vec::new(), false)
    };
    Ok(page::ok(&AuditPage {
        layout: Layout::signed_in("Audit", viewer, "/console/audit"),
        entity_type: q.entity_type.unwrap_or_default(),
        entity_id: q.entity_id.unwrap_or_default(),
        actor: q.actor.unwrap_or_default(),
        events,
        more,
        verified,
    }))
}

/// `GET /console/audit?entity_type=&entity_id=&actor=`: a history, oldest
/// first (what happened at a store the viewer does not hold is left out).
pub(crate) async fn history(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &viewer, q.into_inner(), None).await
}

/// `GET /console/audit/verify`: walks every chain of the tenant (a read:
/// nothing changes) and says whether it is intact, or where it breaks.
pub(crate) async fn verify(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let report = state
        .read(move |conn| crate::store::audit::verify(conn, Some(tenant)))
        .await
        .map_err(|e: AppError| e)?;
    let verified = match report.broken {
        Some(b) => Err(b.to_string()),
        None => Ok((report.heads.len(), report.events)),
    };
    render(
        &state,
        &viewer,
        AuditQuery {
            entity_type: None,
            entity_id: None,
            actor: None,
        },
        Some(verified),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_names_the_fields_that_changed() {
        let d = diff(
            Some(
                r#"{"status":"pending_approval","amount":{"amount":"250.00","currency":"USD"},"story":"x"}"#,
            ),
            Some(
                r#"{"status":"approved","amount":{"amount":"250.00","currency":"USD"},"story":"x"}"#,
            ),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            (
                d[0].field.as_str(),
                d[0].before.as_str(),
                d[0].after.as_str()
            ),
            ("status", "pending_approval", "approved")
        );
        let created = diff(None, Some(r#"{"name":"Ann","stores":["a","b"]}"#));
        assert_eq!(
            created.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["name", "stores[0]", "stores[1]"]
        );
    }
}
