//! Finance: the write-off review queue, and reviewing (one item or a batch).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::extract::page_request;
use super::{AppState, Caller, Idem, JsonBody, ListResponse, QueryParams, Reply, timestamp};
use crate::domain::ids::{GestureId, TenantId};
use crate::domain::money::{Currency, Money};
use crate::domain::{Problems, text};
use crate::error::Error;
use crate::http::AppError;
use crate::store::DbConnection;
use crate::store::write_offs::{Review, WriteOff};
use crate::views::finance::{PeriodView, WriteOffItem, WriteOffView};

/// The queue's items: each with its reviews (one query) and its customer's
/// standing.
pub(crate) fn items(
    conn: &mut DbConnection,
    tenant: TenantId,
    items: Vec<WriteOff>,
    now: chrono::NaiveDateTime,
) -> Result<Vec<WriteOffItem>, AppError> {
    let ids: Vec<GestureId> = items.iter().map(|w| w.id).collect();
    let reviews: Vec<Review> = crate::store::write_offs::reviews_of(conn, tenant, &ids)?;
    let names = crate::app::names::Names::load(conn, tenant)?;
    let mut out = Vec::with_capacity(items.len());
    for w in items {
        let v = WriteOffView::of(&w, &reviews)?;
        let store = names.store_ref(w.store_id);
        let standing = crate::app::customers::standing(
            conn,
            tenant,
            w.customer_id,
            now,
            Some(v.amount),
            true,
        )?;
        out.push(WriteOffItem::of(v, store, standing));
    }
    Ok(out)
}

/// Query of `GET /v1/finance/write-offs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    status: Option<String>,
    store_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reason_code: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
    format: Option<String>,
}

use super::extract::query_date as date;

/// The most lines a CSV of a list holds; beyond it the caller narrows the
/// filters (a spreadsheet is not the place for more).
const CSV_MAX_LINES: i64 = 10_000;

/// A list's CSV holds every `what` its filters match: paging parameters
/// given with it are refused, each named.
fn csv_takes_no_paging(p: &mut Problems, what: &str, given: &[(&str, bool)]) {
    for (name, _) in given.iter().filter(|(_, g)| *g) {
        p.push(
            *name,
            format!("is not taken with format=csv: the CSV holds every {what} the filters match"),
        );
    }
}

/// `GET /v1/finance/write-offs?status=&store_id=&from=&to=&reason_code=&format=`:
/// write-offs oldest first, each with its reviews and the customer's history;
/// with `format=csv`, every item the filters match (at most 10,000) as one
/// download.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: QueryParams<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let csv = super::extract::wants_csv(&req, q.format.as_deref(), &mut p);
    if csv {
        csv_takes_no_paging(
            &mut p,
            "write-off",
            &[
                ("limit", q.limit.is_some()),
                ("starting_after", q.starting_after.is_some()),
            ],
        );
    }
    let page = page_request::<GestureId>(q.limit.as_deref(), q.starting_after.as_deref(), &mut p);
    if let Some(s) = q.status.as_deref()
        && !["unreviewed", "reviewed", "flagged"].contains(&s)
    {
        p.push("status", "must be unreviewed, reviewed or flagged");
    }
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let from = date("from", q.from.as_deref(), &mut p);
    let to = date("to", q.to.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
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
    if csv {
        let body = state
            .read(move |conn| {
                let (items, more) =
                    crate::store::write_offs::list(conn, tenant, &filter, None, CSV_MAX_LINES)?;
                if more {
                    return Err(AppError::from(Error::field(
                        "from",
                        format!(
                            "the CSV holds at most {CSV_MAX_LINES} write-offs: narrow the dates, the store or the status"
                        ),
                    )));
                }
                let ids: Vec<GestureId> = items.iter().map(|w| w.id).collect();
                let reviews = crate::store::write_offs::reviews_of(conn, tenant, &ids)?;
                let mut names = crate::app::names::Names::load(conn, tenant)?;
                let customers: Vec<_> = items.iter().map(|w| w.customer_id).collect();
                names.prefetch_customers(conn, &customers)?;
                let mut rows = Vec::with_capacity(items.len());
                for w in &items {
                    rows.push((
                        WriteOffView::of(w, &reviews)?,
                        names.store_ref(w.store_id),
                        names.customer_ref(conn, w.customer_id)?,
                    ));
                }
                Ok(crate::views::finance::write_offs_csv(&rows))
            })
            .await?;
        return Ok(super::csv_attachment(
            &format!("write-offs-{}.csv", now.date()),
            body,
        ));
    }
    let (data, has_more) = state
        .read(move |conn| {
            let (items, more) = crate::store::write_offs::list(
                conn,
                tenant,
                &filter,
                page.starting_after,
                page.limit,
            )?;
            Ok::<_, AppError>((self::items(conn, tenant, items, now)?, more))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::of(data, has_more, |w| w.id.to_string())))
}

