//! Finance's desk: the write-off review queue (one at a time, or a batch that
//! is all or nothing) and the months — closing one (forced, with a reason,
//! when write-offs are still unreviewed), reopening it, its totals and digest,
//! its journal as CSV and the check that it balances.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Duration};

use super::auth::{Form, Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use super::record::Choice;
use crate::app::names::Names;
use crate::domain::ids::{GestureId, StoreId};
use crate::domain::period::Month;
use crate::domain::roles::Permission;
use crate::http::{AppError, AppState, Reply};

/// One write-off as the review queue shows it.
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) what: String,
    pub(crate) amount: String,
    pub(crate) store: String,
    pub(crate) day: String,
    pub(crate) age_days: i64,
    pub(crate) customer_id: String,
    pub(crate) customer: String,
    pub(crate) reason: String,
    pub(crate) story: String,
    pub(crate) requested_by: String,
    pub(crate) approved_by: String,
    pub(crate) status: String,
    pub(crate) tone: &'static str,
    pub(crate) reviews: Vec<String>,
    pub(crate) history: String,
    pub(crate) value: String,
    pub(crate) incident: Option<(String, String)>,
    pub(crate) mine: bool,
    pub(crate) key: String,
    pub(crate) error: Option<String>,
}

#[derive(Template)]
#[template(path = "write_offs.html")]
struct QueuePage {
    layout: Layout,
    csrf: String,
    may_review: bool,
    notice: Option<String>,
    items: Vec<Item>,
    statuses: Vec<Choice>,
    stores: Vec<Choice>,
    reasons: Vec<Choice>,
    sorts: Vec<Choice>,
    ages: Vec<Choice>,
    min: String,
    max: String,
    batch_key: String,
    batch_error: Option<String>,
    more: bool,
}

/// Query of the queue: its filters and order.
#[derive(serde::Deserialize, Default, Clone)]
pub(crate) struct QueueQuery {
    status: Option<String>,
    store: Option<String>,
    reason: Option<String>,
    min: Option<String>,
    max: Option<String>,
    age: Option<String>,
    sort: Option<String>,
    reviewed: Option<String>,
}

const AGES: [(&str, &str); 4] = [
    ("", "Any age"),
    ("7", "Older than 7 days"),
    ("30", "Older than 30 days"),
    ("90", "Older than 90 days"),
];
const SORTS: [(&str, &str); 3] = [
    ("oldest", "Oldest first"),
    ("newest", "Newest first"),
    ("largest", "Largest first"),
];

fn choices(options: &[(&str, &str)], chosen: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            chosen: *v == chosen,
        })
        .collect()
}

/// At most this many items are shown at once (filters narrow the rest).
const SHOWN: usize = 100;

