//! Finance: the write-off review queue, and reviewing (one item or a batch).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply, timestamp};
use crate::audit::NewEvent;
use crate::domain::ids::{CustomerId, GestureId, StoreId, TenantId};
use crate::domain::money::{Currency, Money};
use crate::domain::{Problems, text};
use crate::error::AppError;
use crate::store::DbConnection;
use crate::store::write_offs::{Review, WriteOff};

/// One review as the API shows it.
#[derive(Serialize, Clone)]
pub struct ReviewView {
    outcome: String,
    note: Option<String>,
    reviewer: String,
    reviewer_role: String,
    at: String,
}

/// A write-off item.
#[derive(Serialize, Clone)]
pub struct WriteOffView {
    id: GestureId,
    gesture_id: GestureId,
    customer_id: CustomerId,
    store_id: StoreId,
    amount: Money,
    reason_code: String,
    story: String,
    requested_by: String,
    approved_by: Option<String>,
    decision_rule: String,
    policy_version: i32,
    write_off_of: Option<GestureId>,
    effective_on: NaiveDate,
    status: String,
    reviews: Vec<ReviewView>,
    customer: super::gestures::CustomerStanding,
    created_at: String,
    updated_at: String,
}

/// The views of items, with their reviews (one query) and customer histories.
fn views(
    conn: &mut DbConnection,
    tenant: TenantId,
    items: Vec<WriteOff>,
    now: chrono::NaiveDateTime,
) -> Result<Vec<WriteOffView>, AppError> {
    let ids: Vec<GestureId> = items.iter().map(|w| w.id).collect();
    let reviews: Vec<Review> = crate::store::write_offs::reviews_of(conn, tenant, &ids)?;
    let mut out = Vec::with_capacity(items.len());
    for w in items {
        let currency = Currency::from_code(&w.currency).ok_or_else(|| {
            AppError::Internal(format!("write-off {} has an unknown currency", w.id))
        })?;
        out.push(WriteOffView {
            id: w.id,
            gesture_id: w.id,
            customer_id: w.customer_id,
            store_id: w.store_id,
            amount: Money::from_minor(w.amount_minor, currency),
            reason_code: w.reason_code,
            story: w.story,
            requested_by: w.requested_by,
            approved_by: w.approved_by,
            decision_rule: w.decision_rule,
            policy_version: w.policy_version,
            write_off_of: w.write_off_of,
            effective_on: w.effective_on,
            status: w.status,
            reviews: reviews
                .iter()
                .filter(|r| r.write_off_id == w.id)
                .map(|r| ReviewView {
                    outcome: r.outcome.clone(),
                    note: r.note.clone(),
                    reviewer: r.reviewer.clone(),
                    reviewer_role: r.reviewer_role.clone(),
                    at: timestamp(&r.created_at),
                })
                .collect(),
            customer: super::gestures::standing(
                conn,
                tenant,
                w.customer_id,
                now,
                Some(Money::from_minor(w.amount_minor, currency)),
                true,
            )?,
            created_at: timestamp(&w.created_at),
            updated_at: timestamp(&w.updated_at),
        });
    }
    Ok(out)
}

/// Query of `GET /v1/finance/write-offs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    store_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reason_code: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

use super::extract::query_date as date;

/// `GET /v1/finance/write-offs?status=&store_id=&from=&to=&reason_code=`: write-offs
/// oldest first, each with its reviews and the customer's history.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request::<GestureId>(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    if let Some(s) = q.status.as_deref()
        && !["unreviewed", "reviewed", "flagged"].contains(&s)
    {
        p.push("status", "must be unreviewed, reviewed or flagged");
    }
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let from = date("from", q.from.as_deref(), &mut p);
    let to = date("to", q.to.as_deref(), &mut p);
    p.finish().map_err(AppError::Validation)?;
    if let Some(s) = store_id {
        caller.require_store(s)?;
    }
    let filter = crate::store::write_offs::Filter {
        status: q.status,
        store_id,
        stores: caller.stores.clone(),
        from,
        to,
        reason_code: q.reason_code,
    };
    let (tenant, now) = (caller.tenant, state.clock.now());
    let (data, has_more) = state
        .read(move |conn| {
            let (items, more) = crate::store::write_offs::list(
                conn,
                tenant,
                &filter,
                page.starting_after,
                page.limit,
            )?;
            Ok((views(conn, tenant, items, now)?, more))
        })
        .await?;
    let next_cursor = if has_more {
        data.last().map(|w| w.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ListResponse {
        data,
        has_more,
        next_cursor,
    }))
}

