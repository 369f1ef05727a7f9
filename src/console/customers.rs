//! A customer's page: find them by name or reference; their standing, open
//! promises with due dates, store credit with expiry, value estimate, the
//! incidents they were part of and their timeline; a payment or a
//! redemption at the counter. And one gesture in full.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;

use super::auth::{Form, Viewer};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use crate::app::names::Names;
use crate::domain::gesture::{Gesture, GestureKind, GestureStatus, Terms};
use crate::domain::ids::{CustomerId, GestureId, StoreId};
use crate::domain::roles::Permission;
use crate::http::{AppError, AppState};
use crate::store::DbConnection;
use crate::store::reading::TimelineItem;

/// Timeline items per page.
const TIMELINE_PAGE: i64 = 25;

/// One search result.
pub(crate) struct Found {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) external_ref: String,
    pub(crate) contact: String,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    found: Vec<Found>,
    searched: bool,
    more: bool,
}

/// Query of the search page.
#[derive(serde::Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

/// `GET /console/customers?q=`: search by name, external reference, email or
/// phone.
pub(crate) async fn search(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = query.q.clone().unwrap_or_default().trim().to_owned();
    let tenant = viewer.caller.tenant;
    let (found, more) = if q.is_empty() {
        (Vec::new(), false)
    } else {
        let text = q.chars().take(200).collect::<String>();
        let page = state
            .read(move |conn| {
                crate::store::customers::list(
                    conn,
                    tenant,
                    &crate::store::customers::Filter {
                        external_ref: None,
                        q: Some(text),
                    },
                    crate::store::PageRequest {
                        limit: 50,
                        starting_after: None,
                    },
                )
            })
            .await?;
        (
            page.items
                .iter()
                .map(|c| Found {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    external_ref: c.external_ref.clone(),
                    contact: [c.email.as_deref(), c.phone.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · "),
                })
                .collect(),
            page.has_more,
        )
    };
    Ok(page::ok(&SearchPage {
        layout: Layout::signed_in("Customers", &viewer, "/console/customers"),
        searched: !q.is_empty(),
        q,
        found,
        more,
    }))
}

/// A balance in one currency.
pub(crate) struct Balance {
    pub(crate) currency: String,
    pub(crate) owed: String,
    pub(crate) overdue: String,
    pub(crate) credit: String,
    pub(crate) written_off: String,
}

/// An open promise.
pub(crate) struct Promise {
    pub(crate) id: String,
    pub(crate) store: String,
    pub(crate) amount: String,
    pub(crate) outstanding: String,
    pub(crate) outstanding_plain: String,
    pub(crate) effective_on: String,
    pub(crate) due_on: String,
    pub(crate) overdue: bool,
    pub(crate) visible: bool,
    pub(crate) story: String,
    pub(crate) can_pay: bool,
    pub(crate) pay_key: String,
    pub(crate) pay_error: Option<String>,
    pub(crate) pay_amount: String,
}

/// A lot of store credit.
pub(crate) struct CreditLot {
    pub(crate) store: String,
    pub(crate) issued: String,
    pub(crate) remaining: String,
    pub(crate) expires_on: String,
    pub(crate) expired: bool,
}

/// One line of the timeline.
pub(crate) struct Line {
    pub(crate) when: String,
    pub(crate) what: String,
    pub(crate) amount: String,
    pub(crate) status: String,
    pub(crate) tone: &'static str,
    pub(crate) store: String,
    pub(crate) detail: String,
    pub(crate) link: Option<String>,
}

/// The value estimate.
pub(crate) struct Value {
    pub(crate) alive: String,
    pub(crate) purchases: String,
    pub(crate) average: String,
    pub(crate) lifetime: String,
    pub(crate) model: String,
}

/// A recent sale.
pub(crate) struct SaleLine {
    pub(crate) day: String,
    pub(crate) store: String,
    pub(crate) amount: String,
    pub(crate) refunded: String,
}

/// An incident the customer was part of.
pub(crate) struct IncidentLine {
    pub(crate) id: String,
    pub(crate) cause: String,
    pub(crate) store: String,
    pub(crate) when: String,
}

/// A store the viewer may act at, for the forms' choices.
pub(crate) struct StoreChoice {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "customer.html")]
pub(crate) struct CustomerPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    pub(crate) notice: Option<String>,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) external_ref: String,
    pub(crate) contact: Vec<String>,
    pub(crate) home_store: Option<String>,
    pub(crate) balances: Vec<Balance>,
    pub(crate) promises_open: i64,
    pub(crate) kept_on_time: i64,
    pub(crate) kept_late: i64,
    pub(crate) written_off: i64,
    pub(crate) recognitions: i64,
    pub(crate) received: Vec<(String, String)>,
    pub(crate) value: Option<Value>,
    pub(crate) value_note: String,
    pub(crate) promises: Vec<Promise>,
    pub(crate) credit: Vec<CreditLot>,
    pub(crate) incidents: Vec<IncidentLine>,
    pub(crate) sales: Vec<SaleLine>,
    pub(crate) timeline: Vec<Line>,
    pub(crate) older: Option<String>,
    pub(crate) newest: bool,
    pub(crate) may_record: bool,
    pub(crate) may_redeem: bool,
    pub(crate) stores: Vec<StoreChoice>,
    pub(crate) redeem_key: String,
    pub(crate) redeem_error: Option<String>,
    pub(crate) redeem_amount: String,
}

