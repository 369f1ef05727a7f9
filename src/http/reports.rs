//! Reports for managers: recognitions of their staff (S4).

use actix_web::{HttpResponse, web};
use chrono::Datelike;
use serde::Deserialize;

use super::extract::{query_date, query_store, wants_csv};
use super::{AppState, Caller, QueryParams, csv_attachment};
use crate::domain::Problems;
use crate::error::Error;
use crate::http::AppError;

/// Query of `GET /v1/reports/recognition`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecognitionQuery {
    from: Option<String>,
    to: Option<String>,
    store_id: Option<String>,
    format: Option<String>,
}

/// `GET /v1/reports/recognition?from=&to=&store_id=&format=`: recognitions
/// per staff member and store, with the customers' words, most recognised
/// first. A store-scoped token (a manager's) sees its stores only. Default:
/// the last 90 days; at most 366. JSON, or CSV (one line per praise) with
/// `format=csv` / `Accept: text/csv`.
pub(crate) async fn recognition(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: QueryParams<RecognitionQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let to = query_date("to", q.to.as_deref(), &mut p);
    let from = query_date("from", q.from.as_deref(), &mut p);
    let store_id = query_store(q.store_id.as_deref(), &mut p);
    let to = to.unwrap_or_else(|| state.clock.now().date());
    let from = from.unwrap_or(to - chrono::TimeDelta::days(89));
    if from > to {
        p.push("from", "must not be after to");
    } else if (to - from).num_days() > 365 {
        p.push("from", "the report covers at most 366 days");
    }
    let csv = wants_csv(&req, q.format.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    let ctx = caller.audit_ctx(&state.clock);
    let report = state
        .read(move |conn| crate::app::reports::recognition_report(conn, &ctx, store_id, from, to))
        .await?;
    if csv {
        return Ok(csv_attachment(
            &format!("recognition-{from}-to-{to}.csv"),
            report.csv(),
        ));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// Query of `GET /v1/finance/reports/goodwill`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoodwillQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    store_id: Option<String>,
    format: Option<String>,
}

/// `GET /v1/finance/reports/goodwill?from=&to=&group_by=store,kind,...&store_id=`:
/// counts, money value, free services at retail value and at cost, written off,
/// recovered and net cost, per group and currency, for gestures in effect with
/// `effective_on` in [from, to] (default this month so far; at most 3 years).
/// JSON, or CSV with `format=csv` / `Accept: text/csv`.
pub(crate) async fn goodwill(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: QueryParams<GoodwillQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::store::reports::GroupBy;
    let q = query.0;
    let mut p = Problems::default();
    let to = query_date("to", q.to.as_deref(), &mut p);
    let from = query_date("from", q.from.as_deref(), &mut p);
    let today = state.clock.now().date();
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if from > to {
        p.push("from", "must not be after to");
    } else if (to - from).num_days() > 1096 {
        p.push("from", "the report covers at most 3 years");
    }
    let mut by: Vec<GroupBy> = Vec::new();
    for (i, g) in q
        .group_by
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|g| !g.is_empty())
        .enumerate()
    {
        match GroupBy::parse(g) {
            Some(x) if !by.contains(&x) => by.push(x),
            Some(_) => p.push("group_by", format!("{g} is listed twice")),
            None => p.push(
                "group_by",
                format!("item {i} ({g:?}) must be one of store, kind, reason_code, incident_cause, requester, approver, month"),
            ),
        }
    }
    let store_id = query_store(q.store_id.as_deref(), &mut p);
    let csv = wants_csv(&req, q.format.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    let ctx = caller.audit_ctx(&state.clock);
    let report = state
        .read(move |conn| crate::app::reports::goodwill_report(conn, &ctx, store_id, &by, from, to))
        .await?;
    if csv {
        return Ok(csv_attachment(
            &format!("goodwill-{from}-to-{to}.csv"),
            report.csv(),
        ));
    }
    Ok(HttpResponse::Ok().json(report))
}