/// Body of `POST /v1/finance/write-offs/{id}/review`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    outcome: String,
    note: Option<String>,
}

/// Body of `POST /v1/finance/write-offs/review`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    ids: Vec<String>,
    outcome: String,
    note: Option<String>,
}

fn parse_review(outcome: &str, note: Option<&str>, p: &mut Problems) -> Option<String> {
    if !["reviewed", "flagged"].contains(&outcome) {
        p.push("outcome", "must be reviewed or flagged");
    }
    match note {
        Some(n) => p.take(text::required_line_multi("note", n, 4000)),
        None => None,
    }
}

fn review_all(
    conn: &mut DbConnection,
    ctx: &crate::audit::AuditCtx,
    ids: &[(String, GestureId)],
    outcome: &str,
    note: Option<String>,
) -> Result<Vec<WriteOffView>, AppError> {
    let mut done = Vec::with_capacity(ids.len());
    for (field, id) in ids {
        let (before, after) =
            crate::store::write_offs::review(conn, ctx, *id, outcome, note.clone(), field)?;
        done.push((before, after));
    }
    let year = ctx.now;
    let befores = views(
        conn,
        ctx.tenant,
        done.iter().map(|(b, _)| b.clone()).collect(),
        year,
    )?;
    let afters = views(
        conn,
        ctx.tenant,
        done.into_iter().map(|(_, a)| a).collect(),
        year,
    )?;
    for (b, a) in befores.iter().zip(&afters) {
        let mut ev = NewEvent::changed(
            if outcome == "flagged" {
                "writeoff.flagged"
            } else {
                "writeoff.reviewed"
            },
            "write_off",
            a.id,
            b,
            a,
        );
        if let Some(n) = &note {
            ev = ev.because(n.clone());
        }
        crate::store::audit::append(conn, ctx, ev)?;
    }
    Ok(afters)
}

/// `POST /v1/finance/write-offs/{id}/review` `{outcome, note}`.
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<GestureId>,
    idem: Idem,
    body: JsonBody<ReviewBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let mut p = Problems::default();
    let note = parse_review(&b.outcome, b.note.as_deref(), &mut p);
    p.finish().map_err(AppError::Validation)?;
    let ids = vec![(String::new(), id.into_inner())];
    state
        .command(&caller, key, move |conn, ctx| {
            let mut out = review_all(conn, ctx, &ids, &b.outcome, note)?;
            Ok(Reply::ok(&out.remove(0)))
        })
        .await
}

/// The answer to a batch review.
#[derive(Serialize)]
pub struct BatchView {
    data: Vec<WriteOffView>,
}

/// `POST /v1/finance/write-offs/review` `{ids, outcome, note}`: all or nothing.
pub async fn review_batch(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<BatchBody, { super::extract::BATCH_BODY_LIMIT }>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let mut p = Problems::default();
    let note = parse_review(&b.outcome, b.note.as_deref(), &mut p);
    if b.ids.is_empty() || b.ids.len() > 1000 {
        p.push("ids", "must hold 1 to 1000 write-off ids");
    }
    let mut ids = Vec::with_capacity(b.ids.len());
    for (i, s) in b.ids.iter().enumerate() {
        match s.parse::<GestureId>() {
            Ok(id) if ids.iter().any(|(_, x)| *x == id) => {
                p.push(format!("ids[{i}]"), "is listed twice");
            }
            Ok(id) => ids.push((format!("ids[{i}]"), id)),
            Err(_) => p.push(format!("ids[{i}]"), "must be a write-off id"),
        }
    }
    p.finish().map_err(AppError::Validation)?;
    state
        .command(&caller, key, move |conn, ctx| {
            let data = review_all(conn, ctx, &ids, &b.outcome, note)?;
            Ok(Reply::ok(&BatchView { data }))
        })
        .await
}