async fn render(
    state: &AppState,
    viewer: &Viewer,
    q: QueueQuery,
    failed: Option<(Vec<GestureId>, Problem)>,
) -> Result<HttpResponse, ConsoleError> {
    let today = state.clock.now().date();
    let v = viewer.clone();
    let q2 = q.clone();
    let status = q.status.clone().unwrap_or_else(|| "unreviewed".into());
    let (items, more, stores, reasons, notice) = state
        .read(move |conn| {
            let tenant = v.caller.tenant;
            let mut names = Names::load(conn, tenant)?;
            let store: Option<StoreId> = q2.store.as_deref().and_then(|s| s.parse().ok());
            if let Some(s) = store {
                v.caller.require_store(s)?;
            }
            let age: Option<i64> = q2.age.as_deref().and_then(|a| a.parse().ok());
            let filter = crate::store::write_offs::Filter {
                status: Some(q2.status.clone().unwrap_or_else(|| "unreviewed".into())),
                store_id: store,
                stores: v.caller.stores.clone(),
                from: None,
                to: age.map(|a| today - Duration::days(a)),
                reason_code: q2.reason.clone().filter(|r| !r.is_empty()),
            };
            let (found, _) = crate::store::write_offs::list(conn, tenant, &filter, None, 1000)?;
            let reviews = crate::store::write_offs::reviews_of(
                conn,
                tenant,
                &found.iter().map(|w| w.id).collect::<Vec<_>>(),
            )?;
            let parse_min = |s: &Option<String>| {
                s.as_deref()
                    .filter(|x| !x.is_empty())
                    .and_then(|x| rust_decimal::Decimal::from_str_exact(x.trim()).ok())
            };
            let (min, max) = (parse_min(&q2.min), parse_min(&q2.max));
            let mut kept: Vec<_> = found
                .into_iter()
                .filter_map(|w| {
                    let view = crate::views::finance::WriteOffView::of(&w, &reviews).ok()?;
                    let major =
                        rust_decimal::Decimal::from_str_exact(&view.amount.amount_string()).ok()?;
                    (min.is_none_or(|m| major >= m) && max.is_none_or(|m| major <= m))
                        .then_some((w, view))
                })
                .collect();
            match q2.sort.as_deref() {
                Some("newest") => kept.reverse(),
                Some("largest") => kept.sort_by_key(|(w, _)| std::cmp::Reverse(w.amount_minor)),
                _ => {}
            }
            let more = kept.len() > SHOWN;
            kept.truncate(SHOWN);
            let ids: Vec<_> = kept.iter().map(|(w, _)| w.customer_id).collect();
            names.prefetch_customers(conn, &ids)?;
            let mut items = Vec::with_capacity(kept.len());
            for (w, view) in kept {
                let g = crate::store::gestures::get(conn, tenant, w.id)?;
                let c = names.customer(conn, w.customer_id)?.clone();
                let summary =
                    crate::app::customers::load_summary(conn, tenant, w.customer_id, today)?;
                let value = match crate::store::value::estimate(
                    conn,
                    tenant,
                    w.customer_id,
                    Some(view.amount.currency()),
                    today,
                    crate::value::model::Horizon::default(),
                )? {
                    crate::value::model::Estimate::Valued { valuation, .. } => format!(
                        "P(active) {}, lifetime value {}",
                        format::percent(valuation.probability_alive),
                        format::minor(
                            crate::store::value::to_minor(
                                valuation.lifetime_value,
                                view.amount.currency()
                            ),
                            view.amount.currency()
                        )
                    ),
                    _ => "no value estimate".into(),
                };
                let incident = match g.incident_id {
                    Some(i) => {
                        let (inc, _) = crate::store::incidents::get(conn, tenant, i)?;
                        Some((i.to_string(), format::words(&inc.cause)))
                    }
                    None => None,
                };
                let mine = view.requested_by == v.caller.subject
                    || view.approved_by.as_deref() == Some(v.caller.subject.as_str());
                items.push(Item {
                    id: w.id.to_string(),
                    what: if view.write_off_of.is_some() {
                        "Unkept promise written off".into()
                    } else {
                        "Balance waiver".into()
                    },
                    amount: format::money(&view.amount),
                    store: names.store_label(w.store_id),
                    day: format::day(&w.effective_on),
                    age_days: (today - w.effective_on).num_days(),
                    customer_id: c.id.to_string(),
                    customer: format!("{} ({})", c.name, c.external_ref),
                    reason: format::words(&view.reason_code),
                    story: view.story.clone(),
                    requested_by: view.requested_by.clone(),
                    approved_by: view
                        .approved_by
                        .clone()
                        .unwrap_or_else(|| "within the requester's limit".into()),
                    status: format::words(&view.status),
                    tone: match view.status.as_str() {
                        "reviewed" => "good",
                        "flagged" => "bad",
                        _ => "warn",
                    },
                    reviews: view
                        .reviews
                        .iter()
                        .map(|r| {
                            format!(
                                "{} by {}{}",
                                format::words(&r.outcome),
                                r.reviewer,
                                r.note
                                    .as_ref()
                                    .map(|n| format!(": “{n}”"))
                                    .unwrap_or_default()
                            )
                        })
                        .collect(),
                    history: format!(
                        "owes {}; promises kept {} on time, {} late, {} written off",
                        summary
                            .balances
                            .iter()
                            .map(|b| format::money(&b.owed))
                            .collect::<Vec<_>>()
                            .join(" · "),
                        summary.promises.kept_on_time,
                        summary.promises.kept_late,
                        summary.promises.written_off
                    ),
                    value,
                    incident,
                    mine,
                    key: form::new_key(),
                    error: None,
                });
            }
            let stores: Vec<(String, String)> = names
                .stores()
                .into_iter()
                .filter(|s| v.caller.may_act_at(s.id))
                .map(|s| (s.id.to_string(), format!("{} · {}", s.code, s.name)))
                .collect();
            let reasons = crate::store::gestures::reason_codes(conn, tenant)?;
            let notice = q2
                .reviewed
                .as_deref()
                .map(|n| format!("{n} write-off{} reviewed.", if n == "1" { "" } else { "s" }));
            Ok::<_, AppError>((items, more, stores, reasons, notice))
        })
        .await?;
    let mut items = items;
    let mut batch_error = None;
    let mut http = actix_web::http::StatusCode::OK;
    if let Some((ids, p)) = failed {
        http = actix_web::http::StatusCode::from_u16(p.status)
            .unwrap_or(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
        let said = p
            .field("note")
            .map_or_else(|| p.detail.clone(), str::to_owned);
        if ids.len() == 1
            && let Some(i) = items.iter_mut().find(|i| i.id == ids[0].to_string())
        {
            i.error = Some(said);
        } else {
            batch_error = Some(said);
        }
    }
    Ok(page::html(
        http,
        &QueuePage {
            layout: Layout::signed_in("Write-offs", viewer, "/console/finance/write-offs"),
            csrf: viewer.csrf.clone(),
            may_review: viewer.may(Permission::WriteOffsReview),
            notice,
            items,
            statuses: choices(
                &[
                    ("unreviewed", "Unreviewed"),
                    ("flagged", "Flagged"),
                    ("reviewed", "Reviewed"),
                ],
                &status,
            ),
            stores: stores
                .into_iter()
                .map(|(value, label)| Choice {
                    chosen: q.store.as_deref() == Some(value.as_str()),
                    value,
                    label,
                })
                .collect(),
            reasons: reasons
                .into_iter()
                .map(|(code, _)| Choice {
                    chosen: q.reason.as_deref() == Some(code.as_str()),
                    label: format::words(&code),
                    value: code,
                })
                .collect(),
            sorts: choices(&SORTS, q.sort.as_deref().unwrap_or("oldest")),
            ages: choices(&AGES, q.age.as_deref().unwrap_or("")),
            min: q.min.clone().unwrap_or_default(),
            max: q.max.clone().unwrap_or_default(),
            batch_key: form::new_key(),
            batch_error,
            more,
        },
    ))
}

/// `GET /console/finance/write-offs?status=&store=&reason=&min=&max=&age=&sort=`.
pub(crate) async fn write_offs(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &viewer, q.into_inner(), None).await
}