/// Query of the customer page.
#[derive(serde::Deserialize)]
pub(crate) struct ShowQuery {
    before: Option<String>,
    recorded: Option<String>,
    paid: Option<String>,
    redeemed: Option<String>,
}

fn status_tone(s: GestureStatus) -> &'static str {
    match s {
        GestureStatus::Approved | GestureStatus::Settled => "good",
        GestureStatus::PendingApproval => "warn",
        GestureStatus::Rejected
        | GestureStatus::WrittenOff
        | GestureStatus::Reversed
        | GestureStatus::Expired
        | GestureStatus::Cancelled => "bad",
    }
}

/// What a gesture's status means to someone at the counter.
pub(crate) fn status_words(g: &Gesture) -> String {
    match (g.kind, g.status) {
        (GestureKind::DeferredPayment, GestureStatus::Approved) => "open".into(),
        (_, GestureStatus::Approved) => "in effect".into(),
        (_, GestureStatus::PendingApproval) => "waiting for approval".into(),
        (_, s) => format::words(s.as_str()).to_lowercase(),
    }
}

fn money_opt(m: Option<crate::domain::money::Money>) -> String {
    m.map_or_else(|| "—".into(), |m| format::money(&m))
}

/// What a form on the customer page said back.
#[derive(Default)]
pub(crate) struct FormBack {
    /// The promise a payment was for, with the refusal and the amount typed.
    pub(crate) pay: Option<(GestureId, Problem, String)>,
    /// A refused redemption, with the amount typed.
    pub(crate) redeem: Option<(Problem, String)>,
}

/// Renders a customer's page.
pub(crate) async fn render(
    state: &AppState,
    viewer: Viewer,
    customer: CustomerId,
    q: ShowQuery,
    back: FormBack,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let today = ctx.today();
    let before: Option<uuid::Uuid> = q.before.as_deref().and_then(|b| b.parse().ok());
    let v = viewer.clone();
    let status = back
        .pay
        .as_ref()
        .map(|(_, p, _)| p.status)
        .or(back.redeem.as_ref().map(|(p, _)| p.status));
    let page = state
        .read(move |conn| build(conn, &v, &ctx, customer, today, before, &q, back))
        .await?;
    Ok(page::html(
        status
            .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
            .unwrap_or(actix_web::http::StatusCode::OK),
        &page,
    ))
}

