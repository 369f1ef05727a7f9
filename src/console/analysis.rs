//! Finance's pictures: the aging of promises (a stacked bar per store, the
//! promise-keeping rate per store by month, the promises in each bucket) and
//! the goodwill report (by any grouping, with a bar chart, a monthly line and
//! the same view as CSV). Every chart's numbers are also in a table.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};

use super::auth::Viewer;
use super::charts::{self, Chart, Series};
use super::format;
use super::page::{self, ConsoleError, Layout};
use super::record::Choice;
use crate::app::names::Names;
use crate::domain::ids::StoreId;
use crate::domain::money::Currency;
use crate::http::{AppError, AppState};
use crate::store::aging::BUCKETS;
use crate::store::reports::GroupBy;

/// A bucket's name for people.
fn bucket_words(b: &str) -> &'static str {
    match b {
        "not_yet_due" => "Not yet due",
        "1_30" => "1–30 days",
        "31_60" => "31–60 days",
        "61_90" => "61–90 days",
        _ => "Over 90 days",
    }
}

/// A cell of the aging table.
pub(crate) struct Cell {
    pub(crate) count: i64,
    pub(crate) amount: String,
    pub(crate) href: String,
}

/// One row of the aging table.
pub(crate) struct AgingRow {
    pub(crate) store: String,
    pub(crate) cells: Vec<Cell>,
    pub(crate) total: String,
}

/// One currency's aging.
pub(crate) struct AgingBlock {
    pub(crate) currency: String,
    pub(crate) chart: Chart,
    pub(crate) rows: Vec<AgingRow>,
}

#[derive(Template)]
#[template(path = "aging.html")]
struct AgingPage {
    layout: Layout,
    as_of: String,
    buckets: Vec<&'static str>,
    blocks: Vec<AgingBlock>,
    keeping: Chart,
    keeping_rows: Vec<(String, Vec<String>)>,
    months: Vec<String>,
    on_time: String,
    late: String,
    written_off: String,
    stores: Vec<Choice>,
}

/// Query of the aging page.
#[derive(serde::Deserialize)]
pub(crate) struct AgingQuery {
    store: Option<String>,
}

#[allow(clippy::cast_precision_loss)]
fn major(minor: i128, c: Currency) -> f64 {
    minor as f64 / 10f64.powi(i32::try_from(c.minor_unit()).unwrap_or(2))
}

fn money_axis(c: Currency) -> impl Fn(f64) -> String {
    move |v: f64| {
        let whole = format!("{v:.0}");
        format::amount(&whole, c)
    }
}