fn outcome_and_note(form: &Form) -> Result<(String, Option<String>), Problem> {
    let invalid = |field: &str, m: &str| Problem {
        status: 422,
        code: "validation_failed".into(),
        detail: String::new(),
        fields: vec![(field.to_owned(), m.to_owned())],
    };
    let outcome = form.get("outcome").unwrap_or_default().to_owned();
    if !["reviewed", "flagged"].contains(&outcome.as_str()) {
        return Err(invalid("outcome", "Choose reviewed or flagged."));
    }
    let note = match form.get("note") {
        Some(n) => Some(
            crate::domain::text::required_line_multi("note", n, 4000)
                .map_err(|e| invalid("note", &e.message))?,
        ),
        None => None,
    };
    if outcome == "flagged" && note.is_none() {
        return Err(invalid(
            "note",
            "Say why you flag it: the note is what the store and the auditors will read.",
        ));
    }
    Ok((outcome, note))
}

async fn review_ids(
    state: &AppState,
    viewer: Viewer,
    form: Form,
    ids: Vec<GestureId>,
) -> Result<HttpResponse, ConsoleError> {
    let (outcome, note) = match outcome_and_note(&form) {
        Ok(x) => x,
        Err(p) => return render(state, &viewer, QueueQuery::default(), Some((ids, p))).await,
    };
    if ids.is_empty() {
        return Ok(page::see_other("/console/finance/write-offs"));
    }
    let n = ids.len();
    let list: Vec<(String, GestureId)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("ids[{i}]"), *id))
        .collect();
    match form::run(state, &viewer, &form, move |conn, ctx| {
        let done = crate::app::finance::review_write_offs(conn, ctx, &list, &outcome, note)?;
        Ok(Reply::ok(&serde_json::json!({ "reviewed": done.len() })))
    })
    .await?
    {
        Done::Acted(_) => Ok(page::see_other(&format!(
            "/console/finance/write-offs?reviewed={n}"
        ))),
        Done::Refused(p) => render(state, &viewer, QueueQuery::default(), Some((ids, p))).await,
    }
}

