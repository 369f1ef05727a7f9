//! The approval policy: the current version, every version, and storing a new
//! one (admin).

use actix_web::{HttpResponse, web};

use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::policy::Policy;
use crate::error::Error;
use crate::http::AppError;
use crate::views::policy::PolicyView;

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
    let next_cursor = if has_more {
        data.last().map(|v| v.version.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ListResponse {
        data,
        has_more,
        next_cursor,
    }))
}

/// `PUT /v1/policy`: stores the body as the next version (200). It applies to
/// gestures requested from now on; an invalid policy is refused whole (422
/// listing every problem) and the current version stays.
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
            let after = crate::app::policy::update_policy(conn, ctx, policy)?;
            Ok(Reply::ok(&PolicyView::of(after)))
        })
        .await
}