#[allow(clippy::too_many_arguments)]
fn build(
    conn: &mut DbConnection,
    viewer: &Viewer,
    ctx: &crate::audit::AuditCtx,
    id: CustomerId,
    today: NaiveDate,
    before: Option<uuid::Uuid>,
    q: &ShowQuery,
    back: FormBack,
) -> Result<CustomerPage, AppError> {
    let tenant = ctx.tenant;
    let names = Names::load(conn, tenant)?;
    let c = crate::store::customers::get(conn, tenant, id)?;
    let summary = crate::app::customers::load_summary(conn, tenant, id, today)?;
    let open = crate::store::gestures::open_items(conn, tenant, id)?;
    let may = |s: StoreId| viewer.caller.may_act_at(s);
    let acting: Vec<StoreChoice> = names
        .stores()
        .into_iter()
        .filter(|s| may(s.id))
        .map(|s| StoreChoice {
            id: s.id.to_string(),
            label: format!("{} · {}", s.code, s.name),
            selected: c.home_store_id == Some(s.id),
        })
        .collect();
    let mut promises = Vec::new();
    let mut credit = Vec::new();
    for g in &open {
        match &g.terms {
            Terms::DeferredPayment { amount, due_on } => {
                let outstanding = g
                    .outstanding_minor()
                    .map(|m| crate::domain::money::Money::from_minor(m, g.currency));
                let failed = back.pay.as_ref().filter(|(p, _, _)| *p == g.id);
                promises.push(Promise {
                    id: g.id.to_string(),
                    store: names.store_label(g.store_id),
                    amount: format::money(amount),
                    outstanding: money_opt(outstanding),
                    outstanding_plain: outstanding.map(|m| m.amount_string()).unwrap_or_default(),
                    effective_on: format::day(&g.effective_on),
                    due_on: format::day(due_on),
                    overdue: g.is_overdue(today),
                    visible: may(g.store_id),
                    story: if may(g.store_id) {
                        g.story.clone()
                    } else {
                        String::new()
                    },
                    can_pay: viewer.may(Permission::PaymentsRecord) && !acting.is_empty(),
                    pay_key: super::form::new_key(),
                    pay_error: failed.map(|(_, p, _)| {
                        p.field("amount")
                            .map_or_else(|| p.detail.clone(), str::to_owned)
                    }),
                    pay_amount: failed.map(|(_, _, a)| a.clone()).unwrap_or_default(),
                });
            }
            Terms::StoreCredit { amount, expires_on } => {
                let remaining = g
                    .credit_remaining_minor()
                    .map(|m| crate::domain::money::Money::from_minor(m, g.currency));
                credit.push(CreditLot {
                    store: names.store_label(g.store_id),
                    issued: format::money(amount),
                    remaining: money_opt(remaining),
                    expires_on: expires_on.map_or_else(|| "never".into(), |d| format::day(&d)),
                    expired: expires_on.is_some_and(|d| d < today),
                });
            }
            _ => {}
        }
    }
    let value = crate::store::value::estimate(
        conn,
        tenant,
        id,
        None,
        today,
        crate::value::model::Horizon::default(),
    )?;
    let (value, value_note) = match value {
        crate::value::model::Estimate::Valued {
            model, valuation, ..
        } => {
            let cur = model.currency;
            let m = |major: f64| format::minor(crate::store::value::to_minor(major, cur), cur);
            (
                Some(Value {
                    alive: format::percent(valuation.probability_alive),
                    purchases: format!("{:.1}", valuation.expected_purchases),
                    average: m(valuation.expected_average_value),
                    lifetime: m(valuation.lifetime_value),
                    model: format!("model version {} ({})", model.version, cur.code()),
                }),
                String::new(),
            )
        }
        crate::value::model::Estimate::NoSales => (None, "No purchases recorded yet.".into()),
        crate::value::model::Estimate::NoModel(cur) => (
            None,
            format!("No value model for {} yet: finance fits one.", cur.code()),
        ),
        crate::value::model::Estimate::ModelUnusable(cur, why) => (
            None,
            format!(
                "The newest {} value model is not usable, so no value is shown: {why}",
                cur.code()
            ),
        ),
        crate::value::model::Estimate::Unvaluable(why) => (None, why),
    };
    let mut incidents = Vec::new();
    for iid in crate::store::gestures::incident_ids_of(conn, tenant, id)?
        .into_iter()
        .take(20)
    {
        let (i, _) = crate::store::incidents::get(conn, tenant, iid)?;
        if !may(i.store_id) {
            continue;
        }
        incidents.push(IncidentLine {
            id: i.id.to_string(),
            cause: format::words(&i.cause),
            store: names.store_label(i.store_id),
            when: format::when(&i.created_at, names.zone(i.store_id)),
        });
    }
    let sales = crate::store::sales::recent_of_customer(
        conn,
        tenant,
        id,
        viewer.caller.stores.as_deref(),
        10,
    )?
    .into_iter()
    .map(|s| SaleLine {
        day: format::day(&s.sale_date),
        store: names.store_label(s.store_id),
        amount: format::money(&s.amount),
        refunded: if s.refunded.minor() > 0 {
            format::money(&s.refunded)
        } else {
            String::new()
        },
    })
    .collect();
    let page = crate::store::reading::timeline(conn, tenant, id, TIMELINE_PAGE, before)?;
    let mut timeline = Vec::with_capacity(page.items.len());
    for item in &page.items {
        timeline.push(line(&names, viewer, item, today));
    }
    let older = if page.has_more {
        page.items.last().map(|i| match i {
            TimelineItem::Gesture(g) => g.id.to_string(),
            TimelineItem::Payment(p) => p.id.to_string(),
            TimelineItem::Redemption(r) => r.id.to_string(),
        })
    } else {
        None
    };
    let notice = notice(conn, &names, viewer, q)?;
    let contact = [c.email.clone(), c.phone.clone()]
        .into_iter()
        .flatten()
        .collect();
    Ok(CustomerPage {
        layout: Layout::signed_in(c.name.clone(), viewer, "/console/customers"),
        csrf: viewer.csrf.clone(),
        notice,
        id: c.id.to_string(),
        name: c.name.clone(),
        external_ref: c.external_ref.clone(),
        contact,
        home_store: c.home_store_id.map(|s| names.store_label(s)),
        balances: summary
            .balances
            .iter()
            .map(|b| Balance {
                currency: b.currency.to_owned(),
                owed: format::money(&b.owed),
                overdue: format::money(&b.overdue),
                credit: format::money(&b.store_credit_available),
                written_off: format::money(&b.written_off),
            })
            .collect(),
        promises_open: summary.promises.open,
        kept_on_time: summary.promises.kept_on_time,
        kept_late: summary.promises.kept_late,
        written_off: summary.promises.written_off,
        recognitions: summary.recognitions,
        received: summary
            .goodwill_received
            .iter()
            .map(|r| (format::words(r.kind.as_str()), format::money(&r.amount)))
            .collect(),
        value,
        value_note,
        promises,
        credit,
        incidents,
        sales,
        timeline,
        older,
        newest: before.is_none(),
        may_record: viewer.may(Permission::GesturesRequest) && !acting.is_empty(),
        may_redeem: viewer.may(Permission::RedemptionsRecord) && !acting.is_empty(),
        stores: acting,
        redeem_key: super::form::new_key(),
        redeem_error: back.redeem.as_ref().map(|(p, _)| {
            p.field("amount")
                .map_or_else(|| p.detail.clone(), str::to_owned)
        }),
        redeem_amount: back.redeem.map(|(_, a)| a).unwrap_or_default(),
    })
}

