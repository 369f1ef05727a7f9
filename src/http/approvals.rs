//! Deciding pending gestures: the approval queue, approve / reject / cancel, and
//! a gesture's decision in full.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply};
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::GestureId;
use crate::domain::{Problems, text};
use crate::error::Error;
use crate::http::AppError;
use crate::store::approvals::{self, QueueFilter};
use crate::views::gesture::{DecisionView, GestureView};

/// Body of approve, reject and cancel.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteBody {
    note: Option<String>,
}

fn parse_note(note: Option<&str>, required: bool) -> Result<Option<String>, AppError> {
    match note {
        None if required => Err(Error::field(
            "note",
            "is required: say why, for the requester and the audit trail",
        )
        .into()),
        None => Ok(None),
        Some(n) => text::required_line_multi("note", n, 4000)
            .map(Some)
            .map_err(|e| Error::Validation(vec![e]))
            .map_err(AppError::from),
    }
}

/// `POST /v1/gestures/{id}/approve` `{note}`: the gesture takes effect (it
/// posts, so an `Idempotency-Key` is required).
pub(crate) async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<NoteBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.require(&raw)?;
    let note = parse_note(b.note.as_deref(), false)?;
    let id = id.into_inner();
    state
        .command(&caller, Some(key), move |conn, ctx| {
            let r = crate::app::approvals::approve(conn, ctx, id, note)?;
            Ok(Reply::ok(&r.view(ctx.today())))
        })
        .await
}

/// `POST /v1/gestures/{id}/reject` `{note}` (required).
pub(crate) async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<NoteBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let note = parse_note(b.note.as_deref(), true)?.unwrap_or_default();
    let id = id.into_inner();
    state
        .command(&caller, key, move |conn, ctx| {
            let r = crate::app::approvals::reject(conn, ctx, id, note)?;
            Ok(Reply::ok(&r.view(ctx.today())))
        })
        .await
}

/// `POST /v1/gestures/{id}/cancel` `{note}`: the requester withdraws it.
pub(crate) async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<NoteBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let note = parse_note(b.note.as_deref(), false)?;
    let id = id.into_inner();
    state
        .command(&caller, key, move |conn, ctx| {
            let r = crate::app::approvals::cancel(conn, ctx, id, note)?;
            Ok(Reply::ok(&r.view(ctx.today())))
        })
        .await
}

/// `GET /v1/gestures/{id}/decision`.
#[derive(Serialize)]
pub(crate) struct DecisionDetail {
    gesture_id: GestureId,
    status: GestureStatus,
    expired: bool,
    #[serde(flatten)]
    decision: DecisionView,
}

/// `GET /v1/gestures/{id}/decision`: the policy version and rule that decided,
/// the budgets consulted with their headroom, and who may approve.
pub(crate) async fn decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id, now) = (caller.tenant, id.into_inner(), state.clock.now());
    let detail = state
        .read(move |conn| {
            let g = crate::store::gestures::get(conn, tenant, id)?;
            caller.require_store(g.store_id)?;
            let record = approvals::record_of(conn, &g)?;
            Ok::<_, AppError>(DecisionDetail {
                gesture_id: g.id,
                status: g.status,
                expired: g.status == GestureStatus::Expired
                    || (g.status == GestureStatus::PendingApproval
                        && approvals::is_expired(&record, now)),
                decision: DecisionView::of(&g, Some(&record)),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Query of `GET /v1/approvals`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    store_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    waiting_for: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// Why an item of the read-only list waits for someone else.
#[derive(Serialize)]
pub(crate) struct WaitingForView {
    reason: &'static str,
    approvers: Vec<crate::domain::roles::Role>,
    detail: String,
}

/// One item of the approval queue.
#[derive(Serialize)]
pub(crate) struct QueueItem {
    #[serde(skip)]
    id: GestureId,
    gesture: GestureView,
    store: crate::views::finance::StoreRef,
    customer: crate::views::customer::CustomerStanding,
    /// Whether the caller may only look (the list of `waiting_for=others`).
    read_only: bool,
    waiting_for: Option<WaitingForView>,
}

/// `GET /v1/approvals?store_id=&kind=&status=pending&waiting_for=me|others`:
/// the pending gestures the caller may decide (tier, stores and segregation
/// rules applied), oldest first, each with its store and its customer's
/// standing; with `waiting_for=others`, read only, what waits at the caller's
/// stores for someone else and why.
pub(crate) async fn queue(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request::<GestureId>(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let kind = q.kind.as_deref().and_then(|k| {
        let r = GestureKind::parse(k);
        if r.is_none() {
            p.push("kind", "must be a gesture kind");
        }
        r
    });
    if q.status.as_deref().is_some_and(|s| s != "pending") {
        p.push(
            "status",
            "must be pending (the queue holds what waits for a decision)",
        );
    }
    let others = match q.waiting_for.as_deref() {
        None | Some("me") => false,
        Some("others") => true,
        Some(_) => {
            p.push(
                "waiting_for",
                "must be me (what you may decide) or others (what waits at your stores for someone else)",
            );
            false
        }
    };
    p.finish().map_err(Error::Validation)?;
    let today = state.clock.now().date();
    let ctx = caller.audit_ctx(&state.clock);
    let items = state
        .read(move |conn| {
            let (entries, has_more) = crate::app::approvals::approval_queue(
                conn,
                &ctx,
                &QueueFilter {
                    store_id,
                    kind,
                    others,
                },
                page.starting_after,
                page.limit,
            )?;
            let names = crate::app::names::Names::load(conn, ctx.tenant)?;
            let mut items = Vec::with_capacity(entries.len());
            for e in entries {
                items.push(QueueItem {
                    id: e.gesture.id,
                    store: names.store_ref(e.gesture.store_id),
                    customer: crate::app::approvals::standing_beside(conn, &ctx, &e.gesture)?,
                    gesture: GestureView::of(&e.gesture, today, None),
                    read_only: others,
                    waiting_for: e.waiting_for.map(|w| WaitingForView {
                        reason: w.reason.as_str(),
                        approvers: w.approvers,
                        detail: w.detail,
                    }),
                });
            }
            Ok::<_, AppError>((items, has_more))
        })
        .await?;
    let (data, has_more) = items;
    Ok(
        HttpResponse::Ok().json(ListResponse::of(data, has_more, |i: &QueueItem| {
            i.id.to_string()
        })),
    )
}