/// `GET /console/finance/aging?store=`: open promises by days past due per
/// store and currency, and the promise-keeping rate per store by month.
pub(crate) async fn aging(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<AgingQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let store: Option<StoreId> = q.store.as_deref().and_then(|s| s.parse().ok());
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let today = ctx.today();
    let first = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(today);
    let stores_scope = store
        .map(|s| vec![s])
        .or_else(|| viewer.caller.stores.clone());
    let (view, keeping, names) = state
        .read(move |conn| {
            let view = crate::app::finance::aging(conn, &ctx, store, today)?;
            let keeping = crate::store::aging::keeping_by_month(
                conn,
                ctx.tenant,
                stores_scope.as_deref(),
                first,
            )?;
            let names = Names::load(conn, ctx.tenant)?;
            Ok::<_, AppError>((view, keeping, names))
        })
        .await?;
    let mut currencies: Vec<String> = view.stores.iter().map(|r| r.currency.clone()).collect();
    currencies.sort();
    currencies.dedup();
    let mut blocks = Vec::new();
    for code in currencies {
        let Some(c) = Currency::from_code(&code) else {
            continue;
        };
        let rows: Vec<_> = view.stores.iter().filter(|r| r.currency == code).collect();
        let categories: Vec<String> = rows
            .iter()
            .map(|r| {
                names
                    .store(r.store_id)
                    .map_or_else(|| r.store_id.to_string(), |s| s.code.clone())
            })
            .collect();
        let series: Vec<Series> = BUCKETS
            .iter()
            .map(|b| Series {
                label: bucket_words(b).to_owned(),
                values: rows
                    .iter()
                    .map(|r| {
                        r.buckets
                            .get(b)
                            .map(|x| major(i128::from(x.amount.minor()), c))
                    })
                    .collect(),
            })
            .collect();
        let chart = charts::stacked_bars(
            &format!("aging-{code}"),
            &format!("Open promises in {code} by days past due, per store"),
            &format!(
                "Stacked bars, one per store: the amount still owed on open promises, split by how long past due they are, as of {today}."
            ),
            &categories,
            &series,
            &money_axis(c),
        );
        let table = rows
            .iter()
            .map(|r| AgingRow {
                store: names.store_label(r.store_id),
                cells: BUCKETS
                    .iter()
                    .map(|b| {
                        let x = r.buckets.get(b);
                        Cell {
                            count: x.map_or(0, |x| x.count),
                            amount: x.map_or_else(String::new, |x| format::money(&x.amount)),
                            href: format!(
                                "/console/finance/aging/promises?bucket={b}&store={}",
                                r.store_id
                            ),
                        }
                    })
                    .collect(),
                total: format::money(&r.total.amount),
            })
            .collect();
        blocks.push(AgingBlock {
            currency: code,
            chart,
            rows: table,
        });
    }
    // The keeping rate per store, month by month.
    let months: Vec<String> = (0..12)
        .filter_map(|i| first.checked_add_months(chrono::Months::new(i)))
        .map(|d| format!("{:04}-{:02}", d.year(), d.month()))
        .collect();
    let mut store_ids: Vec<StoreId> = keeping.keys().map(|(s, _)| *s).collect();
    store_ids.sort();
    store_ids.dedup();
    let rate = |s: StoreId, m: &str| -> Option<f64> {
        keeping.get(&(s, m.to_owned())).and_then(|(kept, off)| {
            let n = kept + off;
            #[allow(clippy::cast_precision_loss)]
            (n > 0).then(|| *kept as f64 / n as f64)
        })
    };
    let keeping_series: Vec<Series> = store_ids
        .iter()
        .map(|s| Series {
            label: names
                .store(*s)
                .map_or_else(|| s.to_string(), |x| x.code.clone()),
            values: months.iter().map(|m| rate(*s, m)).collect(),
        })
        .collect();
    let short_months: Vec<String> = months
        .iter()
        .filter_map(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .map(|d| d.format("%b").to_string())
        .collect();
    let keeping_chart = charts::lines(
        "keeping",
        "Promise-keeping rate per store, last 12 months",
        "One line per store: of the promises settled or written off in each month, the share that was paid.",
        &short_months,
        &keeping_series,
        Some((0.0, 1.05)),
        &|v| format!("{:.0}%", v * 100.0),
    );
    let keeping_rows = store_ids
        .iter()
        .map(|s| {
            (
                names.store_label(*s),
                months
                    .iter()
                    .map(|m| rate(*s, m).map_or_else(|| "—".into(), format::percent))
                    .collect(),
            )
        })
        .collect();
    let k = &view.promise_keeping;
    let pct = |r: Option<f64>| r.map_or_else(|| "—".into(), format::percent);
    Ok(page::ok(&AgingPage {
        layout: Layout::signed_in("Aging", &viewer, "/console/finance/aging"),
        as_of: format::day(&today),
        buckets: BUCKETS.iter().map(|b| bucket_words(b)).collect(),
        blocks,
        keeping: keeping_chart,
        keeping_rows,
        months: short_months,
        on_time: format!("{} ({})", k.kept_on_time, pct(k.on_time_rate)),
        late: format!("{} ({})", k.kept_late, pct(k.late_rate)),
        written_off: format!("{} ({})", k.written_off, pct(k.written_off_rate)),
        stores: names
            .stores()
            .into_iter()
            .filter(|s| viewer.caller.may_act_at(s.id))
            .map(|s| Choice {
                value: s.id.to_string(),
                label: format!("{} · {}", s.code, s.name),
                chosen: Some(s.id) == store,
            })
            .collect(),
    }))
}

/// One promise of a bucket.
pub(crate) struct PromiseLine {
    pub(crate) id: String,
    pub(crate) customer_id: String,
    pub(crate) customer: String,
    pub(crate) store: String,
    pub(crate) outstanding: String,
    pub(crate) given: String,
    pub(crate) due: String,
    pub(crate) days: i64,
}

#[derive(Template)]
#[template(path = "aging_promises.html")]
struct BucketPage {
    layout: Layout,
    bucket: &'static str,
    lines: Vec<PromiseLine>,
}

/// Query of a bucket's page.
#[derive(serde::Deserialize)]
pub(crate) struct BucketQuery {
    bucket: Option<String>,
    store: Option<String>,
}

/// `GET /console/finance/aging/promises?bucket=&store=`: the promises behind
/// a cell of the aging table.
pub(crate) async fn bucket(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<BucketQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let b = q
        .bucket
        .as_deref()
        .and_then(|b| BUCKETS.iter().position(|x| *x == b));
    let store: Option<StoreId> = q.store.as_deref().and_then(|s| s.parse().ok());
    let today = state.clock.now().date();
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let found = state
        .read(move |conn| crate::app::finance::aging_promises(conn, &ctx, store, b, today, 500))
        .await?;
    let lines = found
        .data
        .iter()
        .map(|l| PromiseLine {
            id: l.id.to_string(),
            customer_id: l.customer.id.to_string(),
            customer: format!("{} ({})", l.customer.name, l.customer.external_ref),
            store: format!("{} · {}", l.store.code, l.store.name),
            outstanding: format::money(&l.outstanding),
            given: format::day(&l.effective_on),
            due: format::day(&l.due_on),
            days: l.days_overdue,
        })
        .collect();
    Ok(page::ok(&BucketPage {
        layout: Layout::signed_in("Open promises", &viewer, "/console/finance/aging"),
        bucket: b.map_or("Every bucket", |i| bucket_words(BUCKETS[i])),
        lines,
    }))
}

// --- The goodwill report -----------------------------------------------------

/// Query of the report page (and of its CSV).
#[derive(serde::Deserialize, Clone)]
pub(crate) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    group: Option<String>,
    store: Option<String>,
}

