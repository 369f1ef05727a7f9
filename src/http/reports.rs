//! Reports for managers: recognitions of their staff (S4).

use actix_web::{HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::extract::{query_date, query_store, wants_csv};
use super::{AppState, Caller, QueryParams};
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
}

/// `GET /v1/reports/recognition?from=&to=&store_id=`: recognitions per staff
/// member and store, with the customers' words, most recognised first. A
/// store-scoped token (a manager's) sees its stores only. Default: the last 90
/// days; at most 366.
pub(crate) async fn recognition(
    state: web::Data<AppState>,
    caller: Caller,
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
    p.finish().map_err(Error::Validation)?;
    let ctx = caller.audit_ctx(&state.clock);
    let report = state
        .read(move |conn| crate::app::reports::recognition_report(conn, &ctx, store_id, from, to))
        .await?;
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

/// One group's figures in one currency. `net_cost` is signed: recoveries can
/// exceed the costs of a period.
#[derive(Serialize)]
pub(crate) struct GoodwillRow {
    group: std::collections::BTreeMap<&'static str, String>,
    currency: String,
    count: i64,
    value: crate::domain::money::Money,
    free_service_retail_value: crate::domain::money::Money,
    free_service_cost: crate::domain::money::Money,
    written_off: crate::domain::money::Money,
    recovered: crate::domain::money::Money,
    net_cost: SignedMoney,
}

/// A signed amount (only where a figure can be below zero).
#[derive(Serialize)]
pub(crate) struct SignedMoney {
    amount: String,
    currency: String,
}

/// `GET /v1/finance/reports/goodwill` as JSON.
#[derive(Serialize)]
pub(crate) struct GoodwillReport {
    from: NaiveDate,
    to: NaiveDate,
    group_by: Vec<&'static str>,
    rows: Vec<GoodwillRow>,
    totals: Vec<GoodwillRow>,
}

fn row(
    by: &[crate::store::reports::GroupBy],
    key: &[String],
    currency: &str,
    f: &crate::store::reports::Figures,
) -> Result<Option<GoodwillRow>, AppError> {
    use crate::domain::money::{Currency, Money};
    let Some(c) = Currency::from_code(currency) else {
        return Ok(None);
    };
    let m = |x: i128| Money::from_wide(x.max(0), c).ok_or_else(Error::figure_too_large);
    Ok(Some(GoodwillRow {
        group: by
            .iter()
            .map(|g| g.name())
            .zip(key.iter().cloned())
            .collect(),
        currency: currency.to_owned(),
        count: f.count,
        value: m(f.value)?,
        free_service_retail_value: m(f.free_service_retail)?,
        free_service_cost: m(f.free_service_cost)?,
        written_off: m(f.written_off)?,
        recovered: m(f.recovered)?,
        net_cost: SignedMoney {
            amount: Money::signed_wide(f.net_cost, c).ok_or_else(Error::figure_too_large)?,
            currency: currency.to_owned(),
        },
    }))
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
    if let Some(s) = store_id {
        caller.require_store(s)?;
    }
    let stores = store_id.map(|s| vec![s]).or_else(|| caller.stores.clone());
    let tenant = caller.tenant;
    let by2 = by.clone();
    let groups = state
        .read(move |conn| {
            crate::store::reports::goodwill(conn, tenant, stores.as_deref(), &by2, from, to)
        })
        .await?;
    let mut totals: std::collections::BTreeMap<String, crate::store::reports::Figures> =
        Default::default();
    for ((_, cur), f) in &groups {
        totals.entry(cur.clone()).or_default().add(f);
    }
    let mut rows: Vec<GoodwillRow> = Vec::with_capacity(groups.len());
    for ((key, cur), f) in &groups {
        rows.extend(row(&by, key, cur, f)?);
    }
    if csv {
        use crate::csv_export::Cell::{Number, Text};
        let mut out = crate::csv_export::Csv::new();
        let mut header: Vec<&str> = by.iter().map(|g| g.name()).collect();
        header.extend([
            "currency",
            "count",
            "value",
            "free_service_retail_value",
            "free_service_cost",
            "written_off",
            "recovered",
            "net_cost",
        ]);
        out.header(header);
        for r in &rows {
            let count = r.count.to_string();
            let values = [
                r.value.amount_string(),
                r.free_service_retail_value.amount_string(),
                r.free_service_cost.amount_string(),
                r.written_off.amount_string(),
                r.recovered.amount_string(),
                r.net_cost.amount.clone(),
            ];
            let mut cells: Vec<crate::csv_export::Cell> = by
                .iter()
                .map(|g| Text(r.group.get(g.name()).map_or("", String::as_str)))
                .collect();
            cells.push(Text(&r.currency));
            cells.push(Number(&count));
            cells.extend(values.iter().map(|v| Number(v)));
            out.record(cells);
        }
        let out = out.into_bytes();
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(out));
    }
    Ok(HttpResponse::Ok().json(GoodwillReport {
        from,
        to,
        group_by: by.iter().map(|g| g.name()).collect(),
        rows,
        totals: {
            let mut out = Vec::with_capacity(totals.len());
            for (cur, f) in &totals {
                out.extend(row(&[], &[], cur, f)?);
            }
            out
        },
    }))
}
