//! Incidents: what went wrong at a store, and the recovery gestures that
//! answer it. A manager records one; a recovery links to it from the
//! gesture form.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{Form, Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use super::record::Choice;
use crate::app::names::Names;
use crate::domain::ids::{IncidentId, StaffId, StoreId};
use crate::domain::roles::Permission;
use crate::http::{AppError, AppState, Reply};

/// One incident of the list.
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) cause: String,
    pub(crate) store: String,
    pub(crate) when: String,
    pub(crate) reported_by: String,
    pub(crate) description: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    may_record: bool,
}

/// `GET /console/incidents`: the newest incidents at the viewer's stores.
pub(crate) async fn list(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    let v = viewer.clone();
    let rows = state
        .read(move |conn| {
            let names = Names::load(conn, v.caller.tenant)?;
            let found = crate::store::incidents::recent(
                conn,
                v.caller.tenant,
                v.caller.stores.as_deref(),
                100,
            )?;
            Ok::<_, AppError>(
                found
                    .into_iter()
                    .map(|i| Row {
                        id: i.id.to_string(),
                        cause: format::words(&i.cause),
                        store: names.store_label(i.store_id),
                        when: format::when(&i.created_at, names.zone(i.store_id)),
                        reported_by: i.reported_by,
                        description: i.description,
                    })
                    .collect(),
            )
        })
        .await?;
    Ok(page::ok(&ListPage {
        layout: Layout::signed_in("Incidents", &viewer, "/console/incidents"),
        rows,
        may_record: viewer.may(Permission::IncidentsWrite),
    }))
}