struct Params {
    from: NaiveDate,
    to: NaiveDate,
    by: GroupBy,
    store: Option<StoreId>,
    error: Option<String>,
}

fn params(q: &ReportQuery, today: NaiveDate) -> Params {
    let d = |s: &Option<String>| {
        s.as_deref()
            .filter(|x| !x.is_empty())
            .map(|x| NaiveDate::parse_from_str(x, "%Y-%m-%d"))
    };
    let mut error = None;
    let to = match d(&q.to) {
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            error = Some("Dates are YYYY-MM-DD.".to_owned());
            today
        }
        None => today,
    };
    let mut from = match d(&q.from) {
        Some(Ok(f)) => f,
        Some(Err(_)) => {
            error = Some("Dates are YYYY-MM-DD.".to_owned());
            to
        }
        None => to
            .with_day(1)
            .and_then(|x| x.checked_sub_months(chrono::Months::new(11)))
            .unwrap_or(to),
    };
    if from > to {
        error = Some("The start comes after the end.".into());
        from = to;
    } else if (to - from).num_days() > 1096 {
        error = Some("The report covers at most 3 years.".into());
        from = to - Duration::days(1096);
    }
    Params {
        from,
        to,
        by: q
            .group
            .as_deref()
            .and_then(GroupBy::parse)
            .unwrap_or(GroupBy::Store),
        store: q.store.as_deref().and_then(|s| s.parse().ok()),
        error,
    }
}