/// `POST /console/finance/write-offs/{id}/review` `{outcome, note}`.
pub(crate) async fn review(
    state: web::Data<AppState>,
    id: web::Path<GestureId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    review_ids(&state, viewer, form, vec![id.into_inner()]).await
}

/// `POST /console/finance/write-offs/review`: the ticked items, all or nothing.
pub(crate) async fn review_batch(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let ids: Vec<GestureId> = form
        .all("write_off_id")
        .iter()
        .filter_map(|s| s.parse().ok())
        .take(1000)
        .collect();
    review_ids(&state, viewer, form, ids).await
}

// --- Periods -----------------------------------------------------------------

/// One month in the list.
pub(crate) struct MonthRow {
    pub(crate) month: String,
    pub(crate) state: String,
    pub(crate) tone: &'static str,
    pub(crate) detail: String,
}

#[derive(Template)]
#[template(path = "periods.html")]
struct PeriodsPage {
    layout: Layout,
    months: Vec<MonthRow>,
}

/// `GET /console/finance/periods`: this month and the twelve before it, with
/// their state, and every other month ever closed.
pub(crate) async fn periods(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let today = state.clock.now().date();
    let closed = state
        .read(move |conn| crate::store::periods::list(conn, tenant))
        .await?;
    let mut months: Vec<String> = (0..13)
        .filter_map(|i| {
            let d = today.with_day(1)?;
            let m = d.checked_sub_months(chrono::Months::new(i))?;
            Some(format!("{:04}-{:02}", m.year(), m.month()))
        })
        .collect();
    for p in &closed {
        if !months.contains(&p.month) {
            months.push(p.month.clone());
        }
    }
    months.sort();
    months.reverse();
    let rows = months
        .into_iter()
        .map(|m| match closed.iter().find(|p| p.month == m) {
            Some(p) if p.state == "closed" => MonthRow {
                detail: format!(
                    "closed by {}{}",
                    p.closed_by.clone().unwrap_or_default(),
                    if p.forced { " (forced)" } else { "" }
                ),
                month: m,
                state: "closed".into(),
                tone: "good",
            },
            Some(p) => MonthRow {
                detail: format!("reopened by {}", p.reopened_by.clone().unwrap_or_default()),
                month: m,
                state: "reopened".into(),
                tone: "warn",
            },
            None => MonthRow {
                month: m,
                state: "open".into(),
                tone: "",
                detail: String::new(),
            },
        })
        .collect();
    Ok(page::ok(&PeriodsPage {
        layout: Layout::signed_in("Periods", &viewer, "/console/finance/periods"),
        months: rows,
    }))
}