fn line(names: &Names, viewer: &Viewer, item: &TimelineItem, today: NaiveDate) -> Line {
    match item {
        TimelineItem::Gesture(g) => {
            let visible = viewer.caller.may_act_at(g.store_id);
            let overdue = g.kind == GestureKind::DeferredPayment && g.is_overdue(today);
            Line {
                when: format::when(&g.created_at, names.zone(g.store_id)),
                what: format::words(g.kind.as_str()),
                amount: money_opt(g.terms.value()),
                status: if overdue {
                    "overdue".into()
                } else {
                    status_words(g)
                },
                tone: if overdue {
                    "bad"
                } else {
                    status_tone(g.status)
                },
                store: names.store_label(g.store_id),
                detail: if visible {
                    g.story.clone()
                } else {
                    "at another store".into()
                },
                link: visible.then(|| format!("/console/gestures/{}", g.id)),
            }
        }
        TimelineItem::Payment(p) => {
            let cur = crate::domain::money::Currency::from_code(&p.currency);
            Line {
                when: format::when(&p.created_at, names.zone(p.store_id)),
                what: if p.recovery_minor > 0 {
                    "Payment (recovers a write-off)".into()
                } else {
                    "Payment".into()
                },
                amount: cur.map_or_else(String::new, |c| format::minor(p.amount_minor, c)),
                status: p.status.clone(),
                tone: if p.status == "reversed" {
                    "bad"
                } else {
                    "good"
                },
                store: names.store_label(p.store_id),
                detail: if viewer.caller.may_act_at(p.store_id) {
                    format!("recorded by {}", p.requested_by)
                } else {
                    "at another store".into()
                },
                link: viewer
                    .caller
                    .may_act_at(p.store_id)
                    .then(|| format!("/console/gestures/{}", p.gesture_id)),
            }
        }
        TimelineItem::Redemption(r) => Line {
            when: format::when(&r.created_at, names.zone(r.store_id)),
            what: "Store credit spent".into(),
            amount: format::money(&r.amount),
            status: "posted".into(),
            tone: "good",
            store: names.store_label(r.store_id),
            detail: if viewer.caller.may_act_at(r.store_id) {
                format!("recorded by {}", r.requested_by)
            } else {
                "at another store".into()
            },
            link: None,
        },
    }
}