/// One row of the report table.
pub(crate) struct ReportRow {
    pub(crate) group: String,
    pub(crate) currency: String,
    pub(crate) count: i64,
    pub(crate) value: String,
    /// Deferred payments: money lent, not goodwill.
    pub(crate) credit: String,
    pub(crate) free_retail: String,
    pub(crate) free_cost: String,
    pub(crate) written_off: String,
    pub(crate) recovered: String,
    pub(crate) net_cost: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    from: String,
    to: String,
    groups: Vec<Choice>,
    stores: Vec<Choice>,
    group_label: String,
    error: Option<String>,
    rows: Vec<ReportRow>,
    totals: Vec<ReportRow>,
    by_group: Option<Chart>,
    monthly: Option<Chart>,
    csv_href: String,
}

fn group_words(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Store => "Store",
        GroupBy::Kind => "Kind",
        GroupBy::ReasonCode => "Reason",
        GroupBy::IncidentCause => "Incident cause",
        GroupBy::Requester => "Requester",
        GroupBy::Approver => "Approver",
        GroupBy::Month => "Month",
    }
}

fn signed_major(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(0.0)
}

fn row_of(r: &crate::views::report::GoodwillRow, group: String) -> ReportRow {
    let c = Currency::from_code(&r.currency);
    ReportRow {
        group,
        currency: r.currency.clone(),
        count: r.count,
        value: format::money(&r.value),
        credit: format::money(&r.credit_extended),
        free_retail: format::money(&r.free_service_retail_value),
        free_cost: format::money(&r.free_service_cost),
        written_off: format::money(&r.written_off),
        recovered: format::money(&r.recovered),
        net_cost: c.map_or_else(
            || r.net_cost.amount.clone(),
            |c| format::amount(&r.net_cost.amount, c),
        ),
    }
}