/// One account's movement in a month.
#[derive(Serialize)]
pub struct TotalView {
    account: String,
    debit: Money,
    credit: Money,
}

/// A month.
#[derive(Serialize)]
pub struct PeriodView {
    id: String,
    month: String,
    state: String,
    closed_by: Option<String>,
    closed_at: Option<String>,
    close_reason: Option<String>,
    forced: bool,
    totals: Option<Vec<TotalView>>,
    digest: Option<String>,
    /// Closed months read one at a time: whether the entries still add up to
    /// the totals kept at close (null in lists and for open months).
    verified: Option<bool>,
    reopened_by: Option<String>,
    reopened_at: Option<String>,
    reopen_reason: Option<String>,
}

impl PeriodView {
    fn of(p: crate::store::periods::Period, verified: Option<bool>) -> Result<Self, AppError> {
        let totals = match &p.totals {
            None => None,
            Some(_) => {
                let mut out = Vec::new();
                for t in p.kept_totals() {
                    let Some(c) = Currency::from_code(&t.currency) else {
                        continue;
                    };
                    let wide = |m: i128| {
                        Money::from_wide(m, c).ok_or_else(super::reports::figure_too_large)
                    };
                    out.push(TotalView {
                        account: t.account,
                        debit: wide(t.debit_minor)?,
                        credit: wide(t.credit_minor)?,
                    });
                }
                Some(out)
            }
        };
        Ok(Self {
            id: p.month.clone(),
            month: p.month,
            state: p.state,
            closed_by: p.closed_by,
            closed_at: p.closed_at.as_ref().map(timestamp),
            close_reason: p.close_reason,
            forced: p.forced,
            totals,
            digest: p.digest,
            verified,
            reopened_by: p.reopened_by,
            reopened_at: p.reopened_at.as_ref().map(timestamp),
            reopen_reason: p.reopen_reason,
        })
    }
}

/// A month as a token sees it: one confined to some stores sees its state but
/// not the totals and digest, which are every store's movement.
fn for_token(mut p: crate::store::periods::Period, scoped: bool) -> crate::store::periods::Period {
    if scoped {
        p.totals = None;
        p.digest = None;
    }
    p
}

fn month(s: &str) -> Result<crate::store::periods::Month, AppError> {
    crate::store::periods::Month::parse(s)
        .ok_or_else(|| AppError::NotFound(format!("no month {s:?}: months are YYYY-MM")))
}

/// `GET /v1/finance/periods`: every month ever closed, newest first (a month not
/// listed is open).
pub async fn periods(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let rows = state
        .read(move |conn| crate::store::periods::list(conn, tenant))
        .await?;
    let scoped = caller.stores.is_some();
    Ok(HttpResponse::Ok().json(ListResponse {
        data: rows
            .into_iter()
            .map(|p| for_token(p, scoped))
            .map(|p| PeriodView::of(p, None))
            .collect::<Result<Vec<_>, _>>()?,
        has_more: false,
        next_cursor: None,
    }))
}