/// The banner after a form: what was just recorded, read back as it is now.
fn notice(
    conn: &mut DbConnection,
    names: &Names,
    viewer: &Viewer,
    q: &ShowQuery,
) -> Result<Option<String>, AppError> {
    let tenant = viewer.caller.tenant;
    if let Some(id) = q
        .recorded
        .as_deref()
        .and_then(|s| s.parse::<GestureId>().ok())
        && let Some(g) = crate::store::gestures::find(conn, tenant, id)?
        && viewer.caller.may_act_at(g.store_id)
    {
        let what = format!(
            "{} {}",
            format::words(g.kind.as_str()),
            money_opt(g.terms.value())
        );
        let tail = match g.status {
            GestureStatus::PendingApproval => {
                let who = g
                    .approval
                    .as_ref()
                    .map(|a| {
                        a.approvers
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" or ")
                    })
                    .unwrap_or_default();
                format!("is waiting for approval by a {who}.")
            }
            _ => format!("is recorded: {}.", status_words(&g)),
        };
        return Ok(Some(format!(
            "{what} at {} {tail}",
            names.store_label(g.store_id)
        )));
    }
    if let Some(id) = q.paid.as_deref().and_then(|s| s.parse().ok())
        && let Ok(p) = crate::store::lifecycle::get_payment(conn, tenant, id)
    {
        let cur = crate::domain::money::Currency::from_code(&p.currency);
        return Ok(Some(format!(
            "Payment of {} recorded.",
            cur.map_or_else(String::new, |c| format::minor(p.amount_minor, c))
        )));
    }
    if q.redeemed.is_some() {
        return Ok(Some("Store credit spent.".into()));
    }
    Ok(None)
}

/// `GET /console/customers/{id}?before=&recorded=&paid=`: the customer's page.
pub(crate) async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<CustomerId>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, ConsoleError> {
    render(
        &state,
        viewer,
        id.into_inner(),
        q.into_inner(),
        FormBack::default(),
    )
    .await
}

/// What a form sent back to the customer page re-renders with.
pub(crate) fn empty_query() -> ShowQuery {
    ShowQuery {
        before: None,
        recorded: None,
        paid: None,
        redeemed: None,
    }
}

/// An entry of a gesture's page.
pub(crate) struct EntryLine {
    pub(crate) account: String,
    pub(crate) debit: String,
    pub(crate) credit: String,
    pub(crate) when: String,
}

#[derive(Template)]
#[template(path = "gesture.html")]
struct GesturePage {
    layout: Layout,
    kind: String,
    amount: String,
    status: String,
    tone: &'static str,
    store: String,
    customer_id: String,
    customer: String,
    story: String,
    reason: String,
    facts: Vec<(String, String)>,
    entries: Vec<EntryLine>,
    decision: Vec<String>,
}