#[derive(Template)]
#[template(path = "incident_new.html")]
struct NewPage {
    layout: Layout,
    csrf: String,
    key: String,
    stores: Vec<Choice>,
    causes: Vec<Choice>,
    staff: Vec<Choice>,
    description: String,
    general: Vec<String>,
    errors: std::collections::HashMap<&'static str, String>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

const FIELDS: &[&str] = &["store_id", "cause", "staff_ids", "description"];

async fn new_page(
    state: &AppState,
    viewer: &Viewer,
    form: Option<&Form>,
    problem: Option<&Problem>,
) -> Result<NewPage, ConsoleError> {
    let v = viewer.clone();
    let (stores, causes, staff) = state
        .read(move |conn| {
            let names = Names::load(conn, v.caller.tenant)?;
            let stores: Vec<(StoreId, String)> = names
                .stores()
                .into_iter()
                .filter(|s| v.caller.may_act_at(s.id))
                .map(|s| (s.id, format!("{} · {}", s.code, s.name)))
                .collect();
            let ids: Vec<StoreId> = stores.iter().map(|(id, _)| *id).collect();
            let staff: Vec<(StaffId, String)> = crate::store::staff::list(
                conn,
                v.caller.tenant,
                Some(ids),
                crate::store::PageRequest {
                    limit: 100,
                    starting_after: None,
                },
            )?
            .items
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
            let causes = crate::store::gestures::reason_codes(conn, v.caller.tenant)?;
            Ok::<_, AppError>((stores, causes, staff))
        })
        .await?;
    let chosen = |name: &str| form.map(|f| f.value(name)).unwrap_or_default();
    let staff_chosen = form.map(|f| f.all("staff_ids")).unwrap_or_default();
    let (store_v, cause_v) = (chosen("store_id"), chosen("cause"));
    let mut errors = std::collections::HashMap::new();
    let mut general = Vec::new();
    if let Some(p) = problem {
        for f in FIELDS {
            if let Some(m) = p.field(f) {
                errors.insert(*f, m.to_owned());
            }
        }
        general = p.general(FIELDS);
    }
    Ok(NewPage {
        layout: Layout::signed_in("Record an incident", viewer, "/console/incidents"),
        csrf: viewer.csrf.clone(),
        key: form::new_key(),
        stores: stores
            .into_iter()
            .map(|(id, label)| Choice {
                chosen: id.to_string() == store_v,
                value: id.to_string(),
                label,
            })
            .collect(),
        causes: causes
            .into_iter()
            .map(|(code, d)| Choice {
                chosen: code == cause_v || (cause_v.is_empty() && code == "staff_error"),
                label: format!("{} — {d}", format::words(&code)),
                value: code,
            })
            .collect(),
        staff: staff
            .into_iter()
            .map(|(id, name)| Choice {
                chosen: staff_chosen.contains(&id.to_string()),
                value: id.to_string(),
                label: name,
            })
            .collect(),
        description: chosen("description"),
        general,
        errors,
    })
}

/// `GET /console/incidents/new`.
pub(crate) async fn new_form(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    Ok(page::ok(&new_page(&state, &viewer, None, None).await?))
}

/// `POST /console/incidents`.
pub(crate) async fn create(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let invalid = |field: &str, m: &str| Problem {
        status: 422,
        code: "validation_failed".into(),
        detail: String::new(),
        fields: vec![(field.to_owned(), m.to_owned())],
    };
    let store: Option<StoreId> = form.get("store_id").and_then(|s| s.parse().ok());
    let staff: Vec<StaffId> = form
        .all("staff_ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let problem = match store {
        None => invalid("store_id", "Choose the store."),
        Some(store) => match crate::app::incidents::NewIncident::parse(
            store,
            &form.value("cause"),
            staff,
            &form.value("description"),
        ) {
            Err(fields) => Problem::of(&AppError::from(fields)),
            Ok(new) => {
                let done = form::run(&state, &viewer, &form, move |conn, ctx| {
                    let i = crate::app::incidents::record_incident(conn, ctx, new)?;
                    Ok(Reply::created(&crate::views::incident::view(
                        &i,
                        Vec::new(),
                    )))
                })
                .await?;
                match done {
                    Done::Acted(answer) => {
                        return Ok(page::see_other(&format!(
                            "/console/incidents/{}",
                            form::id_of(&answer)
                        )));
                    }
                    Done::Refused(p) => p,
                }
            }
        },
    };
    let page = new_page(&state, &viewer, Some(&form), Some(&problem)).await?;
    Ok(page::html(
        actix_web::http::StatusCode::from_u16(problem.status)
            .unwrap_or(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY),
        &page,
    ))
}

/// A gesture answering an incident.
pub(crate) struct Answer {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) amount: String,
    pub(crate) status: String,
    pub(crate) customer_id: String,
    pub(crate) customer: String,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct ShowPage {
    layout: Layout,
    cause: String,
    store: String,
    when: String,
    reported_by: String,
    description: String,
    staff: Vec<String>,
    answers: Vec<Answer>,
}

/// `GET /console/incidents/{id}`: the incident and the gestures answering it.
pub(crate) async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<IncidentId>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let v = viewer.clone();
    let page = state
        .read(move |conn| {
            let tenant = v.caller.tenant;
            let (i, gestures) = crate::store::incidents::get(conn, tenant, id)?;
            v.caller.require_store(i.store_id)?;
            let mut names = Names::load(conn, tenant)?;
            let mut staff = Vec::new();
            for s in &i.staff_ids {
                staff.push(names.staff(conn, *s)?);
            }
            let mut answers = Vec::new();
            for g in gestures.iter().filter(|g| v.caller.may_act_at(g.store_id)) {
                let c = names.customer(conn, g.customer_id)?;
                answers.push(Answer {
                    id: g.id.to_string(),
                    kind: format::words(g.kind.as_str()),
                    amount: g
                        .terms
                        .value()
                        .map_or_else(|| "—".into(), |m| format::money(&m)),
                    status: super::customers::status_words(g),
                    customer_id: c.id.to_string(),
                    customer: format!("{} ({})", c.name, c.external_ref),
                });
            }
            Ok::<_, AppError>(ShowPage {
                layout: Layout::signed_in("Incident", &v, "/console/incidents"),
                cause: format::words(&i.cause),
                store: names.store_label(i.store_id),
                when: format::when(&i.created_at, names.zone(i.store_id)),
                reported_by: i.reported_by,
                description: i.description,
                staff,
                answers,
            })
        })
        .await?;
    Ok(page::ok(&page))
}
