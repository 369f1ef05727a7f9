//! Console users, for administrators: sign-in links for staff and office
//! users, and the sessions open now (any can be ended at once, everywhere).

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use super::record::Choice;
use crate::app::names::Names;
use crate::domain::ids::{SessionId, StoreId};
use crate::domain::roles::Role;
use crate::domain::session::Grant;
use crate::http::{AppError, AppState, Reply};

/// An open session.
pub(crate) struct SessionRow {
    pub(crate) id: String,
    pub(crate) subject: String,
    pub(crate) role: String,
    pub(crate) stores: String,
    pub(crate) via: String,
    pub(crate) since: String,
    pub(crate) last_seen: String,
    pub(crate) mine: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    csrf: String,
    key: String,
    link: Option<String>,
    link_for: String,
    revoked: bool,
    sessions: Vec<SessionRow>,
    roles: Vec<Choice>,
    stores: Vec<Choice>,
    subject: String,
    ttl: String,
    errors: Vec<String>,
}

/// Query of the users page.
#[derive(serde::Deserialize)]
pub(crate) struct UsersQuery {
    revoked: Option<String>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    revoked: bool,
    link: Option<(String, String)>,
    problem: Option<&Problem>,
    form: Option<&super::auth::Form>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let me = viewer.session;
    let (sessions, stores) = state
        .read(move |conn| {
            let names = Names::load(conn, ctx.tenant)?;
            let sessions = crate::app::console::open_sessions(conn, &ctx)?
                .into_iter()
                .map(|s| SessionRow {
                    id: s.id.to_string(),
                    subject: s.grant.subject.clone(),
                    role: s.grant.role.to_string(),
                    stores: s.grant.stores.as_ref().map_or_else(
                        || "all".into(),
                        |v| {
                            v.iter()
                                .map(|id| names.store_label(*id))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ),
                    via: match s.via {
                        crate::domain::session::Via::Link => "link".into(),
                        crate::domain::session::Via::Oidc => "identity provider".into(),
                    },
                    since: format::when(&s.created_at, chrono_tz::UTC),
                    last_seen: format::when(&s.last_seen_at, chrono_tz::UTC),
                    mine: s.id == me,
                })
                .collect::<Vec<_>>();
            let stores = names
                .stores()
                .into_iter()
                .map(|s| (s.id, format!("{} · {}", s.code, s.name)))
                .collect::<Vec<_>>();
            Ok::<_, AppError>((sessions, stores))
        })
        .await?;
    let chosen_stores = form.map(|f| f.all("stores")).unwrap_or_default();
    let role_v = form
        .map(|f| f.value("role"))
        .unwrap_or_else(|| "manager".into());
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    let (link, link_for) = link.unzip();
    Ok(page::html(
        status,
        &UsersPage {
            layout: Layout::signed_in("Users", viewer, "/console/users"),
            csrf: viewer.csrf.clone(),
            key: form::new_key(),
            link,
            link_for: link_for.unwrap_or_default(),
            revoked,
            sessions,
            roles: Role::ALL
                .iter()
                .map(|r| Choice {
                    value: r.to_string(),
                    label: r.to_string(),
                    chosen: r.to_string() == role_v,
                })
                .collect(),
            stores: stores
                .into_iter()
                .map(|(id, label)| Choice {
                    chosen: chosen_stores.contains(&id.to_string()),
                    value: id.to_string(),
                    label,
                })
                .collect(),
            subject: form.map(|f| f.value("subject")).unwrap_or_default(),
            ttl: form.map(|f| f.value("ttl")).unwrap_or_else(|| "15m".into()),
            errors: problem.map(|p| p.general(&[])).unwrap_or_default(),
        },
    ))
}

/// `GET /console/users`.
pub(crate) async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<UsersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &viewer, q.revoked.is_some(), None, None, None).await
}

/// `POST /console/users/links`: a one-time sign-in link, shown once.
pub(crate) async fn create_link(
    state: web::Data<AppState>,
    console: web::Data<super::Console>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let invalid = |field: &str, m: String| Problem {
        status: 422,
        code: "validation_failed".into(),
        detail: String::new(),
        fields: vec![(field.to_owned(), m)],
    };
    let role: Result<Role, _> = form.value("role").parse();
    let ttl = crate::auth::parse_ttl(&form.value("ttl"));
    let stores: Vec<StoreId> = form
        .all("stores")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let problem = match (role, ttl) {
        (Err(e), _) => invalid("role", e),
        (_, Err(e)) => invalid("ttl", e),
        (Ok(role), Ok(ttl)) => {
            let grant = Grant {
                tenant: viewer.caller.tenant,
                subject: form.value("subject").trim().to_owned(),
                role,
                stores: (!stores.is_empty()).then_some(stores),
            };
            let subject = grant.subject.clone();
            // The code exists only in this answer: it is not kept with the
            // idempotency record (a replay shows the link was made, not the
            // link itself).
            let code = std::sync::Arc::new(std::sync::Mutex::new(None));
            let out = code.clone();
            let done = form::run(&state, &viewer, &form, move |conn, ctx| {
                let made = crate::app::console::create_link(
                    conn,
                    ctx,
                    grant,
                    chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX)),
                )?;
                if let Ok(mut c) = out.lock() {
                    *c = Some(made.code.clone());
                }
                Ok(Reply::created(
                    &crate::views::session::SignInLinkView::from(&made.link),
                ))
            })
            .await?;
            match done {
                Done::Acted(_) => {
                    let code = code.lock().ok().and_then(|mut c| c.take());
                    let link = code.map_or_else(
                        || "This link was made already (the form was sent twice); make a new one to see it again.".to_owned(),
                        |c| console.sign_in_url(&c),
                    );
                    return render(&state, &viewer, false, Some((link, subject)), None, None).await;
                }
                Done::Refused(p) => p,
            }
        }
    };
    render(&state, &viewer, false, None, Some(&problem), Some(&form)).await
}

/// `POST /console/users/sessions/{id}/revoke`: ends a session everywhere.
pub(crate) async fn revoke(
    state: web::Data<AppState>,
    id: web::Path<SessionId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let id = id.into_inner();
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        crate::app::console::revoke_session(conn, ctx, id)?;
        Ok(Reply::ok(&serde_json::json!({ "id": id })))
    })
    .await?
    {
        Done::Acted(_) => Ok(page::see_other(&format!("/console/users?revoked={id}"))),
        Done::Refused(p) => render(&state, &viewer, false, None, Some(&p), None).await,
    }
}