/// `GET /v1/finance/periods/{month}`: its state; a closed month's totals are
/// recomputed from its entries and compared with those kept at close.
pub async fn period(
    state: web::Data<AppState>,
    caller: Caller,
    m: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (tenant, m) = (caller.tenant, month(&m)?);
    let scoped = caller.stores.is_some();
    let view = state
        .read(move |conn| {
            let p = for_token(crate::store::periods::get(conn, tenant, m)?, scoped);
            let verified = if p.state == "closed" && !scoped {
                let now = crate::store::periods::totals(conn, tenant, m)?;
                Some(p.digest.as_deref() == Some(crate::store::periods::digest(&now).as_str()))
            } else {
                None
            };
            PeriodView::of(p, verified)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /v1/finance/periods/{month}/close`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    #[serde(default)]
    force: bool,
    reason: Option<String>,
}

/// `POST /v1/finance/periods/{month}/close` `{force?, reason?}`.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    m: web::Path<String>,
    idem: Idem,
    body: JsonBody<CloseBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let m = month(&m)?;
    let reason = b
        .reason
        .as_deref()
        .map(|r| text::required_line_multi("reason", r, 4000))
        .transpose()
        .map_err(|e| AppError::Validation(vec![e]))?;
    state
        .command(&caller, key, move |conn, ctx| {
            let (before, after) =
                crate::store::periods::close(conn, ctx, m, b.force, reason.clone())?;
            // The event is dated as the close is: after the lock was granted.
            let ctx = &crate::audit::AuditCtx {
                now: after.closed_at.unwrap_or(ctx.now),
                ..ctx.clone()
            };
            let after = PeriodView::of(after, None)?;
            let mut ev = NewEvent::changed(
                "period.closed",
                "period",
                m,
                &PeriodView::of(before, None)?,
                &after,
            );
            if let Some(r) = reason {
                ev = ev.because(r);
            }
            crate::store::audit::append(conn, ctx, ev)?;
            Ok(Reply::ok(&after))
        })
        .await
}

/// Body of `POST /v1/finance/periods/{month}/reopen`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    reason: String,
}

/// `POST /v1/finance/periods/{month}/reopen` `{reason}` (admin).
pub async fn reopen(
    state: web::Data<AppState>,
    caller: Caller,
    m: web::Path<String>,
    idem: Idem,
    body: JsonBody<ReopenBody>,
) -> Result<HttpResponse, AppError> {
    let (b, raw) = body.into_parts();
    let key = idem.bind(&raw);
    let m = month(&m)?;
    let reason = text::required_line_multi("reason", &b.reason, 4000)
        .map_err(|e| AppError::Validation(vec![e]))?;
    state
        .command(&caller, key, move |conn, ctx| {
            let (before, after) = crate::store::periods::reopen(conn, ctx, m, reason.clone())?;
            let ctx = &crate::audit::AuditCtx {
                now: after.reopened_at.unwrap_or(ctx.now),
                ..ctx.clone()
            };
            let after = PeriodView::of(after, None)?;
            crate::store::audit::append(
                conn,
                ctx,
                NewEvent::changed(
                    "period.reopened",
                    "period",
                    m,
                    &PeriodView::of(before, None)?,
                    &after,
                )
                .because(reason),
            )?;
            Ok(Reply::ok(&after))
        })
        .await
}

/// Count and outstanding amount of one bucket.
#[derive(Serialize)]
pub struct BucketView {
    count: i64,
    amount: Money,
}

/// One store and currency of the aging.
#[derive(Serialize)]
pub struct AgingRowView {
    store_id: StoreId,
    currency: String,
    buckets: std::collections::BTreeMap<&'static str, BucketView>,
    total: BucketView,
}

/// How promises are kept: counts, and each as a share of those decided.
#[derive(Serialize)]
pub struct KeepingView {
    kept_on_time: i64,
    kept_late: i64,
    written_off: i64,
    on_time_rate: Option<f64>,
    late_rate: Option<f64>,
    written_off_rate: Option<f64>,
}

/// `GET /v1/finance/aging`.
#[derive(Serialize)]
pub struct AgingView {
    as_of: NaiveDate,
    stores: Vec<AgingRowView>,
    promise_keeping: KeepingView,
}

/// Query of `GET /v1/finance/aging`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingQuery {
    store_id: Option<String>,
    as_of: Option<String>,
}

/// `GET /v1/finance/aging?store_id=&as_of=`: open deferred payments by days
/// past due on `as_of` (default today), per store and currency, and the
/// tenant's promise-keeping rates.
pub async fn aging(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AgingQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let as_of = date("as_of", q.as_of.as_deref(), &mut p);
    p.finish().map_err(AppError::Validation)?;
    if let Some(s) = store_id {
        caller.require_store(s)?;
    }
    let as_of = as_of.unwrap_or_else(|| state.clock.now().date());
    let stores = store_id.map(|s| vec![s]).or_else(|| caller.stores.clone());
    let tenant = caller.tenant;
    let (rows, (on_time, late, written_off)) = state
        .read(move |conn| {
            Ok((
                crate::store::aging::aging(conn, tenant, stores.as_deref(), as_of)?,
                crate::store::aging::keeping(conn, tenant)?,
            ))
        })
        .await?;
    let decided = on_time + late + written_off;
    #[allow(clippy::cast_precision_loss)]
    let rate = |n: i64| (decided > 0).then(|| n as f64 / decided as f64);
    let mut stores = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(c) = Currency::from_code(&r.currency) else {
            continue;
        };
        let bucket = |(count, minor): (i64, i128)| -> Result<BucketView, AppError> {
            Ok(BucketView {
                count,
                amount: Money::from_wide(minor, c).ok_or_else(super::reports::figure_too_large)?,
            })
        };
        let total = r
            .buckets
            .iter()
            .fold((0, 0), |(n, m), (bn, bm)| (n + bn, m + bm));
        let mut buckets = std::collections::BTreeMap::new();
        for (name, b) in crate::store::aging::BUCKETS.into_iter().zip(r.buckets) {
            buckets.insert(name, bucket(b)?);
        }
        stores.push(AgingRowView {
            store_id: r.store_id,
            currency: r.currency.clone(),
            buckets,
            total: bucket(total)?,
        });
    }
    Ok(HttpResponse::Ok().json(AgingView {
        as_of,
        stores,
        promise_keeping: KeepingView {
            kept_on_time: on_time,
            kept_late: late,
            written_off,
            on_time_rate: rate(on_time),
            late_rate: rate(late),
            written_off_rate: rate(written_off),
        },
    }))
}

/// `GET /v1/finance/account-map`.
#[derive(Serialize)]
pub struct AccountMapView {
    mappings: Vec<crate::domain::account_map::Mapping>,
    updated_by: Option<String>,
    updated_at: Option<String>,
}

/// `GET /v1/finance/account-map`: how ledger accounts export to the tenant's
/// chart (empty: under their own codes).
pub async fn account_map(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let tenant = caller.tenant;
    let (map, by) = state
        .read(move |conn| crate::store::journal::account_map(conn, tenant))
        .await?;
    Ok(HttpResponse::Ok().json(AccountMapView {
        mappings: map.mappings,
        updated_by: by.as_ref().map(|(b, _)| b.clone()),
        updated_at: by.as_ref().map(|(_, t)| timestamp(t)),
    }))
}

/// `PUT /v1/finance/account-map` `{mappings}` (finance, admin): replaces the map.
pub async fn put_account_map(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<crate::domain::account_map::AccountMap>,
) -> Result<HttpResponse, AppError> {
    let (map, raw) = body.into_parts();
    let key = idem.bind(&raw);
    state
        .command(&caller, key, move |conn, ctx| {
            let (before, after) = crate::store::journal::put_account_map(conn, ctx, map)?;
            crate::store::audit::append(
                conn,
                ctx,
                NewEvent::changed(
                    "account_map.updated",
                    "account_map",
                    ctx.tenant,
                    &before,
                    &after,
                ),
            )?;
            Ok(Reply::ok(&AccountMapView {
                mappings: after.mappings,
                updated_by: Some(ctx.actor_sub.clone()),
                updated_at: Some(timestamp(&ctx.now)),
            }))
        })
        .await
}

/// The journal's header row.
pub const JOURNAL_HEADER: [&str; 10] = [
    "date",
    "transaction_id",
    "account_code",
    "account_name",
    "debit",
    "credit",
    "currency",
    "store",
    "memo",
    "gesture_id",
];

/// Query of `GET /v1/finance/journal`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    period: Option<String>,
    format: Option<String>,
}

/// One currency of the journal's summary.
#[derive(Serialize)]
pub struct JournalCurrency {
    currency: String,
    debit: Money,
    credit: Money,
    balanced: bool,
}

/// `GET /v1/finance/journal` as JSON: what the CSV holds, summed.
#[derive(Serialize)]
pub struct JournalSummary {
    period: String,
    lines: i64,
    currencies: Vec<JournalCurrency>,
}

/// Rows per database read while streaming.
const JOURNAL_CHUNK: i64 = 2_000;

/// `GET /v1/finance/journal?period=YYYY-MM&format=csv`: one line per posting
/// side of the month, accounts mapped to the tenant's chart; streamed in
/// chunks (`text/csv`, RFC 4180, UTF-8, header row). Without `format=csv` (or
/// `Accept: text/csv`) it answers a JSON summary: per currency, debits and
/// credits, which balance.
pub async fn journal(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: QueryParams<JournalQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let month = match q.period.as_deref() {
        None => {
            p.push("period", "is required: a month YYYY-MM");
            None
        }
        Some(s) => {
            let m = crate::store::periods::Month::parse(s);
            if m.is_none() {
                p.push("period", "must be a month YYYY-MM");
            }
            m
        }
    };
    let csv = super::extract::wants_csv(&req, q.format.as_deref(), &mut p);
    p.finish().map_err(AppError::Validation)?;
    let Some(month) = month else {
        return Err(AppError::Internal("period missing after validation".into()));
    };
    let tenant = caller.tenant;
    if !csv {
        let totals = state
            .read(move |conn| crate::store::periods::totals(conn, tenant, month))
            .await?;
        // Summed in 128 bits: a month's debits across accounts can exceed 64.
        let mut by: std::collections::BTreeMap<String, (i128, i128)> = Default::default();
        for t in &totals {
            let e = by.entry(t.currency.clone()).or_default();
            e.0 += t.debit_minor;
            e.1 += t.credit_minor;
        }
        let lines = state
            .read(move |conn| crate::store::journal::line_count(conn, tenant, month))
            .await?;
        let mut currencies = Vec::with_capacity(by.len());
        for (c, (d, cr)) in by {
            let Some(cur) = Currency::from_code(&c) else {
                continue;
            };
            let wide =
                |m: i128| Money::from_wide(m, cur).ok_or_else(super::reports::figure_too_large);
            currencies.push(JournalCurrency {
                currency: c,
                debit: wide(d)?,
                credit: wide(cr)?,
                balanced: d == cr,
            });
        }
        return Ok(HttpResponse::Ok().json(JournalSummary {
            period: month.to_string(),
            lines,
            currencies,
        }));
    }
    let (map, _) = state
        .read(move |conn| crate::store::journal::account_map(conn, tenant))
        .await?;
    let map = std::sync::Arc::new(map);
    struct Step {
        after: Option<crate::store::journal::Cursor>,
        first: bool,
    }
    let body = futures_util::stream::unfold(
        Some(Step {
            after: None,
            first: true,
        }),
        move |step| {
            let state = state.clone();
            let map = map.clone();
            async move {
                let step = step?;
                let after = step.after;
                let chunk = state
                    .read(move |conn| {
                        crate::store::journal::chunk(conn, tenant, month, after, JOURNAL_CHUNK)
                    })
                    .await;
                let (lines, next) = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "the journal export stopped");
                        return Some((
                            Err(actix_web::error::ErrorInternalServerError(e.to_string())),
                            None,
                        ));
                    }
                };
                use crate::csv_export::Cell::{Number, Text};
                let mut out = crate::csv_export::Csv::new();
                if step.first {
                    out.header(JOURNAL_HEADER);
                }
                for l in &lines {
                    let cur = Currency::from_code(&l.currency);
                    let amount = |m: i64| match (m, cur) {
                        (0, _) | (_, None) => String::new(),
                        (m, Some(c)) => Money::from_minor(m, c).amount_string(),
                    };
                    let (code, name) = map.resolve(&l.account);
                    let (date, tx) = (l.date.to_string(), l.transaction_id.to_string());
                    let (debit, credit) = (amount(l.debit_minor), amount(l.credit_minor));
                    let g = l.gesture_id.map(|g| g.to_string()).unwrap_or_default();
                    out.record([
                        Text(&date),
                        Text(&tx),
                        Text(&code),
                        Text(&name),
                        Number(&debit),
                        Number(&credit),
                        Text(&l.currency),
                        Text(l.store.as_deref().unwrap_or("")),
                        Text(&l.memo),
                        Text(&g),
                    ]);
                }
                let out = out.into_bytes();
                let following = next.map(|after| Step {
                    after: Some(after),
                    first: false,
                });
                Some((Ok::<_, actix_web::Error>(web::Bytes::from(out)), following))
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"journal-{month}.csv\""),
        ))
        .streaming(body))
}