/// Body of `POST /v1/finance/write-offs/{id}/review`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    outcome: String,
    note: Option<String>,
}

/// Body of `POST /v1/finance/write-offs/review`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchBody {
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
) -> Result<Vec<WriteOffItem>, AppError> {
    let done = crate::app::finance::review_write_offs(conn, ctx, ids, outcome, note)?;
    items(conn, ctx.tenant, done, ctx.now)
}

/// `POST /v1/finance/write-offs/{id}/review` `{outcome, note}`.
pub(crate) async fn review(
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
    p.finish().map_err(Error::Validation)?;
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
pub(crate) struct BatchView {
    data: Vec<WriteOffItem>,
}

/// `POST /v1/finance/write-offs/review` `{ids, outcome, note}`: all or nothing.
pub(crate) async fn review_batch(
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
    p.finish().map_err(Error::Validation)?;
    state
        .command(&caller, key, move |conn, ctx| {
            let data = review_all(conn, ctx, &ids, &b.outcome, note)?;
            Ok(Reply::ok(&BatchView { data }))
        })
        .await
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

fn month(s: &str) -> Result<crate::domain::period::Month, AppError> {
    crate::domain::period::Month::parse(s)
        .ok_or_else(|| Error::NotFound(format!("no month {s:?}: months are YYYY-MM")))
        .map_err(AppError::from)
}

/// `GET /v1/finance/periods`: every month ever closed, newest first (a month not
/// listed is open).
pub(crate) async fn periods(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
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
pub(crate) async fn period(
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
pub(crate) struct CloseBody {
    #[serde(default)]
    force: bool,
    reason: Option<String>,
}

/// `POST /v1/finance/periods/{month}/close` `{force?, reason?}`.
pub(crate) async fn close(
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
        .map_err(|e| Error::Validation(vec![e]))?;
    state
        .command(&caller, key, move |conn, ctx| {
            let after = crate::app::finance::close_period(conn, ctx, m, b.force, reason)?;
            Ok(Reply::ok(&PeriodView::of(after, None)?))
        })
        .await
}

/// Body of `POST /v1/finance/periods/{month}/reopen`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReopenBody {
    reason: String,
}

/// `POST /v1/finance/periods/{month}/reopen` `{reason}` (admin).
pub(crate) async fn reopen(
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
        .map_err(|e| Error::Validation(vec![e]))?;
    state
        .command(&caller, key, move |conn, ctx| {
            let after = crate::app::finance::reopen_period(conn, ctx, m, reason)?;
            Ok(Reply::ok(&PeriodView::of(after, None)?))
        })
        .await
}

/// Query of `GET /v1/finance/aging`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgingQuery {
    store_id: Option<String>,
    as_of: Option<String>,
}

/// `GET /v1/finance/aging?store_id=&as_of=`: open deferred payments by days
/// past due on `as_of` (default today), per store and currency, and the
/// tenant's promise-keeping rates.
pub(crate) async fn aging(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AgingQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.0;
    let mut p = Problems::default();
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let as_of = date("as_of", q.as_of.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    let as_of = as_of.unwrap_or_else(|| state.clock.now().date());
    let ctx = caller.audit_ctx(&state.clock);
    let view = state
        .read(move |conn| crate::app::finance::aging(conn, &ctx, store_id, as_of))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Query of `GET /v1/finance/aging/promises`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgingPromisesQuery {
    bucket: Option<String>,
    store_id: Option<String>,
    as_of: Option<String>,
    limit: Option<String>,
    format: Option<String>,
}

/// `GET /v1/finance/aging/promises?bucket=31_60&store_id=&as_of=&limit=`:
/// the open promises of a bucket (or of all), oldest due first, with the
/// customer's and the store's names.
pub(crate) async fn aging_promises(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: QueryParams<AgingPromisesQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::store::aging::BUCKETS;
    let q = query.0;
    let mut p = Problems::default();
    let csv = super::extract::wants_csv(&req, q.format.as_deref(), &mut p);
    if csv {
        csv_takes_no_paging(&mut p, "promise", &[("limit", q.limit.is_some())]);
    }
    let store_id = super::extract::query_store(q.store_id.as_deref(), &mut p);
    let as_of = date("as_of", q.as_of.as_deref(), &mut p);
    let bucket = match q.bucket.as_deref() {
        None => None,
        Some(b) => match BUCKETS.iter().position(|x| *x == b) {
            Some(i) => Some(i),
            None => {
                p.push("bucket", format!("must be one of {}", BUCKETS.join(", ")));
                None
            }
        },
    };
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                p.push("limit", "must be a whole number from 1 to 1000");
                100
            }
        },
    };
    p.finish().map_err(Error::Validation)?;
    let as_of = as_of.unwrap_or_else(|| state.clock.now().date());
    let ctx = caller.audit_ctx(&state.clock);
    let want = if csv {
        usize::try_from(CSV_MAX_LINES).unwrap_or(usize::MAX)
    } else {
        limit
    };
    let view = state
        .read(move |conn| {
            crate::app::finance::aging_promises(conn, &ctx, store_id, bucket, as_of, want)
        })
        .await?;
    if csv {
        if view.has_more {
            return Err(Error::field(
                "bucket",
                format!(
                    "the CSV holds at most {CSV_MAX_LINES} promises: narrow it to one bucket or one store"
                ),
            )
            .into());
        }
        let name = format!(
            "aging-{}-{as_of}.csv",
            view.bucket.unwrap_or("all").replace('_', "-")
        );
        return Ok(super::csv_attachment(&name, view.csv()));
    }
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/finance/account-map`.
#[derive(Serialize)]
pub(crate) struct AccountMapView {
    mappings: Vec<crate::domain::account_map::Mapping>,
    updated_by: Option<String>,
    updated_at: Option<String>,
}

/// `GET /v1/finance/account-map`: how ledger accounts export to the tenant's
/// chart (empty: under their own codes).
pub(crate) async fn account_map(
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

/// Query of `GET /v1/finance/accounts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountsQuery {
    kind: Option<String>,
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /v1/finance/accounts?kind=&limit=&starting_after=`: the ledger
/// accounts that hold entries, in account order, each with whose it is, the
/// code the journal exports it under and its sums — what finance maps.
pub(crate) async fn accounts(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AccountsQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::account_map::KINDS;
    let q = query.0;
    let mut p = Problems::default();
    let page = page_request::<String>(q.limit.as_deref(), None, &mut p);
    if let Some(k) = q.kind.as_deref()
        && !KINDS.contains(&k)
    {
        p.push("kind", format!("must be one of {}", KINDS.join(", ")));
    }
    if let Some(a) = q.starting_after.as_deref()
        && crate::domain::ledger::Account::parse(a).is_none()
    {
        p.push(
            "starting_after",
            "must be a cursor from next_cursor (a ledger account)",
        );
    }
    p.finish().map_err(Error::Validation)?;
    let ctx = caller.audit_ctx(&state.clock);
    let (data, has_more) = state
        .read(move |conn| {
            crate::app::finance::accounts(
                conn,
                &ctx,
                q.kind.as_deref(),
                q.starting_after.as_deref(),
                page.limit,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::of(data, has_more, |a| a.account.clone())))
}

/// `PUT /v1/finance/account-map` `{mappings}` (finance, admin): replaces the map.
pub(crate) async fn put_account_map(
    state: web::Data<AppState>,
    caller: Caller,
    idem: Idem,
    body: JsonBody<crate::domain::account_map::AccountMap, { super::extract::BATCH_BODY_LIMIT }>,
) -> Result<HttpResponse, AppError> {
    let (map, raw) = body.into_parts();
    let key = idem.bind(&raw);
    state
        .command(&caller, key, move |conn, ctx| {
            let after = crate::app::finance::set_account_map(conn, ctx, map)?;
            Ok(Reply::ok(&AccountMapView {
                mappings: after.mappings,
                updated_by: Some(ctx.actor_sub.clone()),
                updated_at: Some(timestamp(&ctx.now)),
            }))
        })
        .await
}

/// The journal's header row.
pub(crate) const JOURNAL_HEADER: [&str; 13] = [
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
    "ledger_account",
    "account_label",
    "customer_external_ref",
];

/// Query of `GET /v1/finance/journal`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JournalQuery {
    period: Option<String>,
    format: Option<String>,
}

/// One currency of the journal's summary.
#[derive(Serialize)]
pub(crate) struct JournalCurrency {
    pub(crate) currency: String,
    pub(crate) debit: Money,
    pub(crate) credit: Money,
    pub(crate) balanced: bool,
}

/// `GET /v1/finance/journal` as JSON: what the CSV holds, summed.
#[derive(Serialize)]
pub(crate) struct JournalSummary {
    pub(crate) period: String,
    pub(crate) lines: i64,
    pub(crate) currencies: Vec<JournalCurrency>,
}

/// Rows per database read while streaming.
const JOURNAL_CHUNK: i64 = 2_000;

/// `GET /v1/finance/journal?period=YYYY-MM&format=csv`: one line per posting
/// side of the month, accounts mapped to the tenant's chart; streamed in
/// chunks (`text/csv`, RFC 4180, UTF-8, header row). Without `format=csv` (or
/// `Accept: text/csv`) it answers a JSON summary: per currency, debits and
/// credits, which balance.
pub(crate) async fn journal(
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
            let m = crate::domain::period::Month::parse(s);
            if m.is_none() {
                p.push("period", "must be a month YYYY-MM");
            }
            m
        }
    };
    let csv = super::extract::wants_csv(&req, q.format.as_deref(), &mut p);
    p.finish().map_err(Error::Validation)?;
    let Some(month) = month else {
        return Err(AppError::from(Error::internal(
            "period missing after validation",
        )));
    };
    let tenant = caller.tenant;
    if !csv {
        return Ok(HttpResponse::Ok().json(journal_summary(&state, tenant, month).await?));
    }
    journal_csv(state, tenant, month).await
}

/// The journal of a month in short: per currency, its debits and credits,
/// which balance, and its number of lines.
pub(crate) async fn journal_summary(
    state: &AppState,
    tenant: TenantId,
    month: crate::domain::period::Month,
) -> Result<JournalSummary, AppError> {
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
        let wide = |m: i128| Money::from_wide(m, cur).ok_or_else(Error::figure_too_large);
        currencies.push(JournalCurrency {
            currency: c,
            debit: wide(d)?,
            credit: wide(cr)?,
            balanced: d == cr,
        });
    }
    Ok(JournalSummary {
        period: month.to_string(),
        lines,
        currencies,
    })
}

/// The journal of a month as CSV, streamed in chunks: one line per posting
/// side, accounts mapped to the tenant's chart.
pub(crate) async fn journal_csv(
    state: web::Data<AppState>,
    tenant: TenantId,
    month: crate::domain::period::Month,
) -> Result<HttpResponse, AppError> {
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
                        Text(&l.account),
                        Text(&l.label),
                        Text(l.customer.as_deref().unwrap_or("")),
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