/// `GET /console/finance/reports?from=&to=&group=&store=`.
pub(crate) async fn report(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = q.into_inner();
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let p = params(&q, ctx.today());
    let (by, from, to, store) = (p.by, p.from, p.to, p.store);
    let (report, monthly, names) = state
        .read(move |conn| {
            let r = crate::app::reports::goodwill_report(conn, &ctx, store, &[by], from, to)?;
            let m = crate::app::reports::goodwill_report(
                conn,
                &ctx,
                store,
                &[GroupBy::Month],
                from,
                to,
            )?;
            Ok::<_, AppError>((r, m, Names::load(conn, ctx.tenant)?))
        })
        .await?;
    let label = |key: &str| -> String {
        match by {
            GroupBy::Kind | GroupBy::ReasonCode | GroupBy::IncidentCause if !key.is_empty() => {
                format::words(key)
            }
            _ if key.is_empty() => "—".into(),
            _ => key.to_owned(),
        }
    };
    let rows: Vec<ReportRow> = report
        .rows
        .iter()
        .map(|r| row_of(r, label(r.group.get(by.name()).map_or("", String::as_str))))
        .collect();
    let totals: Vec<ReportRow> = report
        .totals
        .iter()
        .map(|r| row_of(r, "Total".into()))
        .collect();
    // Charts in the tenant's main currency (the first of the totals).
    let main = report.totals.first().map(|t| t.currency.clone());
    let (by_group, monthly_chart) = match main.as_deref().and_then(Currency::from_code) {
        None => (None, None),
        Some(c) => {
            let in_main: Vec<_> = report
                .rows
                .iter()
                .filter(|r| r.currency == c.code())
                .collect();
            let cats: Vec<String> = in_main
                .iter()
                .map(|r| label(r.group.get(by.name()).map_or("", String::as_str)))
                .collect();
            let m = |x: &crate::domain::money::Money| signed_major(&x.amount_string());
            let bars = charts::stacked_bars(
                "by-group",
                &format!(
                    "Goodwill by {} in {}",
                    group_words(by).to_lowercase(),
                    c.code()
                ),
                "One bar per group: goodwill given (its money value), with what was written off beside it as a second colour.",
                &cats,
                &[
                    Series {
                        label: "Goodwill other than write-offs".into(),
                        values: in_main
                            .iter()
                            .map(|r| Some((m(&r.value) - m(&r.written_off)).max(0.0)))
                            .collect(),
                    },
                    Series {
                        label: "Written off".into(),
                        values: in_main.iter().map(|r| Some(m(&r.written_off))).collect(),
                    },
                ],
                &money_axis(c),
            );
            let months: Vec<_> = monthly
                .rows
                .iter()
                .filter(|r| r.currency == c.code())
                .collect();
            let points: Vec<String> = months
                .iter()
                .map(|r| r.group.get("month").cloned().unwrap_or_default())
                .collect();
            let net = |r: &&crate::views::report::GoodwillRow| signed_major(&r.net_cost.amount);
            let line = charts::lines(
                "monthly",
                &format!(
                    "Cost, written off, recovered and net cost per month, {}",
                    c.code()
                ),
                "Four lines over the months of the report: the cost of goodwill, what was written off, what was recovered of it, and the net cost.",
                &points,
                &[
                    Series {
                        label: "Cost".into(),
                        values: months
                            .iter()
                            .map(|r| Some(net(r) + m(&r.recovered)))
                            .collect(),
                    },
                    Series {
                        label: "Written off".into(),
                        values: months.iter().map(|r| Some(m(&r.written_off))).collect(),
                    },
                    Series {
                        label: "Recovered".into(),
                        values: months.iter().map(|r| Some(m(&r.recovered))).collect(),
                    },
                    Series {
                        label: "Net cost".into(),
                        values: months.iter().map(|r| Some(net(r))).collect(),
                    },
                ],
                None,
                &money_axis(c),
            );
            (Some(bars), Some(line))
        }
    };
    let csv_query = serde_urlencoded::to_string([
        ("from", from.to_string()),
        ("to", to.to_string()),
        ("group", by.name().to_owned()),
        ("store", store.map(|s| s.to_string()).unwrap_or_default()),
    ])
    .unwrap_or_default();
    Ok(page::ok(&ReportPage {
        layout: Layout::signed_in("Goodwill report", &viewer, "/console/finance/reports"),
        from: from.to_string(),
        to: to.to_string(),
        groups: GroupBy::ALL
            .iter()
            .map(|(name, g)| Choice {
                value: (*name).to_owned(),
                label: group_words(*g).to_owned(),
                chosen: *g == by,
            })
            .collect(),
        stores: names
            .stores()
            .into_iter()
            .filter(|s| viewer.caller.may_act_at(s.id))
            .map(|s| Choice {
                value: s.id.to_string(),
                label: format!("{} · {}", s.code, s.name),
                chosen: Some(s.id) == store,
            })
            .collect(),
        group_label: group_words(by).to_owned(),
        error: p.error,
        rows,
        totals,
        by_group,
        monthly: monthly_chart,
        csv_href: format!("/console/finance/reports.csv?{csv_query}"),
    }))
}

/// `GET /console/finance/reports.csv?from=&to=&group=&store=`: exactly the
/// page's view, as the API's CSV writes it.
pub(crate) async fn report_csv(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let p = params(&q, ctx.today());
    let (by, from, to, store) = (p.by, p.from, p.to, p.store);
    let report = state
        .read(move |conn| crate::app::reports::goodwill_report(conn, &ctx, store, &[by], from, to))
        .await?;
    Ok(crate::http::csv_attachment(
        &format!("goodwill-{from}-{to}-by-{}.csv", by.name()),
        report.csv(),
    ))
}