/// `GET /console/gestures/{id}`: one gesture in full, its decision and its
/// postings (for a store the viewer holds).
pub(crate) async fn gesture(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<GestureId>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let v = viewer.clone();
    let today = state.clock.now().date();
    let page = state
        .read(move |conn| {
            let tenant = v.caller.tenant;
            let g = crate::store::gestures::get(conn, tenant, id)?;
            v.caller.require_store(g.store_id)?;
            let mut names = Names::load(conn, tenant)?;
            let tz = names.zone(g.store_id);
            let customer = names.customer(conn, g.customer_id)?.clone();
            let mut facts = vec![
                ("Requested by".to_owned(), g.requested_by.clone()),
                ("Requested".to_owned(), format::when(&g.created_at, tz)),
                ("Dated".to_owned(), format::day(&g.effective_on)),
            ];
            match &g.terms {
                Terms::DeferredPayment { due_on, .. } => {
                    facts.push(("Due".into(), format::day(due_on)));
                    if let Some(o) = g.outstanding_minor() {
                        facts.push(("Outstanding".into(), format::minor(o, g.currency)));
                    }
                    if g.is_overdue(today) {
                        facts.push(("Overdue".into(), "yes".into()));
                    }
                }
                Terms::FreeService { retail_value, cost } => {
                    facts.push(("Retail value".into(), format::money(retail_value)));
                    facts.push(("Cost to the business".into(), format::money(cost)));
                }
                Terms::StoreCredit { expires_on, .. } => {
                    facts.push((
                        "Expires".into(),
                        expires_on.map_or_else(|| "never".into(), |d| format::day(&d)),
                    ));
                    if let Some(r) = g.credit_remaining_minor() {
                        facts.push(("Remaining".into(), format::minor(r, g.currency)));
                    }
                }
                _ => {}
            }
            for s in &g.staff_ids {
                let n = names.staff(conn, *s)?;
                facts.push(("Staff named".into(), n));
            }
            if let Some(r) = &g.reversal_reason {
                facts.push(("Reversed because".into(), r.clone()));
            }
            let mut decision = Vec::new();
            if let Some(a) = &g.approval {
                decision.push(super::approvals::rule_sentence(&a.rule));
                if let Some(d) = &a.decided {
                    decision.push(format!(
                        "{} by {} at {}{}",
                        format::words(&d.outcome),
                        d.by,
                        format::when(&d.at, tz),
                        d.note
                            .as_ref()
                            .map(|n| format!(": “{n}”"))
                            .unwrap_or_default()
                    ));
                }
            }
            let entries = crate::store::reading::entries(
                conn,
                tenant,
                &crate::store::reading::EntryFilter {
                    gesture_id: Some(id),
                    ..Default::default()
                },
                crate::store::PageRequest {
                    limit: 100,
                    starting_after: None,
                },
            )?
            .items
            .iter()
            .map(|e| {
                let cur = crate::domain::money::Currency::from_code(&e.currency);
                let m = |x: i64| {
                    if x == 0 {
                        String::new()
                    } else {
                        cur.map_or_else(String::new, |c| format::minor(x, c))
                    }
                };
                EntryLine {
                    account: e.account.clone(),
                    debit: m(e.debit_minor),
                    credit: m(e.credit_minor),
                    when: format::when(&e.created_at, tz),
                }
            })
            .collect();
            Ok::<_, AppError>(GesturePage {
                layout: Layout::signed_in(format::words(g.kind.as_str()), &v, "/console/customers"),
                kind: format::words(g.kind.as_str()),
                amount: money_opt(g.terms.value()),
                status: status_words(&g),
                tone: status_tone(g.status),
                store: names.store_label(g.store_id),
                customer_id: customer.id.to_string(),
                customer: format!("{} ({})", customer.name, customer.external_ref),
                story: g.story.clone(),
                reason: format::words(&g.reason_code),
                facts,
                entries,
                decision,
            })
        })
        .await?;
    Ok(page::ok(&page))
}

/// The form fields of the payment and redemption forms, parsed: the amount
/// in the store's currency, and the store it happens at.
pub(crate) fn amount_at(
    form: &Form,
    names_store: Option<&crate::domain::store::Store>,
) -> Result<crate::domain::money::Money, Problem> {
    let invalid = |field: &str, message: String| Problem {
        status: 422,
        code: "validation_failed".into(),
        detail: String::new(),
        fields: vec![(field.to_owned(), message)],
    };
    let Some(store) = names_store else {
        return Err(invalid("store_id", "Choose the store.".into()));
    };
    let input = crate::domain::money::MoneyInput {
        amount: form.get("amount").unwrap_or_default().to_owned(),
        currency: store.currency.code().to_owned(),
    };
    crate::domain::money::Money::parse("amount", &input, false)
        .map_err(|e| invalid("amount", e.message))
}
