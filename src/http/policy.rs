//! The approval policy: the current version, every version, and storing a new
//! one (admin).

use actix_web::{HttpResponse, web};

use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::app::policy::{PolicyChange, ProposalDecision};
use crate::domain::Problems;
use crate::domain::ids::PolicyProposalId;
use crate::domain::policy::Policy;
use crate::error::Error;
use crate::http::AppError;
use crate::store::policy::ProposalState;
use crate::views::policy::{PolicyView, ProposalView};

/// `GET /v1/policy`: the version in force.
pub(crate) async fn current(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let v = state
        .read(move |conn| crate::store::policy::current(conn, tenant))
        .await?;
    Ok(HttpResponse::Ok().json(PolicyView::of(v)))
}

/// One of the tenant's reason codes.
#[derive(serde::Serialize)]
pub(crate) struct ReasonCodeView {
    code: String,
    description: String,
}

/// `GET /v1/reason-codes`: the codes a gesture's `reason_code` and an
/// incident's `cause` may take, by code (one page: a tenant has few).
pub(crate) async fn reason_codes(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let codes = state
        .read(move |conn| crate::store::gestures::reason_codes(conn, tenant))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse {
        data: codes
            .into_iter()
            .map(|(code, description)| ReasonCodeView { code, description })
            .collect(),
        has_more: false,
        next_cursor: None,
    }))
}

/// `GET /v1/policy/versions/{n}`.
pub(crate) async fn version(
    state: web::Data<AppState>,
    caller: Caller,
    n: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let n: i32 = n
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::NotFound(format!("no policy version {n}")))?;
    let tenant = caller.tenant;
    let v = state
        .read(move |conn| crate::store::policy::version(conn, tenant, n))
        .await?;
    Ok(HttpResponse::Ok().json(PolicyView::of(v)))
}

/// `GET /v1/policy/versions`: newest first.
pub(crate) async fn versions(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<super::extract::VersionsQuery>,
) -> Result<HttpResponse, AppError> {
    let page = query.0.page()?;
    let tenant = caller.tenant;
    let (rows, has_more) = state
        .read(move |conn| {
            crate::store::policy::versions(conn, tenant, page.starting_after, page.limit)
        })
        .await?;
    let data: Vec<PolicyView> = rows.into_iter().map(PolicyView::of).collect();
    Ok(HttpResponse::Ok().json(ListResponse::of(data, has_more, |v| v.version.to_string())))
}

/// `PUT /v1/policy`: stores the body as the next version (200). It applies to
/// gestures requested from now on; an invalid policy is refused whole (422
/// listing every problem) and the current version stays. A policy that
/// loosens the one in force is kept as a proposal instead (202 with the
/// proposal): it takes effect when a second admin approves it.
pub(crate) async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<Policy>,
) -> Result<HttpResponse, AppError> {
    let (policy, raw) = body.into_parts();
    let key = idem.bind(&raw);
    state
        .command(&caller, key, move |conn, ctx| {
            Ok(
                match crate::app::policy::update_policy(conn, ctx, policy)? {
                    PolicyChange::Applied(after) => Reply::ok(&PolicyView::of(after)),
                    PolicyChange::Proposed(p) => Reply::accepted(&ProposalView::of(p)),
                },
            )
        })
        .await
}

/// Query of `GET /v1/policy/proposals`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProposalsQuery {
    limit: Option<String>,
    starting_after: Option<String>,
    state: Option<String>,
}

/// `GET /v1/policy/proposals?state=pending|approved|rejected`: in the order
/// they were made.
pub(crate) async fn proposals(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ProposalsQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page =
        super::extract::page_request(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let wanted = q.state.as_deref().and_then(|s| {
        let parsed = ProposalState::parse(s);
        if parsed.is_none() {
            p.push("state", "must be pending, approved or rejected");
        }
        parsed
    });
    p.finish().map_err(Error::Validation)?;
    let tenant = caller.tenant;
    let page = state
        .read(move |conn| crate::store::policy::proposals(conn, tenant, wanted, page))
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(
        page,
        |p| ProposalView::of(p.clone()),
        |p| p.id.to_string(),
    )))
}

/// `GET /v1/policy/proposals/{id}`.
pub(crate) async fn proposal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PolicyProposalId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (caller.tenant, id.into_inner());
    let p = state
        .read(move |conn| crate::store::policy::proposal(conn, tenant, id))
        .await?;
    Ok(HttpResponse::Ok().json(ProposalView::of(p)))
}

/// Body of approve and reject: an optional note.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    note: Option<String>,
}

fn note_of(b: &DecisionBody) -> Result<Option<String>, AppError> {
    b.note
        .as_deref()
        .map(|n| crate::domain::text::required_line_multi("note", n, 2000))
        .transpose()
        .map_err(|e| AppError::from(Error::Validation(vec![e])))
}

/// `POST /v1/policy/proposals/{id}/approve` `{note}`: a second admin approves
/// it; it becomes the next version (200 with the proposal, `version` set).
pub(crate) async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PolicyProposalId>,
    idem: Idem,
    body: JsonBody<DecisionBody>,
) -> Result<HttpResponse, AppError> {
    decide(state, caller, id, idem, body, ProposalDecision::Approve).await
}

/// `POST /v1/policy/proposals/{id}/reject` `{note}`.
pub(crate) async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PolicyProposalId>,
    idem: Idem,
    body: JsonBody<DecisionBody>,
) -> Result<HttpResponse, AppError> {
    decide(state, caller, id, idem, body, ProposalDecision::Reject).await
}

async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PolicyProposalId>,
    idem: Idem,
    body: JsonBody<DecisionBody>,
    decision: ProposalDecision,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let note = note_of(&b)?;
    let id = id.into_inner();
    state
        .command(&caller, key, move |conn, ctx| {
            let p = crate::app::policy::decide_proposal(conn, ctx, id, decision, note)?;
            Ok(Reply::ok(&ProposalView::of(p)))
        })
        .await
}