/// A write-off still to review in a month.
pub(crate) struct Pending {
    pub(crate) amount: String,
    pub(crate) store: String,
    pub(crate) day: String,
}

#[derive(Template)]
#[template(path = "period.html")]
struct PeriodPage {
    layout: Layout,
    csrf: String,
    month: String,
    state: String,
    facts: Vec<(String, String)>,
    totals: Vec<(String, String, String)>,
    digest: String,
    verified: Option<bool>,
    journal: Vec<(String, String, String, bool)>,
    lines: i64,
    unreviewed: Vec<Pending>,
    may_close: bool,
    may_reopen: bool,
    close_key: String,
    reopen_key: String,
    general: Vec<String>,
    reason_error: Option<String>,
    reason: String,
    force: bool,
}

fn month_of(s: &str) -> Result<Month, ConsoleError> {
    Month::parse(s).ok_or_else(|| ConsoleError::refused(404, "not_found", "Months are YYYY-MM."))
}

async fn period_page(
    state: &web::Data<AppState>,
    viewer: &Viewer,
    m: Month,
    problem: Option<&Problem>,
    form: Option<&Form>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let scoped = viewer.caller.stores.is_some();
    let v = viewer.clone();
    let (p, verified, unreviewed) = state
        .read(move |conn| {
            let p = crate::store::periods::get(conn, tenant, m)?;
            let verified = if p.state == "closed" && !scoped {
                let now = crate::store::periods::totals(conn, tenant, m)?;
                Some(p.digest.as_deref() == Some(crate::store::periods::digest(&now).as_str()))
            } else {
                None
            };
            let names = Names::load(conn, tenant)?;
            let (first, last) = (m.first_day(), m.next_first_day() - Duration::days(1));
            let (found, _) = crate::store::write_offs::list(
                conn,
                tenant,
                &crate::store::write_offs::Filter {
                    status: Some("unreviewed".into()),
                    store_id: None,
                    stores: v.caller.stores.clone(),
                    from: Some(first),
                    to: Some(last),
                    reason_code: None,
                },
                None,
                200,
            )?;
            let unreviewed = found
                .iter()
                .filter_map(|w| {
                    let c = crate::domain::money::Currency::from_code(&w.currency)?;
                    Some(Pending {
                        amount: format::minor(w.amount_minor, c),
                        store: names.store_label(w.store_id),
                        day: format::day(&w.effective_on),
                    })
                })
                .collect::<Vec<_>>();
            Ok::<_, AppError>((p, verified, unreviewed))
        })
        .await?;
    let journal = if scoped {
        None
    } else {
        Some(crate::http::finance::journal_summary(state, tenant, m).await?)
    };
    let mut facts = Vec::new();
    if let Some(by) = &p.closed_by {
        facts.push(("Closed by".into(), by.clone()));
    }
    if let Some(at) = &p.closed_at {
        facts.push(("Closed at (UTC)".into(), format::when(at, chrono_tz::UTC)));
    }
    if p.forced {
        facts.push(("Forced".into(), "yes".into()));
    }
    if let Some(r) = &p.close_reason {
        facts.push(("Reason".into(), r.clone()));
    }
    if let Some(by) = &p.reopened_by {
        facts.push(("Reopened by".into(), by.clone()));
    }
    if let Some(r) = &p.reopen_reason {
        facts.push(("Reopened because".into(), r.clone()));
    }
    let view = crate::views::finance::PeriodView::of(p.clone(), verified)?;
    let totals = view
        .totals
        .as_ref()
        .map(|t| {
            t.iter()
                .map(|x| {
                    (
                        x.account.clone(),
                        format::money(&x.debit),
                        format::money(&x.credit),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (lines, journal) = match journal {
        Some(j) => (
            j.lines,
            j.currencies
                .iter()
                .map(|c| {
                    (
                        c.currency.clone(),
                        format::money(&c.debit),
                        format::money(&c.credit),
                        c.balanced,
                    )
                })
                .collect(),
        ),
        None => (0, Vec::new()),
    };
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page::html(
        status,
        &PeriodPage {
            layout: Layout::signed_in(format!("Period {m}"), viewer, "/console/finance/periods"),
            csrf: viewer.csrf.clone(),
            month: m.to_string(),
            state: p.state.clone(),
            facts,
            totals,
            digest: p.digest.clone().unwrap_or_default(),
            verified,
            journal,
            lines,
            unreviewed,
            may_close: viewer.may(Permission::PeriodsClose) && !scoped && p.state != "closed",
            may_reopen: viewer.may(Permission::PeriodsReopen) && !scoped && p.state == "closed",
            close_key: form::new_key(),
            reopen_key: form::new_key(),
            general: problem.map(|p| p.general(&["reason"])).unwrap_or_default(),
            reason_error: problem.and_then(|p| p.field("reason").map(str::to_owned)),
            reason: form.map(|f| f.value("reason")).unwrap_or_default(),
            force: form.is_some_and(|f| f.get("force").is_some()),
        },
    ))
}

/// `GET /console/finance/periods/{month}`.
pub(crate) async fn period(
    state: web::Data<AppState>,
    viewer: Viewer,
    m: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let m = month_of(&m)?;
    period_page(&state, &viewer, m, None, None).await
}

fn reason_of(form: &Form, required: bool) -> Result<Option<String>, Problem> {
    match form.get("reason") {
        None if required => Err(Problem {
            status: 422,
            code: "validation_failed".into(),
            detail: String::new(),
            fields: vec![("reason".into(), "Say why: the audit trail keeps it.".into())],
        }),
        None => Ok(None),
        Some(r) => crate::domain::text::required_line_multi("reason", r, 4000)
            .map(Some)
            .map_err(|e| Problem {
                status: 422,
                code: "validation_failed".into(),
                detail: String::new(),
                fields: vec![(e.field, e.message)],
            }),
    }
}

/// `POST /console/finance/periods/{month}/close` `{force?, reason?}`.
pub(crate) async fn close(
    state: web::Data<AppState>,
    m: web::Path<String>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let m = month_of(&m)?;
    let force = form.get("force").is_some();
    let reason = match reason_of(&form, force) {
        Ok(r) => r,
        Err(p) => return period_page(&state, &viewer, m, Some(&p), Some(&form)).await,
    };
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let after = crate::app::finance::close_period(conn, ctx, m, force, reason)?;
        Ok(Reply::ok(&crate::views::finance::PeriodView::of(
            after, None,
        )?))
    })
    .await?
    {
        Done::Acted(_) => Ok(page::see_other(&format!("/console/finance/periods/{m}"))),
        Done::Refused(p) => period_page(&state, &viewer, m, Some(&p), Some(&form)).await,
    }
}

/// `POST /console/finance/periods/{month}/reopen` `{reason}` (admin).
pub(crate) async fn reopen(
    state: web::Data<AppState>,
    m: web::Path<String>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let m = month_of(&m)?;
    let reason = match reason_of(&form, true) {
        Ok(r) => r.unwrap_or_default(),
        Err(p) => return period_page(&state, &viewer, m, Some(&p), Some(&form)).await,
    };
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let after = crate::app::finance::reopen_period(conn, ctx, m, reason)?;
        Ok(Reply::ok(&crate::views::finance::PeriodView::of(
            after, None,
        )?))
    })
    .await?
    {
        Done::Acted(_) => Ok(page::see_other(&format!("/console/finance/periods/{m}"))),
        Done::Refused(p) => period_page(&state, &viewer, m, Some(&p), Some(&form)).await,
    }
}

/// `GET /console/finance/periods/{month}/journal.csv`: the month's journal,
/// the same file as the API's.
pub(crate) async fn journal(
    state: web::Data<AppState>,
    viewer: Viewer,
    m: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let m = month_of(&m)?;
    Ok(crate::http::finance::journal_csv(state, viewer.caller.tenant, m).await?)
}
